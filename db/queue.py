"""The queue port and its SQLite implementation.

Workers and producers talk to the work table only through :class:`Queue`; the SQL lives in
``queries.sql``. A PostgreSQL implementation (``FOR UPDATE SKIP LOCKED``) would implement the
same protocol without the worker noticing.

Delivery is at-least-once to the model (a lease that expires mid-call is reclaimed and the
prompt is sent again) and exactly-once into ``results``: every write is guarded by the lease
owner, so a worker that lost its lease writes nothing.
"""

from __future__ import annotations

import errno
import os
import random
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import orjson

from db.connection import BUSY_TIMEOUT_MS, connect, write_tx_async
from db.lease import STALE_HEARTBEAT_S, backoff_delay, out_of_attempts
from db.models import (
    CompleteResult,
    Completion,
    EnqueueResult,
    FailOutcome,
    Failure,
    Fleet,
    Lease,
    Run,
    SourceRow,
    Status,
    VerdictRow,
)
from db.sql import query
from db.storable import as_unparseable, unstorable_reason
from db.texts import compact

Clock = Callable[[], float]

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


class Queue(Protocol):
    """What workers and producers may do with the work table."""

    owner: str

    async def enqueue_many(
        self, rows: Sequence[SourceRow], ingest_id: int | None = None
    ) -> EnqueueResult: ...
    async def claim(
        self, n: int, lease_seconds: float, *, stale_s: float = STALE_HEARTBEAT_S
    ) -> list[Lease]: ...
    async def extend(self, work_ids: Iterable[int], lease_seconds: float) -> set[int]: ...
    async def complete_many(self, completions: Sequence[Completion]) -> CompleteResult: ...
    async def fail(self, failure: Failure, max_attempts: int) -> FailOutcome: ...
    async def release(self, work_ids: Iterable[int] | None = None) -> int: ...
    async def counts(self) -> dict[Status, int]: ...
    async def close(self) -> None: ...


def new_owner_id() -> str:
    """host:pid:random — unique per worker process, readable in ``sqlite3``."""
    return f"{socket.gethostname()}:{os.getpid()}:{random.getrandbits(32):08x}"


#: One kept source row as staged for :func:`enqueue_staged`: text_hash, prompt, chars, flags,
#: row_index, conversation_id, language, model, toxic, redacted (source and split are per batch).
StagedRow = tuple[
    bytes, str, int, int, int, str | None, str | None, str | None, bool | None, bool | None
]


def enqueue_staged(
    conn: sqlite3.Connection,
    rows: Sequence[StagedRow],
    *,
    source: str,
    split: str,
    ingest_id: int | None,
    now: float,
) -> EnqueueResult:
    """:meth:`SqliteQueue.enqueue_many` for a producer's own synchronous connection (see
    :func:`db.connection.connect_bulk`), rows already staged as tuples, one source and split.

    Runs inside the caller's ``BEGIN IMMEDIATE`` transaction (the producer puts several
    batches in one: fewer commits, each rewriting the dedup index's dirty pages once). The
    counts are exact for this batch, within that transaction."""
    if not rows:
        return EnqueueResult(0, 0, 0)
    if not conn.in_transaction:
        raise RuntimeError("enqueue_staged runs inside the caller's BEGIN IMMEDIATE transaction")
    conn.execute(query("create_stage"))
    conn.executemany(query("stage_row"), rows)
    # rowcount, not total_changes: the latter also counts the work_counts triggers' updates
    new_prompts = conn.execute(query("enqueue_work"), {"now": now}).rowcount
    if new_prompts:
        conn.execute(query("count_enqueued"), {"n": new_prompts})
    new_sources = conn.execute(
        query("enqueue_sources"), {"source": source, "split": split, "ingest_id": ingest_id}
    ).rowcount
    conn.execute(query("clear_stage"))
    return EnqueueResult(rows=len(rows), new_prompts=new_prompts, new_sources=new_sources)


