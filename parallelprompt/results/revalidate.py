"""Re-judge stored answers under another rule profile, and compare two profiles.

``revalidate`` never calls the model: it re-runs parse + validate + tier on every stored raw
answer of a run and upserts the verdicts under the chosen profile (a dead letter stays dead
under every profile). ``compare_rules`` then shows, per category, how many prompts pass under
each profile and which outcomes/reasons account for the difference.
"""

from __future__ import annotations

import operator
import os
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from parallelprompt.db.connection import connect_sync
from parallelprompt.db.errors import NoSuchRun
from parallelprompt.db.models import VerdictRow
from parallelprompt.db.queue import verdict_params
from parallelprompt.db.revalidation import (
    comparison_rows,
    results_to_judge,
    run_to_judge,
    store_verdicts,
)
from parallelprompt.db.verdicts import UPSERT_NAMES, upsert_values, verdict_row
from parallelprompt.prompts import Contract

BATCH = 5_000  # results read, judged and written per step
#: Below this many results the judging stays in this process (starting workers costs more).
PARALLEL_MIN = 20_000
PROGRESS_EVERY_S = 2.0

Progress = Callable[[int, int, float], None]


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


def judge_batch(
    rows: Sequence[Sequence[Any]], contract: Contract, now: float | None = None
) -> list[tuple[Any, ...]]:
    """The ``upsert_verdict`` parameters of a batch, as tuples in ``UPSERT_NAMES`` order (pure
    but for the clock): ``verdict_params`` of ``judge_row``, built directly for a judged answer
    (``upsert_values``)."""
    now = time.time() if now is None else now
    out = []
    for r in rows:
        rid, prompt, raw_text, stop_reason, error_code = r
        if raw_text is None:
            dead = dead_row(error_code, contract)
            out.append(_in_order(verdict_params(int(rid), dead, now, prompt)))
        else:
            verdict = contract.judge(prompt, raw_text, stop_reason)
            out.append(upsert_values(int(rid), verdict, contract, now, prompt))
    return out


_in_order = operator.itemgetter(*UPSERT_NAMES)
_OUTCOME = UPSERT_NAMES.index("outcome")


def judge_range(
    conn: sqlite3.Connection, contract: Contract, run_id: int, ids: tuple[int, int]
) -> Counter[str]:
    """Judge the run's results with ids in ``ids`` (inclusive) and store their verdicts in one
    transaction; returns the outcomes."""
    values = judge_batch(results_to_judge(conn, run_id, *ids), contract)
    store_verdicts(conn, values)
    return Counter(v[_OUTCOME] for v in values)


# A judging process's own contract and connection (set by _init_judge): each process reads,
# judges and writes its batches itself, so no row crosses a process boundary.
_judge: tuple[Contract, sqlite3.Connection, int] | None = None


def _init_judge(
    db_path: Path | str,
    system_prompt_path: Path | None,
    categories_path: Path | None,
    rules: str,
    run_id: int,
) -> None:
    global _judge
    _judge = (
        Contract.load(system_prompt_path, categories_path, rules),
        connect_sync(db_path, existing=True),
        run_id,
    )


def _judge_in_worker(ids: tuple[int, int]) -> tuple[int, Counter[str]]:
    assert _judge is not None, "judging process not initialised"
    contract, conn, run_id = _judge
    outcomes = judge_range(conn, contract, run_id, ids)
    return sum(outcomes.values()), outcomes


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def progress_line(done: int, total: int, elapsed: float) -> str:
    per_s = done / elapsed if elapsed > 0 else 0.0
    eta = f", about {(total - done) / per_s:,.0f} s left" if per_s and done < total else ""
    share = f" ({done / total:.0%})" if total else ""
    return f"revalidate: {done:,} of {total:,} results judged{share}, {per_s:,.0f}/s{eta}"


def print_progress(done: int, total: int, elapsed: float) -> None:
    print(progress_line(done, total, elapsed), file=sys.stderr, flush=True)


def id_ranges(ids: Sequence[int], size: int = BATCH) -> list[tuple[int, int]]:
    """Consecutive (first, last) id ranges of at most ``size`` of the sorted ``ids``."""
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def revalidate(
    db_path: Path | str,
    *,
    rules: str,
    system_prompt_path: Path | None = None,
    categories_path: Path | None = None,
    run_id: int | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    parallel_min: int = PARALLEL_MIN,
) -> dict[str, Any]:
    """Judge every result of a run (default: latest) under ``rules`` and store the verdicts;
    returns the run, profile, contract version and counts by outcome.

    ``jobs`` processes (default: the cores, at most 8; 1 = this process only) each read, judge
    and write batches of ``BATCH`` results, one transaction per batch, so an interrupted
    revalidation keeps what it wrote and a rerun redoes the rest. ``progress`` is called with
    (judged, total, seconds) every couple of seconds and at the end. Below ``parallel_min``
    results everything runs in this process."""
    contract = Contract.load(system_prompt_path, categories_path, rules)
    conn = connect_sync(db_path)
    try:
        run, ids = run_to_judge(conn, run_id)
        if run is None:
            raise NoSuchRun("no run recorded yet: nothing to revalidate")
        ranges = id_ranges(ids)
        jobs = default_jobs() if jobs is None else max(1, jobs)
        tally = _Tally(len(ids), progress)
        if jobs > 1 and len(ids) >= parallel_min:
            args = (db_path, system_prompt_path, categories_path, contract.profile.name, run.id)
            with ProcessPoolExecutor(
                min(jobs, len(ranges)), initializer=_init_judge, initargs=args
            ) as pool:
                for future in as_completed([pool.submit(_judge_in_worker, r) for r in ranges]):
                    tally.add(future.result()[1])
        else:
            for r in ranges:
                tally.add(judge_range(conn, contract, run.id, r))
        tally.finish()
    finally:
        conn.close()
    return {
        "run_id": run.id,
        "profile": contract.profile.name,
        "contract_version": contract.version,
        "results": sum(tally.outcomes.values()),
        "outcomes": dict(sorted(tally.outcomes.items())),
    }


class _Tally:
    """Outcomes so far, and the progress callback every ``PROGRESS_EVERY_S``."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.progress = total, progress
        self.outcomes: Counter[str] = Counter()
        self.started = self.last = time.monotonic()

    def add(self, outcomes: Counter[str]) -> None:
        self.outcomes.update(outcomes)
        now = time.monotonic()
        if self.progress is not None and now - self.last >= PROGRESS_EVERY_S:
            self.progress(sum(self.outcomes.values()), self.total, now - self.started)
            self.last = now

    def finish(self) -> None:
        if self.progress is not None:
            done = sum(self.outcomes.values())
            self.progress(done, self.total, time.monotonic() - self.started)


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
    the_run, counts, cats, diffs = comparison_rows(conn, run_id, *profiles)
    return shape_comparison(the_run, profiles, counts, cats, diffs)


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
