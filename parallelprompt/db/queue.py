"""The SQLite implementation of the queue port (:mod:`db.port`).

The SQL lives in ``queries.sql``. Delivery is at-least-once to the model (a lease that
expires mid-call is reclaimed and the prompt is sent again) and exactly-once into
``results``: every write is guarded by the lease owner, so a worker that lost its lease
writes nothing.

One writer connection per process: every operation runs its statements inside ``BEGIN
IMMEDIATE`` on it, under an asyncio lock (the writer lock), so that two tasks never
interleave their transactions on the connection.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import random
import socket
import sqlite3
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
import orjson

from parallelprompt.db.connection import (
    BUSY_TIMEOUT_MS,
    checkpoint,
    connect,
    connect_bulk,
    write_tx_async,
)
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
    VerdictRow,
    Workload,
)
from parallelprompt.db.sql import query
from parallelprompt.db.storable import as_unparseable, unstorable_reason
from parallelprompt.db.texts import compact

Clock = Callable[[], float]
log = logging.getLogger("db")

#: What binding a value SQLite cannot hold raises: one row's problem, never the database's.
_ROW_ERRORS = (
    OverflowError,
    UnicodeError,
    ValueError,
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
)


def new_owner_id() -> str:
    """host:pid:random — unique per worker process, readable in ``sqlite3``."""
    return f"{socket.gethostname()}:{os.getpid()}:{random.getrandbits(32):08x}"


# -- enqueue: the statements once, driven by a synchronous and an asynchronous connection ---

#: One statement of an enqueue: (query name, parameters, executemany?). The driver sends
#: back its rowcount.
_Step = tuple[str, Any, bool]
_Enqueue = Generator[_Step, int, EnqueueResult]


def _enqueue(
    batches: Sequence[tuple[str, str, StagedRows]], ingest_id: int | None, now: float
) -> _Enqueue:
    """The enqueue of staged rows, one (source, split, rows) batch after another, as the
    statements to run inside the caller's write transaction: the rows are staged in a temp
    table and moved with two set-based statements (docs/architecture.md)."""
    rows = new_prompts = new_sources = 0
    yield "create_stage", (), False
    for source, split, staged in batches:
        rows += len(staged)
        yield "stage_row", staged.rows(), True
        # rowcount, not total_changes: the latter also counts the work_counts triggers' updates
        added = yield "enqueue_work", {"now": now}, False
        if added:
            yield "count_enqueued", {"n": added}, False
        new_prompts += added
        new_sources += yield (
            "enqueue_sources",
            {"source": source, "split": split, "ingest_id": ingest_id},
            False,
        )
        yield "clear_stage", (), False
    return EnqueueResult(rows=rows, new_prompts=new_prompts, new_sources=new_sources)


def _run_sync(conn: sqlite3.Connection, steps: _Enqueue) -> EnqueueResult:
    try:
        name, params, many = next(steps)
        while True:
            run = conn.executemany if many else conn.execute
            name, params, many = steps.send(run(query(name), params).rowcount)
    except StopIteration as done:
        result: EnqueueResult = done.value
        return result


async def _run_async(conn: aiosqlite.Connection, steps: _Enqueue) -> EnqueueResult:
    try:
        name, params, many = next(steps)
        while True:
            run = conn.executemany if many else conn.execute
            cur = await run(query(name), params)
            name, params, many = steps.send(cur.rowcount)
    except StopIteration as done:
        result: EnqueueResult = done.value
        return result


def _batches(rows: Sequence[SourceRow]) -> list[tuple[str, str, StagedRows]]:
    """Runs of consecutive rows with one source and split (bound once per statement), in the
    given order, so work ids follow the rows' order as with one statement."""
    batches: list[tuple[str, str, StagedRows]] = []
    for r in rows:
        if not batches or batches[-1][0] != r.source or batches[-1][1] != r.split:
            batches.append((r.source, r.split, StagedRows()))
        batches[-1][2].add(
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
    return batches


class SqliteBulkWriter:
    """:class:`db.port.BulkWriter` on a producer's own synchronous connection
    (:func:`db.connection.connect_bulk`): several batches per ``BEGIN IMMEDIATE`` transaction
    (fewer commits, each rewriting the dedup index's dirty pages once), one passive WAL
    checkpoint when it closes."""

    def __init__(self, path: Path | str, clock: Clock) -> None:
        self.conn = connect_bulk(path)
        self.clock = clock

    def _begin(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")

    def recorded(self, source: str, split: str, first: int, last: int) -> dict[int, bytes]:
        self._begin()
        found = self.conn.execute(
            query("recorded_sources"),
            {"source": source, "split": split, "first": first, "last": last},
        )
        recorded: dict[int, bytes] = dict(found)  # INTEGER and BLOB: int and bytes already
        return recorded

    def enqueue(
        self, rows: StagedRows, *, source: str, split: str, ingest_id: int | None
    ) -> EnqueueResult:
        if not rows:
            return EnqueueResult(0, 0, 0)
        self._begin()
        return _run_sync(self.conn, _enqueue([(source, split, rows)], ingest_id, self.clock()))

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def close(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            try:
                checkpoint(self.conn)
            except sqlite3.Error:
                log.debug("checkpoint after the ingest failed", exc_info=True)
        finally:
            self.conn.close()


class SqliteQueue:
    """:class:`db.port.Queue` on one SQLite file, through this process's single writer
    connection. Every operation holds the writer lock (an asyncio lock) for its
    transaction."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        owner: str,
        *,
        path: Path | str | None = None,
        clock: Clock = time.time,
        backoff_base: float = 2.0,
        backoff_cap: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self.conn = conn
        self.owner = owner
        self.path = path
        self.clock = clock
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rng = rng or random.Random()
        self._writer = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        path: Path | str,
        owner: str | None = None,
        *,
        busy_timeout_s: float = BUSY_TIMEOUT_MS / 1000,
        **kw: Any,
    ) -> SqliteQueue:
        conn = await connect(path, busy_timeout_ms=round(busy_timeout_s * 1000))
        return cls(conn, owner or new_owner_id(), path=path, **kw)

    async def close(self) -> None:
        await self.conn.close()

    # -- ingest bookkeeping ------------------------------------------------------------------

    async def enqueue_many(
        self, rows: Sequence[SourceRow], ingest_id: int | None = None
    ) -> EnqueueResult:
        if not rows:
            return EnqueueResult(0, 0, 0)
        steps = _enqueue(_batches(rows), ingest_id, self.clock())
        async with self._writer, write_tx_async(self.conn):
            return await _run_async(self.conn, steps)

    def bulk_writer(self) -> SqliteBulkWriter:
        if self.path is None:
            raise RuntimeError("a bulk writer needs the queue's path (open it with .open)")
        return SqliteBulkWriter(self.path, self.clock)

    async def begin_ingest(self, source: str, split: str, layout: str, inputs: list[str]) -> int:
        params = {
            "source": source,
            "split": split,
            "layout": layout,
            "inputs": orjson.dumps(inputs).decode(),
            "now": self.clock(),
        }
        async with self._writer, write_tx_async(self.conn):
            cur = await self.conn.execute(query("begin_ingest"), params)
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

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
        params = {
            "id": ingest_id,
            "now": self.clock(),
            "rows_read": rows_read,
            "kept": kept,
            "new_prompts": new_prompts,
            "new_sources": new_sources,
            "skipped_json": orjson.dumps(skipped, option=orjson.OPT_SORT_KEYS).decode(),
        }
        async with self._writer, write_tx_async(self.conn):
            await self.conn.execute(query("finish_ingest"), params)

    # -- leases ------------------------------------------------------------------------------

    async def claim(
        self, n: int, lease_seconds: float, *, stale_s: float = STALE_HEARTBEAT_S
    ) -> list[Lease]:
        """One UPDATE ... RETURNING inside BEGIN IMMEDIATE (see ``claim`` in queries.sql)."""
        if n <= 0:
            return []
        async with self._writer:
            now = self.clock()
            params = {
                "owner": self.owner,
                "expires": now + lease_seconds,
                "now": now,
                "n": n,
                "stale_s": stale_s,
            }
            async with write_tx_async(self.conn):
                cur = await self.conn.execute(query("claim"), params)
                rows = await cur.fetchall()
        leases = [Lease(int(r[0]), str(r[1]), int(r[2]), float(r[3])) for r in rows]
        leases.sort(key=lambda lease: lease.work_id)
        return leases

    async def extend(self, work_ids: Iterable[int], lease_seconds: float) -> set[int]:
        ids = list(work_ids)
        if not ids:
            return set()
        held = set()
        async with self._writer:
            now = self.clock()
            async with write_tx_async(self.conn):
                for work_id in ids:
                    cur = await self.conn.execute(
                        query("extend"),
                        {
                            "id": work_id,
                            "owner": self.owner,
                            "expires": now + lease_seconds,
                            "now": now,
                        },
                    )
                    if cur.rowcount:
                        held.add(work_id)
        return held

    async def complete_many(self, completions: Sequence[Completion]) -> CompleteResult:
        async with self._writer:
            return await self._complete_many(completions)

    async def _complete_many(self, completions: Sequence[Completion]) -> CompleteResult:
        if not completions:
            return CompleteResult(0, ())
        now = self.clock()
        rows = [_storable(c) for c in completions]
        try:
            lost = await self._complete(rows, now, isolate=False)
        except _ROW_ERRORS:
            # A row SQLite refused although it passed the check: write each row under its own
            # savepoint, the refused ones reduced to their raw answer.
            lost = await self._complete(rows, now, isolate=True)
        return CompleteResult(len(completions) - len(lost), tuple(lost))

    async def _complete(
        self, rows: Sequence[Completion], now: float, *, isolate: bool
    ) -> list[int]:
        lost = []
        async with write_tx_async(self.conn):
            for c in rows:
                finished = await (
                    self._finish_isolated(c, now) if isolate else self._finish(c, now)
                )
                if not finished:
                    lost.append(c.work_id)
        return lost

    async def _finish_isolated(self, c: Completion, now: float) -> bool:
        await self.conn.execute("SAVEPOINT row")
        try:
            finished = await self._finish(c, now)
        except _ROW_ERRORS as exc:
            await self.conn.execute("ROLLBACK TO row")
            finished = await self._finish(as_unparseable(c, f"{type(exc).__name__}: {exc}"), now)
        await self.conn.execute("RELEASE row")
        return finished

    async def _finish(self, c: Completion, now: float) -> bool:
        if c.dead:
            params = {"id": c.work_id, "owner": self.owner, "now": now, "error": _error_text(c)}
            cur = await self.conn.execute(query("mark_dead"), params)
        else:
            params = {"id": c.work_id, "owner": self.owner, "now": now}
            cur = await self.conn.execute(query("mark_done"), params)
        if cur.rowcount == 0:
            return False
        cur = await self.conn.execute(query("insert_result"), _result_params(c, self.owner, now))
        row = await cur.fetchone()
        if row is None:  # already recorded for this run (cannot happen under the lease guard)
            return True
        cur = await self.conn.execute(query("work_prompt"), {"id": c.work_id})
        prompt = await cur.fetchone()
        await self.conn.execute(
            query("upsert_verdict"),
            verdict_params(int(row[0]), c.verdict, now, None if prompt is None else prompt[0]),
        )
        return True

    async def fail(self, failure: Failure, max_attempts: int) -> FailOutcome:
        async with self._writer:
            now = self.clock()
            if failure.retryable and not out_of_attempts(failure.attempts, max_attempts):
                delay = backoff_delay(
                    failure.attempts, self.backoff_base, self.backoff_cap, self.rng.random
                )
                params = {
                    "id": failure.work_id,
                    "owner": self.owner,
                    "now": now,
                    "available_at": now + delay,
                    "error": f"{failure.error_code}: {failure.message}",
                }
                async with write_tx_async(self.conn):
                    cur = await self.conn.execute(query("retry_later"), params)
                return FailOutcome.RETRY if cur.rowcount else FailOutcome.LOST
            result = await self._complete_many([dead_letter(failure)])
        return FailOutcome.DEAD if result.written else FailOutcome.LOST

    async def release(self, work_ids: Iterable[int] | None = None) -> int:
        async with self._writer:
            now = self.clock()
            async with write_tx_async(self.conn):
                if work_ids is None:
                    cur = await self.conn.execute(
                        query("release_owner"), {"owner": self.owner, "now": now}
                    )
                    await self.conn.execute(
                        query("release_dead"),
                        {"owner": self.owner, "now": now, "stale_s": STALE_HEARTBEAT_S},
                    )
                    return int(cur.rowcount)
                released = 0
                for work_id in work_ids:
                    cur = await self.conn.execute(
                        query("release"), {"id": work_id, "owner": self.owner, "now": now}
                    )
                    released += cur.rowcount
                return released

    # -- queue depth and progress ------------------------------------------------------------

    async def counts(self) -> dict[Status, int]:
        """From the running totals the triggers keep (no table scan)."""
        async with self._writer:
            cur = await self.conn.execute(query("running_counts"))
            found = {Status(s): int(c) for s, c in await cur.fetchall()}
        return {s: found.get(s, 0) for s in Status}

    async def leased_by_others(self) -> tuple[int, float | None]:
        async with self._writer:
            cur = await self.conn.execute(query("leased_by_others"), {"owner": self.owner})
            row = await cur.fetchone()
        if row is None or not row[0]:
            return 0, None
        return int(row[0]), float(row[1])

    async def workload(self, model: str) -> Workload:
        async with self._writer:
            cur = await self.conn.execute(query("pending_workload"))
            pending = await cur.fetchone()
            used = None
            for which in (model, None):
                cur = await self.conn.execute(query("answered_usage"), {"model": which})
                used = await cur.fetchone()
                if used is not None and used[0]:
                    break
        assert pending is not None and used is not None
        return Workload(int(pending[0]), int(pending[1]), *(int(x) for x in used))

    # -- runs --------------------------------------------------------------------------------

    async def start_run(
        self,
        identity: RunIdentity,
        config: dict[str, Any],
        *,
        reopen: bool,
        join: bool = False,
    ) -> Run:
        async with self._writer:
            now = self.clock()
            async with write_tx_async(self.conn):
                latest = await self._latest_run()
                if (
                    latest is not None
                    and identity.matches(latest)
                    and (join or not reopen or await self._run_result_count(latest.id) == 0)
                ):
                    return latest
                cur = await self.conn.execute(
                    query("insert_run"),
                    {
                        "now": now,
                        "model_id": identity.model_id,
                        "api": identity.api,
                        "contract_version": identity.contract_version,
                        "rules": identity.rules,
                        "backend": identity.backend,
                        "config_json": orjson.dumps(config, option=orjson.OPT_SORT_KEYS).decode(),
                    },
                )
                row = await cur.fetchone()
                if reopen:
                    await self.conn.execute(query("reopen_for_run"), {"now": now})
            assert row is not None
            run = await self._run(int(row[0]))
        assert run is not None
        return run

    async def latest_run(self) -> Run | None:
        async with self._writer:
            return await self._latest_run()

    async def _latest_run(self) -> Run | None:
        cur = await self.conn.execute(query("latest_run"))
        row = await cur.fetchone()
        return Run(*row) if row else None

    async def run(self, run_id: int) -> Run | None:
        async with self._writer:
            return await self._run(run_id)

    async def _run(self, run_id: int) -> Run | None:
        cur = await self.conn.execute(query("run_by_id"), {"id": run_id})
        row = await cur.fetchone()
        return Run(*row) if row else None

    async def run_result_count(self, run_id: int) -> int:
        async with self._writer:
            return await self._run_result_count(run_id)

    async def _run_result_count(self, run_id: int) -> int:
        cur = await self.conn.execute(query("run_result_count"), {"run_id": run_id})
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    # -- the fleet ---------------------------------------------------------------------------

    async def register_worker(self, run_id: int, concurrency: int) -> None:
        async with self._writer:
            params = {
                "id": self.owner,
                "run_id": run_id,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "concurrency": concurrency,
                "now": self.clock(),
            }
            async with write_tx_async(self.conn):
                await self.conn.execute(query("register_worker"), params)

    async def heartbeat(self, ttl: float, spent_usd: float | None = None) -> Fleet:
        async with self._writer:
            now = self.clock()
            async with write_tx_async(self.conn):
                await self.conn.execute(
                    query("heartbeat"), {"id": self.owner, "now": now, "spent": spent_usd}
                )
                cur = await self.conn.execute(query("live_workers"), {"since": now - ttl})
                row = await cur.fetchone()
        assert row is not None
        return Fleet(live_workers=max(int(row[0]), 1), total_concurrency=int(row[1]))

    async def stop_worker(self, spent_usd: float | None = None) -> None:
        async with self._writer:
            params = {"id": self.owner, "now": self.clock(), "spent": spent_usd}
            async with write_tx_async(self.conn):
                await self.conn.execute(query("stop_worker"), params)

    async def run_cost(self, run_id: int) -> float:
        """Calls whose results were never written (a crash, a lost lease) count too."""
        async with self._writer:
            cur = await self.conn.execute(query("run_cost"), {"run_id": run_id})
            row = await cur.fetchone()
        return float(row[0]) if row else 0.0


def _storable(c: Completion) -> Completion:
    why = unstorable_reason(c)
    return c if why is None else as_unparseable(c, why)


def _error_text(c: Completion) -> str:
    return f"{c.error_code}: {c.error_message}" if c.error_message else str(c.error_code)


def _result_params(c: Completion, owner: str, now: float) -> dict[str, Any]:
    return {
        "work_id": c.work_id,
        "run_id": c.run_id,
        "worker_id": owner,
        "model_id": c.model_id,
        "raw_text": c.raw_text,
        "stop_reason": c.stop_reason,
        "input_tokens": c.input_tokens,
        "output_tokens": c.output_tokens,
        "cost_usd": c.cost_usd,
        "latency_ms": c.latency_ms,
        "attempts": c.attempts,
        "error_code": c.error_code,
        "error_message": c.error_message,
        "now": now,
        "cache_read_tokens": c.cache_read_tokens,
        "cache_write_tokens": c.cache_write_tokens,
    }


def verdict_params(
    result_id: int, v: VerdictRow, now: float, prompt: str | None = None
) -> dict[str, Any]:
    """The ``upsert_verdict`` parameters; with the ``prompt``, the texts point into it."""
    return {
        "result_id": result_id,
        "profile": v.profile,
        "contract_version": v.contract_version,
        "outcome": v.outcome,
        "reason": v.reason,
        "tier_label": v.tier_label,
        "validation_passed": int(v.validation_passed),
        "parallelizable": v.parallelizable,
        "category": v.category,
        "is_novel_category": v.is_novel_category,
        "category_description": v.category_description,
        **compact(prompt, v.serial, v.template, v.context),
        "data_json": None if v.data is None else orjson.dumps(list(v.data)).decode(),
        "n": v.n,
        "repairs_json": orjson.dumps(list(v.repairs)).decode() if v.repairs else None,
        "now": now,
    }


def dead_letter(f: Failure) -> Completion:
    """The result row of a prompt whose transport kept failing."""
    verdict = VerdictRow(
        profile=f.profile,
        contract_version=f.contract_version,
        outcome="dead",
        reason=f.error_code,
        tier_label="dead",
    )
    return Completion(
        work_id=f.work_id,
        run_id=f.run_id,
        model_id=f.model_id,
        verdict=verdict,
        attempts=f.attempts,
        input_tokens=f.input_tokens,
        output_tokens=f.output_tokens,
        cost_usd=f.cost_usd,
        error_code=f.error_code,
        error_message=f.message,
    )


def is_locked_error(exc: BaseException) -> bool:
    """Another process held the write lock for longer than the busy timeout."""
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


_SQLITE_FULL, _SQLITE_IOERR = 13, 10


def is_storage_error(exc: BaseException) -> bool:
    """The database cannot be written for now: the disk is full (SQLITE_FULL, ENOSPC) or
    failing (SQLITE_IOERR). Nothing in the rows is wrong; the write may succeed later."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in (_SQLITE_FULL, _SQLITE_IOERR):
            return True
        return "disk is full" in str(exc) or "disk I/O error" in str(exc)
    return isinstance(exc, OSError) and exc.errno == errno.ENOSPC


if TYPE_CHECKING:  # mypy checks that this is a queue port (and a bulk writer)
    from parallelprompt.db.port import BulkWriter, Queue

    def _is_a_queue(queue: SqliteQueue, writer: SqliteBulkWriter) -> tuple[Queue, BulkWriter]:
        return queue, writer
