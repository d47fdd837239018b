"""A JSONL or CSV export written in place by several processes (``results.export``).

The ids an export walks (source rows, or results per prompt) are cut into chunks of
consecutive ids. With ``jobs`` processes, process ``j`` (this one is 0) reads and encodes
chunks ``j``, ``j + jobs``, ... each into memory, then writes it straight into the output file
at its offset (``os.pwrite``). A chunk's offset is where the chunk before it ended: each
process passes that to the next one through a pipe, in a ring, and encodes its next chunk
while the others write. No part files and no copies: every byte is written once, where it
belongs, and the file is the same bytes as one process would write.

Each process reads its own snapshot. The chunks are bounded by the ids present when the export
began, so rows added while it runs are left out, as from one snapshot; a verdict rewritten
meanwhile (``revalidate``) can show its new values in a later chunk.

A process that fails stops the others: its exception is raised here, and the output file is
left as far as it was written.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from parallelprompt.db.connection import database_file
from parallelprompt.db.readside import snapshot
from parallelprompt.results.export_parts import ALL_IDS, Span

#: Ids per chunk. A chunk's bytes (about 1.7 KB a row at a mean prompt of 470 characters)
#: stay below glibc's largest mmap threshold (32 MiB), so each chunk reuses the heap that the
#: last one freed instead of faulting in fresh pages: at 20,000 ids a 1M-row JSONL export
#: spent 1.9 s more in the kernel.
CHUNK_IDS = 5_000
#: How often a process waiting for its offset checks that the others are still working.
POLL_S = 0.05

#: (connection, per, query parameters, span, whether it is the first chunk) -> (its bytes, in
#: order, as one or several buffers, and its rows).
Encoder = Callable[
    [sqlite3.Connection, str, Mapping[str, Any], Span, bool],
    tuple[Sequence[bytes | memoryview], int],
]
#: Buffers per ``os.pwritev`` call (the system's limit, IOV_MAX).
IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024


class Stopped(Exception):
    """Another process of the export failed: this one stops without writing more."""


def chunks(low: int | None, high: int | None, size: int) -> list[Span]:
    """Consecutive spans of ``size`` ids covering ``[low, high]``, the first open below; the
    whole range as one span when there is nothing to walk."""
    if low is None or high is None:
        return [ALL_IDS]
    cuts = list(range(low + size, high + 1, size))
    firsts = [ALL_IDS[0], *cuts]
    lasts = [c - 1 for c in cuts] + [high]
    return list(zip(firsts, lasts, strict=True))


def write_in_place(
    out: Path,
    conn: sqlite3.Connection,
    encode: Encoder,
    per: str,
    params: Mapping[str, Any],
    spans: Sequence[Span],
    jobs: int,
) -> int:
    """Write every span's bytes into ``out`` (created or truncated), in order; returns the
    rows. This process encodes its chunks on ``conn`` (in the caller's snapshot); with
    ``jobs`` > 1 the other chunks are encoded by forked processes, each on its own connection
    to the same database."""
    with open(out, "wb"):
        pass  # created empty: every process writes into it at its offsets
    db_file = database_file(conn)
    jobs = max(1, min(jobs, len(spans)))
    if jobs == 1 or db_file is None:  # an in-memory database is this process's alone
        return _write_chunks(0, 1, out, conn, encode, per, params, spans, None, None)
    context = multiprocessing.get_context("fork")
    # ring[k]: from the process of chunk k (mod jobs) to the process of chunk k + 1
    ring = [context.Pipe(duplex=False) for _ in range(jobs)]
    reports = [context.Pipe(duplex=False) for _ in range(jobs)]
    stop = context.Event()
    children = [
        context.Process(
            target=_child,
            args=(j, jobs, out, db_file, encode, per, params, spans, ring, reports[j][1], stop),
            daemon=True,
        )
        for j in range(1, jobs)
    ]
    for child in children:
        child.start()
    try:
        rows = _write_chunks(
            0, jobs, out, conn, encode, per, params, spans, ring, stop, _watch(children)
        )
        for j, child in enumerate(children, start=1):
            rows += _result(reports[j][0], child)
        return rows
    except BaseException as exc:
        stop.set()
        for j, child in enumerate(children, start=1):
            failure = _failure(reports[j][0], child)
            if isinstance(exc, Stopped) and failure is not None:
                raise failure from None  # the child's error is the one that counts
        raise
    finally:
        stop.set()
        for child in children:
            child.join(timeout=5)
            if child.is_alive():  # pragma: no cover - a child stuck in a system call
                child.kill()
                child.join()


def _watch(children: Sequence[multiprocessing.process.BaseProcess]) -> Callable[[], bool]:
    """Whether every child is still running or finished cleanly."""
    return lambda: all(c.exitcode in (None, 0) for c in children)


def _child(
    j: int,
    jobs: int,
    out: Path,
    db_file: str,
    encode: Encoder,
    per: str,
    params: Mapping[str, Any],
    spans: Sequence[Span],
    ring: Sequence[tuple[Connection, Connection]],
    report: Connection,
    stop: Event,
) -> None:
    """A forked process's chunks; reports ``("ok", rows)`` or ``("error", exception)``."""
    try:
        conn = sqlite3.connect(db_file)
        try:
            with snapshot(conn):
                rows = _write_chunks(j, jobs, out, conn, encode, per, params, spans, ring, stop)
        finally:
            conn.close()
        report.send(("ok", rows))
    except Stopped:
        report.send(("stopped", None))
    except BaseException as exc:  # reported to the parent, which raises it
        stop.set()
        try:
            report.send(("error", exc))
        except Exception:  # an exception that does not pickle: its text
            report.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


def _write_chunks(
    j: int,
    jobs: int,
    out: Path,
    conn: sqlite3.Connection,
    encode: Encoder,
    per: str,
    params: Mapping[str, Any],
    spans: Sequence[Span],
    ring: Sequence[tuple[Connection, Connection]] | None,
    stop: Event | None,
    others_ok: Callable[[], bool] = lambda: True,
) -> int:
    """Chunks ``j``, ``j + jobs``, ... encoded and written at their offsets; returns rows."""
    rows, offset = 0, 0
    fd = os.open(out, os.O_WRONLY)
    try:
        for k in range(j, len(spans), jobs):
            data, n = encode(conn, per, params, spans[k], k == 0)
            if ring is not None and k > 0:
                offset = _receive(ring[(k - 1) % jobs][0], stop, others_ok)
            offset += _pwrite_all(fd, data, offset)
            rows += n
            if ring is not None and k + 1 < len(spans):
                ring[k % jobs][1].send(offset)
    finally:
        os.close(fd)
    return rows


def _receive(source: Connection, stop: Event | None, others_ok: Callable[[], bool]) -> int:
    """The offset where this process's next chunk starts, once the chunk before is written."""
    while not source.poll(POLL_S):
        if (stop is not None and stop.is_set()) or not others_ok():
            raise Stopped
    offset: int = source.recv()
    return offset


def _pwrite_all(fd: int, buffers: Sequence[bytes | memoryview], offset: int) -> int:
    """Write the buffers one after the other from ``offset`` (``os.pwritev``, no joined copy);
    returns the bytes written."""
    views: list[bytes | memoryview] = [b for b in buffers if b]
    start, first = offset, 0
    while first < len(views):
        written = os.pwritev(fd, views[first : first + IOV_MAX], offset)
        offset += written
        while written:  # drop what was written: whole buffers, then the start of one
            size = len(views[first])
            if written < size:
                views[first] = memoryview(views[first])[written:]
                break
            written -= size
            first += 1
    return offset - start


def _result(report: Connection, child: multiprocessing.process.BaseProcess) -> int:
    child.join()
    if not report.poll():
        raise RuntimeError(f"export process {child.name} ended with code {child.exitcode}")
    status, value = report.recv()
    if status == "error":
        raise value
    if status != "ok":
        raise RuntimeError(f"export process {child.name} stopped")
    rows: int = value
    return rows


def _failure(
    report: Connection, child: multiprocessing.process.BaseProcess
) -> BaseException | None:
    """The exception a child reported, if it failed on its own."""
    child.join(timeout=5)
    if report.poll():
        status, value = report.recv()
        if status == "error" and isinstance(value, BaseException):
            return value
        return None
    if child.exitcode not in (None, 0):
        return RuntimeError(f"export process {child.name} ended with code {child.exitcode}")
    return None
