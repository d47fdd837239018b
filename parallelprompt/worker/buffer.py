"""Results buffered and flushed in one transaction on size or time (pgqueuer's timed buffer).

Each flush writes the result rows and marks their work rows done, each guarded by our lease:
a result whose lease passed to another worker is discarded (reported as lost), never written
twice. If a flush fails (the DB is unreachable for longer than the busy timeout), the rows are
kept and tried again; if the process dies meanwhile, the leases expire and the prompts are
classified again: at-least-once to the model, exactly-once into ``results``.

Shutdown. The periodic task is stopped with :meth:`ResultBuffer.stop` (it finishes the flush in
hand and returns) rather than cancelled. And a flush that is cancelled anyway (a second
signal, the whole task group aborting) still waits for its transaction's outcome before it
re-raises: the transaction goes on in the DB's thread whatever we do, so a batch that was
committed is reported once, as written, and never put back to be written again (which would
find its leases gone and report them as lost).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from parallelprompt.db import CompleteResult, Completion
from parallelprompt.worker.store import Store

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
        self._stopping = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def pending_ids(self) -> set[int]:
        return {c.work_id for c in self._items}

    def add(self, completion: Completion) -> None:
        self._items.append(completion)
        self._has_items.set()
        if len(self._items) >= self._rows:
            self._full.set()

    def stop(self) -> None:
        """Ask :meth:`run` to return after the flush in hand (the owner flushes the rest)."""
        self._stopping.set()

    async def run(self) -> None:
        """Flush whenever the buffer is full or its oldest row is ``flush_s`` old, until
        :meth:`stop`."""
        while not self._stopping.is_set():
            await _first(self._has_items, self._stopping)
            if self._stopping.is_set():
                return
            if not self._full.is_set():
                await _first(self._full, self._stopping, within=self._seconds)
            try:
                await self.flush()
            except Exception as exc:  # kept for the next round; the caller logs it
                self._on_error(exc)
                await _first(self._stopping, within=max(self._seconds, 0.5))

    async def flush(self) -> None:
        async with self._flush_lock:
            if not self._items:
                return
            batch, self._items = self._items, []
            self._has_items.clear()
            self._full.clear()
            # The write runs as its own task: cancelling us must not leave its outcome unknown.
            write = asyncio.ensure_future(self._store.complete_many(batch))
            interrupted = False
            while not write.done():
                try:
                    await asyncio.wait({write})
                except asyncio.CancelledError:
                    interrupted = True
            try:
                result = write.result()
            except BaseException:
                self._items[:0] = batch
                self._has_items.set()
                raise
            self._on_written(batch, result)
            if interrupted:
                raise asyncio.CancelledError


async def _first(*events: asyncio.Event, within: float | None = None) -> None:
    """Wait until one of ``events`` is set, or ``within`` seconds have passed."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
