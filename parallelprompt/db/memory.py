"""An in-memory implementation of the queue port, for unit tests of policy.

:class:`MemoryTable` holds what a database would (prompts, sources, ingests, runs, results,
workers); several :class:`MemoryQueue` on one table are several workers of one fleet, in one
process. Every operation runs under the table's lock, so each is atomic as a transaction is.
It keeps the lease protocol's semantics (``tests/db/contract.py`` runs the same contract
tests against it and against SQLite); it is not durable and not shared between processes.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from parallelprompt.db.lease import STALE_HEARTBEAT_S, backoff_delay, out_of_attempts
from parallelprompt.db.models import (
    CompleteResult,
    Completion,
    EnqueueResult,
    FailOutcome,
    Failure,
    Fleet,
    Lease,
    Run,
    RunIdentity,
    SourceRow,
    StagedRows,
    Status,
    Workload,
)
from parallelprompt.db.port import BulkWriter, Queue
from parallelprompt.db.queue import dead_letter, new_owner_id
from parallelprompt.db.storable import as_unparseable, unstorable_reason

Clock = Callable[[], float]


@dataclass
class _Work:
    id: int
    text_hash: bytes
    prompt: str
    flags: int
    status: Status = Status.READY
    attempts: int = 0
    available_at: float = 0.0
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    last_error: str | None = None

    def leased_by(self, owner: str) -> bool:
        return self.status is Status.LEASED and self.lease_owner == owner

    def unlease(self, status: Status) -> None:
        self.status, self.lease_owner, self.lease_expires_at = status, None, None


@dataclass
class _Worker:
    run_id: int
    concurrency: int
    heartbeat_at: float
    stopped_at: float | None = None
    spent_usd: float | None = None


@dataclass
class MemoryTable:
    """The shared state of every :class:`MemoryQueue` opened on it."""

    work: dict[int, _Work] = field(default_factory=dict)
    by_hash: dict[bytes, int] = field(default_factory=dict)
    #: (source, split, row_index) -> (work id, ingest id)
    sources: dict[tuple[str, str, int], tuple[int, int | None]] = field(default_factory=dict)
    ingests: dict[int, dict[str, Any]] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    #: (work id, run id) -> (the completion as stored, the worker that wrote it)
    results: dict[tuple[int, int], tuple[Completion, str]] = field(default_factory=dict)
    workers: dict[str, _Worker] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def enqueue(
        self,
        rows: StagedRows,
        source: str,
        split: str,
        ingest_id: int | None,
        now: float,
        undo: _Undo | None = None,
    ) -> EnqueueResult:
        new_prompts = new_sources = 0
        for text_hash, prompt, flags in zip(rows.text_hash, rows.prompt, rows.flags, strict=True):
            if text_hash not in self.by_hash:
                work_id = len(self.work) + 1
                self.work[work_id] = _Work(work_id, text_hash, prompt, flags)
                self.by_hash[text_hash] = work_id
                new_prompts += 1
                if undo is not None:
                    undo.work.append(work_id)
        for text_hash, row_index in zip(rows.text_hash, rows.row_index, strict=True):
            key = (source, split, row_index)
            if key not in self.sources:
                self.sources[key] = (self.by_hash[text_hash], ingest_id)
                new_sources += 1
                if undo is not None:
                    undo.sources.append(key)
        return EnqueueResult(len(rows), new_prompts, new_sources)

    def dead_workers(self, stale_s: float) -> set[str]:
        """Stopped, or a heartbeat ``stale_s`` older than the freshest."""
        if not self.workers:
            return set()
        freshest = max(w.heartbeat_at for w in self.workers.values())
        return {
            owner
            for owner, w in self.workers.items()
            if w.stopped_at is not None or w.heartbeat_at < freshest - stale_s
        }


@dataclass
class _Undo:
    """What an open bulk-writer transaction added (enqueue only ever adds)."""

    work: list[int] = field(default_factory=list)
    sources: list[tuple[str, str, int]] = field(default_factory=list)


class MemoryBulkWriter:
    """:class:`db.port.BulkWriter` on a :class:`MemoryTable`; rolled back on close unless
    committed."""

    def __init__(self, table: MemoryTable, clock: Clock) -> None:
        self.table = table
        self.clock = clock
        self._undo: _Undo | None = None

    def recorded(self, source: str, split: str, first: int, last: int) -> dict[int, bytes]:
        with self.table.lock:
            self._undo = self._undo or _Undo()
            return {
                i: self.table.work[work_id].text_hash
                for (s, sp, i), (work_id, _) in self.table.sources.items()
                if s == source and sp == split and first <= i <= last
            }

    def enqueue(
        self, rows: StagedRows, *, source: str, split: str, ingest_id: int | None
    ) -> EnqueueResult:
        if not rows:
            return EnqueueResult(0, 0, 0)
        with self.table.lock:
            self._undo = self._undo or _Undo()
            return self.table.enqueue(rows, source, split, ingest_id, self.clock(), self._undo)

    def commit(self) -> None:
        self._undo = None

    def close(self) -> None:
        undo, self._undo = self._undo, None
        if undo is None:
            return
        with self.table.lock:
            for key in undo.sources:
                del self.table.sources[key]
            for work_id in undo.work:
                del self.table.by_hash[self.table.work.pop(work_id).text_hash]


class MemoryQueue:
    """:class:`db.port.Queue` in memory (see the module doc)."""

    def __init__(
        self,
        table: MemoryTable | None = None,
        owner: str | None = None,
        *,
        clock: Clock = time.time,
        backoff_base: float = 2.0,
        backoff_cap: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self.table = table if table is not None else MemoryTable()
        self.owner = owner or new_owner_id()
        self.clock = clock
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rng = rng or random.Random()

    async def close(self) -> None:
        pass

    # -- ingest bookkeeping ------------------------------------------------------------------

    async def begin_ingest(self, source: str, split: str, layout: str, inputs: list[str]) -> int:
        with self.table.lock:
            ingest_id = len(self.table.ingests) + 1
            self.table.ingests[ingest_id] = {
                "source": source,
                "split": split,
                "layout": layout,
                "inputs": list(inputs),
                "started_at": self.clock(),
            }
            return ingest_id

    async def finish_ingest(
        self,
        ingest_id: int,
        *,
        rows_read: int,
        kept: int,
        new_prompts: int,
        new_sources: int,
        skipped: dict[str, int],
    ) -> None:
        with self.table.lock:
            self.table.ingests[ingest_id].update(
                finished_at=self.clock(),
                rows_read=rows_read,
                kept=kept,
                new_prompts=new_prompts,
                new_sources=new_sources,
                skipped=dict(skipped),
            )

    async def enqueue_many(
        self, rows: Sequence[SourceRow], ingest_id: int | None = None
    ) -> EnqueueResult:
        total = EnqueueResult(0, 0, 0)
        with self.table.lock:
            now = self.clock()
            for r in rows:
                staged = StagedRows()
                staged.add(
                    r.text_hash,
                    r.prompt,
                    r.row_index,
                    flags=r.flags,
                    conversation_id=r.conversation_id,
                    language=r.language,
                    model=r.model,
                    toxic=r.toxic,
                    redacted=r.redacted,
                )
                one = self.table.enqueue(staged, r.source, r.split, ingest_id, now)
                total = EnqueueResult(
                    total.rows + 1,
                    total.new_prompts + one.new_prompts,
                    total.new_sources + one.new_sources,
                )
        return total

    def bulk_writer(self) -> MemoryBulkWriter:
        return MemoryBulkWriter(self.table, self.clock)

    # -- leases ------------------------------------------------------------------------------

    async def claim(
        self, n: int, lease_seconds: float, *, stale_s: float = STALE_HEARTBEAT_S
    ) -> list[Lease]:
        if n <= 0:
            return []
        with self.table.lock:
            now = self.clock()
            rows = sorted(self.table.work.values(), key=lambda w: w.id)
            dead = self.table.dead_workers(stale_s)
            leased = [w for w in rows if w.status is Status.LEASED]
            expired = [w for w in leased if (w.lease_expires_at or 0.0) < now][:n]
            orphaned = [w for w in leased if w.lease_owner != self.owner and w.lease_owner in dead]
            ready = [w for w in rows if w.status is Status.READY and w.available_at <= now][:n]
            chosen: dict[int, _Work] = {}
            for w in [*expired, *orphaned[:n], *ready]:
                chosen.setdefault(w.id, w)
            leases = []
            for w in sorted(list(chosen.values())[:n], key=lambda w: w.id):
                w.status, w.lease_owner = Status.LEASED, self.owner
                w.lease_expires_at = now + lease_seconds
                w.attempts += 1
                leases.append(Lease(w.id, w.prompt, w.attempts, w.lease_expires_at))
            return leases

    async def extend(self, work_ids: Iterable[int], lease_seconds: float) -> set[int]:
        held = set()
        with self.table.lock:
            now = self.clock()
            for work_id in work_ids:
                w = self.table.work.get(work_id)
                if w is not None and w.leased_by(self.owner):
                    w.lease_expires_at = now + lease_seconds
                    held.add(work_id)
        return held

    async def complete_many(self, completions: Sequence[Completion]) -> CompleteResult:
        with self.table.lock:
            return self._complete_many(completions)

    def _complete_many(self, completions: Sequence[Completion]) -> CompleteResult:
        lost = []
        for c in completions:
            why = unstorable_reason(c)
            stored = c if why is None else as_unparseable(c, why)
            w = self.table.work.get(c.work_id)
            if w is None or not w.leased_by(self.owner):
                lost.append(c.work_id)
                continue
            if stored.dead:
                w.unlease(Status.DEAD)
                w.last_error = (
                    f"{stored.error_code}: {stored.error_message}"
                    if stored.error_message
                    else str(stored.error_code)
                )
            else:
                w.unlease(Status.DONE)
                w.last_error = None
            self.table.results.setdefault((c.work_id, c.run_id), (stored, self.owner))
        return CompleteResult(len(completions) - len(lost), tuple(lost))

    async def fail(self, failure: Failure, max_attempts: int) -> FailOutcome:
        with self.table.lock:
            if failure.retryable and not out_of_attempts(failure.attempts, max_attempts):
                now = self.clock()
                w = self.table.work.get(failure.work_id)
                if w is None or not w.leased_by(self.owner):
                    return FailOutcome.LOST
                delay = backoff_delay(
                    failure.attempts, self.backoff_base, self.backoff_cap, self.rng.random
                )
                w.unlease(Status.READY)
                w.available_at = now + delay
                w.last_error = f"{failure.error_code}: {failure.message}"
                return FailOutcome.RETRY
            result = self._complete_many([dead_letter(failure)])
        return FailOutcome.DEAD if result.written else FailOutcome.LOST

    async def release(self, work_ids: Iterable[int] | None = None) -> int:
        with self.table.lock:
            if work_ids is None:
                ours = [w for w in self.table.work.values() if w.leased_by(self.owner)]
                dead = self.table.dead_workers(STALE_HEARTBEAT_S)
                for w in self.table.work.values():
                    others = w.status is Status.LEASED and w.lease_owner != self.owner
                    if others and w.lease_owner in dead:
                        w.unlease(Status.READY)  # the attempt stays charged
            else:
                found = (self.table.work.get(i) for i in work_ids)
                ours = [w for w in found if w is not None and w.leased_by(self.owner)]
            for w in ours:
                w.unlease(Status.READY)
                w.attempts = max(w.attempts - 1, 0)
            return len(ours)

    # -- queue depth and progress ------------------------------------------------------------

    async def counts(self) -> dict[Status, int]:
        with self.table.lock:
            found = {s: 0 for s in Status}
            for w in self.table.work.values():
                found[w.status] += 1
            return found

    async def leased_by_others(self) -> tuple[int, float | None]:
        with self.table.lock:
            ends = [
                w.lease_expires_at or 0.0
                for w in self.table.work.values()
                if w.status is Status.LEASED and w.lease_owner != self.owner
            ]
        return (len(ends), max(ends)) if ends else (0, None)

    async def workload(self, model: str) -> Workload:
        with self.table.lock:
            work = self.table.work
            pending = [w for w in work.values() if w.status in (Status.READY, Status.LEASED)]
            answered = [
                c
                for c, _ in self.table.results.values()
                if c.raw_text is not None
                and c.input_tokens + c.cache_read_tokens + c.cache_write_tokens > 0
            ]
            ours = [c for c in answered if c.model_id == model] or answered
            return Workload(
                len(pending),
                sum(len(w.prompt) for w in pending),
                len(ours),
                sum(c.input_tokens + c.cache_read_tokens + c.cache_write_tokens for c in ours),
                sum(c.output_tokens for c in ours),
                sum(len(work[c.work_id].prompt) for c in ours),
            )

    # -- runs --------------------------------------------------------------------------------

    async def start_run(
        self,
        identity: RunIdentity,
        config: dict[str, Any],
        *,
        reopen: bool,
        join: bool = False,
    ) -> Run:
        with self.table.lock:
            runs = self.table.runs
            latest = runs[-1] if runs else None
            if (
                latest is not None
                and identity.matches(latest)
                and (join or not reopen or self._result_count(latest.id) == 0)
            ):
                return latest
            now = self.clock()
            run = Run(
                id=len(runs) + 1,
                created_at=now,
                model_id=identity.model_id,
                api=identity.api,
                contract_version=identity.contract_version,
                rules=identity.rules,
                backend=identity.backend,
                config_json=orjson.dumps(config, option=orjson.OPT_SORT_KEYS).decode(),
            )
            runs.append(run)
            if reopen:
                for w in self.table.work.values():
                    if w.status in (Status.DONE, Status.DEAD):
                        w.status, w.attempts, w.available_at = Status.READY, 0, 0.0
                        w.last_error = None
            return run

    async def latest_run(self) -> Run | None:
        with self.table.lock:
            return self.table.runs[-1] if self.table.runs else None

    async def run(self, run_id: int) -> Run | None:
        with self.table.lock:
            return next((r for r in self.table.runs if r.id == run_id), None)

    async def run_result_count(self, run_id: int) -> int:
        with self.table.lock:
            return self._result_count(run_id)

    def _result_count(self, run_id: int) -> int:
        return sum(1 for _, r in self.table.results if r == run_id)

    # -- the fleet ---------------------------------------------------------------------------

    async def register_worker(self, run_id: int, concurrency: int) -> None:
        with self.table.lock:
            now = self.clock()
            known = self.table.workers.get(self.owner)
            if known is None:
                self.table.workers[self.owner] = _Worker(run_id, concurrency, now)
            else:
                known.heartbeat_at, known.stopped_at, known.run_id = now, None, run_id

    async def heartbeat(self, ttl: float, spent_usd: float | None = None) -> Fleet:
        with self.table.lock:
            now = self.clock()
            me = self.table.workers.get(self.owner)
            if me is not None:
                me.heartbeat_at = now
                if spent_usd is not None:
                    me.spent_usd = spent_usd
            live = [
                w
                for w in self.table.workers.values()
                if w.stopped_at is None and w.heartbeat_at >= now - ttl
            ]
        return Fleet(max(len(live), 1), sum(w.concurrency for w in live))

    async def stop_worker(self, spent_usd: float | None = None) -> None:
        with self.table.lock:
            me = self.table.workers.get(self.owner)
            if me is not None:
                me.stopped_at = me.heartbeat_at = self.clock()
                if spent_usd is not None:
                    me.spent_usd = spent_usd

    async def run_cost(self, run_id: int) -> float:
        with self.table.lock:
            return sum(
                w.spent_usd or 0.0 for w in self.table.workers.values() if w.run_id == run_id
            )


if TYPE_CHECKING:  # mypy checks that this is a queue port (and a bulk writer)

    def _is_a_queue(queue: MemoryQueue, writer: MemoryBulkWriter) -> tuple[Queue, BulkWriter]:
        return queue, writer
