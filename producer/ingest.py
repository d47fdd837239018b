"""The ingest pipeline: plan, read, extract, dedup, enqueue, summarise.

Reading, extracting and judging rows happen in a *feed* (:mod:`producer.pipeline`): a child
process for large local inputs (the second core), a thread otherwise. This process only
inserts: a thread with its own synchronous SQLite connection (:func:`db.connection.connect_bulk`)
takes the feed's batches, one ``BEGIN IMMEDIATE`` transaction each
(:func:`db.queue.enqueue_staged`), and updates the counts and the progress display. Each source
row ends in exactly one place: kept (and enqueued) or skipped by one reason, so
``rows_read == kept + sum(skipped)`` always.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from db import EnqueueResult, SqliteQueue
from db.connection import checkpoint, connect_bulk
from db.queue import enqueue_staged
from parallelprompt.settings import IngestSettings, Settings
from producer.pipeline import Done, Failed, Feed, ProcessFeed, Stopped, ThreadFeed, Window
from producer.plan import SourceGroup, plan
from producer.progress import Progress
from producer.readers import InputFile

log = logging.getLogger("producer")

#: Local inputs at least this large (bytes, all files of a source) are read in a child
#: process; below it the ~0.5 s start of a fresh interpreter costs more than it saves.
PROCESS_MIN_BYTES = 8 * 2**20


@dataclass(frozen=True, slots=True)
class IngestSummary:
    rows_read: int
    kept: int
    new_prompts: int
    duplicates: int  # kept rows whose prompt was already known or repeated
    new_sources: int
    known_sources: int  # kept rows already recorded by an earlier ingest
    skipped: dict[str, int]
    flagged: dict[str, int]
    elapsed_s: float
    sources: tuple[str, ...]
    ingest_ids: tuple[int, ...] = ()

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def line(self) -> str:
        """The one-line summary printed at the end."""
        skipped = sum(self.skipped.values())
        parts = [
            f"ingest {', '.join(self.sources)}: {self.rows_read:,} rows read",
            f"{self.kept:,} prompts kept",
            f"{self.new_prompts:,} new unique prompts",
            f"{self.duplicates:,} duplicates",
        ]
        if skipped:
            reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(self.skipped.items()))
            parts.append(f"skipped {skipped:,} ({reasons})")
        else:
            parts.append("skipped 0")
        if self.flagged:
            parts.append(
                "flagged " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.flagged.items()))
            )
        if self.kept and not self.new_sources:
            parts.append(f"nothing new: all {self.kept:,} kept rows were already recorded")
        elif self.known_sources:
            parts.append(f"{self.known_sources:,} rows already recorded")
        parts.append(f"{self.elapsed_s:.1f} s ({self.rows_per_s:,.0f} rows/s)")
        return "; ".join(parts)


@dataclass
class Tally:
    """Running counts of one group, kept by the writer thread."""

    rows_read: int = 0
    kept: int = 0
    new_prompts: int = 0
    new_sources: int = 0
    skipped: collections.Counter[str] = field(default_factory=collections.Counter)
    flagged: collections.Counter[str] = field(default_factory=collections.Counter)

    def add(self, result: EnqueueResult) -> None:
        self.new_prompts += result.new_prompts
        self.new_sources += result.new_sources


def use_process(group: SourceGroup) -> bool:
    """Read this group in a child process? Local files only, and only large ones."""
    if not all(isinstance(i, InputFile) for i in group.inputs):
        return False
    size = 0
    for item in group.inputs:
        assert isinstance(item, InputFile)
        with contextlib.suppress(OSError):
            size += item.path.stat().st_size
    return size >= PROCESS_MIN_BYTES


def _write(
    feed: Feed,
    db_path: Path,
    group: SourceGroup,
    ingest_id: int,
    clock: Callable[[], float],
    tx_rows: int,
    tally: Tally,
    display: Progress,
    stop: threading.Event,
) -> Done:
    """The database side (in a thread): insert the feed's batches until it is done, about
    ``tx_rows`` kept rows per ``BEGIN IMMEDIATE`` transaction.

    A reading error or Ctrl-C commits what is already inserted (the rows before it stay
    stored, a re-run adds the rest); a database error rolls the open transaction back."""
    conn = connect_bulk(db_path)
    in_tx = 0  # kept rows inserted in the open transaction
    try:
        while True:
            try:
                msg = feed.get(stop)
            except Stopped:
                break
            if isinstance(msg, Failed):
                if in_tx:
                    conn.execute("COMMIT")
                raise msg.error
            if isinstance(msg, Done):
                if in_tx:
                    conn.execute("COMMIT")
                return msg
            if msg.staged:
                if not in_tx:
                    conn.execute("BEGIN IMMEDIATE")
                result = enqueue_staged(
                    conn,
                    msg.staged,
                    source=group.source,
                    split=group.split,
                    ingest_id=ingest_id,
                    now=clock(),
                )
                in_tx += len(msg.staged)
                if in_tx >= tx_rows:
                    conn.execute("COMMIT")
                    in_tx = 0
                tally.add(result)
            tally.rows_read += msg.rows_read
            tally.kept += len(msg.staged)
            tally.skipped.update(msg.skipped)
            tally.flagged.update(msg.flagged)
            display.update(tally.rows_read, tally.kept, tally.new_prompts)
        if in_tx:  # stopped (Ctrl-C): keep what is inserted
            conn.execute("COMMIT")
        raise Stopped
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        try:
            checkpoint(conn)
        except sqlite3.Error:
            log.debug("checkpoint after the ingest failed", exc_info=True)
        conn.close()


async def _ingest_group(
    queue: SqliteQueue,
    db_path: Path,
    group: SourceGroup,
    cfg: IngestSettings,
    window: Window,
    display: Progress,
) -> tuple[Tally, int]:
    ingest_id = await queue.begin_ingest(
        group.source, group.split, group.layout_label, group.input_names
    )
    tally = Tally()
    feed: Feed = (ProcessFeed if use_process(group) else ThreadFeed)(group, cfg, window)
    stop = threading.Event()
    writer = asyncio.ensure_future(
        asyncio.to_thread(
            _write,
            feed,
            db_path,
            group,
            ingest_id,
            queue.clock,
            cfg.batch_rows,
            tally,
            display,
            stop,
        )
    )
    try:
        done = await asyncio.shield(writer)
    except asyncio.CancelledError:  # Ctrl-C: let the transaction under way finish, then stop
        stop.set()
        await asyncio.wait([writer])
        if not writer.cancelled():
            writer.exception()  # retrieved: Stopped, or whatever ended it meanwhile
        raise
    finally:
        feed.close()
    window.skip, window.limit = done.skip, done.limit
    await queue.finish_ingest(
        ingest_id,
        rows_read=tally.rows_read,
        kept=tally.kept,
        new_prompts=tally.new_prompts,
        new_sources=tally.new_sources,
        skipped={str(k): v for k, v in tally.skipped.items()},
    )
    return tally, ingest_id


async def ingest(settings: Settings, *, progress: bool) -> IngestSummary:
    """Ingest the configured dataset (default: the bundled sample) into the work table."""
    started = time.perf_counter()
    cfg = settings.ingest
    groups = plan(cfg)  # every input opened and checked before the database is touched
    display = Progress(
        enabled=progress and not settings.common.quiet, log_format=settings.common.log_format
    )
    window = Window(cfg.skip, cfg.limit)
    total = Tally()
    ids: list[int] = []
    queue = await SqliteQueue.open(settings.common.db)
    try:
        for group in groups:
            tally, ingest_id = await _ingest_group(
                queue, settings.common.db, group, cfg, window, display
            )
            ids.append(ingest_id)
            total.rows_read += tally.rows_read
            total.kept += tally.kept
            total.new_prompts += tally.new_prompts
            total.new_sources += tally.new_sources
            total.skipped.update(tally.skipped)
            total.flagged.update(tally.flagged)
        display.update(total.rows_read, total.kept, total.new_prompts, force=True)
    finally:
        display.close()
        await queue.close()
    return IngestSummary(
        rows_read=total.rows_read,
        kept=total.kept,
        new_prompts=total.new_prompts,
        duplicates=total.kept - total.new_prompts,
        new_sources=total.new_sources,
        known_sources=total.kept - total.new_sources,
        skipped={str(k): v for k, v in sorted(total.skipped.items())},
        flagged={str(k): v for k, v in sorted(total.flagged.items())},
        elapsed_s=time.perf_counter() - started,
        sources=tuple(g.source for g in groups),
        ingest_ids=tuple(ids),
    )


def run_ingest(settings: Settings, *, progress: bool) -> IngestSummary:
    """Synchronous wrapper of :func:`ingest` for callers without an event loop."""
    return asyncio.run(ingest(settings, progress=progress))
