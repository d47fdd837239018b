"""Progress while ingesting: a self-rewriting line on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

import orjson

TTY_EVERY_S = 0.2
LOG_EVERY_S = 5.0


class Progress:
    """Shows rows read, rows/s, prompts kept and new prompts; silent when disabled."""

    def __init__(
        self,
        *,
        enabled: bool,
        stream: TextIO | None = None,
        log_format: str = "auto",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and log_format == "auto" and self.stream.isatty()
        self.json = log_format == "json"
        self.clock = clock
        self.started = clock()
        self.last = self.started
        self.drawn = False

    def update(self, rows_read: int, kept: int, new_prompts: int, *, force: bool = False) -> None:
        if not self.enabled or (force and not self.tty):
            return
        now = self.clock()
        if not force and now - self.last < (TTY_EVERY_S if self.tty else LOG_EVERY_S):
            return
        self.last = now
        rate = rows_read / max(now - self.started, 1e-9)
        if self.json:
            record = {
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "event": "ingest_progress",
                "rows_read": rows_read,
                "rows_per_s": round(rate),
                "kept": kept,
                "new_prompts": new_prompts,
            }
            self.stream.write(orjson.dumps(record).decode() + "\n")
        else:
            text = (
                f"ingest: {rows_read:,} rows read ({rate:,.0f} rows/s), "
                f"{kept:,} kept, {new_prompts:,} new prompts"
            )
            self.stream.write(f"\r{text}\x1b[K" if self.tty else text + "\n")
            self.drawn = self.tty
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
