"""Worker processes: graceful SIGTERM, SIGKILL loses nothing, the fleet shares one quota."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from parallelprompt.emulator.process import spawn
from parallelprompt.settings import EmulatorSettings
from parallelprompt.worker import StopReason
from tests.worker.conftest import work_on

from .conftest import FAST, fill, make_settings, quiet_display
from .procs import ROOT, emulator_stats, start_worker, wait_for, worker_env

pytestmark = pytest.mark.slow


def q(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize(("grace", "finished"), [(10.0, 8), (0.3, 0)])
def test_sigterm_drains_in_flight_calls_and_releases_the_rest(
    db: Path, grace: float, finished: int
) -> None:
    asyncio.run(fill(db, [f"prompt number {i}" for i in range(40)]))
    with spawn(EmulatorSettings(port=0, latency_ms=1500)) as endpoint:
        proc = start_worker(db, endpoint, "--concurrency", "8", "--grace-seconds", str(grace))
        wait_for(lambda: emulator_stats(endpoint)["in_flight"] == 8, 20, "8 calls in flight")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1 and "stopped by SIGTERM" in lines[0]
    assert f"{finished} prompts" in lines[0]
    status = dict(q(db, "SELECT status, count(*) FROM work GROUP BY status"))
    assert status.get("done", 0) == finished
    assert status["ready"] == 40 - finished and "leased" not in status
    # released leases are not charged an attempt
    assert q(db, "SELECT max(attempts) FROM work WHERE status = 'ready'") == [(0,)]
    assert q(db, "SELECT count(*) FROM workers WHERE stopped_at IS NOT NULL") == [(1,)]


def test_sigkill_loses_nothing_leases_are_reclaimed(db: Path) -> None:
    prompts = [f"prompt number {i}" for i in range(40)]
    asyncio.run(fill(db, prompts))
    with spawn(EmulatorSettings(port=0, latency_ms=800)) as endpoint:
        proc = start_worker(db, endpoint, "--concurrency", "8", "--lease-seconds", "1.5")
        wait_for(lambda: emulator_stats(endpoint)["in_flight"] == 8, 20, "8 calls in flight")
        proc.kill()
        proc.wait(timeout=10)
        leased = q(db, "SELECT count(*) FROM work WHERE status = 'leased'")[0][0]
        assert leased >= 8
        summary = asyncio.run(
            work_on(
                make_settings(db, endpoint, lease_seconds=5.0), tuning=FAST, display=quiet_display()
            )
        )
    assert summary.stop_reason is StopReason.DRAINED
    assert q(db, "SELECT status, count(*) FROM work GROUP BY status") == [("done", 40)]
    # exactly once into results, whoever finished it
    assert q(db, "SELECT count(*), count(DISTINCT work_id) FROM results") == [(40, 40)]
    reclaimed = q(db, "SELECT count(*) FROM results WHERE attempts > 1")[0][0]
    assert reclaimed >= 8


def test_two_processes_share_one_quota(db: Path) -> None:
    asyncio.run(fill(db, [f"prompt number {i}" for i in range(2000)]))
    rpm = 300.0  # the fleet's quota: 5 requests/s for both together
    with spawn(EmulatorSettings(port=0)) as endpoint:
        flags = ("--rpm", str(rpm), "--concurrency", "8", "--grace-seconds", "2")
        t0 = time.monotonic()
        procs = [start_worker(db, endpoint, *flags) for _ in range(2)]
        time.sleep(8.0)
        admitted = emulator_stats(endpoint)["admitted"]
        elapsed = time.monotonic() - t0
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.communicate(timeout=20)
            assert p.returncode == 0
    allowed = rpm / 60.0 * elapsed
    # never 2x the quota: at most the quota plus one starting request per process
    assert admitted <= allowed + 4, (admitted, allowed)
    assert admitted >= 0.4 * allowed, (admitted, allowed)
    per_worker = q(db, "SELECT worker_id, count(*) FROM results GROUP BY worker_id")
    assert len(per_worker) == 2
    counts = [n for _, n in per_worker]
    assert min(counts) >= 0.3 * sum(counts)
    assert q(db, "SELECT count(*) FROM workers") == [(2,)]


def test_cli_exit_code_and_one_line_reason_for_a_fatal_error(db: Path) -> None:
    asyncio.run(fill(db, ["a prompt", "another prompt"]))
    model = "anthropic.claude-haiku-4-5-20251001-v1:0"
    with spawn(EmulatorSettings(port=0, retired_models=(model,))) as endpoint:
        proc = start_worker(db, endpoint, "--model", model)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    reason = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(reason) == 1 and "ResourceNotFoundException" in reason[0]
    assert q(db, "SELECT status, count(*) FROM work GROUP BY status") == [("ready", 2)]


def catches(pid: int, sig: signal.Signals) -> bool:
    """Whether process ``pid`` has a handler for ``sig`` (Linux: SigCgt in /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    mask = next(
        int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigCgt")
    )
    return bool(mask >> (sig - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    "entry", [["-m", "parallelprompt", "work"], ["-m", "parallelprompt.cli", "work"]]
)
def test_sigterm_while_starting_up_is_a_graceful_stop(db: Path, entry: list[str]) -> None:
    """The handlers come before the slow start (imports, DB open, client): a SIGTERM while
    the DB is still being opened stops the worker with status 0 and one summary line."""
    asyncio.run(fill(db, [f"prompt number {i}" for i in range(5)]))
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the worker's DB open waits for this write lock
    argv = [sys.executable, *entry, "--db", str(db), "--endpoint-url", "http://127.0.0.1:9"]
    argv += ["--region", "us-east-1", "--quiet"]
    proc = subprocess.Popen(
        argv, env=worker_env(), cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: catches(proc.pid, signal.SIGTERM), 60, "a SIGTERM handler")
        proc.send_signal(signal.SIGTERM)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1 and "stopped by SIGTERM" in lines[0], out
    assert "0 prompts" in lines[0]
    assert q(db, "SELECT status, count(*) FROM work GROUP BY status") == [("ready", 5)]
