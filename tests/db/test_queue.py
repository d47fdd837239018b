"""The work table's lease protocol on real SQLite files, with real processes."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from parallelprompt.db import (
    Completion,
    FailOutcome,
    Failure,
    RunIdentity,
    SqliteQueue,
    Status,
    VerdictRow,
    connect_sync,
)
from parallelprompt.db.connection import SCHEMA_VERSION, DatabaseError
from tests.db.conftest import FakeClock, source_row

ROOT = Path(__file__).resolve().parents[2]


async def make_run(q: SqliteQueue) -> int:
    run = await q.start_run(
        RunIdentity("m", "converse", "t", "default", "emulator", ""),
        {},
        reopen=False,
    )
    return run.id


def done(
    work_id: int, attempts: int, run_id: int = 1, outcome: str = "not_parallelizable"
) -> Completion:
    verdict = VerdictRow(profile="default", contract_version="t", outcome=outcome)
    return Completion(
        work_id=work_id, run_id=run_id, model_id="m", verdict=verdict, attempts=attempts
    )


async def fill(db_path: Path, n: int) -> None:
    q = await SqliteQueue.open(db_path, "filler")
    await make_run(q)
    await q.enqueue_many([source_row(f"prompt number {i}", i) for i in range(n)])
    await q.close()


async def test_enqueue_dedups_and_keeps_every_source(db_path: Path) -> None:
    q = await SqliteQueue.open(db_path, "w")
    rows = [source_row("same prompt text", i) for i in range(3)]
    rows.append(source_row("same prompt text", 0, source="allenai/WildChat-1M"))
    rows.append(source_row("another prompt", 5))
    first = await q.enqueue_many(rows)
    assert (first.new_prompts, first.new_sources, first.known_sources) == (2, 5, 0)
    again = await q.enqueue_many(rows)
    assert (again.new_prompts, again.new_sources, again.known_sources) == (0, 0, 5)
    await q.close()
    conn = connect_sync(db_path)
    per_prompt = dict(
        conn.execute(
            "SELECT w.prompt, count(*) FROM sources s JOIN work w ON w.id = s.work_id GROUP BY 1"
        ).fetchall()
    )
    assert per_prompt == {"same prompt text": 4, "another prompt": 1}


async def test_claim_leases_in_order_and_counts(db_path: Path) -> None:
    await fill(db_path, 10)
    q = await SqliteQueue.open(db_path, "w1")
    leases = await q.claim(4, lease_seconds=60)
    assert [x.work_id for x in leases] == [1, 2, 3, 4]
    assert all(x.attempts == 1 for x in leases)
    counts = await q.counts()
    assert counts[Status.LEASED] == 4 and counts[Status.READY] == 6
    await q.close()


async def test_expired_lease_is_reclaimed_exactly_once(db_path: Path) -> None:
    await fill(db_path, 1)
    clock = FakeClock()
    dead_worker = await SqliteQueue.open(db_path, "dead", clock=clock)
    assert len(await dead_worker.claim(1, lease_seconds=30)) == 1
    clock.now += 31  # the lease has expired; eight claimers race for it on eight connections
    racers = [await SqliteQueue.open(db_path, f"r{i}", clock=clock) for i in range(8)]
    won = await asyncio.gather(*(r.claim(5, lease_seconds=30) for r in racers))
    winners = [r.owner for r, leases in zip(racers, won, strict=True) if leases]
    assert len(winners) == 1
    (lease,) = next(leases for leases in won if leases)
    assert lease.attempts == 2
    for r in [*racers, dead_worker]:
        await r.close()


async def test_completion_after_lost_lease_writes_nothing(db_path: Path) -> None:
    await fill(db_path, 1)
    clock = FakeClock()
    slow = await SqliteQueue.open(db_path, "slow", clock=clock)
    (lease,) = await slow.claim(1, lease_seconds=30)
    clock.now += 60
    fast = await SqliteQueue.open(db_path, "fast", clock=clock)
    (again,) = await fast.claim(1, lease_seconds=30)
    late = await slow.complete_many([done(lease.work_id, lease.attempts)])
    assert late.written == 0 and late.lost == (lease.work_id,)
    assert await slow.extend([lease.work_id], 30) == set()
    ok = await fast.complete_many([done(again.work_id, again.attempts)])
    assert ok.written == 1 and ok.lost == ()
    conn = connect_sync(db_path)
    assert conn.execute("SELECT count(*), max(worker_id) FROM results").fetchone() == (1, "fast")
    assert conn.execute("SELECT status FROM work").fetchone() == ("done",)
    for q in (slow, fast):
        await q.close()


async def test_fail_retries_with_backoff_then_dead_letter(db_path: Path) -> None:
    await fill(db_path, 1)
    clock = FakeClock()
    q = await SqliteQueue.open(db_path, "w", clock=clock, backoff_base=10.0, backoff_cap=10.0)

    def failure(attempts: int) -> Failure:
        return Failure(
            work_id=1,
            run_id=1,
            model_id="m",
            profile="default",
            contract_version="t",
            attempts=attempts,
            error_code="ThrottlingException",
            message="rate",
            retryable=True,
        )

    (lease,) = await q.claim(1, 30)
    assert await q.fail(failure(lease.attempts), max_attempts=2) is FailOutcome.RETRY
    row = (
        connect_sync(db_path)
        .execute("SELECT status, available_at, last_error FROM work")
        .fetchone()
    )
    assert row[0] == "ready" and clock.now <= row[1] <= clock.now + 10.0
    assert "ThrottlingException" in row[2]
    clock.now += 10.01  # the backoff has passed
    (lease,) = await q.claim(1, 30)
    assert lease.attempts == 2
    assert await q.fail(failure(lease.attempts), max_attempts=2) is FailOutcome.DEAD
    conn = connect_sync(db_path)
    assert conn.execute("SELECT status FROM work").fetchone() == ("dead",)
    assert conn.execute(
        "SELECT r.error_code, v.outcome, v.reason"
        " FROM results r JOIN verdicts v ON v.result_id = r.id"
    ).fetchone() == ("ThrottlingException", "dead", "ThrottlingException")
    assert await q.claim(1, 30) == []
    await q.close()


async def test_backoff_keeps_row_unclaimable_until_due(db_path: Path) -> None:
    await fill(db_path, 1)
    clock = FakeClock()
    q = await SqliteQueue.open(db_path, "w", clock=clock, backoff_base=100.0, backoff_cap=100.0)
    q.rng.random = lambda: 1.0  # type: ignore[method-assign]  # the full ceiling
    (lease,) = await q.claim(1, 30)
    failure = Failure(1, 1, "m", "default", "t", lease.attempts, "ServiceUnavailable", "x", True)
    await q.fail(failure, max_attempts=5)
    clock.now += 99
    assert await q.claim(1, 30) == []
    clock.now += 2
    assert len(await q.claim(1, 30)) == 1
    await q.close()


async def test_not_retryable_failure_is_dead_at_once(db_path: Path) -> None:
    await fill(db_path, 1)
    q = await SqliteQueue.open(db_path, "w")
    (lease,) = await q.claim(1, 30)
    failure = Failure(1, 1, "m", "default", "t", lease.attempts, "ModelErrorException", "x", False)
    assert await q.fail(failure, max_attempts=8) is FailOutcome.DEAD
    assert (await q.counts())[Status.DEAD] == 1
    await q.close()


async def test_release_does_not_charge_the_attempt(db_path: Path) -> None:
    await fill(db_path, 3)
    q = await SqliteQueue.open(db_path, "w")
    leases = await q.claim(3, 30)
    assert await q.release([leases[0].work_id]) == 1
    assert await q.release() == 2  # all of ours
    conn = connect_sync(db_path)
    assert conn.execute(
        "SELECT sum(attempts), count(*) FROM work WHERE status = 'ready'"
    ).fetchone() == (0, 3)
    other = await SqliteQueue.open(db_path, "other")
    assert await other.release([1, 2, 3]) == 0  # not its leases
    await q.close()
    await other.close()


async def test_a_stopping_worker_gives_back_the_leases_of_dead_workers(db_path: Path) -> None:
    """After a kill -9, the killed worker's leases used to stay 'leased' whenever nobody claimed
    again (every worker stopped on the budget): the last worker out now gives them back, the
    attempt left charged; the leases of a live worker are left alone."""
    await fill(db_path, 6)
    clock = FakeClock()
    killed = await SqliteQueue.open(db_path, "killed", clock=clock)
    alive = await SqliteQueue.open(db_path, "alive", clock=clock)
    last = await SqliteQueue.open(db_path, "last", clock=clock)
    for q in (killed, alive, last):
        await q.register_worker(1, 2)
    await killed.claim(2, 300)
    await alive.claim(2, 300)
    clock.now += 60  # the killed worker never beats again
    await alive.heartbeat(30)
    await last.heartbeat(30)
    assert await last.release() == 0  # none of its own
    conn = connect_sync(db_path)
    rows = conn.execute(
        "SELECT status, lease_owner, sum(attempts), count(*) FROM work "
        "GROUP BY status, lease_owner ORDER BY status, lease_owner"
    ).fetchall()
    assert rows == [("leased", "alive", 2, 2), ("ready", None, 2, 4)]
    for q in (killed, alive, last):
        await q.close()


async def test_extend_keeps_the_lease(db_path: Path) -> None:
    await fill(db_path, 2)
    clock = FakeClock()
    q = await SqliteQueue.open(db_path, "w", clock=clock)
    leases = await q.claim(2, 30)
    clock.now += 20
    assert await q.extend([x.work_id for x in leases], 30) == {1, 2}
    clock.now += 20  # past the first expiry, within the extension
    thief = await SqliteQueue.open(db_path, "thief", clock=clock)
    assert await thief.claim(2, 30) == []
    await q.close()
    await thief.close()


async def test_new_run_reopens_finished_work(db_path: Path) -> None:
    await fill(db_path, 2)
    q = await SqliteQueue.open(db_path, "w")
    for lease in await q.claim(2, 30):
        await q.complete_many([done(lease.work_id, lease.attempts)])
    assert (await q.counts())[Status.DONE] == 2
    run = await q.start_run(
        RunIdentity("other", "invoke", "t2", "original", "bedrock", ""),
        {"x": 1},
        reopen=True,
    )
    assert run.id == 2 and (await q.latest_run()) == run
    assert (await q.counts())[Status.READY] == 2
    assert await q.run_result_count(1) == 2 and await q.run_result_count(2) == 0
    await q.close()


async def test_fleet_heartbeat_counts_live_workers(db_path: Path) -> None:
    clock = FakeClock()
    a = await SqliteQueue.open(db_path, "a", clock=clock)
    b = await SqliteQueue.open(db_path, "b", clock=clock)
    await a.register_worker(None, 8)  # type: ignore[arg-type]
    await b.register_worker(None, 8)  # type: ignore[arg-type]
    assert (await a.heartbeat(ttl=15)).live_workers == 2
    clock.now += 20
    assert (await a.heartbeat(ttl=15)).live_workers == 1  # b stopped beating
    await b.heartbeat(ttl=15)
    await b.stop_worker()
    assert (await a.heartbeat(ttl=15)).live_workers == 1
    await a.close()
    await b.close()


def run_claimers(db_path: Path, tmp_path: Path, n: int, mode: str) -> list[Path]:
    outs = [tmp_path / f"out{i}.txt" for i in range(n)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.db.claimer", str(db_path), str(out), mode, str(i)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, out in enumerate(outs)
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{db_path}.ready.{i}").exists() for i in range(n)):
        assert time.monotonic() < deadline, "claimer processes did not start"
        time.sleep(0.01)
    Path(f"{db_path}.go").touch()
    errors = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    for code, err in errors:
        assert code == 0, err
        assert "database is locked" not in err
    return outs


@pytest.mark.parametrize("processes", [2, 8])
async def test_concurrent_claimer_processes_never_share_a_row(
    db_path: Path, tmp_path: Path, processes: int
) -> None:
    await fill(db_path, 600)
    outs = run_claimers(db_path, tmp_path, processes, "claim")
    claimed = [int(x) for out in outs for x in out.read_text().split()]
    assert len(claimed) == len(set(claimed)) == 600
    assert sum(1 for out in outs if out.read_text()) >= 2  # the work really was shared
    conn = connect_sync(db_path)
    assert conn.execute("SELECT count(*) FROM results").fetchone() == (600,)


async def test_eight_writer_processes_never_see_database_is_locked(
    db_path: Path, tmp_path: Path
) -> None:
    await fill(db_path, 0)
    outs = run_claimers(db_path, tmp_path, 8, "mixed")
    assert all(int(out.read_text()) > 0 for out in outs)
    conn = connect_sync(db_path)
    (bad,) = conn.execute(
        "SELECT count(*) FROM work w JOIN results r ON r.work_id = w.id WHERE w.status != 'done'"
        " AND w.status != 'dead'"
    ).fetchone()
    assert bad == 0
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_schema_is_migrated_and_reopens(db_path: Path) -> None:
    conn = connect_sync(db_path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    connect_sync(db_path).close()  # opening again applies nothing twice


def test_database_from_the_future_is_refused(db_path: Path) -> None:
    connect_sync(db_path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseError, match="newer"):
        connect_sync(db_path)


def test_old_schema_is_upgraded(db_path: Path) -> None:
    """A DB created at schema 1 opens with today's code: later migrations are applied."""
    from parallelprompt.db.connection import _statements
    from parallelprompt.db.sql import migrations

    raw = sqlite3.connect(db_path, isolation_level=None)
    for statement in _statements(migrations()[0][2]):
        raw.execute(statement)
    raw.execute("PRAGMA user_version = 1")
    raw.close()
    conn = connect_sync(db_path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_results_written_before_the_cache_columns_read_as_uncached(db_path: Path) -> None:
    """Schema 2 had no cache columns: its results open with 0 cache tokens, and new ones store
    them."""
    from parallelprompt.db.connection import _statements
    from parallelprompt.db.sql import migrations

    raw = sqlite3.connect(db_path, isolation_level=None)
    for _, _, script in migrations()[:2]:
        for statement in _statements(script):
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 2")
    raw.execute(
        "INSERT INTO work (id, text_hash, prompt, chars, created_at, updated_at) "
        "VALUES (1, x'00', 'p', 1, 0, 0)"
    )
    raw.execute(
        "INSERT INTO runs (id, created_at, model_id, api, contract_version, rules, backend, "
        "config_json) VALUES (1, 0, 'm', 'converse', 'v', 'default', 'bedrock', '{}')"
    )
    raw.execute(
        "INSERT INTO results (work_id, run_id, model_id, input_tokens, attempts, created_at) "
        "VALUES (1, 1, 'm', 100, 1, 0)"
    )
    raw.close()
    conn = connect_sync(db_path)
    assert conn.execute(
        "SELECT input_tokens, cache_read_tokens, cache_write_tokens FROM results"
    ).fetchall() == [(100, 0, 0)]


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match=r"bogus\.db"):
        connect_sync(bogus)


