"""The SQL of ``revalidate`` and ``compare_rules`` (``results/revalidate.py``): the
results to judge, the verdicts written back, the two profiles' comparison. The caller judges;
every statement and transaction is here."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from functools import cache
from typing import Any

from parallelprompt.db.connection import write_tx
from parallelprompt.db.models import Run
from parallelprompt.db.readside import resolve_run, snapshot
from parallelprompt.db.sql import named_queries, query
from parallelprompt.db.verdicts import UPSERT_NAMES

Row = tuple[Any, ...]


@cache
def _rq(name: str) -> str:
    return named_queries("results.sql")[name]


def run_to_judge(conn: sqlite3.Connection, run_id: int | None) -> tuple[Run | None, list[int]]:
    """The run (default: the latest; None when there is none) and its result ids in order,
    read in one snapshot. LookupError for an unknown ``run_id``."""
    with snapshot(conn):
        run = resolve_run(conn, run_id)
        if run is None:
            return None, []
        ids = [int(i) for (i,) in conn.execute(_rq("run_result_ids"), {"run_id": run.id})]
    return run, ids


def results_to_judge(conn: sqlite3.Connection, run_id: int, first: int, last: int) -> list[Row]:
    """The run's results with ids in [first, last]: (id, prompt, raw text, stop reason, error
    code), in id order."""
    rows: list[Row] = conn.execute(
        _rq("results_to_judge"), {"run_id": run_id, "first": first, "last": last}
    ).fetchall()
    return rows


@cache
def positional_upsert() -> str:
    """``upsert_verdict`` with ``?`` for each ``:name`` (in ``UPSERT_NAMES`` order, checked):
    sqlite3 binds a tuple several µs faster per row than it looks up 24 names in a dict."""
    sql = query("upsert_verdict")
    names = tuple(re.findall(r"(?<![\w:]):(\w+)", sql))
    if names != UPSERT_NAMES:
        raise RuntimeError(f"upsert_verdict's parameters {names} are not UPSERT_NAMES")
    return re.sub(r"(?<![\w:]):\w+", "?", sql)


def store_verdicts(conn: sqlite3.Connection, values: Sequence[Sequence[Any]]) -> None:
    """Insert or replace the verdicts (``upsert_verdict`` parameters as tuples in
    ``UPSERT_NAMES`` order, see ``db.verdicts.upsert_values``) in one transaction."""
    sql = positional_upsert()
    with write_tx(conn):
        conn.executemany(sql, values)


def comparison_rows(
    conn: sqlite3.Connection, run_id: int | None, a: str, b: str
) -> tuple[int | None, tuple[int, int, int], list[Row], list[Row]]:
    """In one snapshot: the run's id (default: the latest; None when there is none), its
    (results, missing under ``a``, missing under ``b``), the per-category rows of
    ``compare_categories`` and the rows of ``compare_differences``."""
    with snapshot(conn):
        run = resolve_run(conn, run_id)
        p = {"run_id": run.id if run else -1, "a": a, "b": b}
        results, missing_a, missing_b = conn.execute(_rq("compare_missing"), p).fetchone()
        cats = conn.execute(_rq("compare_categories"), p).fetchall()
        diffs = conn.execute(_rq("compare_differences"), p).fetchall()
    counts = (int(results), int(missing_a), int(missing_b))
    return (run.id if run else None), counts, cats, diffs
