"""``python -m worker``: one worker process (what docker-compose runs; same as
``parallelprompt work``).

Exit status: 0 when the queue is drained, after a budget stop or after a graceful SIGTERM;
130 after SIGINT; 2 with a one-line reason on stderr for a configuration, credentials or model
access error (nothing is marked dead for those: the leases are given back).
"""

from __future__ import annotations

from worker import signals

if __name__ == "__main__":
    signals.install()  # before anything slow: a SIGTERM from now on is a graceful stop

import argparse
import asyncio
import os
import sys

from parallelprompt import settings as settings_mod
from parallelprompt.textsafe import terminal_safe


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
    """Run one worker process to its end; print the error line and the summary line (JSON
    objects with ``ts`` under ``--log-format json``)."""
    previous = signals.install()  # parallelprompt work comes here first; the import is slow
    try:
        from worker.progress import json_line
        from worker.run import work

        summary = asyncio.run(work(settings))
    finally:
        signals.restore(previous)
    as_json = settings.common.log_format == "json"
    if summary.exit_code == 2:
        error = f"error: {terminal_safe(str(summary.message))}"
        print(json_line("error", str(summary.message)) if as_json else error, file=sys.stderr)
    if summary.run_id is not None or summary.signal_name is not None:
        line = summary.line()
        text = terminal_safe(line)
        print(json_line("summary", line, **summary.as_dict()) if as_json else text, flush=True)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