async def test_a_write_cancelled_while_waiting_for_the_lock_leaves_no_transaction(
    db_path: Path,
) -> None:
    """A task cancelled on BEGIN IMMEDIATE (shutdown under contention) must not leave its
    connection inside a transaction: the next write on it has to work."""
    from parallelprompt.db.connection import write_tx_async

    await fill(db_path, 2)
    q = await SqliteQueue.open(db_path, "w")
    holder = connect_sync(db_path)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock

    async def write() -> None:
        async with write_tx_async(q.conn):
            await q.conn.execute("UPDATE work SET last_error = 'x'")

    task = asyncio.create_task(write())
    await asyncio.sleep(0.2)  # it is now waiting on the lock in aiosqlite's thread
    task.cancel()
    await asyncio.sleep(0.1)
    holder.execute("COMMIT")  # the lock frees; the late BEGIN completes, then is rolled back
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    # a new write transaction on the same connection (a regression fails, never hangs)
    assert len(await asyncio.wait_for(q.claim(2, 30), 30)) == 2
    assert connect_sync(db_path).execute(
        "SELECT count(*) FROM work WHERE last_error = 'x'"
    ).fetchone() == (0,)
    await q.close()


async def test_workers_starting_together_join_one_run(db_path: Path) -> None:
    """Each worker decides to start a run before any exists; the insert is atomic, so the
    later ones join the first one's run instead of creating their own."""
    await fill_without_run(db_path, 3)
    queues = [await SqliteQueue.open(db_path, f"w{i}") for i in range(4)]
    identity = RunIdentity("m", "converse", "t", "default", "emulator", "")
    runs = await asyncio.gather(*(q.start_run(identity, {}, reopen=False) for q in queues))
    assert {r.id for r in runs} == {1}
    for lease in await queues[0].claim(3, 30):
        await queues[0].complete_many([done(lease.work_id, lease.attempts)])
    # a fleet started with --new-run: one new run, the finished rows reopened once
    again = await asyncio.gather(*(q.start_run(identity, {}, reopen=True) for q in queues))
    assert {r.id for r in again} == {2}
    assert (await queues[0].counts())[Status.READY] == 3
    other = await queues[0].start_run(replace(identity, model_id="m2"), {}, reopen=False)
    assert other.id == 3  # another configuration is another run
    for q in queues:
        await q.close()


