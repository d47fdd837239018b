"""Opening a database: pragmas, migrations, and the one writer connection per process.

SQLite is used the way several processes on one host can share it safely: WAL journal,
``synchronous=NORMAL`` (durable at checkpoints, never corrupt), a long ``busy_timeout`` so that
writers queue instead of failing, autocommit mode (``isolation_level=None``) and an explicit
``BEGIN IMMEDIATE`` for every write, so a writer takes the lock before it reads anything it
will change and never has to upgrade a read lock (which fails with SQLITE_BUSY at once,
whatever the timeout). No network call ever happens inside a transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiosqlite

from parallelprompt.common.errors import ParallelPromptError
from parallelprompt.db.sql import migrations

BUSY_TIMEOUT_MS = 60_000
CACHE_KIB = 131_072  # page cache per connection: keeps the dedup index's hot pages in memory
SCHEMA_VERSION = len(migrations())


class DatabaseError(ParallelPromptError, RuntimeError):
    """The database cannot be used (newer schema, not a database, unwritable)."""


def _configure(conn: sqlite3.Connection, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise DatabaseError(f"could not switch the database to WAL mode (got {mode!r})")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations this database has not seen; returns the schema version.

    The check and the migrations run under one ``BEGIN IMMEDIATE`` so that several processes
    opening a fresh file at once apply each migration exactly once.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        if current > SCHEMA_VERSION:
            raise DatabaseError(
                f"this database has schema version {current}, newer than this parallelprompt "
                f"understands ({SCHEMA_VERSION}); upgrade parallelprompt"
            )
        for version, _name, script in migrations():
            if version > current:
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf)
            buf = ""
    if buf.strip() and not all(ln.strip().startswith("--") for ln in buf.splitlines()):
        out.append(buf)
    return out


def connect_sync(
    path: Path | str,
    *,
    existing: bool = False,
    readonly: bool = False,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
) -> sqlite3.Connection:
    """A configured, migrated synchronous connection (CLI reports, tests, producers).

    ``existing``: the database must already exist (the read commands: a mistyped ``--db``
    is an error, not a new empty database). ``readonly``: an existing database opened
    read-only, not migrated. ``busy_timeout_ms``: how long opening (and migrating) waits for
    another process's write lock before it fails with "database is locked".
    """
    path = Path(path)
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a database file")
    if (existing or readonly) and not path.exists():
        raise DatabaseError(f"no database at {path} (run `parallelprompt ingest` first)")
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return conn
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_ms / 1000)
    except sqlite3.Error as exc:
        raise DatabaseError(access_problem(path) or f"{path}: {exc}") from exc
    try:
        _configure(conn, busy_timeout_ms)
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise DatabaseError(access_problem(path) or f"{path}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def access_problem(path: Path) -> str | None:
    """Why this process cannot write the database, naming the uids and the fix; None when
    the file and its folder (which must hold the -wal and -shm files too) are writable.
    The classic case: a bind mount owned by the host user, not the container's user."""
    folder = path.parent.absolute()
    uid = os.getuid()
    for target in (folder, path):
        if target.exists() and not os.access(target, os.W_OK):
            owner = target.stat().st_uid
            return (
                f"cannot write {target}: it belongs to uid {owner}, this process runs as uid "
                f"{uid}; make it writable for uid {uid} (on the host: sudo chown -R {uid} "
                f"{folder}, the image's user is uid 10001) or use a named volume"
            )
    return None


async def connect(path: Path | str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> aiosqlite.Connection:
    """The process's async writer connection: configured and migrated. A write that waits
    longer than ``busy_timeout_ms`` for another process's lock fails with "database is
    locked" (the worker then says it is waiting, and waits again). Opening waits for the lock
    the same way, in a thread, so the event loop (and its signal handlers) keep running."""

    def prepare() -> None:  # configure + migrate once, synchronously
        connect_sync(path, busy_timeout_ms=busy_timeout_ms).close()

    await asyncio.to_thread(prepare)
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=busy_timeout_ms / 1000)
    await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    await conn.execute("PRAGMA synchronous = NORMAL")
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return conn


#: WAL pages a bulk writer lets the log grow to before it checkpoints (4 KiB pages: 1 GiB).
BULK_WAL_PAGES = 262_144


def connect_bulk(path: Path | str) -> sqlite3.Connection:
    """A producer's synchronous writer connection for a bulk ingest (one single writer).

    Every commit appends the pages it changed to the WAL. An ingest inserts into the random
    ``text_hash`` index, so each transaction dirties pages all over that index; with the
    default ``wal_autocheckpoint`` (1000 pages) nearly every commit is followed by a
    checkpoint that copies those pages into the database file again, roughly doubling what an
    ingest writes. This connection only checkpoints once the log reaches
    :data:`BULK_WAL_PAGES` (so the WAL stays bounded on disk), and the producer runs one
    passive checkpoint at the end (:func:`checkpoint`). The setting is per connection: other
    processes' connections keep the default.

    Foreign keys are not checked on this connection: the bulk insert takes every
    ``sources.work_id`` from a join with ``work`` and its ``ingest_id`` from the ingest it just
    recorded, so the per-row lookups (~10 % of an ingest's insert time) could never fail.
    """
    conn = connect_sync(path)
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute(f"PRAGMA wal_autocheckpoint = {BULK_WAL_PAGES}")
    conn.execute("PRAGMA foreign_keys = OFF")
    return conn


def database_file(conn: sqlite3.Connection) -> str | None:
    """The file of the connection's main database (for another process to open); None in
    memory."""
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return str(file) or None
    return None


def checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the database file as far as no reader needs it; never waits for
    readers (a worker reading keeps its snapshot; its own commits checkpoint the rest)."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


@contextlib.contextmanager
def write_tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on any error)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextlib.asynccontextmanager
async def write_tx_async(conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` on the async connection, safe under cancellation.

    Cancelling an ``await`` on aiosqlite does not stop the statement: its thread still runs
    it. A task cancelled while ``BEGIN IMMEDIATE`` waits for another process's write lock
    would otherwise leave the connection inside a transaction ("cannot start a transaction
    within a transaction" on the next write, and the lock held until exit). aiosqlite runs
    statements in order, so a ROLLBACK queued behind the late BEGIN always undoes it.
    """
    try:
        await conn.execute("BEGIN IMMEDIATE")
    except asyncio.CancelledError:
        with contextlib.suppress(sqlite3.OperationalError):
            await asyncio.shield(conn.execute("ROLLBACK"))
        raise
    try:
        yield conn
    except BaseException:
        with contextlib.suppress(sqlite3.OperationalError):
            await asyncio.shield(conn.execute("ROLLBACK"))
        raise
    await asyncio.shield(conn.execute("COMMIT"))
