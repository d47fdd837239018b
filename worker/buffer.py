"""Results buffered and flushed in one transaction on size or time (pgqueuer's timed buffer).

Each flush writes the result rows and marks their work rows done, each guarded by our lease:
a result whose lease passed to another worker is discarded (reported as lost), never written
twice. If a flush fails (the DB is unreachable for longer than the busy timeout), the rows are
kept and tried again; if the process dies meanwhile, the leases expire and the prompts are
classified again: at-least-once to the model, exactly-once into ``results``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from db import CompleteResult, Completion
from worker.store import Store

OnWritten = Callable[[Sequence[Completion], CompleteResult], None]
OnError = Callable[[BaseException], None]


class ResultBuffer:
    def __init__(
        self,
        store: Store,
        *,
        flush_rows: int,
        flush_s: float,
        on_written: OnWritten,
        on_error: OnError,
    ) -> None:
        self._store = store
        self._rows = max(1, flush_rows)
        self._seconds = max(0.0, flush_s)
        self._items: list[Completion] = []
        self._has_items = asyncio.Event()
        self._full = asyncio.Event()
        self._on_written = on_written
        self._on_error = on_error
        self._flush_lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def pending_ids(self) -> set[int]:
        return {c.work_id for c in self._items}

    def add(self, completion: Completion) -> None:
        self._items.append(completion)
        self._has_items.set()
        if len(self._items) >= self._rows:
            self._full.set()

    async def run(self) -> None:
        """Flush whenever the buffer is full or its oldest row is ``flush_s`` old; forever."""
        while True:
            await self._has_items.wait()
            if not self._full.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._seconds)
            try:
                await self.flush()
            except Exception as exc:  # kept for the next round; the caller logs it
                self._on_error(exc)
                await asyncio.sleep(max(self._seconds, 0.5))

    async def flush(self) -> None:
        async with self._flush_lock:
            if not self._items:
                return
            batch, self._items = self._items, []
            self._has_items.clear()
            self._full.clear()
            try:
                result = await self._store.complete_many(batch)
            except BaseException:
                self._items[:0] = batch
                self._has_items.set()
                raise
            self._on_written(batch, result)
