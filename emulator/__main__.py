"""``python -m emulator``: the emulator with the same flags as ``parallelprompt emulator``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from emulator.runner import serve
from emulator.server import EmulatorOptions
from parallelprompt import settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m emulator",
        description="A local Bedrock Runtime emulator (answers are heuristics, not a model's).",
    )
    settings.add_arguments(p, ["emulator"])
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        built = settings.build(args)
        options = EmulatorOptions.from_settings(built.emulator)
        asyncio.run(serve(built.emulator, options=options))
    except (ValueError, OSError) as exc:  # SettingsError and bad faults are ValueErrors
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
