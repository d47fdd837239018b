"""The single-pass statistics (``run_summary`` + ``source_summary``) give exactly what the
one-query-per-table statistics gave, on the results fixture (every outcome, novel labels,
duplicates across sources and languages, dead letters), with and without a source filter."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from parallelprompt.db import connect_sync
from parallelprompt.db.sql import _parse
from parallelprompt.results.stats import NOVEL_EXAMPLES, StatsRows, read_stats_rows, shape_stats

REFERENCE = _parse((Path(__file__).parent / "reference_stats.sql").read_text("utf-8"))


def reference_rows(conn: sqlite3.Connection, source: str | None) -> StatsRows:
    """The statistics rows as the per-table queries computed them."""
    rows = read_stats_rows(conn, source=source)  # run, corpus, queue, sessions, examples
    p = {"run_id": rows.run.id if rows.run else -1, "profile": rows.profile, "source": source}
    q = {name: conn.execute(sql, p).fetchall() for name, sql in REFERENCE.items()}
    rows.outcomes = q["outcome_counts"]
    rows.categories = q["category_counts"]
    rows.reasons = q["reason_counts"]
    rows.languages = q["language_counts"]
    rows.sources = q["source_outcome_counts"]
    rows.novel = q["novel_categories"]
    rows.emergence = q["novel_emergence"]
    rows.totals = q["run_totals"][0]
    rows.cache = q["run_cache"][0]
    return rows


@pytest.mark.parametrize("source", [None, "lmsys/lmsys-chat-1m", "allenai/WildChat-1M"])
def test_single_pass_equals_the_per_table_queries(results_db: Path, source: str | None) -> None:
    conn = connect_sync(results_db)
    ours = shape_stats(read_stats_rows(conn, source=source))
    reference = shape_stats(reference_rows(conn, source))
    assert ours["outcomes"]["high_confidence"] > 0 and ours["sources"]
    # The per-table query lost a label's position when its first prompt was in another source
    # (None); the single pass counts it within the source read.
    assert all(n["first_seen_after_prompts"] is not None for n in ours["novel_categories"])
    for n in (*ours["novel_categories"], *reference["novel_categories"]):
        n.pop("first_seen_after_prompts")
    assert ours == reference
    assert NOVEL_EXAMPLES > 0


def test_unjudged_results_are_counted(results_db: Path) -> None:
    """A result without a verdict under the profile read is 'unjudged', in the totals too."""
    conn = connect_sync(results_db)
    conn.execute("DELETE FROM verdicts WHERE result_id = (SELECT min(result_id) FROM verdicts)")
    ours = shape_stats(read_stats_rows(conn))
    assert ours == shape_stats(reference_rows(conn, None))
    assert ours["outcomes"]["unjudged"] == 1
