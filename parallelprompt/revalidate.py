"""Re-judge stored answers under another rule profile, and compare two profiles.

``revalidate`` never calls the model: it re-runs parse + validate + tier on every stored raw
answer of a run and upserts the verdicts under the chosen profile (a dead letter stays dead
under every profile). ``compare_rules`` then shows, per category, how many prompts pass under
each profile and which outcomes/reasons account for the difference.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from db.connection import connect_sync, write_tx
from db.models import VerdictRow
from db.queue import verdict_params
from db.sql import query
from db.stats import resolve_run, rq, snapshot
from parallelprompt.verdicts import verdict_row
from prompts import Contract

BATCH = 1_000


def dead_row(error_code: str | None, contract: Contract) -> VerdictRow:
    return VerdictRow(
        profile=contract.profile.name,
        contract_version=contract.version,
        outcome="dead",
        reason=error_code or "no_answer",
        tier_label="dead",
    )


def judge_row(row: Sequence[Any], contract: Contract) -> VerdictRow:
    """One ``results_to_judge`` row: (result id, prompt, raw text, stop reason, error code)."""
    _rid, prompt, raw_text, stop_reason, error_code = row
    if raw_text is None:
        return dead_row(error_code, contract)
    return verdict_row(contract.judge(prompt, raw_text, stop_reason), contract)


def revalidate(
    db_path: Path | str,
    *,
    rules: str,
    system_prompt_path: Path | None = None,
    categories_path: Path | None = None,
    run_id: int | None = None,
) -> dict[str, Any]:
    """Judge every result of a run (default: latest) under ``rules`` and store the verdicts;
    returns the run, profile, contract version and counts by outcome."""
    contract = Contract.load(system_prompt_path, categories_path, rules)
    conn = connect_sync(db_path)
    try:
        run = resolve_run(conn, run_id)
        if run is None:
            raise LookupError("no run recorded yet: nothing to revalidate")
        outcomes: Counter[str] = Counter()
        after = 0
        while True:
            rows = conn.execute(
                rq("results_to_judge"), {"run_id": run.id, "after": after, "limit": BATCH}
            ).fetchall()
            if not rows:
                break
            judged = [(int(r[0]), judge_row(r, contract)) for r in rows]
            now = time.time()
            with write_tx(conn):
                conn.executemany(
                    query("upsert_verdict"), [verdict_params(rid, v, now) for rid, v in judged]
                )
            outcomes.update(v.outcome for _, v in judged)
            after = int(rows[-1][0])
    finally:
        conn.close()
    return {
        "run_id": run.id,
        "profile": contract.profile.name,
        "contract_version": contract.version,
        "results": sum(outcomes.values()),
        "outcomes": dict(sorted(outcomes.items())),
    }


def format_revalidation(summary: Mapping[str, Any]) -> str:
    counts = ", ".join(f"{k} {v:,}" for k, v in summary["outcomes"].items())
    return (
        f"run {summary['run_id']}: {summary['results']:,} results judged under profile "
        f"{summary['profile']} (contract {summary['contract_version']}): {counts or 'none'}"
    )


# -- comparison -------------------------------------------------------------------------------


def compare_rules(
    conn: sqlite3.Connection,
    profiles: tuple[str, str] = ("original", "default"),
    run_id: int | None = None,
) -> dict[str, Any]:
    """Per category, prompts passed under each of two profiles, and the outcome:reason under
    the other profile of every prompt that passes under only one."""
    a, b = profiles
    with snapshot(conn):
        run = resolve_run(conn, run_id)
        p = {"run_id": run.id if run else -1, "a": a, "b": b}
        results, missing_a, missing_b = conn.execute(rq("compare_missing"), p).fetchone()
        cats = conn.execute(rq("compare_categories"), p).fetchall()
        diffs = conn.execute(rq("compare_differences"), p).fetchall()
    return shape_comparison(
        run.id if run else None, (a, b), (int(results), int(missing_a), int(missing_b)), cats, diffs
    )


def shape_comparison(
    run_id: int | None,
    profiles: tuple[str, str],
    counts: tuple[int, int, int],
    cats: Sequence[Sequence[Any]],
    diffs: Sequence[Sequence[Any]],
) -> dict[str, Any]:
    a, b = profiles
    reasons: dict[str, list[dict[str, Any]]] = {}
    for category, passes_under, why, n in diffs:
        reasons.setdefault(str(category), []).append(
            {"passes_under": passes_under, "other_outcome": why, "prompts": int(n)}
        )
    categories: list[dict[str, Any]] = [
        {
            "category": str(cat),
            "parallelizable": {a: int(pa), b: int(pb)},
            "passed": {a: int(sa), b: int(sb)},
            "difference": int(sb) - int(sa),
            "reasons": reasons.get(str(cat), []),
        }
        for cat, pa, sa, pb, sb in cats
    ]
    totals = {p: sum(c["passed"][p] for c in categories) for p in (a, b)}
    return {
        "run_id": run_id,
        "profiles": [a, b],
        "results": counts[0],
        "missing_verdicts": {a: counts[1], b: counts[2]},
        "passed": totals,
        "categories": categories,
    }


def format_comparison(cmp: Mapping[str, Any]) -> str:
    a, b = cmp["profiles"]
    lines = [f"run {cmp['run_id']}: {cmp['results']:,} results; passed under {a} vs {b}"]
    for p, missing in cmp["missing_verdicts"].items():
        if missing:
            lines.append(
                f"NOTE: {missing:,} results have no verdict under {p} "
                f"(run `parallelprompt revalidate --rules {p}`)"
            )
    lines.append(f"  {'category':<34} {a:>10} {b:>10} {'diff':>8}")
    for c in cmp["categories"]:
        lines.append(
            f"  {c['category'][:34]:<34} {c['passed'][a]:>10,} {c['passed'][b]:>10,} "
            f"{c['difference']:>+8,}"
        )
        for r in c["reasons"][:5]:
            other = b if r["passes_under"] == a else a
            lines.append(
                f"      {r['prompts']:>6,} pass only under {r['passes_under']}; "
                f"under {other}: {r['other_outcome']}"
            )
    lines.append(
        f"  {'total':<34} {cmp['passed'][a]:>10,} {cmp['passed'][b]:>10,} "
        f"{cmp['passed'][b] - cmp['passed'][a]:>+8,}"
    )
    return "\n".join(lines)
