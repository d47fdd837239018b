"""The ``parallelprompt`` command: a thin dispatcher over producer/, worker/, emulator/ and db/.

The one command line (docker compose runs ``parallelprompt work|ingest|emulator`` too). Every
command takes ``--db`` and its own flags (each also an environment variable, see
``parallelprompt config-reference``); exit status 0 on success, 2 with a one-line reason on
stderr for an error the user can fix (a :class:`common.errors.ParallelPromptError`). Any other
exception is a bug and keeps its traceback.
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
from typing import TYPE_CHECKING, Any, NoReturn

from parallelprompt import settings as cfg
from parallelprompt.common.errors import ParallelPromptError
from parallelprompt.common.textsafe import terminal_safe
from parallelprompt.settings import Settings

if TYPE_CHECKING:
    from parallelprompt.catalogue.levers import Lever
    from parallelprompt.prompts import Contract
    from parallelprompt.results.document import Stats

EXIT_USAGE = 2


class UserError(ParallelPromptError):
    """A problem with the command line the user can fix; printed as one line, exit status 2."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    sections: tuple[str, ...]
    handler: Callable[[Settings], int]


def _ingest(s: Settings) -> int:
    from parallelprompt.producer.ingest import run_ingest

    c = s.common
    summary = run_ingest(s.ingest, db=c.db, progress=not c.quiet, log_format=c.log_format)
    print(summary.line())
    return 0


def _work(s: Settings) -> int:
    """One worker process to its end; the error line and the summary line (JSON objects with
    ``ts`` under ``--log-format json``). Exit status: 0 when the queue is drained, after a budget
    stop or after a graceful SIGTERM; 130 after SIGINT; 2 for a configuration, credentials or
    model access error (nothing is marked dead for those: the leases are given back)."""
    import asyncio

    from parallelprompt.worker import signals

    previous = signals.install()  # `main` installed them first for `work`; the import is slow
    try:
        from parallelprompt.worker.progress import json_line
        from parallelprompt.worker.run import work

        c = s.common
        summary = asyncio.run(
            work(s.worker, s.contract, db=c.db, log_format=c.log_format, quiet=c.quiet)
        )
    finally:
        signals.restore(previous)
    as_json = s.common.log_format == "json"
    if summary.exit_code == 2:
        error = f"error: {terminal_safe(str(summary.message))}"
        print(json_line("error", str(summary.message)) if as_json else error, file=sys.stderr)
    if summary.run_id is not None or summary.signal_name is not None:
        line = summary.line()
        text = terminal_safe(line)
        print(json_line("summary", line, **summary.as_dict()) if as_json else text, flush=True)
    return summary.exit_code


def _emulator(s: Settings) -> int:
    import asyncio

    from parallelprompt.emulator import serve
    from parallelprompt.emulator.server import EmulatorOptions

    try:
        options = EmulatorOptions.from_settings(s.emulator)
        asyncio.run(serve(s.emulator, options=options))
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
    from parallelprompt.results.costs import lever_dicts
    from parallelprompt.results.stats import compute_stats

    o = s.output
    with _read_db(s) as conn:
        stats = compute_stats(
            conn, run_id=o.run_id, source=o.source, profile=o.profile, levers=lever_dicts
        )
    _print_stats(s, stats)
    return 0


def _print_stats(s: Settings, stats: Stats) -> None:
    import orjson

    from parallelprompt.results.stats import format_stats

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
        if stats.get("levers"):
            from parallelprompt.catalogue.levers import format_lever_dicts

            title = "cost per lever, replaying this run's tokens:"
            print(terminal_safe(format_lever_dicts(stats.get("levers", []), title)))


def _export(s: Settings) -> int:
    from parallelprompt.results.export import export
    from parallelprompt.results.stats import PASSED_TIERS

    o = s.output
    if o.out is None:
        raise UserError("export needs --out PATH")
    if o.passed and o.tier:
        raise UserError("--passed is --tier high_confidence medium_confidence: give one of them")
    tiers = PASSED_TIERS if o.passed else o.tier
    hf = o.format == "hf"
    if hf and o.out == STDOUT:
        raise UserError("--format hf writes a folder: give --out FOLDER, not -")
    out = _output_folder(s, o.out) if hf else _output_path(s, o.out)
    with _read_db(s) as conn, _replacing(out, folder=hf) as tmp:
        rows = export(
            conn,
            tmp,
            fmt=o.format,
            per=o.per,
            run_id=o.run_id,
            profile=o.profile,
            tier=tiers,
            category=o.category,
            source=o.source,
            language=o.language,
            schema=o.schema,
            include_emulator=o.include_emulator,
            csv_raw=o.csv_raw,
        )
    what = "a dataset folder" if hf else o.format
    _written(out, f"exported {rows} rows ({what}, {o.schema} schema, one per {o.per}) to {out}")
    return 0


