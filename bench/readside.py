"""Read-side commands and storage at 1M prompts, against main's code on main's layout.

    .venv/bin/python -m bench.readside                 # 1M prompts, about 15 minutes
    .venv/bin/python -m bench.readside --prompts 100000 --storage-prompts 20000

Builds a results database of N prompts, each with its emulator-style lean answer (the
heuristic's), 10 % of them seen in a second source row; every prompt's text is unique, as
after deduplication. ``--pool mixed`` (default): 70 % the
bundled sample's real first user turns, 30 % long prompts (lists, passages with questions,
prose; 200-3,200 characters), a mean of about 470 characters; ``--pool sample``: the sample
alone (mean 91). Then:

1. ``revalidate`` under the run's own profile writes every verdict (timed, with its progress
   lines on stderr); the same rows are copied into main's layout (migrations up to 0007, every
   verdict text in full) and ``--baseline``'s ``parallelprompt revalidate`` (main's checkout,
   default /work/main) re-judges them there;
2. ``stats``, ``stats --source``, ``report`` and ``export`` in every format, each a separate
   ``parallelprompt`` process as a user runs them, ours on ours and main's on main's layout;
   each command's output is removed and the page cache's dirty pages written out (``sync``)
   before the next is timed, so no command pays for writing back an earlier one's gigabytes;
3. bytes per prompt of both files, checkpointed and vacuumed: the 1M database with one
   profile's verdicts, and ``--storage-prompts`` of each pool with two profiles'.

Targets (issue 12): every read command <= 10 s, revalidate <= 60 s, bytes per prompt halved.
The machine is shared: the load average is printed beside each figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench.lean import long_prompts, sample_prompts
from parallelprompt.db.connection import _statements, connect_sync
from parallelprompt.db.sql import migrations
from parallelprompt.prompts.heuristic import heuristic_answer
from parallelprompt.results.export import FORMATS
from parallelprompt.results.revalidate import revalidate

ROOT = Path(__file__).resolve().parent.parent
MAIN_LAYOUT_VERSION = 7  # main's schema before verdicts pointed into the prompt
SOURCES = ("lmsys/lmsys-chat-1m", "allenai/WildChat-1M")
LANGUAGES = ("English", "Chinese", "Russian", "German", "unknown")
MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
TARGET_S = 10.0
REVALIDATE_TARGET_S = 60.0


LONG_SHARE = 0.3  # of the "mixed" pool's prompts: long ones (200-3,200 characters)


def prompt_pool(kind: str) -> list[str]:
    """``sample``: the bundled sample's first user turns (mean 91 characters). ``mixed``: 70 %
    of those and 30 % long prompts (lists to translate, passages with questions, a request
    for slogans, prose), a mean of about 450 characters, nearer real chat logs."""
    sample = sample_prompts()
    if kind == "sample":
        return sample
    long = [p for chars in (200, 400, 800, 1600, 3200) for p in long_prompts(chars).values()]
    copies = round(len(sample) * LONG_SHARE / (1 - LONG_SHARE) / len(long))
    return sample + long * max(1, copies)


def _unique(pool: list[str], n: int) -> Iterator[tuple[int, str]]:
    """Prompts 1..n from the pool, each made unique by a short reference at its end, as
    deduplicated prompts are (a pool's repeats would let Parquet's dictionary encoding store
    each text once, and the export would look cheaper than it is). The answers are the pool
    prompt's: their pointers still find their text."""
    k = len(pool)
    for i in range(1, n + 1):
        yield i, f"{pool[i % k]} (ref {i:x})"


