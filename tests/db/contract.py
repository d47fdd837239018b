"""The queue port's contract: what every implementation of :class:`db.port.Queue` must do.

``QueueContract`` is not collected by itself. An implementation's test module subclasses it
and provides the ``opener`` fixture: an async callable that opens one more queue (one more
worker) on the same storage. ``test_contract.py`` does so for SQLite and for the in-memory
queue; a PostgreSQL implementation is one more subclass there.

The tests observe the storage only through the port (no SQL): what a worker or a producer
could see.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

import pytest

from parallelprompt.db import (
    Completion,
    FailOutcome,
    Failure,
    Queue,
    RunIdentity,
    SourceRow,
    StagedRows,
    Status,
    VerdictRow,
    Workload,
)
from tests.db.conftest import FakeClock

IDENTITY = RunIdentity("m", "converse", "t", "default", "emulator", "emulator 1")


class Opener(Protocol):
    """``await opener(owner, clock=..., backoff_base=..., backoff_cap=...)``: a queue on the
    test's storage (closed by the fixture at the end)."""

    def __call__(
        self, owner: str, *, clock: FakeClock, **kw: Any
    ) -> Awaitable[Queue]: ...  # pragma: no cover


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def source_row(text: str, index: int, source: str = "lmsys") -> SourceRow:
    return SourceRow(prompt=text, text_hash=text_hash(text), source=source, split="train",
                     row_index=index)  # fmt: skip


def staged(*rows: tuple[str, int]) -> StagedRows:
    """(prompt, row index) pairs as a batch for a bulk writer."""
    batch = StagedRows()
    for text, index in rows:
        batch.add(text_hash(text), text, index)
    return batch


def done(lease_id: int, attempts: int, run_id: int = 1) -> Completion:
    verdict = VerdictRow(profile="default", contract_version="t", outcome="not_parallelizable")
    return Completion(
        work_id=lease_id, run_id=run_id, model_id="m", verdict=verdict, attempts=attempts
    )


def failure(work_id: int, attempts: int, *, retryable: bool = True) -> Failure:
    return Failure(work_id, 1, "m", "default", "t", attempts, "ThrottlingException", "x", retryable)


