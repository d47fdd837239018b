"""The ingest pipeline: plan, read, extract, dedup, enqueue, summarise.

Reading, extracting and judging rows happen in a *feed* (:mod:`producer.pipeline`): a child
process for large local inputs (the second core), a thread otherwise. This process only
inserts: a thread with the queue's synchronous bulk writer (:meth:`db.port.Queue.bulk_writer`)
takes the feed's batches, several per transaction, and updates the counts and the progress
display. Each source row ends in exactly one place: kept (and enqueued) or skipped by one
reason, so ``rows_read == kept + sum(skipped)`` always.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from parallelprompt.db import BulkWriter, EnqueueResult, Queue, SqliteQueue, StagedRows
from parallelprompt.producer.errors import IngestError
from parallelprompt.producer.extract import SkipReason
from parallelprompt.producer.pipeline import (
    Done,
    Failed,
    Feed,
    ProcessFeed,
    Stopped,
    ThreadFeed,
    Window,
)
from parallelprompt.producer.plan import SourceGroup, plan
from parallelprompt.producer.progress import Progress
from parallelprompt.producer.readers import InputFile
from parallelprompt.producer.settings import IngestSettings

log = logging.getLogger("producer")

#: Skip reason of a kept row whose (source, split, row_index) is already recorded for a
#: different prompt: a different input ingested earlier under the same source name.
SOURCE_ROW_CONFLICT = "source_row_conflict"

#: Local inputs at least this large (bytes, all files of a source) are read in a child
#: process; below it the ~0.5 s start of a fresh interpreter costs more than it saves.
PROCESS_MIN_BYTES = 8 * 2**20
#: A compressed JSON file counts as this many times its size (text compresses ~4-10x).
COMPRESSED_WEIGHT = 5


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
    files_skipped: dict[str, int] = field(default_factory=dict)  # FileSkip reason -> files

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
        if self.files_skipped:
            parts.append(
                "files left out "
                + ", ".join(f"{k} {v:,}" for k, v in sorted(self.files_skipped.items()))
            )
        conflicts = self.skipped.get(SOURCE_ROW_CONFLICT, 0)
        if conflicts:
            parts.append(
                f"WARNING {conflicts:,} rows not stored: their row index in the source is "
                "already recorded for a different prompt (another input ingested under the "
                "same source name; give this one its own --source-name)"
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
            weight = COMPRESSED_WEIGHT if item.compression else 1
            size += item.path.stat().st_size * weight
    return size >= PROCESS_MIN_BYTES


def drop_conflicts(
    writer: BulkWriter, staged: StagedRows, source: str, split: str
) -> tuple[StagedRows, list[int]]:
    """Take out the rows whose ``(source, split, row_index)`` is already recorded for a
    *different* prompt: storing them would add their prompt to the work table with no
    provenance (the sources insert keeps the earlier row). Returns the rows to store and the
    row indices taken out. One range query on the sources index per batch; rows recorded for
    the same prompt (a re-run) stay, and are counted as already recorded."""
    if not staged:
        return staged, []
    indices = staged.row_index
    recorded = writer.recorded(source, split, min(indices), max(indices))
    if not recorded:
        return staged, []
    keep: list[int] = []
    dropped: list[int] = []
    for at, (row_index, text_hash) in enumerate(zip(indices, staged.text_hash, strict=True)):
        known = recorded.get(row_index)
        if known is None or known == text_hash:
            keep.append(at)
        else:
            dropped.append(row_index)
    return (staged.select(keep) if dropped else staged), dropped


def _without_conflicts(
    writer: BulkWriter, staged: StagedRows, group: SourceGroup, tally: Tally
) -> StagedRows:
    """:func:`drop_conflicts`, counted as ``source_row_conflict`` and warned about (once per
    source: the summary line has the count)."""
    staged, conflicts = drop_conflicts(writer, staged, group.source, group.split)
    if conflicts:
        if not tally.skipped[SOURCE_ROW_CONFLICT]:
            log.warning(
                "%s (%s): row %d (and maybe more) is already recorded for a different prompt; "
                "another input was ingested under this source name before. Such rows are not "
                "stored (counted as %s): give this input its own --source-name",
                group.source,
                group.split,
                conflicts[0],
                SOURCE_ROW_CONFLICT,
            )
        tally.skipped[SOURCE_ROW_CONFLICT] += len(conflicts)
    return staged


def _write(
    feed: Feed,
    queue: Queue,
    group: SourceGroup,
    ingest_id: int,
    tx_rows: int,
    tally: Tally,
    display: Progress,
    stop: threading.Event,
) -> Done:
    """The database side (in a thread): insert the feed's batches until it is done, about
    ``tx_rows`` kept rows per transaction of the queue's bulk writer.

    A reading error or Ctrl-C commits what is already inserted (the rows before it stay
    stored, a re-run adds the rest); a database error rolls the open transaction back."""
    writer = queue.bulk_writer()
    in_tx = 0  # kept rows inserted in the open transaction
    try:
        while True:
            try:
                msg = feed.get(stop)
            except Stopped:
                break
            if isinstance(msg, Failed):
                writer.commit()
                raise msg.error
            if isinstance(msg, Done):
                writer.commit()
                return msg
            staged = msg.staged
            if staged:
                staged = _without_conflicts(writer, staged, group, tally)
                result = writer.enqueue(
                    staged, source=group.source, split=group.split, ingest_id=ingest_id
                )
                in_tx += len(staged)
                if in_tx >= tx_rows:
                    writer.commit()
                    in_tx = 0
                tally.add(result)
            tally.rows_read += msg.rows_read
            tally.kept += len(staged)
            tally.skipped.update(msg.skipped)
            tally.flagged.update(msg.flagged)
            display.update(tally.rows_read, tally.kept, tally.new_prompts)
        writer.commit()  # stopped (Ctrl-C): keep what is inserted
        raise Stopped
    finally:
        writer.close()  # rolls back what is not committed (a database error)


async def _ingest_group(
    queue: Queue,
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
            queue,
            group,
            ingest_id,
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


async def ingest(
    cfg: IngestSettings, *, db: Path, progress: bool, log_format: str = "auto"
) -> IngestSummary:
    """Ingest the configured dataset (default: the bundled sample) into the work table of the
    database ``db``; ``progress``: show the progress display (``log_format`` says how)."""
    started = time.perf_counter()
    planned = plan(cfg)  # every input opened and checked before the database is touched
    groups = planned.groups
    display = Progress(enabled=progress, log_format=log_format)
    window = Window(cfg.skip, cfg.limit)
    total = Tally()
    ids: list[int] = []
    queue = await SqliteQueue.open(db)
    try:
        for group in groups:
            tally, ingest_id = await _ingest_group(queue, group, cfg, window, display)
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
    by_language = total.skipped.get(SkipReason.LANGUAGE, 0)
    if cfg.languages and total.kept == 0 and by_language:
        raise IngestError(
            f"--languages {' '.join(cfg.languages)} matched none of the {total.rows_read:,} "
            "rows read, so nothing was added: use the dataset's own language names "
            "(e.g. English, Chinese, Spanish), or drop --languages"
        )
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
        files_skipped=planned.files_skipped,
    )


def run_ingest(
    cfg: IngestSettings, *, db: Path, progress: bool, log_format: str = "auto"
) -> IngestSummary:
    """Synchronous wrapper of :func:`ingest` for callers without an event loop."""
    return asyncio.run(ingest(cfg, db=db, progress=progress, log_format=log_format))
