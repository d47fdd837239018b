"""Issue 11 §3/§4: the backend is what answered, a run never mixes backends, a rehearsal never
stands in for a model, and a Bedrock run needs a budget."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson

from parallelprompt.emulator import FixedResponder
from parallelprompt.settings import NO_BUDGET
from parallelprompt.worker import StopReason
from tests.answers import answer
from tests.worker.conftest import work_on

from .conftest import FAST, fill, make_settings, quiet_display

PROMPTS = ["Give me 5 slogans for a coffee shop", "What is the capital of France?", "Hi there"]
ANSWER = answer(parallelizable=False, serial="x")


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_a_rehearsal_is_recorded_as_the_emulator_without_any_flag(
    db: Path, emulator: Any
) -> None:
    """The compose rehearsal: only --endpoint-url points at the emulator, --backend unset."""
    emu = await emulator(FixedResponder(ANSWER))
    await fill(db, PROMPTS)
    summary = await work_on(make_settings(db, emu.endpoint), tuning=FAST, display=quiet_display())
    assert summary.exit_code == 0 and summary.processed == 3
    ((backend, config_json),) = rows(db, "SELECT backend, config_json FROM runs")
    assert backend == "emulator"
    config = orjson.loads(config_json)
    assert config["emulator_version"] and config["endpoint"].startswith("emulator")
    # the identification request is not a model call: the emulator did not count it
    assert emu.stats()["requests"] == 3


async def test_a_real_run_after_a_rehearsal_classifies_everything_again(
    db: Path, emulator: Any
) -> None:
    rehearsal = await emulator(FixedResponder(ANSWER))
    await fill(db, PROMPTS)
    first = await work_on(
        make_settings(db, rehearsal.endpoint), tuning=FAST, display=quiet_display()
    )
    assert first.processed == 3 and first.backend == "emulator"
    real = await emulator(FixedResponder(ANSWER), announce=False)  # stands in for Bedrock
    settings = make_settings(db, real.endpoint, max_cost_usd=1.0)
    second = await work_on(settings, tuning=FAST, display=quiet_display())
    assert second.exit_code == 0 and second.backend == "bedrock"
    assert second.run_id == 2 and second.processed == 3
    assert rows(db, "SELECT id, backend FROM runs ORDER BY id") == [(1, "emulator"), (2, "bedrock")]
    # the rehearsal's results stay with its run; the real run has its own
    assert rows(db, "SELECT run_id, count(*) FROM results GROUP BY run_id") == [(1, 3), (2, 3)]
    # a second real worker continues the real run
    third = await work_on(settings, tuning=FAST, display=quiet_display())
    assert third.run_id == 2 and third.processed == 0


async def test_a_run_never_mixes_endpoints(db: Path, emulator: Any) -> None:
    one = await emulator(FixedResponder(ANSWER), announce=False)
    two = await emulator(FixedResponder(ANSWER), announce=False)
    await fill(db, PROMPTS)
    first = await work_on(
        make_settings(db, one.endpoint, max_cost_usd=1.0), tuning=FAST, display=quiet_display()
    )
    assert first.run_id == 1 and first.processed == 3
    other = await work_on(
        make_settings(db, two.endpoint, max_cost_usd=1.0), tuning=FAST, display=quiet_display()
    )
    assert other.exit_code == 2 and "holds results of run 1" in (other.message or "")
    assert two.endpoint in (other.message or "")


async def test_the_demanded_backend_must_be_the_one_that_answers(db: Path, emulator: Any) -> None:
    emu = await emulator(FixedResponder(ANSWER))
    stand_in = await emulator(FixedResponder(ANSWER), announce=False)
    await fill(db, PROMPTS)
    wrong = await work_on(
        make_settings(db, emu.endpoint, backend="bedrock", max_cost_usd=1.0),
        tuning=FAST,
        display=quiet_display(),
    )
    assert wrong.exit_code == 2 and "is the parallelprompt emulator" in (wrong.message or "")
    wrong = await work_on(
        make_settings(db, stand_in.endpoint, backend="emulator"),
        tuning=FAST,
        display=quiet_display(),
    )
    assert wrong.exit_code == 2 and "not the parallelprompt emulator" in (wrong.message or "")
    assert rows(db, "SELECT count(*) FROM runs") == [(0,)]
    assert emu.stats()["requests"] == 0 and stand_in.stats()["requests"] == 0


async def test_a_bedrock_run_without_a_budget_refuses_with_the_estimate(
    db: Path, emulator: Any
) -> None:
    stand_in = await emulator(FixedResponder(ANSWER), announce=False)
    await fill(db, PROMPTS)
    refused = await work_on(
        make_settings(db, stand_in.endpoint), tuning=FAST, display=quiet_display()
    )
    message = refused.message or ""
    assert refused.stop_reason is StopReason.FATAL and refused.exit_code == 2
    assert "\n" not in message and "3 pending prompts would cost ~$" in message
    assert "--max-cost-usd" in message and "none" in message
    assert stand_in.stats()["requests"] == 0 and rows(db, "SELECT count(*) FROM runs") == [(0,)]
    knowingly = await work_on(
        make_settings(db, stand_in.endpoint, max_cost_usd=NO_BUDGET),
        tuning=FAST,
        display=quiet_display(),
    )
    assert knowingly.exit_code == 0 and knowingly.processed == 3


async def test_endpoint_credentials_never_reach_the_runs_table(db: Path, emulator: Any) -> None:
    emu = await emulator(FixedResponder(ANSWER))
    await fill(db, PROMPTS)
    url = emu.endpoint.replace("http://", "http://alice:hunter2@")
    summary = await work_on(make_settings(db, url), tuning=FAST, display=quiet_display())
    assert summary.exit_code == 0, summary.message
    assert "hunter2" not in summary.line()
    ((config,),) = rows(db, "SELECT config_json FROM runs")
    assert "hunter2" not in config and "***@" in config
    assert b"hunter2" not in db.read_bytes()  # noqa: ASYNC240


def _forget_endpoints(db: Path, backend: str | None = None) -> None:
    """Make the runs look like runs recorded before endpoints were part of the identity."""
    conn = sqlite3.connect(db)
    conn.execute("UPDATE runs SET config_json = json_remove(config_json, '$.endpoint')")
    if backend:
        conn.execute("UPDATE runs SET backend = ?", (backend,))
    conn.commit()
    conn.close()


async def test_runs_recorded_before_endpoints_are_continued_or_refused(
    db: Path, emulator: Any
) -> None:
    stand_in = await emulator(FixedResponder(ANSWER), announce=False)
    await fill(db, PROMPTS)
    settings = make_settings(db, stand_in.endpoint, max_cost_usd=1.0)
    assert (await work_on(settings, tuning=FAST, display=quiet_display())).processed == 3
    _forget_endpoints(db)
    again = await work_on(settings, tuning=FAST, display=quiet_display())
    assert again.run_id == 1 and again.processed == 0  # an upgrade does not restart a campaign
    # an old rehearsal, wrongly labelled bedrock, at another --endpoint-url: never continued
    other = await emulator(FixedResponder(ANSWER), announce=False)
    _forget_endpoints(db, backend="bedrock")
    real = await work_on(
        make_settings(db, other.endpoint, max_cost_usd=1.0), tuning=FAST, display=quiet_display()
    )
    assert real.exit_code == 2 and "holds results of run 1" in (real.message or "")