class SqliteQueue:
    """The work table in one SQLite file, through this process's single writer connection."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        owner: str,
        *,
        clock: Clock = time.time,
        backoff_base: float = 2.0,
        backoff_cap: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self.conn = conn
        self.owner = owner
        self.clock = clock
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rng = rng or random.Random()

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
        return cls(conn, owner or new_owner_id(), **kw)

    async def close(self) -> None:
        await self.conn.close()

    # -- producer side ---------------------------------------------------------------------

    async def enqueue_many(
        self, rows: Sequence[SourceRow], ingest_id: int | None = None
    ) -> EnqueueResult:
        """Insert unique prompts (dedup on the text hash) and every source row, in one
        transaction. Re-enqueueing the same source rows adds nothing."""
        if not rows:
            return EnqueueResult(0, 0, 0)
        now = self.clock()
        # Runs of consecutive rows with one source and split (bound once per statement), in
        # the given order, so work ids follow the rows' order as with one statement.
        runs: list[tuple[str, str, list[StagedRow]]] = []
        for r in rows:
            if not runs or runs[-1][0] != r.source or runs[-1][1] != r.split:
                runs.append((r.source, r.split, []))
            runs[-1][2].append(
                (
                    r.text_hash,
                    r.prompt,
                    len(r.prompt),
                    r.flags,
                    r.row_index,
                    r.conversation_id,
                    r.language,
                    r.model,
                    r.toxic,
                    r.redacted,
                )
            )
        await self.conn.execute(query("create_stage"))
        new_prompts = new_sources = 0
        async with write_tx_async(self.conn):
            for source, split, staged in runs:
                await self.conn.executemany(query("stage_row"), staged)
                # rowcount: total_changes would count the work_counts triggers' updates too
                cur = await self.conn.execute(query("enqueue_work"), {"now": now})
                if cur.rowcount:
                    await self.conn.execute(query("count_enqueued"), {"n": cur.rowcount})
                new_prompts += cur.rowcount
                cur = await self.conn.execute(
                    query("enqueue_sources"),
                    {"source": source, "split": split, "ingest_id": ingest_id},
                )
                new_sources += cur.rowcount
                await self.conn.execute(query("clear_stage"))
        return EnqueueResult(rows=len(rows), new_prompts=new_prompts, new_sources=new_sources)

    async def begin_ingest(self, source: str, split: str, layout: str, inputs: list[str]) -> int:
        async with write_tx_async(self.conn):
            cur = await self.conn.execute(
                query("begin_ingest"),
                {
                    "source": source,
                    "split": split,
                    "layout": layout,
                    "inputs": orjson.dumps(inputs).decode(),
                    "now": self.clock(),
                },
            )
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
        async with write_tx_async(self.conn):
            await self.conn.execute(
                query("finish_ingest"),
                {
                    "id": ingest_id,
                    "now": self.clock(),
                    "rows_read": rows_read,
                    "kept": kept,
                    "new_prompts": new_prompts,
                    "new_sources": new_sources,
                    "skipped_json": orjson.dumps(skipped, option=orjson.OPT_SORT_KEYS).decode(),
                },
            )

    # -- worker side -----------------------------------------------------------------------

    async def claim(
        self, n: int, lease_seconds: float, *, stale_s: float = STALE_HEARTBEAT_S
    ) -> list[Lease]:
        """Lease up to ``n`` rows: ready ones whose backoff has passed, expired leases, and the
        leases of workers that died (no heartbeat for ``stale_s`` seconds before the freshest
        one, or stopped). One UPDATE ... RETURNING inside BEGIN IMMEDIATE."""
        if n <= 0:
            return []
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
        """Push the expiry of our leases forward; returns the ids we still hold."""
        ids = list(work_ids)
        if not ids:
            return set()
        now = self.clock()
        held = set()
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
        """Write results and mark their rows done (or dead) in one transaction, each only if
        we still hold its lease; the others are reported as lost and nothing of them is kept."""
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
        """Back to the ready set after a jittered backoff, or a dead letter when the error is
        not retryable or the attempts are spent."""
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
        result = await self.complete_many([dead_letter(failure)])
        return FailOutcome.DEAD if result.written else FailOutcome.LOST

    async def release(self, work_ids: Iterable[int] | None = None) -> int:
        """Give leases back without charging the attempt (shutdown). ``None``: all of ours, and
        (their attempt left charged) those of dead workers, which nobody else may be left to
        reclaim; returns how many of ours."""
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

    async def counts(self) -> dict[Status, int]:
        """Rows by status, from the running totals the triggers keep (no table scan)."""
        cur = await self.conn.execute(query("running_counts"))
        found = {Status(s): int(c) for s, c in await cur.fetchall()}
        return {s: found.get(s, 0) for s in Status}

    async def leased_by_others(self) -> tuple[int, float | None]:
        """Rows leased by other workers, and when the last of those leases ends (unix s)."""
        cur = await self.conn.execute(query("leased_by_others"), {"owner": self.owner})
        row = await cur.fetchone()
        if row is None or not row[0]:
            return 0, None
        return int(row[0]), float(row[1])

    # -- runs and the fleet -----------------------------------------------------------------

    async def start_run(
        self,
        *,
        model_id: str,
        api: str,
        contract_version: str,
        rules: str,
        backend: str,
        config: dict[str, Any],
        reopen: bool,
        join: bool = False,
    ) -> Run:
        """Record a run; with ``reopen`` every finished prompt goes back to the ready set so
        that the new configuration classifies them all again (old results are kept).

        Atomic across processes: when the latest run already has this identity (model, API,
        contract version, rules, backend) and it is the one to use — we do not reopen, or it
        has no results yet — it is returned instead of a second one. Several workers starting
        together (with or without ``--new-run``) thus join one run rather than each creating
        their own. With ``join`` (an automatic new run, e.g. after a rehearsal) the latest run
        of this identity is joined whatever it already holds.

        The identity includes the endpoint recorded as ``config["endpoint"]``.
        """
        now = self.clock()
        endpoint = config.get("endpoint")
        identity = (model_id, api, contract_version, rules, backend, endpoint or "")
        async with write_tx_async(self.conn):
            latest = await self.latest_run()
            if (
                latest is not None
                and _identity(latest) == identity
                and (join or not reopen or await self.run_result_count(latest.id) == 0)
            ):
                return latest
            cur = await self.conn.execute(
                query("insert_run"),
                {
                    "now": now,
                    "model_id": model_id,
                    "api": api,
                    "contract_version": contract_version,
                    "rules": rules,
                    "backend": backend,
                    "config_json": orjson.dumps(config, option=orjson.OPT_SORT_KEYS).decode(),
                },
            )
            row = await cur.fetchone()
            if reopen:
                await self.conn.execute(query("reopen_for_run"), {"now": now})
        assert row is not None
        run = await self.run(int(row[0]))
        assert run is not None
        return run

    async def latest_run(self) -> Run | None:
        cur = await self.conn.execute(query("latest_run"))
        row = await cur.fetchone()
        return Run(*row) if row else None

    async def run(self, run_id: int) -> Run | None:
        cur = await self.conn.execute(query("run_by_id"), {"id": run_id})
        row = await cur.fetchone()
        return Run(*row) if row else None

    async def run_result_count(self, run_id: int) -> int:
        cur = await self.conn.execute(query("run_result_count"), {"run_id": run_id})
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def register_worker(self, run_id: int, concurrency: int) -> None:
        async with write_tx_async(self.conn):
            await self.conn.execute(
                query("register_worker"),
                {
                    "id": self.owner,
                    "run_id": run_id,
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "concurrency": concurrency,
                    "now": self.clock(),
                },
            )

    async def heartbeat(self, ttl: float, spent_usd: float | None = None) -> Fleet:
        """Record that we are alive (and what we have spent on model calls so far, paid or
        not yet written); returns the live fleet (heartbeat within ``ttl`` s)."""
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
        async with write_tx_async(self.conn):
            await self.conn.execute(
                query("stop_worker"), {"id": self.owner, "now": self.clock(), "spent": spent_usd}
            )

    # -- added by worker/ (issue 5) ----------------------------------------------------------

    async def run_cost(self, run_id: int) -> float:
        """USD spent by a run so far, by every worker, as each last recorded it (heartbeat):
        calls whose results were never written (a crash, a lost lease) count too."""
        cur = await self.conn.execute(query("run_cost"), {"run_id": run_id})
        row = await cur.fetchone()
        return float(row[0]) if row else 0.0


def _storable(c: Completion) -> Completion:
    why = unstorable_reason(c)
    return c if why is None else as_unparseable(c, why)


def _identity(run: Run) -> tuple[str, str, str, str, str, str]:
    return (run.model_id, run.api, run.contract_version, run.rules, run.backend, run.endpoint)


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
