"""The queue port's contract (:mod:`tests.db.contract`) against every implementation.

Adding an implementation (PostgreSQL, say) is one more subclass here with its ``opener``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from parallelprompt.db import Queue, SqliteQueue
from parallelprompt.db.memory import MemoryQueue, MemoryTable
from tests.db.conftest import FakeClock
from tests.db.contract import Opener, QueueContract


class TestSqliteQueue(QueueContract):
    """One SQLite file; each queue its own writer connection, as each worker process has."""

    @pytest.fixture
    async def opener(self, tmp_path: Path) -> AsyncIterator[Opener]:
        opened: list[Queue] = []

        async def open_queue(owner: str, *, clock: FakeClock, **kw: Any) -> Queue:
            queue = await SqliteQueue.open(tmp_path / "work.db", owner, clock=clock, **kw)
            opened.append(queue)
            return queue

        yield open_queue
        for queue in opened:
            await queue.close()


class TestMemoryQueue(QueueContract):
    """One :class:`MemoryTable`; each queue a worker on it."""

    @pytest.fixture
    def opener(self) -> Opener:
        table = MemoryTable()

        async def open_queue(owner: str, *, clock: FakeClock, **kw: Any) -> Queue:
            return MemoryQueue(table, owner, clock=clock, **kw)

        return open_queue