def build(db: Path, n: int, kind: str = "mixed") -> None:
    """N prompts with a result each (no verdicts yet: revalidate writes them)."""
    pool = prompt_pool(kind)
    answers = [heuristic_answer(p) for p in pool]
    conn = connect_sync(db)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO runs (id, created_at, model_id, api, contract_version, rules, backend,"
        " config_json) VALUES (1, 0, ?, 'converse', 'bench', 'default', 'bedrock', '{}')",
        (MODEL,),
    )
    k = len(pool)
    conn.executemany(
        "INSERT INTO work (id, text_hash, prompt, chars, status, attempts, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, 'done', 1, 0, 0)",
        ((i, i.to_bytes(16, "big"), text, len(text)) for i, text in _unique(pool, n)),
    )
    conn.executemany(
        "INSERT INTO sources (work_id, source, split, row_index, conversation_id, language)"
        " VALUES (?, ?, 'train', ?, ?, ?)",
        (
            (w, SOURCES[dup], w, f"c{w}-{dup}", LANGUAGES[w % len(LANGUAGES)])
            for w in range(1, n + 1)
            for dup in ((0, 1) if w % 10 == 0 else (0,))
        ),
    )
    conn.executemany(
        "INSERT INTO results (id, work_id, run_id, worker_id, model_id, raw_text, stop_reason,"
        " input_tokens, output_tokens, cost_usd, latency_ms, attempts, created_at)"
        " VALUES (?, ?, 1, 'bench-worker-0001', ?, ?, 'end_turn', 2900, 40, 0.0031, 900, 1, ?)",
        ((i, i, MODEL, answers[i % k], 1e9 + i / 300) for i in range(1, n + 1)),
    )
    conn.execute(
        "INSERT INTO workers (id, run_id, host, pid, concurrency, started_at, heartbeat_at,"
        " stopped_at) VALUES ('bench-worker-0001', 1, 'bench', 1, 32, 1e9, ?, ?)",
        (1e9 + n / 300, 1e9 + n / 300),
    )
    conn.execute("COMMIT")
    conn.close()


def main_layout_copy(db: Path, old: Path) -> None:
    """The same rows in main's layout: migrations 1..7, verdict texts stored in full."""
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    for version, _name, script in migrations():
        if version <= MAIN_LAYOUT_VERSION:
            for statement in _statements(script):
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {MAIN_LAYOUT_VERSION}")
    conn.execute("COMMIT")
    conn.execute("ATTACH ? AS new", (str(db),))
    conn.execute("BEGIN")
    for table in ("runs", "workers", "work", "sources", "results"):
        cols = ", ".join(c[1] for c in conn.execute(f"PRAGMA main.table_info({table})"))
        conn.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM new.{table}")
    conn.execute(
        "INSERT INTO main.verdicts SELECT v.result_id, v.profile, v.contract_version,"
        " v.outcome, v.reason, v.tier_label, v.validation_passed, v.parallelizable, v.category,"
        " v.is_novel_category, v.category_description, f.serial, f.template, f.context,"
        " v.data_json, v.n, v.created_at, v.repairs_json"
        " FROM new.verdicts AS v JOIN new.verdict_texts AS f"
        " ON f.result_id = v.result_id AND f.profile = v.profile"
    )
    conn.execute("COMMIT")
    conn.execute("DETACH new")
    conn.close()


def compact_size(db: Path) -> int:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.close()
    return db.stat().st_size


