"""The read side's queries: each a small function over a named query of ``db/results.sql``.

``results/`` (statistics, report, estimate, status) calls these and does the arithmetic and the
formatting; it never holds SQL. Rows come back as the queries return them (tuples); the
callers shape them. Everything a command reads should run inside one :func:`snapshot`.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

import orjson

from parallelprompt.db.errors import NoSuchRun
from parallelprompt.db.models import Run
from parallelprompt.db.sql import named_queries, query

Row = tuple[Any, ...]


def rq(name: str) -> str:
    """A named query of ``db/results.sql``."""
    return named_queries("results.sql")[name]


#: The read side maps the database file into memory (SQLite caps it at its own limit, 2 GiB
#: by default): its passes touch every page, and reading them through the 2 MiB page cache
#: cost a system call each (``stats`` at 1M prompts: 1.7-2.0 s of system time, now 0.2-0.6).
READ_MMAP_BYTES = 1 << 33


@contextlib.contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction: every query inside sees the same committed state (WAL)."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute(f"PRAGMA mmap_size = {READ_MMAP_BYTES}")
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


@contextlib.contextmanager
def snapshot_of(db_file: str) -> Iterator[sqlite3.Connection]:
    """A connection of its own to ``db_file`` (another process's, e.g. a part of a parallel
    export), inside one :func:`snapshot`; closed on exit."""
    conn = sqlite3.connect(db_file)
    try:
        with snapshot(conn):
            yield conn
    finally:
        conn.close()


def chunk_starts(conn: sqlite3.Connection, per: str, first: int | None, size: int) -> list[int]:
    """The first id of every ``size`` consecutive ids an export walks (source rows, or results
    with ``per="prompt"``), from ``first`` (the smallest; None when there are none): one
    index step per chunk, whatever the gaps between ids."""
    starts: list[int] = []
    step = rq(f"export_chunk_after_{per}")
    while first is not None:
        starts.append(first)
        row = conn.execute(step, {"id": first, "size": size}).fetchone()
        first = None if row is None else int(row[0])
    return starts


def resolve_run(conn: sqlite3.Connection, run_id: int | None) -> Run | None:
    """The run asked for, or the latest one; ``None`` when no run was ever started.

    Raises NoSuchRun when an explicit ``run_id`` does not exist.
    """
    if run_id is None:
        row = conn.execute(query("latest_run")).fetchone()
        return Run(*row) if row else None
    row = conn.execute(query("run_by_id"), {"id": run_id}).fetchone()
    if row is None:
        raise NoSuchRun(f"no run with id {run_id} in this database")
    return Run(*row)


# -- filter values ----------------------------------------------------------------------------

#: What a filter can name: ``*_exists`` and ``known_*`` queries of each.
FILTERS = ("profile", "source", "language", "category")


def value_exists(conn: sqlite3.Connection, kind: str, value: str) -> bool:
    """Whether some row has this ``kind`` (one of :data:`FILTERS`) of value."""
    return bool(conn.execute(rq(f"{kind}_exists"), {"value": value}).fetchone()[0])


def known_values(conn: sqlite3.Connection, kind: str) -> list[str]:
    """The values of ``kind`` in the database, the most frequent first (profiles: by name)."""
    plural = "categories" if kind == "category" else f"{kind}s"
    return [str(v) for (v,) in conn.execute(rq(f"known_{plural}"))]


# -- statistics -------------------------------------------------------------------------------


def scope(run: Run | None, profile: str | None, source: str | None) -> dict[str, Any]:
    """The common parameters of the statistics queries (no run: a run id that matches none)."""
    return {"run_id": run.id if run else -1, "profile": profile, "source": source}


@cache
def _with_sums(name: str) -> str:
    return rq(name).replace("/* summary_sums */", rq("summary_sums"))


def run_summary(conn: sqlite3.Connection, p: Mapping[str, Any]) -> list[Row]:
    """The run's verdicts in one pass, grouped (see ``run_summary`` in results.sql), then one
    row of the run's results without a verdict under the profile (prompts 0: none)."""
    judged = conn.execute(_with_sums("run_summary"), p).fetchall()
    counted = sum(int(row[6]) for row in judged)
    if p["source"] is None and counted == run_result_count(conn, int(p["run_id"])):
        return judged  # every result has its verdict: no need to look for the others
    return [*judged, *conn.execute(_with_sums("run_summary_unjudged"), p).fetchall()]


def run_result_count(conn: sqlite3.Connection, run_id: int) -> int:
    """How many results the run has (an index count)."""
    return int(conn.execute(query("run_result_count"), {"run_id": run_id}).fetchone()[0])


