"""A live view of a campaign: queue depth, live workers, recent rate, ETA, usage so far.

Read in one snapshot, so it is safe (and consistent) while workers are writing.
"""

from __future__ import annotations

import sqlite3
import time

from parallelprompt.db import readside
from parallelprompt.results.document import Status
from parallelprompt.results.stats import (
    backend_note,
    cache_usage,
    queue_counts,
    run_info,
    run_prices,
)
from parallelprompt.results.text import EMULATED_COST, format_cache

WINDOWS = (60, 300)  # seconds: the recent-rate windows


def status(
    conn: sqlite3.Connection, *, heartbeat_ttl: float = 30.0, now: float | None = None
) -> Status:
    """Queue depth by status, live workers (heartbeat within ``heartbeat_ttl`` s and not
    stopped), results per minute over the last 1 and 5 minutes, ETA, and the latest run's
    tokens and cost so far."""
    now = time.time() if now is None else now
    with readside.snapshot(conn):
        queue = queue_counts(readside.queue_rows(conn))
        live = readside.live_workers(conn, now - heartbeat_ttl)
        registered, not_stopped = readside.worker_totals(conn)
        run = readside.resolve_run(conn, None)
        rid = run.id if run else -1
        recent = {w: readside.recent_results(conn, rid, now - w) for w in WINDOWS}
        totals = readside.run_totals(conn, rid)
        cache = readside.run_cache(conn, rid)
    pending = queue["ready"] + queue["leased"]
    per_min = {w: int(recent[w][0]) * 60.0 / w for w in WINDOWS}
    rate = per_min[300] or per_min[60]
    return {
        "run": run_info(run),
        "backend_note": backend_note(run),
        "queue": queue,
        "pending": pending,
        "workers": {
            "live": len(live),
            "live_concurrency": sum(int(w[4]) for w in live),
            "registered": int(registered),
            "stale": int(not_stopped) - len(live),  # not stopped, heartbeat too old
            "list": [
                {
                    "id": w[0],
                    "run_id": w[1],
                    "host": w[2],
                    "pid": w[3],
                    "concurrency": w[4],
                    "started_at": w[5],
                    "heartbeat_age_s": round(now - float(w[6]), 1),
                }
                for w in live
            ],
        },
        "rate_per_min": {"last_60s": round(per_min[60], 1), "last_300s": round(per_min[300], 1)},
        "tokens_last_60s": int(recent[60][1]),
        "eta_s": round(pending / rate * 60, 1) if rate > 0 and pending else None,
        "processed": int(totals[0]),
        "tokens": {"input": int(totals[1]), "output": int(totals[2])},
        "cost_usd": round(float(totals[3]), 6),
        "cache": cache_usage(cache, run_prices(run)),
        "now": now,
    }


def _eta(seconds: float | None, pending: int) -> str:
    if not pending:
        return "nothing pending"
    if seconds is None:
        return "unknown (no recent results)"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def format_status(st: Status) -> str:
    q, w, r = st["queue"], st["workers"], st["rate_per_min"]
    run = st["run"]
    lines = [
        "no run yet" if run is None else f"run {run['id']}: {run['model_id']} ({run['backend']})",
    ]
    if st["backend_note"]:
        lines.append(f"NOTE: {st['backend_note']}")
    lines += [
        f"queue: ready {q['ready']:,}, leased {q['leased']:,}, done {q['done']:,}, "
        f"dead {q['dead']:,} (total {q['total']:,})",
        f"workers: {w['live']} live ({w['live_concurrency']} slots), {w['stale']} stale, "
        f"{w['registered']} registered",
        f"rate: {r['last_60s']:,.1f}/min (1 min), {r['last_300s']:,.1f}/min (5 min); "
        f"ETA {_eta(st['eta_s'], st['pending'])}",
        f"so far: {st['processed']:,} prompts, {st['tokens']['input']:,} in + "
        f"{st['tokens']['output']:,} out tokens, ${st['cost_usd']:.4f}"
        + (EMULATED_COST if st["backend_note"] else ""),
    ]
    cache = format_cache(st["cache"])
    if cache:
        lines.append(cache)
    return "\n".join(lines)
