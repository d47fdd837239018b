"""The ingest pipeline: plan, read, extract, dedup, enqueue, summarise.

Reading and extracting a chunk runs in a worker thread while the previous chunk's insert runs
in aiosqlite's thread (one enqueue in flight), so the two overlap; SQLite and pyarrow release
the GIL while they work. Each source row ends in exactly one place: kept (and enqueued) or
skipped by one reason, so ``rows_read == kept + sum(skipped)`` always.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from db import EnqueueResult, SourceRow, SqliteQueue
from parallelprompt.settings import IngestSettings, Settings
from producer.batches import Extracted, from_arrow, from_rows
from producer.extract import SkipReason, TextRules
from producer.layouts import SPECS, LayoutSpec
from producer.plan import SourceGroup, plan
from producer.progress import Progress
from producer.readers import Chunk, InputFile, iter_file, iter_hub

log = logging.getLogger("producer")

#: Reasons decided before the filters (the row could not even be read).
_UNREADABLE = frozenset({SkipReason.BROKEN_LINE, SkipReason.NOT_AN_OBJECT})


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
    """Running counts, shared by the reading thread and the event loop."""

    rows_read: int = 0
    kept: int = 0
    new_prompts: int = 0
    new_sources: int = 0
    skipped: collections.Counter[str] = field(default_factory=collections.Counter)
    flagged: collections.Counter[str] = field(default_factory=collections.Counter)

    def add(self, result: EnqueueResult) -> None:
        self.new_prompts += result.new_prompts
        self.new_sources += result.new_sources


@dataclass(frozen=True, slots=True)
class RowRules:
    """Everything that decides a row's fate, from the settings."""

    text: TextRules
    languages: frozenset[str] | None  # lower-cased
    drop_toxic: bool
    drop_redacted: bool

    @classmethod
    def from_settings(cls, cfg: IngestSettings) -> RowRules:
        langs = frozenset(lang.lower() for lang in cfg.languages) if cfg.languages else None
        return cls(
            TextRules(cfg.min_chars, cfg.max_chars), langs, cfg.drop_toxic, cfg.drop_redacted
        )

    def filtered(self, ex: Extracted, i: int) -> SkipReason | None:
        if self.languages is not None:
            lang = ex.languages[i]
            if lang is None or lang.lower() not in self.languages:
                return SkipReason.LANGUAGE
        if self.drop_toxic and ex.toxic[i]:
            return SkipReason.TOXIC
        if self.drop_redacted and ex.redacted[i]:
            return SkipReason.REDACTED
        return None


def build_rows(
    ex: Extracted, start: int, source: str, split: str, rules: RowRules, tally: Tally
) -> list[SourceRow]:
    """Judge one extracted chunk: the kept rows, counting every other one by reason."""
    out: list[SourceRow] = []
    check = rules.text.check
    any_filter = rules.languages is not None or rules.drop_toxic or rules.drop_redacted
    skipped = tally.skipped
    for i, first in enumerate(ex.first):
        if type(first) is SkipReason and first in _UNREADABLE:
            skipped[first] += 1
            continue
        if any_filter:
            reason = rules.filtered(ex, i)
            if reason is not None:
                skipped[reason] += 1
                continue
        if type(first) is SkipReason:
            skipped[first] += 1
            continue
        kept = check(first)
        if type(kept) is SkipReason:
            skipped[kept] += 1
            continue
        assert not isinstance(kept, SkipReason)
        if kept.touched:
            tally.flagged.update(kept.touched)
        out.append(
            SourceRow(
                kept.prompt,
                kept.text_hash,
                source,
                split,
                start + i,
                ex.ids[i],
                ex.languages[i],
                ex.models[i],
                ex.toxic[i],
                ex.redacted[i],
                kept.flags,
            )
        )
    tally.rows_read += len(ex)
    tally.kept += len(out)
    return out


@dataclass
class Window:
    """--skip and --limit, counted across the whole ingest."""

    skip: int
    limit: int | None

    @property
    def done(self) -> bool:
        return self.limit is not None and self.limit <= 0

    def take(self, chunk: Chunk) -> Chunk:
        if self.limit is not None and len(chunk) > self.limit:
            chunk = chunk.head(self.limit)
        if self.limit is not None:
            self.limit -= len(chunk)
        return chunk


def _chunks(
    group: SourceGroup, batch_rows: int, window: Window
) -> Iterator[tuple[int, Chunk, LayoutSpec]]:
    """(row index of the chunk's first row, chunk, layout) across the group's inputs."""
    offset = 0
    for item in group.inputs:
        if window.done:
            return
        spec = SPECS[item.layout]
        if isinstance(item, InputFile):
            if item.num_rows is not None and window.skip >= item.num_rows:
                window.skip -= item.num_rows
                offset += item.num_rows
                continue
            chunks = iter_file(item, spec, batch_rows, window.skip)
        else:
            chunks = iter_hub(item, spec, batch_rows, window.skip)
        rows_in_file = 0
        for chunk in chunks:
            if not len(chunk):  # the end marker
                rows_in_file = chunk.start
                continue
            chunk = window.take(chunk)
            yield offset + chunk.start, chunk, spec
            if window.done:
                return
        window.skip = max(window.skip - rows_in_file, 0)
        offset += rows_in_file


def group_batches(
    group: SourceGroup, cfg: IngestSettings, rules: RowRules, window: Window, tally: Tally
) -> Iterator[list[SourceRow]]:
    """The kept rows of a group, one list per chunk read (at most ``batch_rows`` rows)."""
    for index, chunk, spec in _chunks(group, cfg.batch_rows, window):
        if chunk.batch is not None:
            ex = from_arrow(chunk.batch, spec)
        else:
            ex = from_rows(chunk.rows or [], spec)
        yield build_rows(ex, index, group.source, group.split, rules, tally)


async def _ingest_group(
    queue: SqliteQueue,
    group: SourceGroup,
    cfg: IngestSettings,
    window: Window,
    display: Progress,
) -> tuple[Tally, int]:
    ingest_id = await queue.begin_ingest(
        group.source, group.split, group.layout_label, group.input_names
    )
    tally = Tally()
    rules = RowRules.from_settings(cfg)
    batches = group_batches(group, cfg, rules, window, tally)
    pending: asyncio.Task[EnqueueResult] | None = None
    try:
        while True:
            rows = await asyncio.to_thread(next, batches, None)
            if pending is not None:
                tally.add(await pending)
                pending = None
            if rows is None:
                break
            if rows:
                pending = asyncio.create_task(queue.enqueue_many(rows, ingest_id))
            display.update(tally.rows_read, tally.kept, tally.new_prompts)
    finally:
        if pending is not None:  # a read error: let the insert already under way finish
            tally.add(await pending)
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