def _output_folder(s: Settings, out: Path) -> Path:
    """An ``hf`` export's folder: new, or empty; never the database's own folder's files."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"--out {out} exists and is not an empty folder; give a new folder")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise UserError(f"--out {out}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UserError(
            f"--out {out}: the folder {parent} is not writable by this process (uid "
            f"{os.getuid()}); choose a writable one (in the container: /data or /work)"
        )
    return out


def _report(s: Settings) -> int:
    from parallelprompt.results.report import render_report

    out = _output_path(s, s.output.out or Path("report.html"))
    with _read_db(s) as conn:
        html = render_report(conn, run_id=s.output.run_id, profile=s.output.profile)
    with _replacing(out) as tmp:
        tmp.write_text(html, encoding="utf-8")
    _written(out, f"report written to {out}")
    return 0


def _estimate(s: Settings) -> int:
    from parallelprompt.catalogue.levers import format_levers
    from parallelprompt.results.estimate import format_estimate

    result, rows = estimate_for(s)
    print(format_estimate(result))
    w = s.worker
    title = f"cost and time per lever at {w.rpm:,.0f} RPM / {w.tpm:,.0f} TPM (cumulative):"
    print(format_levers(rows, title))
    return 0


def estimate_for(s: Settings) -> tuple[dict[str, Any], list[Lever]]:
    """The ``estimate`` command's figures for these settings (warns when no price is known)."""
    from parallelprompt.results.estimate import estimate_campaign

    contract = load_contract(s)
    with _read_db(s) as conn:
        result, rows, price = estimate_campaign(conn, s.worker, s.contract, contract.system_prompt)
    if not price.known:
        print(
            f"warning: no price known for {s.worker.model} (not in the catalogue: "
            "parallelprompt models): costs below are $0; pass --price-in and --price-out (USD "
            "per million tokens)",
            file=sys.stderr,
        )
    return result, rows


def _models(s: Settings) -> int:
    from parallelprompt.catalogue import format_catalogue

    print(format_catalogue())
    return 0


def _status(s: Settings) -> int:
    import orjson

    from parallelprompt.results.status import format_status, status

    with _read_db(s) as conn:
        result = status(conn)
    if s.output.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        print(terminal_safe(format_status(result)))
    return 0


def _revalidate(s: Settings) -> int:
    from parallelprompt.results.revalidate import format_revalidation, print_progress, revalidate

    load_contract(s)  # an unknown --rules or a bad prompt/categories file: one-line error
    _existing_db(s).close()
    counts = revalidate(
        s.common.db,
        rules=s.contract.rules,
        system_prompt_path=s.contract.system_prompt,
        categories_path=s.contract.categories_file,
        run_id=s.output.run_id,
        progress=print_progress,  # on stderr: stdout keeps the one summary line
    )
    print(format_revalidation(counts))
    return 0


def _compare(s: Settings) -> int:
    if s.output.gold is not None:
        return _compare_gold(s, s.output.gold)
    from parallelprompt.results.revalidate import compare_rules, format_comparison

    with _read_db(s) as conn:
        result = compare_rules(conn, run_id=s.output.run_id)
    print(terminal_safe(format_comparison(result)))
    return 0


def _compare_gold(s: Settings, path: Path) -> int:
    """Both profiles over a labelled gold set; exit 1 when a verdict misses its label."""
    import orjson

    from parallelprompt.results.gold import compare_gold, format_gold, load_gold

    try:
        cases = load_gold(path)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read gold set {path}: {exc}") from exc
    result = compare_gold(cases)
    if s.output.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        print(format_gold(result))
    return 1 if result["mismatches"] else 0


def _config_reference(s: Settings) -> int:
    sys.stdout.write(cfg.reference_table())
    return 0


def _existing_db(s: Settings) -> sqlite3.Connection:
    """The read commands' connection: a mistyped --db is an error, not a new empty DB."""
    from parallelprompt.db import connect_sync

    return connect_sync(s.common.db, existing=True)


@contextlib.contextmanager
def _read_db(s: Settings) -> Iterator[sqlite3.Connection]:
    """:func:`_existing_db`, closed when the command is done with it."""
    conn = _existing_db(s)
    try:
        yield conn
    finally:
        conn.close()


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
    folder = _folder_of(out)
    if not folder.is_dir():
        raise UserError(f"--out {out}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UserError(
            f"--out {out}: the folder {folder} is not writable by this process (uid "
            f"{os.getuid()}); choose a writable one (in the container: /data or /work)"
        )
    return out


def _folder_of(out: Path) -> Path:
    """The folder that holds ``out`` itself (not a symlink's target): temporaries go there."""
    return Path(os.path.abspath(out)).parent


def _written(out: Path, message: str) -> None:
    """The confirmation line; on stderr when the output itself went to stdout."""
    print(message, file=sys.stderr if out == STDOUT else sys.stdout)


