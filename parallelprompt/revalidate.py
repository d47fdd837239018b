"""Re-judge stored answers under another rule profile, and compare two profiles.

``revalidate`` never calls the model: it re-runs parse + validate + tier on every stored raw
answer of a run and upserts the verdicts under the chosen profile (a dead letter stays dead
under every profile). ``compare_rules`` then shows, per category, how many prompts pass under
each profile and which outcomes/reasons account for the difference.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from db.connection import connect_sync, write_tx
from db.models import VerdictRow
from db.queue import verdict_params
from db.sql import query
from db.stats import resolve_run, rq, snapshot
from parallelprompt.verdicts import verdict_row
from prompts import Contract

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


def judge_batch(rows: Sequence[Sequence[Any]], contract: Contract) -> list[dict[str, Any]]:
    """The ``upsert_verdict`` parameters of a batch (pure but for the clock)."""
    now = time.time()
    return [verdict_params(int(r[0]), judge_row(r, contract), now, r[1]) for r in rows]


_contract: Contract | None = None  # a judging process's own contract (set by _init_judge)


def _init_judge(system_prompt_path: Path | None, categories_path: Path | None, rules: str) -> None:
    global _contract
    _contract = Contract.load(system_prompt_path, categories_path, rules)


def _judge_in_worker(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    assert _contract is not None, "judging process not initialised"
    return judge_batch(rows, _contract)


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def progress_line(done: int, total: int, elapsed: float) -> str:
    per_s = done / elapsed if elapsed > 0 else 0.0
    eta = f", about {(total - done) / per_s:,.0f} s left" if per_s and done < total else ""
    share = f" ({done / total:.0%})" if total else ""
    return f"revalidate: {done:,} of {total:,} results judged{share}, {per_s:,.0f}/s{eta}"


def print_progress(done: int, total: int, elapsed: float) -> None:
    print(progress_line(done, total, elapsed), file=sys.stderr, flush=True)


def _batches(conn: sqlite3.Connection, run_id: int) -> Iterator[list[tuple[Any, ...]]]:
    after = 0
    while True:
        rows = conn.execute(
            rq("results_to_judge"), {"run_id": run_id, "after": after, "limit": BATCH}
        ).fetchall()
        if not rows:
            return
        yield rows
        after = int(rows[-1][0])


def _in_order(
    pool: ProcessPoolExecutor, batches: Iterator[list[tuple[Any, ...]]], ahead: int
) -> Iterator[list[dict[str, Any]]]:
    """Judged batches in read order, with at most ``ahead`` batches in flight (memory stays
    bounded: ``Executor.map`` would read every batch up front)."""
    pending: deque[Future[list[dict[str, Any]]]] = deque()
    for rows in batches:
        pending.append(pool.submit(_judge_in_worker, rows))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def revalidate(
    db_path: Path | str,
    *,
    rules: str,
    system_prompt_path: Path | None = None,
    categories_path: Path | None = None,
    run_id: int | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Judge every result of a run (default: latest) under ``rules`` and store the verdicts;
    returns the run, profile, contract version and counts by outcome.

    ``jobs`` processes judge batches in parallel (default: the cores, at most 8; 1 = in this
    process); batches are written in order by this process, each in its own transaction, so
    an interrupted revalidation keeps what it wrote and a rerun redoes the rest. ``progress``
    is called with (judged, total, seconds) every couple of seconds and at the end."""
    contract = Contract.load(system_prompt_path, categories_path, rules)
    conn = connect_sync(db_path)
    try:
        run = resolve_run(conn, run_id)
        if run is None:
            raise LookupError("no run recorded yet: nothing to revalidate")
        total = int(conn.execute(rq("run_result_count"), {"run_id": run.id}).fetchone()[0])
        jobs = default_jobs() if jobs is None else max(1, jobs)
        args = (system_prompt_path, categories_path, contract.profile.name)
        with contextlib.ExitStack() as stack:
            if jobs > 1 and total >= PARALLEL_MIN:
                pool = stack.enter_context(
                    ProcessPoolExecutor(jobs, initializer=_init_judge, initargs=args)
                )
                judged: Iterable[list[dict[str, Any]]] = _in_order(
                    pool, _batches(conn, run.id), ahead=2 * jobs
                )
            else:
                judged = (judge_batch(rows, contract) for rows in _batches(conn, run.id))
            outcomes = _write(conn, judged, total, progress)
    finally:
        conn.close()
    return {
        "run_id": run.id,
        "profile": contract.profile.name,
        "contract_version": contract.version,
        "results": sum(outcomes.values()),
        "outcomes": dict(sorted(outcomes.items())),
    }


def _write(
    conn: sqlite3.Connection,
    judged: Iterable[list[dict[str, Any]]],
    total: int,
    progress: Progress | None,
) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    started = last = time.monotonic()
    done = 0
    for params in judged:
        with write_tx(conn):
            conn.executemany(query("upsert_verdict"), params)
        outcomes.update(p["outcome"] for p in params)
        done += len(params)
        now = time.monotonic()
        if progress is not None and now - last >= PROGRESS_EVERY_S:
            progress(done, total, now - started)
            last = now
    if progress is not None:
        progress(done, total, time.monotonic() - started)
    return outcomes


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
