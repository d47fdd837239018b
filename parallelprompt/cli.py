"""The ``parallelprompt`` command: a thin dispatcher over producer/, worker/, emulator/ and db/.

Every command takes ``--db`` and its own flags (each also an environment variable, see
``parallelprompt config-reference``); exit status 0 on success, non-zero with a one-line reason
on stderr otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sqlite3
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from parallelprompt import settings as cfg
from parallelprompt.settings import Settings, SettingsError
from parallelprompt.textsafe import terminal_safe

if TYPE_CHECKING:
    from prompts import Contract

EXIT_USAGE = 2


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    sections: tuple[str, ...]
    handler: Callable[[Settings], int]


def _ingest(s: Settings) -> int:
    from producer.ingest import run_ingest

    summary = run_ingest(s, progress=not s.common.quiet)
    print(summary.line())
    return 0


def _work(s: Settings) -> int:
    from worker.__main__ import run_worker

    return run_worker(s)


def _emulator(s: Settings) -> int:
    import asyncio

    from emulator import serve
    from emulator.server import EmulatorOptions

    try:
        options = EmulatorOptions.from_settings(s.emulator)
        asyncio.run(serve(s.emulator, options=options))
    except ValueError as exc:  # a bad --faults string
        raise UserError(str(exc)) from exc
    except OSError as exc:  # the port is taken, or the address is not ours
        e = s.emulator
        raise UserError(f"cannot listen on {e.host}:{e.port}: {exc.strerror or exc}") from exc
    except KeyboardInterrupt:
        pass
    return 0


def _run(s: Settings) -> int:
    from parallelprompt.main_job import main_job

    return main_job(s)


def _stats(s: Settings) -> int:
    import orjson

    from db.stats import compute_stats, format_stats

    conn = _existing_db(s)
    with _filters_are_user_errors():
        stats = compute_stats(
            conn, run_id=s.output.run_id, source=s.output.source, profile=s.output.profile
        )
    if s.output.json or s.output.out:
        blob = orjson.dumps(stats, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        if s.output.out:
            out = _output_path(s, s.output.out)
            with _replacing(out) as tmp:
                tmp.write_bytes(blob + b"\n")
            _written(out, f"statistics written to {out}")
        else:
            sys.stdout.write(blob.decode() + "\n")
    else:
        print(terminal_safe(format_stats(stats)))
    return 0


def _export(s: Settings) -> int:
    from db.export import export

    o = s.output
    if o.out is None:
        raise UserError("export needs --out PATH")
    out = _output_path(s, o.out)
    conn = _existing_db(s)
    with _replacing(out) as tmp, _filters_are_user_errors():
        rows = export(
            conn,
            tmp,
            fmt=o.format,
            per=o.per,
            run_id=o.run_id,
            profile=o.profile,
            tier=o.tier,
            category=o.category,
            source=o.source,
            language=o.language,
            include_emulator=o.include_emulator,
            csv_raw=o.csv_raw,
        )
    _written(out, f"exported {rows} rows ({o.format}, one per {o.per}) to {out}")
    return 0


def _report(s: Settings) -> int:
    from db.report import render_report

    out = _output_path(s, s.output.out or Path("report.html"))
    with _filters_are_user_errors():
        html = render_report(_existing_db(s), run_id=s.output.run_id, profile=s.output.profile)
    with _replacing(out) as tmp:
        tmp.write_text(html, encoding="utf-8")
    _written(out, f"report written to {out}")
    return 0


def _estimate(s: Settings) -> int:
    from db.estimate import estimate, format_estimate
    from prompts import estimate_tokens
    from worker.models import pricing

    contract = load_contract(s)
    price = pricing(s.worker.model, s.worker.price_in, s.worker.price_out)
    if not price.known:
        print(
            f"warning: no price known for {s.worker.model}: costs below are $0; "
            "pass --price-in and --price-out (USD per million tokens)",
            file=sys.stderr,
        )
    result = estimate(
        _existing_db(s),
        model=s.worker.model,
        price_in=price.price_in,
        price_out=price.price_out,
        rpm=s.worker.rpm,
        tpm=s.worker.tpm,
        max_tokens=s.contract.max_tokens,
        system_prompt_tokens=estimate_tokens(contract.system_prompt),
    )
    print(format_estimate(result))
    return 0


def _status(s: Settings) -> int:
    import orjson

    from db.status import format_status, status

    result = status(_existing_db(s))
    if s.output.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        print(terminal_safe(format_status(result)))
    return 0


def _revalidate(s: Settings) -> int:
    from parallelprompt.revalidate import format_revalidation, revalidate

    load_contract(s)  # an unknown --rules or a bad prompt/categories file: one-line error
    _existing_db(s).close()
    counts = revalidate(
        s.common.db,
        rules=s.contract.rules,
        system_prompt_path=s.contract.system_prompt,
        categories_path=s.contract.categories_file,
        run_id=s.output.run_id,
    )
    print(format_revalidation(counts))
    return 0


def _compare(s: Settings) -> int:
    from parallelprompt.revalidate import compare_rules, format_comparison

    result = compare_rules(_existing_db(s), run_id=s.output.run_id)
    print(terminal_safe(format_comparison(result)))
    return 0


def _config_reference(s: Settings) -> int:
    sys.stdout.write(cfg.reference_table())
    return 0


@contextlib.contextmanager
def _filters_are_user_errors() -> Iterator[None]:
    """A filter or run that matches nothing in the database is the user's to fix."""
    try:
        yield
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def _existing_db(s: Settings) -> sqlite3.Connection:
    """The read commands' connection: a mistyped --db is an error, not a new empty DB."""
    from db import connect_sync

    return connect_sync(s.common.db, existing=True)


