"""The pool end to end: real emulator on a loopback port, real aioboto3 client, real SQLite."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from parallelprompt.common.provenance import EMULATOR_NOTICE
from parallelprompt.db import SqliteQueue
from parallelprompt.emulator import FixedResponder, ScriptedResponder
from parallelprompt.settings import Settings
from parallelprompt.worker import StopReason, WorkEvent
from tests.answers import answer
from tests.worker.conftest import work_on

from .conftest import FAST, fill, make_settings, quiet_display

HIGH = "Give me 5 slogans for a coffee shop"
MEDIUM = "Translate apples, pears and plums into German"
NOT_PAR = "What is the capital of France?"
FAILED = "Tell me a joke"
UNPARSEABLE = "Hello there, how are you today?"
DEAD = "This prompt breaks the model every time"

SCRIPT = {
    HIGH: answer(
        category="Repeated Generation",
        serial=HIGH,
        template="Give me a slogan for a coffee shop",
        n=5,
    ),
    MEDIUM: answer(
        category="Translation",
        serial=MEDIUM,
        template="Translate {data} into German",
        data=["apples", "pears", "plums"],
    ),
    NOT_PAR: answer(parallelizable=False, serial=NOT_PAR),
    FAILED: answer(
        category="Repeated Generation",
        serial=FAILED,
        template="Tell me a joke",
        data=["a", "b"],
        n=3,
    ),
    UNPARSEABLE: "Sure! Here is my analysis, no JSON today.",
}


def scripted(prompt: str) -> str:
    if prompt == DEAD:
        raise RuntimeError("the model falls over on this one")
    return SCRIPT[prompt]


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def statuses(db: Path) -> dict[str, int]:
    return {
        str(s): int(n) for s, n in rows(db, "SELECT status, count(*) FROM work GROUP BY status")
    }


async def test_every_outcome_is_reached_and_stored(db: Path, emulator: Any) -> None:
    emu = await emulator(ScriptedResponder(scripted))
    await fill(db, [*SCRIPT, DEAD])
    events: list[WorkEvent] = []
    summary = await work_on(
        make_settings(db, emu.endpoint, max_attempts=4),
        tuning=FAST,
        display=quiet_display(),
        on_event=events.append,
    )
    assert summary.stop_reason is StopReason.DRAINED and summary.exit_code == 0
    assert summary.outcomes == {
        "high_confidence": 1,
        "medium_confidence": 1,
        "not_parallelizable": 1,
        "failed": 1,
        "unparseable": 1,
        "dead": 1,
    }
    assert summary.processed == 6
    assert EMULATOR_NOTICE in summary.line()
    assert summary.line().count("\n") == 0
    got = {
        prompt: (outcome, reason)
        for prompt, outcome, reason in rows(
            db,
            "SELECT w.prompt, v.outcome, v.reason FROM work w JOIN results r ON r.work_id = w.id "
            "JOIN verdicts v ON v.result_id = r.id",
        )
    }
    # a pass stores the cue that earned its tier as its reason
    assert got[HIGH][0] == "high_confidence" and got[HIGH][1]
    assert got[MEDIUM][0] == "medium_confidence" and got[MEDIUM][1]
    assert got[NOT_PAR] == ("not_parallelizable", None)
    assert got[FAILED] == ("failed", "both_data_and_n")
    assert got[UNPARSEABLE][0] == "unparseable"
    assert got[DEAD] == ("dead", "model_error")
    # the dead letter: exactly max_attempts calls, status dead, last error kept
    (dead_row,) = rows(
        db,
        "SELECT w.status, w.last_error, r.attempts, r.error_code FROM work w "
        "JOIN results r ON r.work_id = w.id WHERE w.prompt = ?",
        DEAD,
    )
    assert dead_row[0] == "dead" and dead_row[2] == 4 and dead_row[3] == "model_error"
    assert emu.stats()["by_outcome"].get("responder_error") == 4
    # a stored answer carries everything the export and the stats need
    (r,) = rows(
        db,
        "SELECT r.model_id, r.raw_text, r.stop_reason, r.input_tokens, r.output_tokens, "
        "r.cost_usd, r.latency_ms, r.attempts, v.profile, v.contract_version, v.category, "
        "v.n, v.template, v.tier_label, v.validation_passed FROM results r JOIN work w "
        "ON w.id = r.work_id JOIN verdicts v ON v.result_id = r.id WHERE w.prompt = ?",
        HIGH,
    )
    assert r[0] == "global.anthropic.claude-haiku-5-5"  # the default model
    assert r[1] == SCRIPT[HIGH] and r[2] == "end_turn"
    assert r[3] > 0 and r[4] > 0 and r[5] > 0 and r[6] is not None and r[7] == 1
    assert r[8] == "default" and r[9] and r[10] == "Repeated Generation" and r[11] == 5
    assert r[13] == "high_confidence" and r[14] == 1
    (run,) = rows(db, "SELECT backend, config_json FROM runs")
    assert run[0] == "emulator" and EMULATOR_NOTICE in run[1]
    assert any(e.kind == "started" for e in events) and events[-1].kind == "finished"
    # nothing secret was stored
    assert b"worker-test-secret" not in Path(db).read_bytes()  # noqa: ASYNC240


RETRYABLE = ["throttle", "not_ready", "model_timeout", "unavailable", "server", "model_error"]


@pytest.mark.parametrize("fault", [*RETRYABLE, "slow"])
async def test_retryable_errors_are_retried_until_they_succeed(
    db: Path, emulator: Any, fault: str
) -> None:
    rate = 0.1 if fault == "slow" else 0.25
    emu = await emulator(FixedResponder(SCRIPT[NOT_PAR]), faults=f"{fault}={rate}", seed=7)
    await fill(db, [f"prompt number {i}" for i in range(40)])
    summary = await work_on(
        make_settings(db, emu.endpoint, max_attempts=12, read_timeout=0.3, concurrency=16),
        tuning=FAST,
        display=quiet_display(),
    )
    assert summary.stop_reason is StopReason.DRAINED
    assert summary.outcomes["not_parallelizable"] == 40 and summary.processed == 40
    assert emu.stats()["faults"][fault] > 0
    assert summary.retries + summary.requeued > 0
    assert statuses(db) == {"done": 40}
    if fault == "throttle":
        assert summary.throttled > 0


@pytest.mark.parametrize(
    ("fault", "code"),
    [("access_denied", "AccessDeniedException"), ("validation", "ValidationException")],
)
async def test_fatal_errors_stop_the_run_and_burn_no_rows(
    db: Path, emulator: Any, fault: str, code: str
) -> None:
    emu = await emulator(FixedResponder(SCRIPT[NOT_PAR]), faults=f"{fault}=1.0")
    await fill(db, [f"prompt number {i}" for i in range(30)])
    summary = await work_on(make_settings(db, emu.endpoint), tuning=FAST, display=quiet_display())
    assert summary.stop_reason is StopReason.FATAL and summary.exit_code == 2
    assert code in (summary.message or "")
    assert summary.outcomes.get("dead", 0) == 0
    assert statuses(db) == {"ready": 30}
    assert rows(db, "SELECT max(attempts) FROM work") == [(0,)]  # leases given back, uncharged
    assert rows(db, "SELECT count(*) FROM results") == [(0,)]


async def test_a_retired_model_stops_the_run(db: Path, emulator: Any) -> None:
    model = "anthropic.claude-haiku-4-5-20251001-v1:0"
    emu = await emulator(FixedResponder(SCRIPT[NOT_PAR]), retired_models=(model,))
    await fill(db, [f"prompt number {i}" for i in range(10)])
    summary = await work_on(
        make_settings(db, emu.endpoint, model=model), tuning=FAST, display=quiet_display()
    )
    assert summary.exit_code == 2
    assert "ResourceNotFoundException" in (summary.message or "")
    assert statuses(db) == {"ready": 10}


async def test_an_end_of_life_model_is_refused_before_any_call(db: Path, emulator: Any) -> None:
    emu = await emulator(FixedResponder(SCRIPT[NOT_PAR]))
    await fill(db, ["a prompt", "another prompt"])
    model = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
    summary = await work_on(
        make_settings(db, emu.endpoint, model=model), tuning=FAST, display=quiet_display()
    )
    assert summary.exit_code == 2
    message = summary.message or ""
    assert "reached end of life on Bedrock on 2026-06-19" in message and "\n" not in message
    assert "global.anthropic.claude-haiku-5-5" in message
    assert emu.stats()["requests"] == 0 and statuses(db) == {"ready": 2}


async def test_an_unreachable_endpoint_stops_the_run_instead_of_burning_rows(db: Path) -> None:
    with socket.socket() as sock:  # a loopback port with nobody listening
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    await fill(db, [f"prompt number {i}" for i in range(20)])
    summary = await work_on(make_settings(db, closed), tuning=FAST, display=quiet_display())
    assert summary.stop_reason is StopReason.FATAL and summary.exit_code == 2
    assert "cannot reach the Bedrock endpoint" in (summary.message or "")
    assert statuses(db) == {"ready": 20}
    assert rows(db, "SELECT count(*) FROM results") == [(0,)]


async def test_missing_credentials_stop_the_run(
    db: Path, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    emu = await emulator(FixedResponder(SCRIPT[NOT_PAR]))
    await fill(db, ["one prompt", "another prompt"])
    summary = await work_on(make_settings(db, emu.endpoint), tuning=FAST, display=quiet_display())
    assert summary.exit_code == 2 and "credentials" in (summary.message or "").lower()
    assert statuses(db) == {"ready": 2}
    assert emu.stats()["requests"] == 0


async def test_a_prompt_that_keeps_killing_workers_dies_without_another_call(
    db: Path, emulator: Any
) -> None:
    emu = await emulator(FixedResponder(SCRIPT[NOT_PAR]))
    await fill(db, ["poison"])
    other = await SqliteQueue.open(db, owner="crashed-worker")
    for _ in range(3):  # three workers claimed it and died: each lease expired at once
        assert len(await other.claim(1, lease_seconds=-1.0)) == 1
    await other.close()
    summary = await work_on(
        make_settings(db, emu.endpoint, max_attempts=8), tuning=FAST, display=quiet_display()
    )
    assert summary.outcomes["dead"] == 1
    assert emu.stats()["requests"] == 0
    assert rows(db, "SELECT error_code FROM results") == [("attempts_exhausted",)]


async def test_invoke_model_api(db: Path, emulator: Any) -> None:
    emu = await emulator(ScriptedResponder(SCRIPT))
    await fill(db, list(SCRIPT))
    summary = await work_on(
        make_settings(db, emu.endpoint, api="invoke"), tuning=FAST, display=quiet_display()
    )
    assert summary.processed == 5 and summary.outcomes["high_confidence"] == 1
    assert emu.stats()["by_api"] == {"invoke": 5}
    assert rows(
        db, "SELECT count(*) FROM results WHERE input_tokens > 0 AND output_tokens > 0"
    ) == [(5,)]


async def test_budget_stop_finishes_in_flight_work_and_says_so(db: Path, emulator: Any) -> None:
    emu = await emulator(FixedResponder(SCRIPT[NOT_PAR]))
    await fill(db, [f"prompt number {i}" for i in range(300)])
    budget = 0.1  # about 125 prompts: the cached system prompt costs 0.1x after the first
    summary = await work_on(
        make_settings(db, emu.endpoint, max_cost_usd=budget, price_in=2.0, price_out=2.0),
        tuning=FAST,
        display=quiet_display(),
    )
    assert summary.stop_reason is StopReason.BUDGET and summary.exit_code == 0
    assert "budget" in summary.line()
    assert 0 < summary.processed < 300
    assert summary.cost_usd <= budget * 1.05
    st = statuses(db)
    assert st["done"] == summary.processed and st["ready"] == 300 - summary.processed
    assert "leased" not in st
    # a second worker on the same run sees the money already spent and claims nothing
    again = await work_on(
        make_settings(db, emu.endpoint, max_cost_usd=budget, price_in=2.0, price_out=2.0),
        tuning=FAST,
        display=quiet_display(),
    )
    assert again.stop_reason is StopReason.BUDGET and again.processed == 0


async def test_rerun_with_another_model_is_refused_until_new_run(db: Path, emulator: Any) -> None:
    emu = await emulator(FixedResponder(SCRIPT[NOT_PAR]), announce=False)  # a model's answers
    await fill(db, ["first prompt", "second prompt"])

    def settings(**worker: Any) -> Settings:
        return make_settings(db, emu.endpoint, max_cost_usd=5.0, **worker)

    first = await work_on(settings(), tuning=FAST, display=quiet_display())
    assert first.processed == 2 and first.run_id == 1
    same = await work_on(settings(), tuning=FAST, display=quiet_display())
    assert same.run_id == 1 and same.processed == 0 and same.stop_reason is StopReason.DRAINED
    other_model = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    refused = await work_on(settings(model=other_model), tuning=FAST, display=quiet_display())
    assert refused.exit_code == 2
    message = refused.message or ""
    assert "holds results of run 1" in message and "--new-run" in message
    assert other_model in message and "fresh --db" in message
    renewed = await work_on(
        settings(model=other_model, new_run=True), tuning=FAST, display=quiet_display()
    )
    assert renewed.run_id == 2 and renewed.processed == 2
    assert rows(db, "SELECT run_id, count(*) FROM results GROUP BY run_id") == [(1, 2), (2, 2)]


async def test_metrics_and_health_endpoint(db: Path, emulator: Any) -> None:
    emu = await emulator(FixedResponder(SCRIPT[NOT_PAR]), latency_ms=300)
    await fill(db, [f"prompt number {i}" for i in range(24)])
    url: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_event(event: WorkEvent) -> None:
        if event.kind == "metrics" and not url.done():
            url.set_result(event.message.split("/metrics")[0])

    run = asyncio.create_task(
        work_on(
            make_settings(db, emu.endpoint, metrics_port=0, concurrency=4),
            tuning=FAST,
            display=quiet_display(),
            on_event=on_event,
        )
    )
    base = await asyncio.wait_for(url, 10)
    assert base.startswith("http://127.0.0.1:")
    await asyncio.sleep(0.8)
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/healthz") as resp:
            assert resp.status == 200
            health = await resp.json()
        async with http.get(base + "/metrics") as resp:
            assert resp.status == 200
            text = await resp.text()
    summary = await run
    assert health["status"] == "running"
    for name in (
        "parallelprompt_requests_total",
        "parallelprompt_prompts_total",
        "parallelprompt_tokens_total",
        "parallelprompt_cost_usd_total",
        "parallelprompt_limiter_rpm",
        "parallelprompt_in_flight",
        "parallelprompt_queue_depth",
        "parallelprompt_fleet_workers",
    ):
        assert f"# TYPE {name}" in text, name
    assert 'parallelprompt_requests_total{result="ok"}' in text
    assert 'parallelprompt_queue_depth{status="ready"}' in text
    assert summary.processed == 24


async def test_a_fleet_stops_on_the_budget_within_its_calls_in_flight(
    db: Path, emulator: Any
) -> None:
    """Two workers on one run: each read the other's spend only at heartbeats, so together
    they overshot the budget by a heartbeat's worth of both their calls. Near the budget every
    claim now reads the spend fresh and leaves room for the other's calls in flight."""
    emu = await emulator(FixedResponder(SCRIPT[NOT_PAR]))
    await fill(db, [f"prompt number {i}" for i in range(600)])
    budget, concurrency = 0.1, 8
    tuning = dataclasses.replace(FAST, heartbeat_s=1.0)

    def one() -> Any:
        settings = make_settings(
            db,
            emu.endpoint,
            max_cost_usd=budget,
            price_in=2.0,
            price_out=2.0,
            concurrency=concurrency,
        )
        return work_on(settings, tuning=tuning, display=quiet_display())

    first, second = await asyncio.gather(one(), one())
    assert first.stop_reason is StopReason.BUDGET and second.stop_reason is StopReason.BUDGET
    ((spent, calls),) = rows(db, "SELECT sum(cost_usd), count(*) FROM results")
    per_call = spent / calls
    assert spent <= budget + 2 * concurrency * per_call, (spent, calls)
