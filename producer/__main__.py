"""``python -m producer``: ingest a dataset (default: the bundled sample) into the work table."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from db import DatabaseError
from parallelprompt import settings
from parallelprompt.settings import SettingsError
from producer.errors import IngestError
from producer.ingest import run_ingest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m producer",
        description="Read conversations (a Hugging Face dataset id, local Parquet/JSONL/JSON "
        "files, or the bundled sample when neither is given), keep each first user turn, "
        "deduplicate and enqueue them in the work table.",
    )
    settings.add_arguments(parser, ["common", "ingest"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        built = settings.build(args)
        summary = run_ingest(built, progress=True)
    except (IngestError, SettingsError, DatabaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; rows stored so far are kept, re-run to finish", file=sys.stderr)
        return 130
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
