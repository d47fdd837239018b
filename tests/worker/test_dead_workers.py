"""Issue 11, finding 5: leases of a killed worker are reclaimed as soon as its heartbeat is
stale, not after the full lease; a worker waiting on others' leases says so with a bound."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from parallelprompt.emulator.process import spawn
from parallelprompt.settings import EmulatorSettings
from parallelprompt.worker.progress import Snapshot

from .conftest import fill
from .procs import emulator_stats, start_worker, wait_for


def q(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def snap(**fields: Any) -> Snapshot:
    base: dict[str, Any] = {
        "n": 10,
        "total": 18,
        "done": 10,
        "dead": 0,
        "failed_calls": 0,
        "throttled": 0,
        "rate": 0.00001,
        "elapsed_s": 30.0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": 0.0,
        "in_flight": 0,
        "limiter_rpm": None,
    }
    base.update(fields)
    return Snapshot(**base)


def test_waiting_on_other_workers_leases_shows_a_bound_not_an_eta() -> None:
    line = snap(ready=0, others_leased=8, others_within_s=293.4).line()
    assert "ETA" not in line
    assert "waiting on 8 prompt(s) leased by other workers" in line and "4m53s" in line
    assert snap(ready=0, others_leased=8, others_within_s=293.4).as_dict()["eta_s"] is None


def test_the_eta_is_shown_while_there_is_work_to_claim() -> None:
    line = snap(ready=5, others_leased=3, others_within_s=10.0, rate=1.0).line()  # 8 left
    assert "ETA 8s" in line and "waiting" not in line


@pytest.mark.slow
def test_a_restarted_worker_reclaims_a_killed_workers_leases_at_once(db: Path) -> None:
    """The lease is 300 s; the killed worker's rows come back within its heartbeat TTL."""
    asyncio.run(fill(db, [f"prompt number {i}" for i in range(40)]))
    with spawn(EmulatorSettings(port=0, latency_ms=800)) as endpoint:
        killed = start_worker(db, endpoint, "--concurrency", "8", "--lease-seconds", "300")
        wait_for(lambda: emulator_stats(endpoint)["in_flight"] == 8, 20, "8 calls in flight")
        killed.kill()
        killed.wait(timeout=10)
        assert q(db, "SELECT count(*) FROM work WHERE status = 'leased'")[0][0] >= 8
        second = start_worker(db, endpoint, "--concurrency", "8", "--lease-seconds", "300")
        _out, err = second.communicate(timeout=90)  # before: 300 s of waiting
    assert second.returncode == 0, err
    assert q(db, "SELECT status, count(*) FROM work GROUP BY status") == [("done", 40)]
    assert q(db, "SELECT count(*), count(DISTINCT work_id) FROM results") == [(40, 40)]
    assert q(db, "SELECT count(*) FROM results WHERE attempts > 1")[0][0] >= 8
