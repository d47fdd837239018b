"""Statistics reconcile exactly with the results, the sources and the work table."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import orjson
import pytest

from parallelprompt.db import connect_sync
from parallelprompt.db.connection import write_tx
from parallelprompt.results.stats import (
    EMULATOR_NOTE,
    OUTCOMES,
    compute_stats,
    format_stats,
    snapshot,
)
from tests.results.conftest import CASES, LMSYS, WILDCHAT

ORIGINAL_KEYS = (
    "total_classified_as_parallelizable",
    "failed_validation",
    "passed_validation",
    "categories_failed",
    "categories_passed",
)


def test_every_prompt_is_accounted_for(results_db: Path) -> None:
    conn = connect_sync(results_db)
    stats = compute_stats(conn)
    (results,) = conn.execute("SELECT count(*) FROM results").fetchone()
    (source_rows,) = conn.execute(
        "SELECT count(*) FROM sources s JOIN results r ON r.work_id = s.work_id"
    ).fetchone()
    assert stats["processed"] == {"prompts": len(CASES), "source_rows": 14}
    assert sum(stats["outcomes"].values()) == stats["processed"]["prompts"] == results
    assert stats["processed"]["source_rows"] == source_rows
    assert set(stats["outcomes"]) == set(OUTCOMES)
    assert stats["outcomes"] == {
        "high_confidence": 3,
        "medium_confidence": 2,
        "not_parallelizable": 1,
        "failed": 2,
        "unparseable": 1,
        "dead": 1,
    }
    for src in stats["sources"]:
        assert sum(src["outcomes_by_source_row"].values()) == src["source_rows"]
        assert sum(src["outcomes"].values()) == src["prompts"]
    assert sum(s["source_rows"] for s in stats["sources"]) == source_rows
    # The work table agrees: every result's row is done or dead, the rest is pending.
    queue = stats["queue"]
    assert queue["done"] + queue["dead"] == results
    assert queue["dead"] == stats["outcomes"]["dead"]
    assert queue == {"ready": 1, "leased": 0, "done": 9, "dead": 1, "total": 11}


def test_the_original_five_keys(results_db: Path) -> None:
    stats = compute_stats(connect_sync(results_db))
    assert all(k in stats for k in ORIGINAL_KEYS)
    assert stats["total_classified_as_parallelizable"] == 7
    assert stats["passed_validation"] == 5
    assert stats["failed_validation"] == 2
    assert stats["passed_validation"] + stats["failed_validation"] == 7
    assert stats["categories_passed"] == {
        "Comparative Analysis": 1,
        "Keyword Extraction": 1,
        "Named Entity Recognition": 1,
        "Repeated Generation": 1,
        "Translation": 1,
    }
    assert stats["categories_failed"] == {"Comparative Analysis": 1, "Repeated Generation": 1}
    assert sum(stats["categories_passed"].values()) == stats["passed_validation"]
    assert sum(stats["categories_failed"].values()) == stats["failed_validation"]


def test_distributions(results_db: Path) -> None:
    stats = compute_stats(connect_sync(results_db))
    assert stats["tiers"]["high_confidence"] == 3
    assert stats["tiers"]["high_share"] == 0.6
    cats = {c["category"]: c for c in stats["categories"]}
    assert cats["Repeated Generation"]["pass_rate"] == 0.5
    assert cats["Comparative Analysis"]["is_novel"] is True
    langs = {row["language"]: row for row in stats["languages"]}
    assert langs["English"]["source_rows"] == 12
    assert langs["English"]["prompts"] == 8
    assert langs["Spanish"]["parallelizable"] == 0
    assert langs["German"]["pass_rate"] == 1.0
    sources = {s["source"]: s for s in stats["sources"]}
    assert (sources[LMSYS]["source_rows"], sources[LMSYS]["prompts"]) == (8, 7)
    assert (sources[WILDCHAT]["source_rows"], sources[WILDCHAT]["prompts"]) == (6, 6)
    assert stats["failure_reasons"] == {"neither_data_nor_n": 1, "no_structural_cue": 1}
    assert stats["unparseable_reasons"] == {"truncated": 1}
    assert stats["dead_reasons"] == {"AccessDeniedException": 1}
    (novel,) = stats["novel_categories"]
    assert novel["label"] == "Comparative Analysis"
    assert novel["count"] == 2 and novel["passed"] == 1
    assert novel["description"] == "Comparing several items on common criteria"
    assert novel["first_seen_after_prompts"] == 5
    assert len(novel["examples"]) == 2
    assert stats["dedup"] == {
        "source_rows": 14,
        "unique_prompts": 10,
        "calls_saved": 4,
        "savings": round(4 / 14, 4),
        "corpus_source_rows": 16,
        "corpus_unique_prompts": 11,
    }
    assert stats["tokens"]["input"] == sum(1000 + 10 * i for i in range(len(CASES)) if i != 8)
    assert stats["cost_usd"] > 0
    # worker time: from the worker's registration to its last heartbeat (results: 2 s apart)
    assert stats["throughput"]["elapsed_s"] == 20.0
    assert stats["throughput"]["results_span_s"] == 18.0
    assert stats["throughput"]["prompts_per_s"] == 10 / 20.0
    assert stats["backend_note"] == EMULATOR_NOTE


def test_filter_by_source(results_db: Path) -> None:
    stats = compute_stats(connect_sync(results_db), source=WILDCHAT)
    assert stats["filters"] == {"source": WILDCHAT}
    assert stats["processed"] == {"prompts": 6, "source_rows": 6}
    assert sum(stats["outcomes"].values()) == 6
    assert [s["source"] for s in stats["sources"]] == [WILDCHAT]
    assert stats["total_classified_as_parallelizable"] == 4  # slogans, translate, phones, poem
    assert stats["dead_reasons"] == {}


def test_filter_by_run_and_profile(results_db: Path) -> None:
    conn = connect_sync(results_db)
    assert compute_stats(conn, run_id=1)["processed"]["prompts"] == len(CASES)
    with pytest.raises(LookupError, match="no run with id 99"):
        compute_stats(conn, run_id=99)
    with pytest.raises(ValueError, match=r"no verdicts under profile 'original' \(profiles wi"):
        compute_stats(conn, profile="original")  # not revalidated yet: a one-line error
    with pytest.raises(ValueError, match=r"no source 'sharegpt' in this database \(sources: "):
        compute_stats(conn, source="sharegpt")
    judge_one_under(conn, "original", "test-v2")
    other = compute_stats(conn, profile="original")  # judged in part: the rest is unjudged
    assert other["outcomes"]["unjudged"] == len(CASES) - 1
    assert sum(other["outcomes"].values()) == len(CASES)


def judge_one_under(conn: sqlite3.Connection, profile: str, contract: str) -> None:
    """Copy one verdict of the run's profile under ``profile``, judged by ``contract``."""
    with write_tx(conn):
        conn.execute(
            "INSERT INTO verdicts SELECT result_id, ?, ?, outcome, reason, tier_label, "
            "validation_passed, parallelizable, category, is_novel_category, "
            "category_description, serial, template, context, data_json, n, created_at, "
            "repairs_json, serial_at, serial_to, template_at, template_to, context_at, context_to "
            "FROM verdicts WHERE profile = 'default' ORDER BY result_id LIMIT 1",
            (profile, contract),
        )


