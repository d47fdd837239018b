"""Breakers and safety nets: read timeouts, the --new-run preflight, per-prompt validation
errors after answers, and a flush cancelled during its COMMIT. Real emulator, real SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from parallelprompt.db import CompleteResult, Completion, RunIdentity, SqliteQueue
from parallelprompt.db.verdicts import verdict_row
from parallelprompt.emulator import FixedResponder
from parallelprompt.emulator.faults import FaultPicker, FaultRates
from parallelprompt.prompts import Contract
from parallelprompt.worker import StopReason, WorkEvent
from parallelprompt.worker.buffer import ResultBuffer
from parallelprompt.worker.store import Store
from tests.answers import answer
from tests.worker.conftest import work_on

from .conftest import FAST, fill, make_settings, quiet_display
from .test_pool import rows, statuses

NOT_PAR = answer(parallelizable=False, serial="x")


async def test_an_endpoint_that_never_answers_stops_the_run(db: Path, emulator: Any) -> None:
    emu = await emulator(FixedResponder(NOT_PAR), faults="slow=1.0", slow_seconds=5.0)
    await fill(db, [f"prompt number {i}" for i in range(20)])
    summary = await work_on(
        make_settings(db, emu.endpoint, read_timeout=0.1, max_attempts=8),
        tuning=FAST,
        display=quiet_display(),
    )
    assert summary.stop_reason is StopReason.FATAL and summary.exit_code == 2
    message = summary.message or ""
    assert "no answer within --read-timeout 0.1 s" in message, message
    assert "raise --read-timeout" in message and "nothing was marked dead" in message
    assert "billed" in message
    assert statuses(db) == {"ready": 20}
    assert rows(db, "SELECT count(*) FROM results") == [(0,)]
    assert rows(db, "SELECT max(attempts) FROM work") == [(0,)]


async def test_a_minority_of_read_timeouts_is_retried_and_mentioned(
    db: Path, emulator: Any
) -> None:
    emu = await emulator(FixedResponder(NOT_PAR), faults="slow=0.15", seed=3, slow_seconds=5.0)
    await fill(db, [f"prompt number {i}" for i in range(40)])
    events: list[WorkEvent] = []
    summary = await work_on(
        make_settings(db, emu.endpoint, read_timeout=0.2, max_attempts=12),
        tuning=FAST,
        display=quiet_display(),
        on_event=events.append,
    )
    assert summary.stop_reason is StopReason.DRAINED, summary.message
    assert summary.processed == 40 and summary.read_timeouts > 0
    assert "may still be processed and billed by Bedrock" in summary.line()
    assert any(e.kind == "warning" and "billed" in e.message for e in events)


def _first_pick_is_clean(rates: str) -> int:
    for seed in range(100):
        if FaultPicker(FaultRates.parse(rates), seed).pick() is None:
            return seed
    raise AssertionError("no seed")


async def test_a_validation_error_after_answers_is_one_prompts_dead_letter(
    db: Path, emulator: Any
) -> None:
    rates = "validation=0.1"
    emu = await emulator(FixedResponder(NOT_PAR), faults=rates, seed=_first_pick_is_clean(rates))
    await fill(db, [f"prompt number {i}" for i in range(60)])
    summary = await work_on(
        make_settings(db, emu.endpoint, concurrency=1), tuning=FAST, display=quiet_display()
    )
    assert summary.stop_reason is StopReason.DRAINED, summary.message
    dead = emu.stats()["faults"]["validation"]
    assert dead > 0
    assert summary.outcomes["dead"] == dead and summary.processed == 60
    assert rows(db, "SELECT DISTINCT error_code FROM results WHERE error_code IS NOT NULL") == [
        ("validation",)
    ]


OTHER = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.mark.parametrize("refusal", ["models", "retired_models"])
async def test_new_run_checks_the_model_before_reopening_anything(
    db: Path, emulator: Any, refusal: str
) -> None:
    emu = await emulator(FixedResponder(NOT_PAR))
    await fill(db, ["first prompt", "second prompt", "third prompt"])
    first = await work_on(make_settings(db, emu.endpoint), tuning=FAST, display=quiet_display())
    assert first.processed == 3
    runs_before = rows(db, "SELECT * FROM runs")
    work_before = rows(db, "SELECT id, status, attempts FROM work ORDER BY id")
    models = ("some.other-model-v1:0",) if refusal == "models" else (OTHER,)
    refusing = await emulator(FixedResponder(NOT_PAR), **{refusal: models})
    events: list[WorkEvent] = []
    summary = await work_on(
        make_settings(db, refusing.endpoint, model=OTHER, new_run=True),
        tuning=FAST,
        display=quiet_display(),
        on_event=events.append,
    )
    assert summary.exit_code == 2
    message = summary.message or ""
    code = "ValidationException" if refusal == "models" else "ResourceNotFoundException"
    assert code in message and "nothing was changed in the DB" in message, message
    assert rows(db, "SELECT * FROM runs") == runs_before
    assert rows(db, "SELECT id, status, attempts FROM work ORDER BY id") == work_before
    assert refusing.stats()["requests"] == 1  # the one preflight call
    assert any(e.kind == "preflight" and "one preflight call" in e.message for e in events)


async def test_new_run_after_the_preflight_reopens_and_classifies_again(
    db: Path, emulator: Any
) -> None:
    emu = await emulator(FixedResponder(NOT_PAR))
    await fill(db, ["first prompt", "second prompt"])
    await work_on(make_settings(db, emu.endpoint), tuning=FAST, display=quiet_display())
    events: list[WorkEvent] = []
    renewed = await work_on(
        make_settings(db, emu.endpoint, model=OTHER, new_run=True),
        tuning=FAST,
        display=quiet_display(),
        on_event=events.append,
    )
    assert renewed.run_id == 2 and renewed.processed == 2
    assert sum(e.kind == "preflight" for e in events) == 1
    assert emu.stats()["requests"] == 2 + 1 + 2
    # an empty DB (nothing to re-open) makes no preflight call
    fresh = db.with_name("fresh.db")
    await fill(fresh, ["only prompt"])
    events.clear()
    await work_on(
        make_settings(fresh, emu.endpoint, new_run=True),
        tuning=FAST,
        display=quiet_display(),
        on_event=events.append,
    )
    assert not any(e.kind == "preflight" for e in events)


async def test_a_flush_cancelled_during_its_commit_is_counted_once(db: Path) -> None:
    """Cancel the flush at every point of its transaction: a committed batch is reported
    once, never put back and written again (which would report its leases as lost)."""
    contract = Contract.load(None, None, "default")
    n = 40
    await fill(db, [f"prompt number {i}" for i in range(n)])
    queue = await SqliteQueue.open(db)
    try:
        run = await queue.start_run(
            RunIdentity("m", "converse", contract.version, contract.profile.name, "emulator", ""),
            {},
            reopen=False,
        )
        store = Store(queue)
        written: list[int] = []
        lost: list[int] = []

        def on_written(batch: Sequence[Completion], result: CompleteResult) -> None:
            written.extend(c.work_id for c in batch if c.work_id not in set(result.lost))
            lost.extend(result.lost)

        buffer = ResultBuffer(
            store, flush_rows=100, flush_s=10.0, on_written=on_written, on_error=lambda e: None
        )
        for yields in range(n):
            (lease,) = await store.claim(1, 60.0)
            verdict = contract.judge(lease.prompt, NOT_PAR, "end_turn")
            buffer.add(
                Completion(
                    work_id=lease.work_id,
                    run_id=run.id,
                    model_id="m",
                    verdict=verdict_row(verdict, contract),
                    attempts=1,
                    raw_text=NOT_PAR,
                    stop_reason="end_turn",
                    input_tokens=10,
                    output_tokens=5,
                    cost_usd=0.0,
                    latency_ms=1.0,
                )
            )
            flush = asyncio.create_task(buffer.flush())
            for _ in range(yields % 8):
                await asyncio.sleep(0)
            await asyncio.sleep(0.0001 * (yields // 8))
            flush.cancel()
            await asyncio.gather(flush, return_exceptions=True)
            await buffer.flush()  # what the pool's _finish does
        assert lost == [] and len(written) == n == len(set(written))
        assert len(buffer) == 0
    finally:
        await queue.close()
    assert statuses(db) == {"done": n}
