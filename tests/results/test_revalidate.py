"""Revalidation re-judges stored answers without a model; compare-rules explains the gap."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from parallelprompt.db import connect_sync
from parallelprompt.prompts import Contract
from parallelprompt.results.revalidate import (
    compare_rules,
    format_comparison,
    format_revalidation,
    revalidate,
)
from parallelprompt.results.stats import compute_stats
from tests.answers import answer
from tests.results.conftest import CASES, DEAD, SLOGANS


def _verdicts(path: Path, profile: str) -> dict[str, tuple[str, str | None]]:
    rows = sqlite3.connect(path).execute(
        "SELECT w.prompt, v.outcome, v.reason FROM verdicts v JOIN results r ON r.id = v.result_id"
        " JOIN work w ON w.id = r.work_id WHERE v.profile = ?",
        (profile,),
    )
    return {p: (o, r) for p, o, r in rows}


def test_revalidate_under_original_then_compare(results_db: Path) -> None:
    summary = revalidate(results_db, rules="original")
    assert summary["profile"] == "original"
    assert summary["results"] == len(CASES)
    assert sum(summary["outcomes"].values()) == len(CASES)
    assert summary["contract_version"] == Contract.load(rules="original").version
    original = _verdicts(results_db, "original")
    assert len(original) == len(CASES)
    assert original[DEAD] == ("dead", "AccessDeniedException")  # dead under every profile
    assert "judged under profile original" in format_revalidation(summary)

    # the stored default verdicts are untouched; stats read either profile exactly
    assert _verdicts(results_db, "default")[SLOGANS][0] == "high_confidence"
    conn = connect_sync(results_db)
    stats = compute_stats(conn, profile="original")
    assert sum(stats["outcomes"].values()) == len(CASES)
    assert "unjudged" not in stats["outcomes"]

    cmp = compare_rules(conn, ("original", "default"))
    assert cmp["missing_verdicts"] == {"original": 0, "default": 0}
    default_passed = compute_stats(conn)["passed_validation"]
    assert cmp["passed"] == {"original": stats["passed_validation"], "default": default_passed}
    for cat in cmp["categories"]:
        only_default = sum(r["prompts"] for r in cat["reasons"] if r["passes_under"] == "default")
        only_original = sum(r["prompts"] for r in cat["reasons"] if r["passes_under"] == "original")
        # the reasons account for the whole difference, category by category
        assert cat["difference"] == only_default - only_original
    text = format_comparison(cmp)
    assert "original" in text and "default" in text and "total" in text


def test_revalidate_is_idempotent(results_db: Path) -> None:
    first = revalidate(results_db, rules="default")
    second = revalidate(results_db, rules="default")
    assert first["outcomes"] == second["outcomes"]
    (n,) = sqlite3.connect(results_db).execute("SELECT count(*) FROM verdicts").fetchone()
    assert n == len(CASES)  # upserted in place, one verdict per result and profile


def test_compare_without_revalidation_reports_missing(results_db: Path) -> None:
    cmp = compare_rules(connect_sync(results_db))
    assert cmp["missing_verdicts"]["original"] == len(CASES)
    assert "revalidate --rules original" in format_comparison(cmp)


def test_repairs_are_stored_with_the_verdict(results_db: Path) -> None:
    repaired = answer(
        parallelizable="yes",
        category="Repeated Generation",
        serial=SLOGANS,
        template="Give me a slogan for a coffee shop",
        n="5",
    ).replace('"n":"5"', '"n":"5",')
    with sqlite3.connect(results_db) as conn:
        conn.execute(
            "UPDATE results SET raw_text = ? "
            "WHERE work_id = (SELECT id FROM work WHERE prompt = ?)",
            (repaired, SLOGANS),
        )
    revalidate(results_db, rules="default")
    row = (
        sqlite3.connect(results_db)
        .execute(
            "SELECT v.outcome, v.repairs_json FROM verdicts v JOIN results r ON r.id = v.result_id"
            " JOIN work w ON w.id = r.work_id WHERE v.profile = 'default' AND w.prompt = ?",
            (SLOGANS,),
        )
        .fetchone()
    )
    assert row[0] == "high_confidence"
    assert json.loads(row[1]) == [
        "json_trailing_commas",
        "n_from_string",
        "parallelizable_from_string",
    ]


def _texts(path: Path, profile: str) -> dict[int, tuple[object, ...]]:
    rows = sqlite3.connect(path).execute(
        "SELECT v.result_id, v.outcome, v.reason, v.tier_label, t.serial, t.template, t.context,"
        " v.data_json, v.n FROM verdicts v JOIN verdict_texts t"
        " ON t.result_id = v.result_id AND t.profile = v.profile WHERE v.profile = ?",
        (profile,),
    )
    return {int(r[0]): tuple(r[1:]) for r in rows}


def test_parallel_revalidation_stores_what_one_process_stores(
    results_db: Path, tmp_path: Path
) -> None:
    """Two judging processes (each reading, judging and writing its own id ranges) store the
    same verdicts as this process alone, and progress reaches the total."""
    copy = tmp_path / "copy.db"
    copy.write_bytes(results_db.read_bytes())
    seen: list[tuple[int, int]] = []
    alone = revalidate(results_db, rules="original", jobs=1)
    together = revalidate(
        copy,
        rules="original",
        jobs=2,
        parallel_min=0,
        progress=lambda done, total, _s: seen.append((done, total)),
    )
    assert together["outcomes"] == alone["outcomes"]
    assert _texts(copy, "original") == _texts(results_db, "original")
    assert seen[-1] == (len(CASES), len(CASES))


def test_progress_line_says_how_far_and_how_long() -> None:
    from parallelprompt.results.revalidate import id_ranges, progress_line

    line = progress_line(250_000, 1_000_000, 10.0)
    assert line == (
        "revalidate: 250,000 of 1,000,000 results judged (25%), 25,000/s, about 30 s left"
    )
    assert id_ranges([1, 2, 5, 9, 10], size=2) == [(1, 2), (5, 9), (10, 10)]


def test_stored_verdicts_are_the_straightforward_ones(results_db: Path, tmp_path: Path) -> None:
    """``judge_range`` builds each verdict's parameters as a tuple (``upsert_values``) and binds
    them by position: every stored column equals what ``verdict_params(judge_row(...))`` with
    the named statement stores."""
    from parallelprompt.db.queue import verdict_params
    from parallelprompt.db.revalidation import results_to_judge, run_to_judge, store_verdicts
    from parallelprompt.db.sql import query
    from parallelprompt.results.revalidate import judge_batch, judge_row

    copy = tmp_path / "copy.db"
    copy.write_bytes(results_db.read_bytes())
    contract = Contract.load(rules="original")
    conn, named = connect_sync(results_db), connect_sync(copy)
    run, ids = run_to_judge(conn, None)
    assert run is not None and ids
    rows = results_to_judge(conn, run.id, ids[0], ids[-1])
    assert any(r[2] is None for r in rows), "the fixture has dead letters"
    store_verdicts(conn, judge_batch(rows, contract, now=123.0))
    with named:
        named.execute("BEGIN")
        named.executemany(
            query("upsert_verdict"),
            [verdict_params(int(r[0]), judge_row(r, contract), 123.0, r[1]) for r in rows],
        )
    everything = "SELECT * FROM verdicts WHERE profile = 'original' ORDER BY result_id"
    stored = conn.execute(everything).fetchall()
    assert len(stored) == len(ids)
    assert stored == named.execute(everything).fetchall()
    conn.close()
    named.close()


def test_upsert_values_are_verdict_params_in_order() -> None:
    """On the judge's corpus (gold set, bench pool, both shapes) under both profiles."""
    from operator import itemgetter

    from parallelprompt.db.queue import verdict_params
    from parallelprompt.db.revalidation import positional_upsert
    from parallelprompt.db.verdicts import UPSERT_NAMES, upsert_values, verdict_row
    from tests.prompts.test_judge_fast_paths import _corpus

    assert positional_upsert().count("?") == len(UPSERT_NAMES)
    in_order = itemgetter(*UPSERT_NAMES)
    pairs = [*_corpus(), ("a prompt\x00with a NUL", "not json")]
    outcomes = set()
    for rules in ("default", "original"):
        contract = Contract.load(rules=rules)
        for i, (prompt, raw) in enumerate(pairs):
            verdict = contract.judge(prompt, raw, "end_turn")
            outcomes.add(str(verdict.outcome))
            expected = in_order(verdict_params(i, verdict_row(verdict, contract), 1.5, prompt))
            assert upsert_values(i, verdict, contract, 1.5, prompt) == expected
    assert {"high_confidence", "unparseable", "not_parallelizable"} <= outcomes
