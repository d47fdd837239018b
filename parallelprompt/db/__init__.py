"""The work table, its lease protocol, results, statistics and exports (SQLite)."""

from parallelprompt.db.connection import DatabaseError, connect, connect_sync
from parallelprompt.db.errors import NoSuchRun, QueryError
from parallelprompt.db.models import (
    FLAG_OVERSIZED,
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
from parallelprompt.db.port import BulkWriter, Queue
from parallelprompt.db.queue import SqliteQueue, is_locked_error, is_storage_error, new_owner_id

__all__ = [
    "FLAG_OVERSIZED",
    "BulkWriter",
    "CompleteResult",
    "Completion",
    "DatabaseError",
    "EnqueueResult",
    "FailOutcome",
    "Failure",
    "Fleet",
    "Lease",
    "NoSuchRun",
    "QueryError",
    "Queue",
    "Run",
    "RunIdentity",
    "SourceRow",
    "SqliteQueue",
    "StagedRows",
    "Status",
    "VerdictRow",
    "Workload",
    "connect",
    "connect_sync",
    "is_locked_error",
    "is_storage_error",
    "new_owner_id",
]
