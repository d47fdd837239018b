"""The documented SQL views answer the common questions with plain sqlite3."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from parallelprompt.results.stats import compute_stats
from tests.results.conftest import LMSYS, PHONES, WILDCHAT


def _plain(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def test_parallelizable_prompts_with_their_schema(results_db: Path) -> None:
    rows = (
        _plain(results_db)
        .execute("SELECT * FROM parallelizable_prompts ORDER BY work_id")
        .fetchall()
    )
    assert len(rows) == 7
    phones = next(r for r in rows if r["prompt"] == PHONES)
    assert json.loads(phones["data_json"]) == ["Pixel 8", "iPhone 15", "Galaxy S24"]
    assert phones["outcome"] == "medium_confidence"
    slogans = next(r for r in rows if r["n"] == 5)
    assert slogans["source_rows"] == 3


def test_category_stats_match_compute_stats(results_db: Path) -> None:
    view = {
        r["category"]: dict(r)
        for r in _plain(results_db).execute("SELECT * FROM category_stats").fetchall()
    }
    stats = compute_stats(sqlite3.connect(results_db))
    for c in stats["categories"]:
        assert view[c["category"]]["classified"] == c["classified"]
        assert view[c["category"]]["passed"] == c["passed"]
        assert view[c["category"]]["failed"] == c["failed"]
    assert view["Repeated Generation"]["pass_rate"] == 0.5


def test_failures_novel_languages_sources_outcomes(results_db: Path) -> None:
    conn = _plain(results_db)
    failures = {r["outcome"]: r for r in conn.execute("SELECT * FROM failures").fetchall()}
    assert set(failures) == {"failed", "unparseable", "dead"}
    assert failures["dead"]["error_code"] == "AccessDeniedException"
    assert failures["unparseable"]["reason"] == "truncated"
    (novel,) = conn.execute("SELECT * FROM novel_categories").fetchall()
    assert (novel["category"], novel["prompts"], novel["passed"]) == ("Comparative Analysis", 2, 1)
    assert novel["description"] == "Comparing several items on common criteria"
    langs = {r["language"]: r for r in conn.execute("SELECT * FROM language_stats").fetchall()}
    assert (langs["English"]["source_rows"], langs["English"]["prompts"]) == (12, 8)
    sources = {r["source"]: r for r in conn.execute("SELECT * FROM source_stats").fetchall()}
    assert sources[LMSYS]["source_rows"] == 8 and sources[WILDCHAT]["prompts"] == 6
    outcomes = dict(conn.execute("SELECT outcome, prompts FROM outcome_counts").fetchall())
    assert sum(outcomes.values()) == 10
    (run,) = conn.execute("SELECT run_id, profile, backend FROM current_run").fetchall()
    assert tuple(run) == (1, "default", "emulator")


def test_the_documented_example_queries_run(results_db: Path) -> None:
    """Every ```sql block of docs/results.md runs against a real database."""
    doc = Path(__file__).parents[2] / "docs" / "results.md"
    blocks = doc.read_text(encoding="utf-8").split("```sql")[1:]
    assert len(blocks) >= 5
    conn = sqlite3.connect(results_db)
    for block in blocks:
        sql = block.split("```", 1)[0].strip()
        conn.execute(sql).fetchall()


def test_views_show_iso_timestamps(results_db: Path) -> None:
    """Readable times in the views (UTC, ISO 8601), the unix seconds beside them."""
    conn = _plain(results_db)
    run = conn.execute("SELECT created_at, created_at_unix FROM current_run").fetchone()
    verdict = conn.execute(
        "SELECT created_at, created_at_unix FROM current_verdicts ORDER BY result_id LIMIT 1"
    ).fetchone()
    novel = conn.execute(
        "SELECT first_seen_at, first_seen_at_unix FROM novel_categories"
    ).fetchone()
    for iso, unix in (tuple(run), tuple(verdict), tuple(novel)):
        assert isinstance(iso, str) and iso.endswith("Z"), iso
        parsed = datetime.fromisoformat(iso)
        assert parsed.tzinfo is not None
        assert abs(parsed.timestamp() - unix) < 0.001
