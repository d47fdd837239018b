"""The queue port as the worker uses it: patient with another process's write lock.

Another process may hold the database's write lock for longer than the busy timeout (a big
ingest, ``sqlite3`` left open in a transaction). That is not an error of ours: the operation
is tried again, as long as it takes, and ``on_wait`` is told each time the timeout passes.
Each operation is atomic by itself (the implementation holds its writer lock); no SQL here.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from parallelprompt.db import (
    CompleteResult,
    Completion,
    FailOutcome,
    Failure,
    Fleet,
    Lease,
    Queue,
    Run,
    RunIdentity,
    Status,
    Workload,
    is_locked_error,
)
from parallelprompt.db.lease import STALE_HEARTBEAT_S

T = TypeVar("T")


class Store:
    def __init__(self, queue: Queue, on_wait: Callable[[str], None] | None = None) -> None:
        self.queue = queue
        self.owner = queue.owner
        self.on_wait = on_wait

    async def _patient(self, op: Callable[[], Awaitable[T]]) -> T:
        """``op``, tried again while another process holds the write lock."""
        started = time.monotonic()
        while True:
            try:
                return await op()
            except Exception as exc:
                if not is_locked_error(exc):
                    raise
            if self.on_wait is not None:
                self.on_wait(
                    "waiting for the database: another process has held its write lock "
                    f"for {time.monotonic() - started:.0f} s"
                )

    async def claim(
        self, n: int, lease_seconds: float, stale_s: float = STALE_HEARTBEAT_S
    ) -> list[Lease]:
        return await self._patient(lambda: self.queue.claim(n, lease_seconds, stale_s=stale_s))

    async def extend(self, work_ids: Iterable[int], lease_seconds: float) -> set[int]:
        ids = list(work_ids)  # tried again: not a one-shot iterator
        return await self._patient(lambda: self.queue.extend(ids, lease_seconds))

    async def complete_many(self, completions: Sequence[Completion]) -> CompleteResult:
        return await self._patient(lambda: self.queue.complete_many(completions))

    async def fail(self, failure: Failure, max_attempts: int) -> FailOutcome:
        return await self._patient(lambda: self.queue.fail(failure, max_attempts))

    async def release(self, work_ids: Iterable[int] | None = None) -> int:
        ids = None if work_ids is None else list(work_ids)
        return await self._patient(lambda: self.queue.release(ids))

    async def counts(self) -> dict[Status, int]:
        return await self._patient(lambda: self.queue.counts())

    async def workload(self, model: str) -> Workload:
        return await self._patient(lambda: self.queue.workload(model))

    async def leased_by_others(self) -> tuple[int, float | None]:
        return await self._patient(lambda: self.queue.leased_by_others())

    async def register_worker(self, run_id: int, concurrency: int) -> None:
        await self._patient(lambda: self.queue.register_worker(run_id, concurrency))

    async def heartbeat(self, ttl: float, spent_usd: float) -> Fleet:
        return await self._patient(lambda: self.queue.heartbeat(ttl, spent_usd))

    async def stop_worker(self, spent_usd: float) -> None:
        await self._patient(lambda: self.queue.stop_worker(spent_usd))

    async def run_cost(self, run_id: int) -> float:
        return await self._patient(lambda: self.queue.run_cost(run_id))

    async def latest_run(self) -> Run | None:
        return await self._patient(lambda: self.queue.latest_run())

    async def run_result_count(self, run_id: int) -> int:
        return await self._patient(lambda: self.queue.run_result_count(run_id))

    async def start_run(
        self, identity: RunIdentity, config: dict[str, Any], *, reopen: bool, join: bool = False
    ) -> Run:
        return await self._patient(
            lambda: self.queue.start_run(identity, config, reopen=reopen, join=join)
        )
