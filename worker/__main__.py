"""``python -m worker``: one worker process (what docker-compose runs; same as
``parallelprompt work``).

Exit status: 0 when the queue is drained, after a budget stop or after a graceful SIGTERM;
130 after SIGINT; 2 with a one-line reason on stderr for a configuration, credentials or model
access error (nothing is marked dead for those: the leases are given back).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from parallelprompt import settings as settings_mod
from parallelprompt.textsafe import terminal_safe
from worker.run import work


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m worker",
        description="Drain the work table through Bedrock (or the emulator at --endpoint-url).",
    )
    settings_mod.add_arguments(p, ["common", "contract", "worker"])
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings_mod.apply_aws_aliases(os.environ)
    try:
        settings = settings_mod.build(args)
    except settings_mod.SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_worker(settings)


def run_worker(settings: settings_mod.Settings) -> int:
    """Run one worker process to its end; print the error line and the summary line."""
    summary = asyncio.run(work(settings))
    if summary.exit_code == 2:
        print(f"error: {terminal_safe(summary.message or '')}", file=sys.stderr, flush=True)
    if summary.run_id is not None:
        print(terminal_safe(summary.line()), flush=True)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