STDOUT = Path("-")


def _output_path(s: Settings, out: Path) -> Path:
    """Refuse an output that would overwrite the database (or its WAL / shared memory), or
    anything that is not a regular file (a device, a FIFO, /dev/stdout): ``-`` is stdout."""
    if out == STDOUT:
        return out
    db = s.common.db.resolve()
    target = out.resolve()
    if target in {db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")}:
        raise UserError(f"--out {out} is the database itself; choose another file")
    try:
        mode: int | None = os.stat(out).st_mode  # through symlinks: /dev/stdout is one
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise UserError(f"--out {out} is a directory; give a file name")
    if mode is not None and not stat.S_ISREG(mode):
        raise UserError(
            f"--out {out} is not a regular file (a device, FIFO or socket); give a file name, "
            "or - for standard output"
        )
    if not target.parent.is_dir():
        raise UserError(f"--out {out}: the folder {target.parent} does not exist")
    return out


def _written(out: Path, message: str) -> None:
    """The confirmation line; on stderr when the output itself went to stdout."""
    print(message, file=sys.stderr if out == STDOUT else sys.stdout)


@contextlib.contextmanager
def _replacing(out: Path) -> Iterator[Path]:
    """Write to a fresh temporary file (``mkstemp``: unpredictable name, created exclusively,
    never through a symlink) beside ``out`` and move it into place only when complete, so a
    failure never leaves a half-written file (or destroys the previous one). ``-``: the
    finished file is copied to stdout."""
    folder = Path(tempfile.gettempdir()) if out == STDOUT else out.resolve().parent
    fd, name = tempfile.mkstemp(prefix=f".{out.name or 'out'}.", suffix=".tmp", dir=folder)
    tmp = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # what a plain open() would have created
        os.close(fd)
        yield tmp
        if out == STDOUT:
            with tmp.open("rb") as fh:
                shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.flush()
        else:
            os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def load_contract(s: Settings) -> Contract:
    """The classification contract of these settings; a bad file or profile is a UserError."""
    from prompts import Contract

    try:
        return Contract.load(
            system_prompt_path=s.contract.system_prompt,
            categories_path=s.contract.categories_file,
            rules=s.contract.rules,
        )
    except (OSError, ValueError) as exc:
        raise UserError(str(exc)) from exc


COMMANDS = (
    Command(
        "run",
        "ingest (default: the bundled sample), classify (the local emulator for the sample or "
        "without AWS credentials; --backend bedrock for AWS), print statistics",
        ("common", "ingest", "contract", "worker"),
        _run,
    ),
    Command(
        "ingest",
        "read a dataset and enqueue its deduplicated first-turn prompts",
        ("common", "ingest"),
        _ingest,
    ),
    Command(
        "work",
        "a worker process: classify queued prompts through Bedrock",
        ("common", "contract", "worker"),
        _work,
    ),
    Command(
        "emulator", "run the local Bedrock Runtime emulator", ("common", "emulator"), _emulator
    ),
    Command(
        "status", "queue depth, live workers, rate, ETA, cost so far", ("common", "output"), _status
    ),
    Command(
        "stats",
        "statistics of a run (--json for the machine-readable form)",
        ("common", "output"),
        _stats,
    ),
    Command("export", "export results (jsonl, parquet, csv)", ("common", "output"), _export),
    Command("report", "write a self-contained HTML report", ("common", "output"), _report),
    Command(
        "estimate",
        "tokens, cost and time for the pending prompts",
        ("common", "contract", "worker"),
        _estimate,
    ),
    Command(
        "revalidate",
        "re-judge stored answers under a rule profile (--rules), without calling the model",
        ("common", "contract", "output"),
        _revalidate,
    ),
    Command(
        "compare-rules",
        "pass counts per category under each rule profile, and why they differ",
        ("common", "output"),
        _compare,
    ),
    Command(
        "config-reference",
        "print every setting with its flag, environment variable and default",
        (),
        _config_reference,
    ),
)


class _Parser(argparse.ArgumentParser):
    """A bad flag value is one line on stderr (exit 2), not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="parallelprompt",
        description="Mine LLM chat logs for prompts with hidden parallel structure, through "
        "AWS Bedrock. The demo: `parallelprompt run` (the bundled sample, on the local "
        "emulator). With no command, prints this help (exit status 2).",
    )
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        sub = subs.add_parser(command.name, help=command.help, description=command.help)
        cfg.add_arguments(sub, command.sections)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args:  # never a run by accident (with AWS credentials it would spend)
        parser.print_help()
        return EXIT_USAGE
    ns = parser.parse_args(args)
    command = next(c for c in COMMANDS if c.name == ns.command)
    try:
        cfg.apply_aws_aliases(os.environ)
        settings = cfg.build(ns)
        return command.handler(settings)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place that turns errors into exit codes
        if not _is_user_error(exc):
            raise
        print(f"parallelprompt {command.name}: {terminal_safe(str(exc))}", file=sys.stderr)
        return EXIT_USAGE


def _is_user_error(exc: BaseException) -> bool:
    from db import DatabaseError

    known: tuple[type[BaseException], ...] = (UserError, SettingsError, DatabaseError)
    try:
        from producer.errors import IngestError

        known += (IngestError,)
    except ImportError:
        pass
    try:
        from worker.errors import FatalError

        known += (FatalError,)
    except ImportError:
        pass
    if isinstance(exc, LookupError) and not isinstance(exc, KeyError | IndexError):
        return True  # "no run N in this database" and the like
    return isinstance(exc, known)


if __name__ == "__main__":
    raise SystemExit(main())