async def fill_without_run(db_path: Path, n: int) -> None:
    q = await SqliteQueue.open(db_path, "filler")
    await q.enqueue_many([source_row(f"prompt number {i}", i) for i in range(n)])
    await q.close()


def scanned_counts(db_path: Path) -> dict[Status, int]:
    conn = sqlite3.connect(db_path)
    try:
        found = dict(conn.execute("SELECT status, count(*) FROM work GROUP BY status").fetchall())
    finally:
        conn.close()
    return {s: int(found.get(s.value, 0)) for s in Status}


async def test_running_counts_follow_every_change_of_status(db_path: Path) -> None:
    """The worker reads the totals that triggers keep in ``work_counts`` (four rows, the same
    cost at 10k and 2M rows); they match a full count after every kind of change."""
    await fill(db_path, 12)
    clock = FakeClock()
    q = await SqliteQueue.open(db_path, "w", clock=clock, backoff_base=0.0, backoff_cap=0.0)
    conn = sqlite3.connect(db_path)
    stored = dict(conn.execute("SELECT status, n FROM work_counts").fetchall())
    conn.close()
    assert stored == {"ready": 12, "leased": 0, "done": 0, "dead": 0}
    leases = await q.claim(8, 30)
    assert await q.counts() == scanned_counts(db_path)
    await q.complete_many([done(x.work_id, x.attempts) for x in leases[:3]])
    for lease, retry in ((leases[3], False), (leases[4], True)):
        failure = Failure(lease.work_id, 1, "m", "default", "t", 1, "x", "x", retry)
        await q.fail(failure, max_attempts=3)
    await q.release([leases[5].work_id])
    clock.now += 100.0  # two leases expire and are claimed again: leased -> leased
    await q.claim(4, 30)
    await q.enqueue_many([source_row("one more prompt", 99), source_row("prompt number 0", 100)])
    counts = await q.counts()
    assert counts == scanned_counts(db_path)
    assert counts[Status.DONE] == 3 and counts[Status.DEAD] == 1
    await q.start_run(
        RunIdentity("m2", "converse", "t", "default", "emulator", ""),
        {},
        reopen=True,
    )
    assert await q.counts() == scanned_counts(db_path)
    await q.close()


