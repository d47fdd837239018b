"""A JSONL or CSV export written in place by several processes (``results.export``).

The ids an export walks (source rows, or results per prompt) are cut into chunks of
consecutive ids. With ``jobs`` processes, process ``j`` (this one is 0) reads and encodes
chunks ``j``, ``j + jobs``, ... each into memory, then writes it straight into the output file
at its offset. A chunk's offset is where the chunk before it ended: each
process passes that to the next one through a pipe, in a ring, and encodes its next chunk
while the others write. No part files and no copies: every byte is written once, where it
belongs (``os.pwritev``), and the file is the same bytes as one process would write.

Each process reads its own snapshot. The chunks are bounded by the ids present when the export
began, so rows added while it runs are left out, as from one snapshot; a verdict rewritten
meanwhile (``revalidate``) can show its new values in a later chunk.

A process that fails or dies stops the others: each process holds only its own two ends of
the ring, so when one ends, the next one's read meets the end of the pipe and it stops too,
around the ring back to here; this process then reads every child's report (its rows, or the
exception that is raised here) and the output file is left as far as it was written. A process
that dies of a signal, this one included, stops the rest the same way.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from parallelprompt.db.connection import database_file
from parallelprompt.db.readside import snapshot_of
from parallelprompt.results.export_parts import Span

#: Ids per chunk. A chunk's bytes (about 1.7 KB a row at a mean prompt of 470 characters)
#: stay below glibc's largest mmap threshold (32 MiB), so each chunk reuses the heap that the
#: last one freed instead of faulting in fresh pages: at 20,000 ids a 1M-row JSONL export
#: spent 1.9 s more in the kernel.
CHUNK_IDS = 5_000

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
    # ring[k]: (read, write) from the process of chunk k (mod jobs) to that of chunk k + 1
    ring = [context.Pipe(duplex=False) for _ in range(jobs)]
    reports = [context.Pipe(duplex=False) for _ in range(jobs)]  # [0]: unused
    ends = [c for pair in (*ring, *reports) for c in pair]
    children: list[multiprocessing.process.BaseProcess] = []
    outcomes: dict[int, tuple[str, Any]] = {}
    try:
        for j in range(1, jobs):
            args = (j, jobs, out, db_file, encode, per, params, spans, ring, reports)
            children.append(context.Process(target=_child, args=args, daemon=True))
            children[-1].start()
        source, sink = ring[jobs - 1][0], ring[0][1]
        _close_all_but(ends, [source, sink, *(r[0] for r in reports)])
        try:
            rows: int | None = _write_chunks(
                0, jobs, out, conn, encode, per, params, spans, source, sink
            )
        except Stopped:
            rows = None  # a child failed or died: its report says which
        finally:
            source.close()
            sink.close()  # the children waiting for an offset stop
        for j, child in enumerate(children, start=1):
            outcomes[j] = _report(reports[j][0], child)
        for status, value in outcomes.values():
            if status == "error":
                raise value
        counts: list[int] = [value for status, value in outcomes.values() if status == "ok"]
        if rows is None or len(counts) < len(children):  # pragma: no cover - no one failed
            raise RuntimeError("an export process stopped without a reason")
        return rows + sum(counts)
    finally:
        _close_all_but(ends, [r[0] for r in reports])
        for j, child in enumerate(children, start=1):
            if j not in outcomes:  # this process failed: let each child send its report
                _report(reports[j][0], child)
            child.join(timeout=5)
            if child.is_alive():  # pragma: no cover - a child stuck in a system call
                child.kill()
                child.join()
        _close_all_but(ends, [])


def _close_all_but(ends: Sequence[Connection], keep: Sequence[Connection]) -> None:
    for end in ends:
        if not any(end is k for k in keep):
            end.close()


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
    reports: Sequence[tuple[Connection, Connection]],
) -> None:
    """A forked process's chunks; reports ``("ok", rows)``, ``("stopped", None)`` or
    ``("error", exception)``."""
    source, sink, report = ring[j - 1][0], ring[j][1], reports[j][1]
    _close_all_but([c for pair in (*ring, *reports) for c in pair], [source, sink, report])
    message: tuple[str, Any]
    try:
        with snapshot_of(db_file) as conn:
            rows = _write_chunks(j, jobs, out, conn, encode, per, params, spans, source, sink)
        message = ("ok", rows)
    except Stopped:
        message = ("stopped", None)
    except BaseException as exc:  # reported to the parent, which raises it
        message = ("error", exc)
    finally:
        source.close()
        sink.close()  # before the report: the next process stops even if this one blocks
    try:
        report.send(message)
    except Exception:  # an exception that does not pickle: its type and text
        failure = message[1]
        report.send(("error", RuntimeError(f"{type(failure).__name__}: {failure}"[:2000])))


def _write_chunks(
    j: int,
    jobs: int,
    out: Path,
    conn: sqlite3.Connection,
    encode: Encoder,
    per: str,
    params: Mapping[str, Any],
    spans: Sequence[Span],
    source: Connection | None,
    sink: Connection | None,
) -> int:
    """Chunks ``j``, ``j + jobs``, ... encoded and written at their offsets (each received on
    ``source`` from the process of the chunk before, and the end passed on ``sink``); returns
    the rows. Stopped when a neighbour is gone."""
    rows, offset = 0, 0
    fd = os.open(out, os.O_WRONLY)
    try:
        for k in range(j, len(spans), jobs):
            data, n = encode(conn, per, params, spans[k], k == 0)
            if source is not None and k > 0:
                offset = _receive(source)
            offset += _pwrite_all(fd, data, offset)
            rows += n
            if sink is not None and k + 1 < len(spans):
                try:
                    sink.send(offset)
                except OSError as exc:  # the next process is gone
                    raise Stopped from exc
    finally:
        os.close(fd)
    return rows


def _receive(source: Connection) -> int:
    """The offset where this process's next chunk starts, once the chunk before is written;
    Stopped when the process that writes it ended without sending it."""
    try:
        offset: int = source.recv()
    except (EOFError, OSError) as exc:
        raise Stopped from exc
    return offset


def _pwrite_all(fd: int, buffers: Sequence[bytes | memoryview], offset: int) -> int:
    """Write the buffers one after the other from ``offset`` (``os.pwritev``, no joined copy);
    returns the bytes written."""
    views: list[bytes | memoryview] = [b for b in buffers if b]
    start, first = offset, 0
    while first < len(views):
        written = os.pwritev(fd, views[first : first + IOV_MAX], offset)
        if written <= 0:  # pragma: no cover - a regular file writes something or raises
            raise OSError(f"pwritev wrote nothing at offset {offset}")
        offset += written
        while written:  # drop what was written: whole buffers, then the start of one
            size = len(views[first])
            if written < size:
                views[first] = memoryview(views[first])[written:]
                break
            written -= size
            first += 1
    return offset - start


def _report(report: Connection, child: multiprocessing.process.BaseProcess) -> tuple[str, Any]:
    """What a child reported, read before it is joined (a large report would not fit in the
    pipe); a child that ended without one died: its exit code."""
    try:
        status, value = report.recv()
    except (EOFError, OSError):
        child.join()
        return "error", RuntimeError(
            f"export process {child.name} ended with code {child.exitcode}"
        )
    return status, value
