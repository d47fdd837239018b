"""Whether the database takes this worker's writes. On a full disk (SQLITE_FULL, ENOSPC, an
I/O error) the worker stops claiming and keeps its paid answers in memory until a write
succeeds: said once when it starts and once when it ends, never per retry."""

from __future__ import annotations

from collections.abc import Callable

from parallelprompt.db import is_storage_error
from parallelprompt.worker.buffer import ResultBuffer

Log = Callable[[str, str], None]  # (kind, message)


class WriteGate:
    def __init__(self, buffer: ResultBuffer, retry_s: float, log: Log) -> None:
        self._buffer = buffer
        self.retry_s = retry_s
        self._log = log
        self.reason: str | None = None  # why the database cannot be written now

    @property
    def blocked(self) -> bool:
        return self.reason is not None

    def failed(self, exc: BaseException) -> bool:
        """True when ``exc`` says the database cannot be written (noted, logged once); False
        for any other error, which the caller handles."""
        if not is_storage_error(exc):
            return False
        if self.reason is None:
            self.reason = str(exc)
            self._log(
                "warning",
                f"cannot write to the database ({exc}): stopped claiming; "
                f"{len(self._buffer)} answer(s) kept in memory, trying again every "
                f"{self.retry_s:g} s",
            )
        return True

    def wrote(self) -> None:
        """A write succeeded: the database takes writes (again)."""
        if self.reason is not None:
            self.reason = None
            self._log("resumed", "the database takes writes again: answers written, claiming")

    async def flush(self) -> bool:
        """Flush what is buffered; False when the database cannot be written."""
        try:
            await self._buffer.flush()
        except Exception as exc:
            if not self.failed(exc):
                raise
            return False
        return True
