"""The queue port: everything workers and producers may do with the work table.

``worker/`` and ``producer/`` are typed against :class:`Queue` and :class:`BulkWriter` only;
the composition (where a queue is opened) names an implementation:

* :class:`db.queue.SqliteQueue` — one SQLite file shared by processes on one host;
* :class:`db.memory.MemoryQueue` — in memory, for unit tests of policy (one process).

Every implementation passes the contract tests of ``tests/db/contract.py``
(``QueueContract``): a PostgreSQL implementation (``FOR UPDATE SKIP LOCKED``) is one more
subclass of that test class.

Semantics every implementation keeps (docs/architecture.md, "The work table and its lease
protocol"): a prompt is ``ready → leased → done | dead``; every write of a lease is guarded
by its owner, so a worker that lost its lease writes nothing (exactly-once into results);
one operation is atomic with respect to every other operation on the same queue, from any
task or process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from parallelprompt.db.lease import STALE_HEARTBEAT_S
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


class BulkWriter(Protocol):
    """A producer's synchronous writer for a bulk ingest, used from one thread (the one that
    opened it with :meth:`Queue.bulk_writer`). Writes go into a transaction that the first
    call opens and :meth:`commit` ends; :meth:`close` rolls back what is not committed."""

    def recorded(self, source: str, split: str, first: int, last: int) -> dict[int, bytes]:
        """The prompts (text hashes) already recorded for ``source``/``split`` row indices
        ``first..last``, by row index; read inside the writer's transaction."""
        ...

    def enqueue(
        self, rows: StagedRows, *, source: str, split: str, ingest_id: int | None
    ) -> EnqueueResult:
        """Insert unique prompts (dedup on the text hash) and every source row not recorded
        yet; counts exact for this batch."""
        ...

    def commit(self) -> None:
        """Make what was enqueued since the last commit durable and visible (a no-op when
        nothing is pending)."""
        ...

    def close(self) -> None:
        """Roll back what is not committed and release the writer."""
        ...


class Queue(Protocol):
    """The work table as workers and producers see it. ``owner`` names this worker in
    leases, results and the fleet."""

    owner: str

    # -- ingest bookkeeping (producer) -------------------------------------------------------

    async def begin_ingest(self, source: str, split: str, layout: str, inputs: list[str]) -> int:
        """Record a producer invocation; returns its id (sources point to it)."""
        ...

    async def finish_ingest(
        self,
        ingest_id: int,
        *,
        rows_read: int,
        kept: int,
        new_prompts: int,
        new_sources: int,
        skipped: dict[str, int],
    ) -> None: ...

    async def enqueue_many(
        self, rows: Sequence[SourceRow], ingest_id: int | None = None
    ) -> EnqueueResult:
        """Insert unique prompts and every source row in one transaction; re-enqueueing the
        same source rows adds nothing."""
        ...

    def bulk_writer(self) -> BulkWriter:
        """A synchronous writer for a bulk ingest, to be opened and used in one thread."""
        ...

    # -- leases (worker) ---------------------------------------------------------------------

    async def claim(
        self, n: int, lease_seconds: float, *, stale_s: float = STALE_HEARTBEAT_S
    ) -> list[Lease]:
        """Lease up to ``n`` rows, in work id order: ready ones whose backoff has passed,
        expired leases, and the leases of dead workers (stopped, or a heartbeat ``stale_s``
        older than the freshest). Each claim charges an attempt."""
        ...

    async def extend(self, work_ids: Iterable[int], lease_seconds: float) -> set[int]:
        """Push the expiry of our leases forward; returns the ids we still hold."""
        ...

    async def complete_many(self, completions: Sequence[Completion]) -> CompleteResult:
        """Write results and verdicts, marking rows done (or dead), each only while we hold
        its lease; the others are reported lost and nothing of them is kept. A row that
        cannot be stored is kept as its raw answer with outcome ``unparseable``."""
        ...

    async def fail(self, failure: Failure, max_attempts: int) -> FailOutcome:
        """Back to ready after a jittered backoff, or a dead letter when the error is not
        retryable or the attempts are spent."""
        ...

    async def release(self, work_ids: Iterable[int] | None = None) -> int:
        """Give leases back without charging the attempt. ``None``: all of ours, and (their
        attempt left charged) those of dead workers; returns how many of ours."""
        ...

    # -- queue depth and progress ------------------------------------------------------------

    async def counts(self) -> dict[Status, int]:
        """Rows by status (every status present), cheap at any table size."""
        ...

    async def leased_by_others(self) -> tuple[int, float | None]:
        """Rows leased by other workers, and when the last of those leases ends (unix s)."""
        ...

    async def workload(self, model: str) -> Workload:
        """Pending prompts and the usage of answered calls of ``model`` (of any model when
        it has none), for the spending guard's estimate."""
        ...

    # -- runs ----------------------------------------------------------------------------------

    async def latest_run(self) -> Run | None: ...

    async def run(self, run_id: int) -> Run | None: ...

    async def run_result_count(self, run_id: int) -> int: ...

    async def start_run(
        self,
        identity: RunIdentity,
        config: dict[str, Any],
        *,
        reopen: bool,
        join: bool = False,
    ) -> Run:
        """Record a run (``config`` is stored as its JSON); with ``reopen`` every finished
        prompt goes back to ready (old results are kept). Atomic: when the latest run
        :meth:`matches <db.models.RunIdentity.matches>` ``identity`` and is the one to use —
        not ``reopen``, or it has no results yet, or ``join`` — it is returned instead of a
        second one, so workers starting together join one run."""
        ...

    # -- the fleet -----------------------------------------------------------------------------

    async def register_worker(self, run_id: int, concurrency: int) -> None: ...

    async def heartbeat(self, ttl: float, spent_usd: float | None = None) -> Fleet:
        """Record that we are alive (and our spend so far); returns the live fleet
        (heartbeat within ``ttl`` s, at least ourselves)."""
        ...

    async def stop_worker(self, spent_usd: float | None = None) -> None: ...

    async def run_cost(self, run_id: int) -> float:
        """USD spent by a run so far, by every worker as each last recorded it."""
        ...

    async def close(self) -> None: ...