@contextlib.contextmanager
def _replacing(out: Path, *, folder: bool = False) -> Iterator[Path]:
    """Write to a fresh temporary file (``mkstemp``: unpredictable name, created exclusively,
    never through a symlink; ``mkdtemp`` for a folder) beside ``out`` and move it into place
    only when complete, so a failure never leaves a half-written file (or destroys the
    previous one). ``-``: the finished file is copied to stdout."""
    where = Path(tempfile.gettempdir()) if out == STDOUT else _folder_of(out)
    prefix = f".{out.name or 'out'}."
    umask = os.umask(0)
    os.umask(umask)
    if folder:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=where))
        os.chmod(tmp, 0o777 & ~umask)  # what a plain mkdir() would have created
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=where)
        tmp = Path(name)
        os.fchmod(fd, 0o666 & ~umask)  # what a plain open() would have created
        os.close(fd)
    try:
        yield tmp
        if out == STDOUT:
            with tmp.open("rb") as fh:
                shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.flush()
        else:
            os.replace(tmp, out)  # a folder (hf export) replaces a missing or empty folder
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def load_contract(s: Settings) -> Contract:
    """The classification contract of these settings; a bad file or profile is a
    :class:`prompts.ContractError`, printed as one line."""
    from parallelprompt.prompts import Contract

    return Contract.load(
        system_prompt_path=s.contract.system_prompt,
        categories_path=s.contract.categories_file,
        rules=s.contract.rules,
    )


EXPORT_FLAGS = (
    "out",
    "format",
    "schema",
    "passed",
    "per",
    "run_id",
    "source",
    "tier",
    "category",
    "language",
    "profile",
    "include_emulator",
    "csv_raw",
)

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
    Command("emulator", "run the local Bedrock Runtime emulator", ("emulator",), _emulator),
    Command(
        "status",
        "queue depth, live workers, rate, ETA, cost so far",
        ("common:db", "output:json"),
        _status,
    ),
    Command(
        "stats",
        "statistics of a run (--json for the machine-readable form)",
        ("common:db", "output:json,out,run_id,source,profile"),
        _stats,
    ),
    Command(
        "export",
        "export results (jsonl, parquet, csv, or an hf dataset folder)",
        ("common:db", f"output:{','.join(EXPORT_FLAGS)}"),
        _export,
    ),
    Command(
        "report",
        "write a self-contained HTML report",
        ("common:db", "output:out,run_id,profile"),
        _report,
    ),
    Command(
        "estimate",
        "tokens, cost and time for the pending prompts",
        (
            "common:db",
            "contract:system_prompt,max_tokens,size_max_tokens,max_tokens_retry",
            "worker:model,rpm,tpm,price_in,price_out,price_cache_write,price_cache_read",
        ),
        _estimate,
    ),
    Command(
        "revalidate",
        "re-judge stored answers under a rule profile (--rules), without calling the model",
        ("common:db", "contract:system_prompt,categories_file,rules", "output:run_id"),
        _revalidate,
    ),
    Command(
        "compare-rules",
        "pass counts per category under each rule profile, and why they differ "
        "(--gold PATH: over a labelled gold set instead of the database)",
        ("common:db", "output:run_id,gold,json"),
        _compare,
    ),
    Command("models", "the model catalogue: ids, prices, caching, lifecycle", (), _models),
    Command(
        "config-reference",
        "print every setting with its flag, environment variable and default",
        (),
        _config_reference,
    ),
)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes as one line: what was wrong and where the help is."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="parallelprompt",
        description="Mine LLM chat logs for prompts with hidden parallel structure, through "
        "AWS Bedrock. The demo: `parallelprompt run` (the bundled sample, on the local "
        "emulator). With no command, prints this help (exit status 2).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        sub = subs.add_parser(command.name, help=command.help, description=command.help)
        cfg.add_arguments(sub, command.sections)
    return parser


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("parallelprompt")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["work"] and argv is None:
        from parallelprompt.worker import (
            signals,  # light on purpose: a SIGTERM from now on is a graceful stop
        )

        signals.install()
    parser = build_parser()
    if not args:  # never a run by accident (with AWS credentials it would spend)
        parser.print_help()
        return EXIT_USAGE
    try:
        ns, unknown = parser.parse_known_args(args)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return int(exc.code or 0)
    command = next(c for c in COMMANDS if c.name == ns.command)
    if unknown:
        print(
            f"parallelprompt {command.name}: {' '.join(unknown)}: not an option of "
            f"{command.name} (see parallelprompt {command.name} --help)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        cfg.apply_aws_aliases(os.environ)
        settings = cfg.build(ns)
        return command.handler(settings)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except ParallelPromptError as exc:  # the one place that turns errors into exit codes
        print(f"parallelprompt {command.name}: {terminal_safe(str(exc))}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
