"""Issue 11 at the queue port: a row SQLite cannot bind never blocks the others and its paid
answer is kept; leases of a dead worker are reclaimed as soon as its heartbeat is stale; the
spend of every worker, crashed ones included, is what the budget counts."""

from __future__ import annotations

from pathlib import Path

from parallelprompt.db import Completion, SqliteQueue, VerdictRow, connect_sync
from tests.db.conftest import FakeClock
from tests.db.test_queue import done, fill, make_run


def answered(work_id: int, attempts: int, raw: str, **verdict: object) -> Completion:
    row = VerdictRow(profile="default", contract_version="t", outcome="failed", **verdict)  # type: ignore[arg-type]
    return Completion(
        work_id=work_id,
        run_id=1,
        model_id="m",
        verdict=row,
        attempts=attempts,
        raw_text=raw,
        stop_reason="end_turn",
        input_tokens=100,
        output_tokens=50,
        cost_usd=0.01,
    )


async def test_a_row_sqlite_cannot_bind_keeps_its_raw_answer_and_blocks_nothing(
    db_path: Path,
) -> None:
    await fill(db_path, 4)
    q = await SqliteQueue.open(db_path, "w")
    leases = await q.claim(4, lease_seconds=30)
    a, b, c, d = (lease.work_id for lease in leases)
    huge = answered(b, 1, '{"n": 100000000000000000000}', n=10**20)
    lone = answered(c, 1, "answer \ud800 text", template="t \udfff")
    result = await q.complete_many([done(a, 1), huge, lone, done(d, 1)])
    assert result.written == 4 and result.lost == ()
    conn = connect_sync(db_path)
    got = dict(
        (row[0], row[1:])
        for row in conn.execute(
            "SELECT r.work_id, v.outcome, v.reason, r.raw_text, r.cost_usd, v.n, v.template "
            "FROM results r JOIN verdicts v ON v.result_id = r.id"
        )
    )
    assert got[a][0] == got[d][0] == "not_parallelizable"
    outcome, reason, raw, cost, n, template = got[b]
    assert outcome == "unparseable" and reason.startswith("unstorable")
    assert raw == '{"n": 100000000000000000000}' and cost == 0.01 and n is None
    outcome, reason, raw, cost, n, template = got[c]
    assert outcome == "unparseable" and reason.startswith("unstorable")
    assert raw == "answer \ufffd text" and template is None
    statuses = conn.execute("SELECT DISTINCT status FROM work").fetchall()
    assert statuses == [("done",)]
    await q.close()


async def test_leases_of_a_worker_with_a_stale_heartbeat_are_reclaimed_at_once(
    db_path: Path,
) -> None:
    await fill(db_path, 2)
    clock = FakeClock()
    dead = await SqliteQueue.open(db_path, "dead", clock=clock)
    alive = await SqliteQueue.open(db_path, "alive", clock=clock)
    await dead.register_worker(1, 8)
    await alive.register_worker(1, 8)
    (mine,) = await dead.claim(1, lease_seconds=300)
    clock.now += 2
    await alive.heartbeat(ttl=5)
    assert await alive.claim(5, lease_seconds=300, stale_s=5) != []  # the other, ready row
    assert await alive.claim(5, lease_seconds=300, stale_s=5) == []  # dead's lease is live
    clock.now += 4  # dead has not beaten for 6 s, its lease has 294 s left
    await alive.heartbeat(ttl=5)
    (taken,) = await alive.claim(5, lease_seconds=300, stale_s=5)
    assert taken.work_id == mine.work_id and taken.attempts == 2
    await dead.close()
    await alive.close()


async def test_no_lease_is_taken_from_workers_that_all_waited_on_the_lock(
    db_path: Path,
) -> None:
    """Every heartbeat old (the DB was locked for a while): nobody is presumed dead."""
    await fill(db_path, 1)
    clock = FakeClock()
    a = await SqliteQueue.open(db_path, "a", clock=clock)
    b = await SqliteQueue.open(db_path, "b", clock=clock)
    await a.register_worker(1, 8)
    await b.register_worker(1, 8)
    await a.claim(1, lease_seconds=300)
    clock.now += 60
    assert await b.claim(5, lease_seconds=300, stale_s=5) == []
    await a.close()
    await b.close()


async def test_the_run_cost_counts_spend_never_written_as_results(db_path: Path) -> None:
    await fill(db_path, 1)
    q = await SqliteQueue.open(db_path, "crashed")
    run_id = await make_run(q)
    await q.register_worker(run_id, 8)
    await q.heartbeat(ttl=5, spent_usd=0.25)  # paid calls, then SIGKILL before any flush
    await q.close()
    other = await SqliteQueue.open(db_path, "other")
    await other.register_worker(run_id, 8)
    assert await other.run_cost(run_id) == 0.25
    await other.heartbeat(ttl=5, spent_usd=0.5)
    assert await other.run_cost(run_id) == 0.75
    await other.close()