def source_rows(conn: sqlite3.Connection, p: Mapping[str, Any]) -> Iterator[Row]:
    """(prompt id, source, language, outcome, parallelizable) of each of the run's source
    rows (in the source filter), a prompt's rows together and in id order; outcome None: no
    verdict under the profile. A cursor: the rows stream."""
    return iter(conn.execute(rq("source_rows"), p))


def novel_examples(conn: sqlite3.Connection, p: Mapping[str, Any], examples: int) -> list[Row]:
    """(label, description, prompt): the first ``examples`` prompts of each novel label."""
    return conn.execute(rq("novel_examples"), {**p, "examples": examples}).fetchall()


def results_before(conn: sqlite3.Connection, p: Mapping[str, Any], ids: Sequence[int]) -> list[Row]:
    """(id, the run's results up to it) for each result id."""
    return conn.execute(
        rq("results_before"), {**p, "ids": orjson.dumps(list(ids)).decode()}
    ).fetchall()


def corpus_totals(conn: sqlite3.Connection, source: str | None) -> Row:
    """(unique prompts, source rows) ingested, whatever has been processed."""
    row: Row = conn.execute(rq("corpus_totals"), {"source": source}).fetchone()
    return row


def queue_rows(conn: sqlite3.Connection) -> list[Row]:
    """(status, prompts) from the running totals: constant time at any table size."""
    return conn.execute(query("running_counts")).fetchall()


def worker_sessions(conn: sqlite3.Connection, run_id: int) -> list[Row]:
    """(started, stopped or last heartbeat) of the run's workers."""
    return conn.execute(rq("worker_sessions"), {"run_id": run_id}).fetchall()


def timeline(
    conn: sqlite3.Connection,
    run_id: int,
    source: str | None,
    *,
    t0: float,
    bucket: float,
    buckets: int,
) -> list[Row]:
    """(prompts, tokens, cost) of the run's results in each of ``buckets`` buckets of
    ``bucket`` seconds from ``t0``; the last one holds every later result too."""
    p: dict[str, Any] = {"run_id": run_id, "source": source, "t0": t0, "bucket": bucket}
    margin = bucket * 1e-6  # the index range is a little wider; the bucket number decides
    rows = []
    for i in range(buckets):
        last = i if i < buckets - 1 else math.inf
        lo = t0 + i * bucket - margin if i else -math.inf
        hi = t0 + (i + 1) * bucket + margin if i < buckets - 1 else math.inf
        p.update(first=i, last=last, lo=lo, hi=hi)
        rows.append(conn.execute(rq("timeline_bucket"), p).fetchone())
    return rows


# -- estimate and status ----------------------------------------------------------------------


def pending_work(conn: sqlite3.Connection) -> Row:
    """(pending prompts, their characters)."""
    row: Row = conn.execute(rq("pending_work")).fetchone()
    return row


def completed_usage(conn: sqlite3.Connection, model: str | None) -> Row:
    """(answered calls, input tokens, output tokens, prompt characters); model None: any."""
    row: Row = conn.execute(rq("completed_usage"), {"model": model}).fetchone()
    return row


def live_workers(conn: sqlite3.Connection, since: float) -> list[Row]:
    """Workers not stopped whose heartbeat is at or after ``since``."""
    return conn.execute(rq("live_worker_rows"), {"since": since}).fetchall()


def worker_totals(conn: sqlite3.Connection) -> Row:
    """(workers registered, workers not stopped)."""
    row: Row = conn.execute(rq("worker_totals")).fetchone()
    return row


def recent_results(conn: sqlite3.Connection, run_id: int, since: float) -> Row:
    """(results, tokens, cost) of the run since ``since``."""
    row: Row = conn.execute(rq("recent_results"), {"run_id": run_id, "since": since}).fetchone()
    return row


def run_totals(conn: sqlite3.Connection, run_id: int) -> Row:
    """(prompts, input and output tokens, cost, first and last result, latency, attempts)."""
    row: Row = conn.execute(rq("run_totals"), {"run_id": run_id, "source": None}).fetchone()
    return row


def run_cache(conn: sqlite3.Connection, run_id: int) -> Row:
    """The answered calls' prompt-cache figures (see ``run_cache`` in results.sql)."""
    row: Row = conn.execute(rq("run_cache"), {"run_id": run_id, "source": None}).fetchone()
    return row


def throughput(prompts: int, active_s: float) -> float | None:
    """THE throughput, everywhere (worker summary, ``stats``, report): prompts finished per
    second of worker time (from a worker's start to its stop, overlaps counted once; see
    ``worker_sessions``). Here, below both the worker and the read side, so that there is one."""
    return prompts / active_s if active_s > 0 else None