def test_running_counts_start_from_the_rows_of_an_older_database(db_path: Path) -> None:
    """The work_counts migration on a DB that already holds work fills the totals from its rows."""
    from parallelprompt.db.connection import _statements
    from parallelprompt.db.sql import migrations

    raw = sqlite3.connect(db_path, isolation_level=None)
    for _, _, script in migrations()[:2]:
        for statement in _statements(script):
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 2")
    for i, status in enumerate(["ready", "ready", "done", "dead", "leased"]):
        raw.execute(
            "INSERT INTO work (text_hash, prompt, chars, status, created_at, updated_at) "
            "VALUES (?, ?, 1, ?, 0, 0)",
            (bytes([i]) * 16, f"p{i}", status),
        )
    raw.close()
    conn = connect_sync(db_path)
    stored = dict(conn.execute("SELECT status, n FROM work_counts").fetchall())
    conn.close()
    assert stored == {"ready": 2, "leased": 1, "done": 1, "dead": 1}


async def test_probes_read_a_database_other_processes_write(db_path: Path) -> None:
    """bench.scale watches a fleet through db.probe (no SQL outside db/)."""
    from parallelprompt.db.probe import result_count, running_workers

    await fill(db_path, 2)
    q = await SqliteQueue.open(db_path, "w")
    await q.register_worker(1, 4)
    assert (result_count(db_path), running_workers(db_path)) == (0, 1)
    for lease in await q.claim(2, 30):
        await q.complete_many([done(lease.work_id, lease.attempts)])
    await q.stop_worker()
    assert (result_count(db_path), running_workers(db_path)) == (2, 0)
    await q.close()


def test_running_workers_of_a_database_without_tables_is_zero(tmp_path: Path) -> None:
    from parallelprompt.db.probe import running_workers

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert running_workers(empty) == 0
