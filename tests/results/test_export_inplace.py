"""``results.export_inplace``: chunks written in place by several processes, in order, and a
failure in any of them raised here, with no process left waiting."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from parallelprompt.results import export_inplace
from parallelprompt.results.export_inplace import chunks, write_in_place
from parallelprompt.results.export_parts import ALL_IDS, Span


def _db(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "t.db")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, word TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"w{i}" * (i % 7)) for i in range(1, 50)])
    conn.commit()
    return conn


def _lines(
    conn: sqlite3.Connection, per: str, params: Mapping[str, Any], span: Span, first: bool
) -> tuple[list[bytes], int]:
    """Each row as a line, after a header in the first chunk; ``params["fail"]``: the chunk
    whose encoding raises (or, with ``params["exit"]``, whose process exits)."""
    if span[0] == params.get("fail"):
        if params.get("exit"):
            os._exit(3)
        raise LookupError(f"no rows for {span}")
    rows = conn.execute("SELECT id, word FROM t WHERE id BETWEEN ? AND ?", span).fetchall()
    head = [b"id,word\n"] if first else []
    return head + [f"{i},{w}\n".encode() for i, w in rows], len(rows)


def _expected() -> bytes:
    return b"id,word\n" + b"".join(f"{i},{f'w{i}' * (i % 7)}\n".encode() for i in range(1, 50))


@pytest.mark.parametrize("jobs", [1, 2, 3, 5])
def test_every_chunk_lands_at_its_offset(
    jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each line a buffer of its own, three buffers per ``pwritev``."""
    monkeypatch.setattr(export_inplace, "IOV_MAX", 3)
    conn = _db(tmp_path)
    out = tmp_path / "out.csv"
    out.write_bytes(b"x" * 10_000)  # an older, longer file is replaced, not overwritten
    rows = write_in_place(out, conn, _lines, "source", {}, chunks(1, 49, 4), jobs)
    assert rows == 49
    assert out.read_bytes() == _expected()


def test_an_in_memory_database_stays_in_this_process(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, word TEXT)")
    conn.execute("INSERT INTO t VALUES (1, 'a')")
    out = tmp_path / "out.csv"
    assert write_in_place(out, conn, _lines, "source", {}, chunks(1, 1, 1), 4) == 1
    assert out.read_bytes() == b"id,word\n1,a\n"


@pytest.mark.parametrize("failing_chunk", [1, 2, 6])
def test_a_failure_in_any_process_is_raised_here(failing_chunk: int, tmp_path: Path) -> None:
    """Chunk starts are 1, 5, 9, ...: chunk k is failing_chunk's process (k mod 2 with two)."""
    conn = _db(tmp_path)
    spans = chunks(1, 49, 4)
    fail = spans[failing_chunk][0]
    with pytest.raises(LookupError, match="no rows"):
        write_in_place(tmp_path / "o", conn, _lines, "source", {"fail": fail}, spans, 2)


def test_a_process_that_dies_is_reported(tmp_path: Path) -> None:
    conn = _db(tmp_path)
    spans = chunks(1, 49, 4)
    params = {"fail": spans[3][0], "exit": True}  # chunk 3: the forked process's
    with pytest.raises(RuntimeError, match="ended with code 3"):
        write_in_place(tmp_path / "o", conn, _lines, "source", params, spans, 2)


def test_chunks_cover_the_ids_in_order() -> None:
    assert chunks(1, 10, 4) == [(ALL_IDS[0], 4), (5, 8), (9, 10)]
    assert chunks(1, 8, 4) == [(ALL_IDS[0], 4), (5, 8)]
    assert chunks(7, 7, 4) == [(ALL_IDS[0], 7)]
    assert chunks(None, None, 4) == [ALL_IDS]
