"""``results.export_inplace``: chunks written in place by several processes, in order, and a
failure in any of them raised here, with no process left waiting."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from parallelprompt.db.readside import chunk_starts
from parallelprompt.results import export_inplace
from parallelprompt.results.export_inplace import write_in_place
from parallelprompt.results.export_parts import ALL_IDS, Span, chunks

ROOT = Path(__file__).resolve().parents[2]


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
    rows = write_in_place(out, conn, _lines, "source", {}, chunks(range(1, 50, 4), 49), jobs)
    assert rows == 49
    assert out.read_bytes() == _expected()


def test_an_in_memory_database_stays_in_this_process(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, word TEXT)")
    conn.execute("INSERT INTO t VALUES (1, 'a')")
    out = tmp_path / "out.csv"
    assert write_in_place(out, conn, _lines, "source", {}, chunks([1], 1), 4) == 1
    assert out.read_bytes() == b"id,word\n1,a\n"


@pytest.mark.parametrize("failing_chunk", [1, 2, 6])
def test_a_failure_in_any_process_is_raised_here(failing_chunk: int, tmp_path: Path) -> None:
    """Chunk starts are 1, 5, 9, ...: chunk k is failing_chunk's process (k mod 2 with two)."""
    conn = _db(tmp_path)
    spans = chunks(range(1, 50, 4), 49)
    fail = spans[failing_chunk][0]
    with pytest.raises(LookupError, match="no rows"):
        write_in_place(tmp_path / "o", conn, _lines, "source", {"fail": fail}, spans, 2)


def test_a_process_that_dies_is_reported(tmp_path: Path) -> None:
    conn = _db(tmp_path)
    spans = chunks(range(1, 50, 4), 49)
    params = {"fail": spans[3][0], "exit": True}  # chunk 3: the forked process's
    with pytest.raises(RuntimeError, match="ended with code 3"):
        write_in_place(tmp_path / "o", conn, _lines, "source", params, spans, 2)


def test_chunks_cover_the_ids_in_order() -> None:
    assert chunks([1, 5, 9], 10) == [(ALL_IDS[0], 4), (5, 8), (9, 10)]
    assert chunks([7], 7) == [(ALL_IDS[0], 7)]
    assert chunks([], None) == [ALL_IDS]


def test_chunk_starts_step_over_gaps_between_ids(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("CREATE TABLE sources (id INTEGER PRIMARY KEY)")
    ids = [*range(1, 11), 10**6, 10**12, 10**12 + 5]
    conn.executemany("INSERT INTO sources VALUES (?)", [(i,) for i in ids])
    assert chunk_starts(conn, "source", 1, 4) == [1, 5, 9, 10**12 + 5]
    assert chunk_starts(conn, "source", None, 4) == []


def _slow_here(
    conn: sqlite3.Connection, per: str, params: Mapping[str, Any], span: Span, first: bool
) -> tuple[list[bytes], int]:
    """This process sleeps on its first chunk; the others note their pid and wait."""
    folder = Path(params["folder"])
    if first:
        (folder / "parent").write_text(str(os.getpid()))
        time.sleep(60)
    (folder / f"child-{os.getpid()}").touch()
    return [b"x\n"], 1


def run_slow(folder: Path) -> None:
    """In a process of its own (killed by the test): an export whose first chunk never ends."""
    conn = _db(folder)
    spans = chunks(range(1, 50, 4), 49)
    write_in_place(folder / "o", conn, _slow_here, "source", {"folder": str(folder)}, spans, 3)


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status  # exited, waiting to be reaped by whoever adopted it


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_children_stop_when_this_process_is_killed(sig: int, tmp_path: Path) -> None:
    code = "import sys, pathlib; from tests.results.test_export_inplace import run_slow; "
    code += "run_slow(pathlib.Path(sys.argv[1]))"
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while len(list(tmp_path.glob("child-*"))) < 2 or not (tmp_path / "parent").exists():
            assert time.monotonic() < deadline, "the export never started its children"
            time.sleep(0.05)
        children = [int(p.name.split("-")[1]) for p in tmp_path.glob("child-*")]
        proc.send_signal(sig)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not all(_gone(pid) for pid in children):
            assert time.monotonic() < deadline, "children left running after their parent died"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()


def _big_failure(
    conn: sqlite3.Connection, per: str, params: Mapping[str, Any], span: Span, first: bool
) -> tuple[list[bytes], int]:
    if span[0] == params["fail"]:
        raise ValueError("x" * 200_000)  # a report larger than a pipe's buffer
    return [b"x\n"], 1


def test_a_large_error_report_is_read_before_the_child_is_joined(tmp_path: Path) -> None:
    conn = _db(tmp_path)
    spans = chunks(range(1, 50, 4), 49)
    with pytest.raises(ValueError, match="xxx"):
        write_in_place(
            tmp_path / "o", conn, _big_failure, "source", {"fail": spans[-1][0]}, spans, 3
        )
