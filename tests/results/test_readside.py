"""The read side's passes at scale, checked by their query plans and the statements they run
(no timing): no pass sorts the run's rows, the unjudged probe runs only when it can find
something, and the source rows are counted in one streaming pass."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from parallelprompt.db import connect_sync, readside
from parallelprompt.db.readside import rq
from parallelprompt.results.stats import compute_stats, group_source_rows

P = {
    "run_id": 1,
    "profile": "default",
    "source": None,
    "examples": 3,
    "t0": 0.0,
    "bucket": 1.0,
    "first": 0,
    "last": 0,
    "lo": 0.0,
    "hi": 1.0,
}


def plan(conn: sqlite3.Connection, sql: str, **p: object) -> str:
    return "\n".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql, {**P, **p}))


@pytest.mark.parametrize("source", [None, "allenai/WildChat-1M"])
def test_no_pass_over_the_run_sorts_it(results_db: Path, source: str | None) -> None:
    conn = connect_sync(results_db)
    summary = plan(conn, readside._with_sums("run_summary"), source=source)
    assert "verdicts_summary" in summary and "TEMP B-TREE" not in summary, summary
    rows = plan(conn, rq("source_rows"), source=source)
    assert "SCAN s USING INDEX sources_work" in rows and "TEMP B-TREE" not in rows, rows
    timeline = plan(conn, rq("timeline_bucket"), source=source)
    assert "results_run" in timeline and "TEMP B-TREE" not in timeline, timeline
    # the novel verdicts come from the index alone; only they are sorted (by label)
    novel = plan(conn, rq("novel_examples"), source=source)
    assert "COVERING INDEX verdicts_summary" in novel, novel


def _statements(conn: sqlite3.Connection) -> list[str]:
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    return seen


def test_the_unjudged_probe_runs_only_when_a_result_lacks_its_verdict(results_db: Path) -> None:
    conn = connect_sync(results_db)
    seen = _statements(conn)
    compute_stats(conn)
    assert not [s for s in seen if "'unjudged', NULL" in s]
    conn.execute("DELETE FROM verdicts WHERE result_id = (SELECT min(result_id) FROM verdicts)")
    seen.clear()
    assert compute_stats(conn)["outcomes"]["unjudged"] == 1
    assert [s for s in seen if "'unjudged', NULL" in s]
    # with a source filter the counts cannot be compared: the probe always runs
    seen.clear()
    compute_stats(conn, source="lmsys/lmsys-chat-1m")
    assert [s for s in seen if "'unjudged', NULL" in s]


def test_read_snapshots_map_the_file(results_db: Path) -> None:
    conn = connect_sync(results_db)
    with readside.snapshot(conn):
        assert conn.execute("PRAGMA mmap_size").fetchone()[0] > 0


def test_source_rows_count_each_prompt_once_per_source_and_per_language() -> None:
    stream = [
        # prompt 1: twice in A (English, then no language), once in B (English)
        (1, "A", "English", "high_confidence", 1),
        (1, "A", None, "high_confidence", 1),
        (1, "B", "English", "high_confidence", 1),
        # prompt 2: once in A, language "unknown" spelled out: the same as no language
        (2, "A", "unknown", None, None),
        # prompt 3: twice in B, both without a language
        (3, "B", None, "not_parallelizable", 0),
        (3, "B", None, "not_parallelizable", 0),
    ]
    got = sorted(group_source_rows(stream))
    assert got == [
        # (source, language, outcome, parallelizable, rows, prompts in source, in language)
        ("A", "English", "high_confidence", 1, 1, 1, 1),
        ("A", "unknown", "high_confidence", 1, 1, 0, 1),
        ("A", "unknown", "unjudged", 0, 1, 1, 1),
        ("B", "English", "high_confidence", 1, 1, 1, 0),
        ("B", "unknown", "not_parallelizable", 0, 2, 1, 1),
    ]