def test_header_shows_the_verdicts_contract_version(results_db: Path) -> None:
    """After revalidate under another contract, the header says which contract judged the
    verdicts shown, not only the run's."""
    conn = connect_sync(results_db)
    own = compute_stats(conn)
    assert own["verdict_contract_versions"] == {"test-v1": len(CASES)}
    assert "(contract test-v1)" in format_stats(own)
    judge_one_under(conn, "original", "test-v2")
    other = compute_stats(conn, profile="original")
    assert other["verdict_contract_versions"] == {"test-v2": 1}
    header = format_stats(other).splitlines()[0]
    assert "profile original (verdicts under contract test-v2; the run's contract test-v1)" in (
        header
    )
    conn.execute("UPDATE verdicts SET contract_version = 'test-v3' WHERE profile = 'default' "
                 "AND outcome = 'dead'")  # fmt: skip
    mixed = format_stats(compute_stats(conn)).splitlines()[0]
    assert "verdicts under contracts test-v1 (9 prompts), test-v3 (1 prompts)" in mixed


def test_empty_database(tmp_path: Path) -> None:
    stats = compute_stats(connect_sync(tmp_path / "empty.db"))
    assert stats["run"] is None
    assert stats["processed"] == {"prompts": 0, "source_rows": 0}
    assert "no run" in format_stats(stats)
    orjson.dumps(stats)


def test_stats_read_one_snapshot(results_db: Path) -> None:
    """Inside one read transaction, a writer's commit is invisible: nothing half-updated."""
    reader = connect_sync(results_db)
    writer = connect_sync(results_db)
    (work_id,) = writer.execute("SELECT id FROM work WHERE status = 'ready'").fetchone()
    with snapshot(reader):
        before = compute_stats(reader)
        with write_tx(writer):
            rid = writer.execute(
                "INSERT INTO results (work_id, run_id, model_id, raw_text, attempts, created_at)"
                " VALUES (?, 1, 'm', '{}', 1, ?) RETURNING id",
                (work_id, time.time()),
            ).fetchone()[0]
            writer.execute(
                "INSERT INTO verdicts (result_id, profile, contract_version, outcome,"
                " validation_passed, parallelizable, created_at)"
                " VALUES (?, 'default', 'x', 'not_parallelizable', 0, 0, 0)",
                (rid,),
            )
            writer.execute("UPDATE work SET status = 'done' WHERE id = ?", (work_id,))
        assert compute_stats(reader) == before
    after = compute_stats(reader)
    assert after["processed"]["prompts"] == before["processed"]["prompts"] + 1
    assert after["outcomes"]["not_parallelizable"] == 2
    assert after["queue"]["done"] == before["queue"]["done"] + 1


def test_readonly_connection_and_text(results_db: Path) -> None:
    conn = connect_sync(results_db, readonly=True)
    text = format_stats(compute_stats(conn))
    assert "processed: 10 unique prompts from 14 source rows" in text
    assert EMULATOR_NOTE in text
    assert "Comparative Analysis (novel)" in text
    assert isinstance(conn, sqlite3.Connection)