def timed(args: Sequence[str], exe: Path | None = None) -> tuple[float, str, float]:
    """Seconds of one ``parallelprompt`` command (``exe``: another checkout's), its stderr, and
    the CPU seconds (user + system) it and its child processes used: on a shared machine the
    wall time moves with the others' load, the CPU time much less. Dirty pages are written out
    first (``sync``): the command is not charged for an earlier one's writes."""
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(exe or ROOT / ".venv/bin/parallelprompt"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    return elapsed, proc.stderr, cpu


def _in(cmd: Sequence[str], db: Path, folder: Path) -> tuple[str, ...]:
    """``cmd`` on ``db``, its ``--out`` file inside ``folder``."""
    folder.mkdir(exist_ok=True)
    before = ("", *cmd[:-1])
    args = [str(folder / a) if b == "--out" else a for b, a in zip(before, cmd, strict=True)]
    return (*args, "--db", str(db))


def row(name: str, seconds: float, theirs: float, target: float, cpu: float) -> None:
    ok = "yes" if seconds <= target else "NO"
    print(
        f"| {name} | {theirs:.1f} s | {seconds:.1f} s | {seconds / theirs:.2f} | <= {target:g} s "
        f"| {ok} | {cpu:.1f} s | {os.getloadavg()[0]:.2f} |",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.readside", description=__doc__)
    p.add_argument("--prompts", type=int, default=1_000_000)
    p.add_argument("--keep", type=Path, help="build the database here and keep it")
    p.add_argument("--pool", choices=("mixed", "sample"), default="mixed")
    p.add_argument("--storage-prompts", type=int, default=100_000, help="per pool, storage only")
    p.add_argument(
        "--baseline",
        type=Path,
        default=Path("/work/main"),
        help="a checkout of main with its .venv: its commands on main's layout are the baseline",
    )
    args = p.parse_args(argv)
    n = args.prompts
    print(f"bench.readside: {n:,} prompts ({args.pool} pool), {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-readside-") as tmp:
        db = args.keep or Path(tmp) / "results.db"
        old = Path(tmp) / "main-layout.db"
        t0 = time.perf_counter()
        build(db, n, args.pool)
        mean = sqlite3.connect(db).execute("SELECT avg(chars) FROM work").fetchone()[0]
        print(f"built in {time.perf_counter() - t0:.0f} s; mean prompt {mean:.0f} characters\n")
        base = args.baseline / ".venv/bin/parallelprompt" if args.baseline else None
        print("| command | main | ours | ours / main | target | met | ours, CPU | load (1 min) |")
        print("|---|---:|---:|---:|---:|---|---:|---:|")
        seconds, err, cpu = timed(("revalidate", "--db", str(db), "--rules", "default"))
        progress = [ln for ln in err.splitlines() if ln.startswith("revalidate:")]
        main_layout_copy(db, old)
        theirs = timed(("revalidate", "--db", str(old), "--rules", "default"), base)[0]
        row("revalidate --rules default", seconds, theirs, REVALIDATE_TARGET_S, cpu)
        for cmd in (
            ("stats",),
            ("stats", "--json"),
            ("stats", "--source", SOURCES[1]),
            ("report", "--out", "report.html"),
            *(("export", "--format", f, "--out", f"out.{f}") for f in FORMATS),
        ):
            seconds, _err, cpu = timed(_in(cmd, db, Path(tmp) / "ours"))
            theirs = timed(_in(cmd, old, Path(tmp) / "main"), base)[0]
            for folder in ("ours", "main"):  # gigabytes that no later command needs
                shutil.rmtree(Path(tmp) / folder)
            name = " ".join(c for c in cmd if c != "--out" and "." not in c)
            row(name, seconds, theirs, TARGET_S, cpu)
        print(f"\nrevalidate progress lines: {len(progress)}; last: {progress[-1:]}")
        print("\nbytes per prompt, vacuumed:\n")
        print(
            "| pool | profiles | prompts | mean prompt chars | main's layout | ours | ours / main |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        storage_row(db, old, args.pool, n, 1, copy=False)
    for kind in ("sample", "mixed"):
        if args.storage_prompts:
            with tempfile.TemporaryDirectory(prefix="bench-readside-") as tmp:
                db = Path(tmp) / "results.db"
                build(db, args.storage_prompts, kind)
                for rules in ("default", "original"):
                    revalidate(db, rules=rules)
                storage_row(db, Path(tmp) / "main-layout.db", kind, args.storage_prompts, 2)
    return 0


def storage_row(db: Path, old: Path, kind: str, n: int, profiles: int, copy: bool = True) -> None:
    if copy:
        main_layout_copy(db, old)
    ours, theirs = compact_size(db), compact_size(old)
    mean = sqlite3.connect(db).execute("SELECT avg(chars) FROM work").fetchone()[0]
    print(
        f"| {kind} | {profiles} | {n:,} | {mean:.0f} | {theirs / n:,.0f} | {ours / n:,.0f} "
        f"| {ours / theirs:.2f} |",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
