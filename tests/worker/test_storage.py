"""Issue 11, finding 8: a write lock held by another process for longer than the busy timeout,
and a full disk. The worker waits and says so, once; it never crashes, never loses a paid
answer, and finishes when the database takes writes again."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parallelprompt.emulator import ScriptedResponder
from parallelprompt.settings import Settings
from parallelprompt.worker import StopReason, WorkEvent
from tests.answers import answer
from tests.worker.conftest import work_on

from .conftest import FAST, fill, make_settings, quiet_display

LOCK_WAIT = dataclasses.replace(FAST, db_lock_wait_s=0.3, storage_retry_s=0.1)


def roomy(settings: Settings) -> Settings:
    """Large answers fit max_tokens: never cut short and asked again."""
    contract = dataclasses.replace(settings.contract, max_tokens=4096, size_max_tokens=False)
    return dataclasses.replace(settings, contract=contract)


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_a_worker_blocked_on_the_write_lock_waits_and_says_so(
    db: Path, emulator: Any
) -> None:
    emu = await emulator(
        ScriptedResponder(lambda prompt: answer(parallelizable=False)), latency_ms=30
    )
    await fill(db, [f"prompt number {i}" for i in range(60)])
    events: list[WorkEvent] = []
    run = asyncio.create_task(
        work_on(
            make_settings(db, emu.endpoint, concurrency=2, flush_rows=1),
            tuning=LOCK_WAIT,
            display=quiet_display(),
            on_event=events.append,
        )
    )
    while rows(db, "SELECT count(*) FROM results")[0][0] < 5:
        assert not run.done(), run.result()
        await asyncio.sleep(0.02)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write lock, held "too long"
    while sum(e.kind == "waiting" for e in events) < 3:  # three busy timeouts passed
        assert not run.done(), run.result()
        await asyncio.sleep(0.05)
    holder.execute("COMMIT")
    holder.close()
    summary = await run
    assert summary.stop_reason is StopReason.DRAINED, summary.message
    assert summary.processed == 60
    waiting = [e.message for e in events if e.kind == "waiting"]
    assert all("write lock" in m and "\n" not in m for m in waiting)
    assert rows(db, "SELECT status, count(*) FROM work GROUP BY status") == [("done", 60)]


async def test_a_worker_that_starts_while_another_process_holds_the_write_lock_waits(
    db: Path, emulator: Any
) -> None:
    """Opening (and migrating) the database waits too: a lock held from before the worker
    starts for longer than the busy timeout is a wait with a line, not a fatal exit."""
    emu = await emulator(ScriptedResponder(lambda prompt: answer(parallelizable=False)))
    await fill(db, [f"prompt number {i}" for i in range(10)])
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # held before the worker opens the database
    events: list[WorkEvent] = []
    run = asyncio.create_task(
        work_on(
            make_settings(db, emu.endpoint, concurrency=2),
            tuning=LOCK_WAIT,
            display=quiet_display(),
            on_event=events.append,
        )
    )
    while sum(e.kind == "waiting" for e in events) < 2:  # two busy timeouts passed
        assert not run.done(), run.result()
        await asyncio.sleep(0.05)
    holder.execute("COMMIT")
    holder.close()
    summary = await run
    assert summary.stop_reason is StopReason.DRAINED, summary.message
    assert summary.processed == 10
    assert all("write lock" in e.message for e in events if e.kind == "waiting")


@contextlib.contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def grow(where: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(where)], check=True)


async def test_on_a_full_disk_the_worker_keeps_its_answers_until_it_can_write(
    tmp_path: Path, emulator: Any
) -> None:
    big = "x" * 3000  # answers large enough to fill the small disk half way through the run
    emu = await emulator(
        ScriptedResponder(lambda prompt: answer(parallelizable=False, serial=prompt + big)),
        latency_ms=20,
    )
    with small_disk(tmp_path / "disk", "400k") as disk:
        db = disk / "work.db"
        await fill(db, [f"prompt number {i}" for i in range(120)])
        events: list[WorkEvent] = []
        run = asyncio.create_task(
            work_on(
                roomy(make_settings(db, emu.endpoint, concurrency=4, flush_rows=5)),
                tuning=LOCK_WAIT,
                display=quiet_display(),
                on_event=events.append,
            )
        )
        while not any("cannot write" in e.message for e in events):
            assert not run.done(), (run.result(), [e.message for e in events])
            await asyncio.sleep(0.05)
        answered = emu.stats()["answered"]
        await asyncio.sleep(0.5)  # it stopped claiming: a few calls in flight at most
        assert emu.stats()["answered"] <= answered + 4
        assert not run.done()
        grow(disk, "16m")
        summary = await run
        assert summary.stop_reason is StopReason.DRAINED, summary.message
        assert summary.processed == 120
        assert rows(db, "SELECT status, count(*) FROM work GROUP BY status") == [("done", 120)]
        assert rows(db, "SELECT count(*), count(DISTINCT work_id) FROM results") == [(120, 120)]
        # every answer paid for was written (nothing was lost and called again)
        assert emu.stats()["duplicate_calls"] == 0, ([e.message for e in events], emu.stats())
    messages = [e.message for e in events if e.kind in ("warning", "waiting", "resumed")]
    assert sum("cannot write" in m for m in messages) == 1, messages
    assert any(e.kind == "resumed" for e in events)
    assert not any("Traceback" in m or "unexpectedly" in m for m in messages)


async def test_stopped_while_the_disk_is_full_the_worker_says_what_it_lost_and_exits_cleanly(
    tmp_path: Path, emulator: Any
) -> None:
    """The last flush fails: one line says how many answers were not written, the leases are
    released (or, if even that cannot be written, reclaimed once the heartbeat is stale), and
    a later worker classifies those prompts again: nothing is left leased forever."""
    big = "y" * 3000
    emu = await emulator(
        ScriptedResponder(lambda prompt: answer(parallelizable=False, serial=prompt + big)),
        latency_ms=20,
    )
    with small_disk(tmp_path / "disk", "400k") as disk:
        db = disk / "work.db"
        await fill(db, [f"prompt number {i}" for i in range(120)])
        events: list[WorkEvent] = []
        run = asyncio.create_task(
            work_on(
                roomy(
                    make_settings(db, emu.endpoint, concurrency=4, flush_rows=5, grace_seconds=1.0)
                ),
                tuning=LOCK_WAIT,
                display=quiet_display(),
                on_event=events.append,
            )
        )
        while not any("cannot write" in e.message for e in events):
            assert not run.done(), (run.result(), [e.message for e in events])
            await asyncio.sleep(0.05)
        signal.raise_signal(signal.SIGTERM)
        summary = await run
        assert summary.stop_reason is StopReason.SIGNAL and summary.exit_code == 0
        assert any("could not be written at exit" in e.message for e in events), [
            e.message for e in events
        ]
        grow(disk, "16m")
        again = await work_on(
            make_settings(db, emu.endpoint, concurrency=4),
            tuning=LOCK_WAIT,
            display=quiet_display(),
        )
        assert again.stop_reason is StopReason.DRAINED, again.message
        assert rows(db, "SELECT status, count(*) FROM work GROUP BY status") == [("done", 120)]
        assert rows(db, "SELECT count(*), count(DISTINCT work_id) FROM results") == [(120, 120)]
