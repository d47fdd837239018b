"""The queue port as the worker uses it: every operation under one asyncio lock.

A queue operation runs several statements on the process's single writer connection inside
``BEGIN IMMEDIATE``; two tasks interleaving theirs would nest transactions. The lock makes
each operation atomic from the event loop's point of view. No SQL here: it is all in ``db/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from db import (
    CompleteResult,
    Completion,
    FailOutcome,
    Failure,
    Fleet,
    Lease,
    Run,
    SqliteQueue,
    Status,
)
from db.lease import STALE_HEARTBEAT_S


class Store:
    def __init__(self, queue: SqliteQueue) -> None:
        self.queue = queue
        self.owner = queue.owner
        self._lock = asyncio.Lock()

    async def claim(
        self, n: int, lease_seconds: float, stale_s: float = STALE_HEARTBEAT_S
    ) -> list[Lease]:
        async with self._lock:
            return await self.queue.claim(n, lease_seconds, stale_s=stale_s)

    async def extend(self, work_ids: Iterable[int], lease_seconds: float) -> set[int]:
        async with self._lock:
            return await self.queue.extend(work_ids, lease_seconds)

    async def complete_many(self, completions: Sequence[Completion]) -> CompleteResult:
        async with self._lock:
            return await self.queue.complete_many(completions)

    async def fail(self, failure: Failure, max_attempts: int) -> FailOutcome:
        async with self._lock:
            return await self.queue.fail(failure, max_attempts)

    async def release(self, work_ids: Iterable[int] | None = None) -> int:
        async with self._lock:
            return await self.queue.release(work_ids)

    async def counts(self) -> dict[Status, int]:
        async with self._lock:
            return await self.queue.counts()

    async def leased_by_others(self) -> tuple[int, float | None]:
        async with self._lock:
            return await self.queue.leased_by_others()

    async def register_worker(self, run_id: int, concurrency: int) -> None:
        async with self._lock:
            await self.queue.register_worker(run_id, concurrency)

    async def heartbeat(self, ttl: float, spent_usd: float) -> Fleet:
        async with self._lock:
            return await self.queue.heartbeat(ttl, spent_usd)

    async def stop_worker(self, spent_usd: float) -> None:
        async with self._lock:
            await self.queue.stop_worker(spent_usd)

    async def run_cost(self, run_id: int) -> float:
        async with self._lock:
            return await self.queue.run_cost(run_id)

    async def latest_run(self) -> Run | None:
        async with self._lock:
            return await self.queue.latest_run()

    async def run_result_count(self, run_id: int) -> int:
        async with self._lock:
            return await self.queue.run_result_count(run_id)

    async def start_run(self, **kwargs: Any) -> Run:
        async with self._lock:
            return await self.queue.start_run(**kwargs)
