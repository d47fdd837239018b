from parallelprompt.cli import main

raise SystemExit(main())