class QueueContract:
    """Subclass as ``TestNameQueue(QueueContract)`` and override :meth:`opener`."""

    @pytest.fixture
    def opener(self) -> Opener:
        raise NotImplementedError("an implementation's test class provides the opener")

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    @pytest.fixture
    def open_queue(self, opener: Opener, clock: FakeClock) -> Callable[..., Awaitable[Queue]]:
        async def open_queue(owner: str, **kw: Any) -> Queue:
            return await opener(owner, clock=clock, **kw)

        return open_queue

    async def filled(
        self, open_queue: Callable[..., Awaitable[Queue]], n: int, *, run: bool = True
    ) -> Queue:
        q = await open_queue("filler")
        await q.enqueue_many([source_row(f"prompt number {i}", i) for i in range(n)])
        if run:
            await q.start_run(IDENTITY, {"endpoint": IDENTITY.endpoint}, reopen=False)
        return q

    # -- ingest bookkeeping ------------------------------------------------------------------

    async def test_enqueue_dedups_prompts_and_keeps_every_source(self, open_queue: Any) -> None:
        q = await open_queue("w")
        rows = [source_row("same prompt text", i) for i in range(3)]
        rows.append(source_row("same prompt text", 0, source="wildchat"))
        rows.append(source_row("another prompt", 5))
        first = await q.enqueue_many(rows)
        assert (first.new_prompts, first.new_sources, first.known_sources) == (2, 5, 0)
        again = await q.enqueue_many(rows)
        assert (again.new_prompts, again.new_sources, again.known_sources) == (0, 0, 5)
        assert (await q.counts())[Status.READY] == 2

    async def test_ingests_are_numbered_and_finished(self, open_queue: Any) -> None:
        q = await open_queue("producer")
        a = await q.begin_ingest("lmsys", "train", "lmsys", ["a.parquet"])
        b = await q.begin_ingest("lmsys", "train", "lmsys", ["b.parquet"])
        assert b > a
        await q.finish_ingest(
            a, rows_read=3, kept=2, new_prompts=2, new_sources=2, skipped={"too_short": 1}
        )

    async def test_bulk_writer_counts_dedups_and_commits(self, open_queue: Any) -> None:
        q = await open_queue("producer")
        ingest_id = await q.begin_ingest("lmsys", "train", "lmsys", [])
        writer = q.bulk_writer()
        try:
            rows = staged(("alpha prompt", 0), ("beta prompt", 1), ("alpha prompt", 2))
            result = writer.enqueue(rows, source="lmsys", split="train", ingest_id=ingest_id)
            assert (result.rows, result.new_prompts, result.new_sources) == (3, 2, 3)
            assert writer.recorded("lmsys", "train", 1, 2) == {
                1: text_hash("beta prompt"),
                2: text_hash("alpha prompt"),
            }
            assert writer.recorded("lmsys", "test", 0, 9) == {}
            writer.commit()
            again = writer.enqueue(rows, source="lmsys", split="train", ingest_id=ingest_id)
            assert (again.new_prompts, again.new_sources) == (0, 0)
            writer.commit()
        finally:
            writer.close()
        assert await q.counts() == {Status.READY: 2, Status.LEASED: 0, Status.DONE: 0,
                                    Status.DEAD: 0}  # fmt: skip

    async def test_bulk_writer_closed_without_commit_keeps_nothing(self, open_queue: Any) -> None:
        q = await open_queue("producer")
        writer = q.bulk_writer()
        writer.enqueue(staged(("kept prompt", 0)), source="s", split="train", ingest_id=None)
        writer.commit()
        writer.enqueue(staged(("lost prompt", 1)), source="s", split="train", ingest_id=None)
        writer.close()
        assert (await q.counts())[Status.READY] == 1
        writer = q.bulk_writer()
        try:
            assert writer.recorded("s", "train", 0, 9) == {0: text_hash("kept prompt")}
        finally:
            writer.close()

    # -- leases ------------------------------------------------------------------------------

    async def test_claim_leases_in_order_and_charges_an_attempt(self, open_queue: Any) -> None:
        await self.filled(open_queue, 10)
        q = await open_queue("w1")
        leases = await q.claim(4, lease_seconds=60)
        assert [x.work_id for x in leases] == sorted(x.work_id for x in leases)
        assert [x.prompt for x in leases] == [f"prompt number {i}" for i in range(4)]
        assert all(x.attempts == 1 for x in leases)
        counts = await q.counts()
        assert counts[Status.LEASED] == 4 and counts[Status.READY] == 6
        assert await q.claim(0, 60) == []

    async def test_expired_lease_is_reclaimed_once(self, open_queue: Any, clock: FakeClock) -> None:
        await self.filled(open_queue, 1)
        gone = await open_queue("gone")
        (lease,) = await gone.claim(1, lease_seconds=30)
        clock.now += 31
        racers = [await open_queue(f"r{i}") for i in range(4)]
        won = await asyncio.gather(*(r.claim(5, lease_seconds=30) for r in racers))
        assert sorted(len(x) for x in won) == [0, 0, 0, 1]
        (again,) = next(x for x in won if x)
        assert again.work_id == lease.work_id and again.attempts == 2

    async def test_a_lost_lease_writes_nothing(self, open_queue: Any, clock: FakeClock) -> None:
        await self.filled(open_queue, 1)
        slow = await open_queue("slow")
        (lease,) = await slow.claim(1, lease_seconds=30)
        clock.now += 60
        fast = await open_queue("fast")
        (again,) = await fast.claim(1, lease_seconds=30)
        late = await slow.complete_many([done(lease.work_id, lease.attempts)])
        assert late.written == 0 and late.lost == (lease.work_id,)
        assert await slow.extend([lease.work_id], 30) == set()
        assert await slow.release([lease.work_id]) == 0
        assert await slow.fail(failure(lease.work_id, 1), 5) is FailOutcome.LOST
        ok = await fast.complete_many([done(again.work_id, again.attempts)])
        assert ok.written == 1 and ok.lost == ()
        assert (await fast.counts())[Status.DONE] == 1
        assert await fast.run_result_count(1) == 1

    async def test_fail_backs_off_then_dead_letters(
        self, open_queue: Any, clock: FakeClock
    ) -> None:
        await self.filled(open_queue, 1)
        q = await open_queue("w", backoff_base=10.0, backoff_cap=10.0)
        (lease,) = await q.claim(1, 30)
        assert await q.fail(failure(lease.work_id, lease.attempts), 2) is FailOutcome.RETRY
        assert (await q.counts())[Status.READY] == 1
        clock.now += 10.01  # past the longest backoff
        (lease,) = await q.claim(1, 30)
        assert lease.attempts == 2
        assert await q.fail(failure(lease.work_id, lease.attempts), 2) is FailOutcome.DEAD
        assert (await q.counts())[Status.DEAD] == 1
        assert await q.run_result_count(1) == 1  # the dead letter is a result
        assert await q.claim(1, 30) == []

    async def test_backoff_keeps_a_row_unclaimable_until_due(
        self, open_queue: Any, clock: FakeClock
    ) -> None:
        await self.filled(open_queue, 1)
        q = await open_queue("w", backoff_base=100.0, backoff_cap=100.0)
        q.rng.random = lambda: 1.0  # type: ignore[attr-defined]  # the full ceiling
        (lease,) = await q.claim(1, 30)
        await q.fail(failure(lease.work_id, lease.attempts), 5)
        clock.now += 99
        assert await q.claim(1, 30) == []
        clock.now += 2
        assert len(await q.claim(1, 30)) == 1

    async def test_a_final_error_is_dead_at_once(self, open_queue: Any) -> None:
        await self.filled(open_queue, 1)
        q = await open_queue("w")
        (lease,) = await q.claim(1, 30)
        outcome = await q.fail(failure(lease.work_id, 1, retryable=False), 8)
        assert outcome is FailOutcome.DEAD
        assert (await q.counts())[Status.DEAD] == 1

    async def test_release_does_not_charge_the_attempt(self, open_queue: Any) -> None:
        await self.filled(open_queue, 3)
        q = await open_queue("w")
        leases = await q.claim(3, 30)
        other = await open_queue("other")
        assert await other.release([x.work_id for x in leases]) == 0  # not its leases
        assert await q.release([leases[0].work_id]) == 1
        assert await q.release() == 2  # all of ours
        assert (await q.counts())[Status.READY] == 3
        assert [x.attempts for x in await other.claim(3, 30)] == [1, 1, 1]

    async def test_extend_keeps_the_lease(self, open_queue: Any, clock: FakeClock) -> None:
        await self.filled(open_queue, 2)
        q = await open_queue("w")
        leases = await q.claim(2, 30)
        clock.now += 20
        ids = {x.work_id for x in leases}
        assert await q.extend(ids, 30) == ids
        clock.now += 20  # past the first expiry, within the extension
        thief = await open_queue("thief")
        assert await thief.claim(2, 30) == []
        assert await thief.leased_by_others() == (2, clock.now + 10)
        assert await q.leased_by_others() == (0, None)

    async def test_workload_counts_pending_prompts_and_answered_usage(
        self, open_queue: Any
    ) -> None:
        await self.filled(open_queue, 4)
        q = await open_queue("w")
        assert await q.workload("m") == Workload(4, 4 * len("prompt number 0"))
        first, second, *_ = await q.claim(4, 30)
        answered = replace(
            done(first.work_id, 1),
            raw_text="{}",
            input_tokens=100,
            cache_read_tokens=20,
            cache_write_tokens=3,
            output_tokens=7,
        )
        await q.complete_many([answered])
        await q.fail(failure(second.work_id, 1, retryable=False), 4)  # a dead letter: not usage
        chars = len("prompt number 0")
        assert await q.workload("m") == Workload(2, 2 * chars, 1, 123, 7, chars)
        assert await q.workload("another model") == Workload(2, 2 * chars, 1, 123, 7, chars)

    # -- the fleet ---------------------------------------------------------------------------

    async def test_leases_of_a_dead_worker_are_claimed_before_they_expire(
        self, open_queue: Any, clock: FakeClock
    ) -> None:
        await self.filled(open_queue, 4)
        killed = await open_queue("killed")
        stopped = await open_queue("stopped")
        alive = await open_queue("alive")
        for q in (killed, stopped, alive):
            await q.register_worker(1, 2)
        await killed.claim(1, 300)
        await stopped.claim(1, 300)
        await alive.claim(1, 300)
        await stopped.stop_worker()
        clock.now += 60  # the killed worker never beats again; its lease has 240 s left
        await alive.heartbeat(30)
        taken = await alive.claim(4, 300)
        assert sorted(x.attempts for x in taken) == [1, 2, 2]  # the dead two, and the ready one

    async def test_a_stopping_worker_gives_back_the_leases_of_dead_workers(
        self, open_queue: Any, clock: FakeClock
    ) -> None:
        await self.filled(open_queue, 6)
        killed, alive, last = [await open_queue(n) for n in ("killed", "alive", "last")]
        for q in (killed, alive, last):
            await q.register_worker(1, 2)
        await killed.claim(2, 300)
        await alive.claim(2, 300)
        clock.now += 60
        await alive.heartbeat(30)
        await last.heartbeat(30)
        assert await last.release() == 0  # none of its own
        counts = await last.counts()
        assert counts[Status.LEASED] == 2 and counts[Status.READY] == 4
        again = await last.claim(6, 300)  # the killed worker's attempts stay charged
        assert sorted(x.attempts for x in again) == [1, 1, 2, 2]

    async def test_heartbeats_count_the_live_fleet(self, open_queue: Any, clock: FakeClock) -> None:
        await self.filled(open_queue, 0)
        a, b = await open_queue("a"), await open_queue("b")
        await a.register_worker(1, 8)
        await b.register_worker(1, 4)
        fleet = await a.heartbeat(ttl=15)
        assert (fleet.live_workers, fleet.total_concurrency) == (2, 12)
        clock.now += 20
        assert (await a.heartbeat(ttl=15)).live_workers == 1  # b stopped beating
        await b.heartbeat(ttl=15)
        await b.stop_worker()
        assert (await a.heartbeat(ttl=15)).live_workers == 1

    async def test_a_run_costs_what_its_workers_last_recorded(self, open_queue: Any) -> None:
        q = await self.filled(open_queue, 0)
        other = RunIdentity("m2", "converse", "t", "default", "emulator", "emulator 1")
        await q.start_run(other, {}, reopen=False)
        a, b, elsewhere = [await open_queue(n) for n in ("a", "b", "c")]
        await a.register_worker(1, 1)
        await b.register_worker(1, 1)
        await elsewhere.register_worker(2, 1)
        await a.heartbeat(30, 0.25)
        await a.heartbeat(30)  # nothing new: the last figure stands
        await b.stop_worker(0.5)
        await elsewhere.heartbeat(30, 9.0)
        assert await q.run_cost(1) == pytest.approx(0.75)

    # -- runs ----------------------------------------------------------------------------------

    async def test_a_new_run_reopens_finished_work(self, open_queue: Any) -> None:
        await self.filled(open_queue, 2)
        q = await open_queue("w")
        for lease in await q.claim(2, 30):
            await q.complete_many([done(lease.work_id, lease.attempts)])
        assert (await q.counts())[Status.DONE] == 2
        other = RunIdentity("other", "invoke", "t2", "original", "bedrock", "https://x")
        run = await q.start_run(other, {"endpoint": "https://x"}, reopen=True)
        assert run.id == 2 and await q.latest_run() == run and await q.run(2) == run
        assert RunIdentity.of_run(run) == other
        assert (await q.counts())[Status.READY] == 2
        assert await q.run_result_count(1) == 2 and await q.run_result_count(2) == 0
        assert [x.attempts for x in await q.claim(2, 30)] == [1, 1]

    async def test_workers_starting_together_join_one_run(self, open_queue: Any) -> None:
        await self.filled(open_queue, 3, run=False)
        queues = [await open_queue(f"w{i}") for i in range(4)]
        config = {"endpoint": IDENTITY.endpoint}
        runs = await asyncio.gather(*(q.start_run(IDENTITY, config, reopen=False) for q in queues))
        assert {r.id for r in runs} == {1}
        for lease in await queues[0].claim(3, 30):
            await queues[0].complete_many([done(lease.work_id, lease.attempts)])
        # a fleet started with --new-run: one new run, the finished rows reopened once
        again = await asyncio.gather(*(q.start_run(IDENTITY, config, reopen=True) for q in queues))
        assert {r.id for r in again} == {2}
        assert (await queues[0].counts())[Status.READY] == 3
        joined = await queues[0].start_run(IDENTITY, config, reopen=True, join=True)
        assert joined.id == 2
        other = RunIdentity("m2", "converse", "t", "default", "emulator", "emulator 1")
        assert (await queues[0].start_run(other, config, reopen=False)).id == 3

    # -- atomicity -----------------------------------------------------------------------------

    async def test_operations_from_many_tasks_are_each_atomic(self, open_queue: Any) -> None:
        """One queue shared by the tasks of a worker: operations started together never mix
        their transactions (the writer lock of an implementation that needs one)."""
        await self.filled(open_queue, 40)
        q = await open_queue("w")
        await q.register_worker(1, 40)

        async def one() -> int:
            leases = await q.claim(1, 30)
            await q.heartbeat(30)
            await q.counts()
            result = await q.complete_many([done(x.work_id, x.attempts) for x in leases])
            return result.written

        written: Sequence[int] = await asyncio.gather(*(one() for _ in range(40)))
        assert sum(written) == 40
        assert (await q.counts())[Status.DONE] == 40
