"""Read-only looks at a database that other processes are writing (benchmarks, probes).

Each opens its own short read-only connection: it never takes the write lock and never
migrates, so it can watch a fleet at work without slowing it down.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from parallelprompt.db.sql import query

#: How long a look waits for a connection (seconds).
TIMEOUT_S = 30.0


def _count(db: Path | str, name: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=TIMEOUT_S)
    try:
        row = conn.execute(query(name)).fetchone()
        return int(row[0])
    finally:
        conn.close()


def result_count(db: Path | str) -> int:
    """Results written so far, by every run."""
    return _count(db, "result_count")


def running_workers(db: Path | str) -> int:
    """Workers registered and not stopped (0 before the first worker created the tables)."""
    try:
        return _count(db, "running_workers")
    except sqlite3.OperationalError:  # not created yet
        return 0
