"""The cost levers end to end through the real client and the emulator: requests follow the
catalogue, the system prompt is cached and its usage stored, max_tokens is sized per call and an
answer cut short is asked again once with a higher ceiling."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

from parallelprompt.catalogue import pricing
from parallelprompt.emulator import FixedResponder
from parallelprompt.emulator.responders import count_tokens
from parallelprompt.settings import ContractSettings
from tests.worker.conftest import work_on

from .conftest import FAST, fill, make_settings, quiet_display

NOT_PAR = '{"parallelizable": false, "category": null}'
HAIKU_45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_default_model_caches_the_system_prompt_and_thinks_not(
    db: Path, emulator: Any
) -> None:
    emu = await emulator(FixedResponder(NOT_PAR))
    await fill(db, [f"prompt number {i}" for i in range(12)])
    settings = make_settings(db, emu.endpoint, concurrency=1)
    summary = await work_on(settings, tuning=FAST, display=quiet_display())
    assert summary.processed == 12
    stats = emu.stats()
    # Haiku 5.5 refuses temperature: every request would have been a 400 had it been sent.
    assert stats["by_outcome"] == {"ok": 12}
    assert stats["thinking_tokens"] == 0  # thinking turned off
    results = rows(
        db,
        "SELECT input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd "
        "FROM results ORDER BY id",
    )
    writes = [r for r in results if r[3] > 0]
    reads = [r for r in results if r[2] > 0]
    assert len(writes) == 1 and len(reads) == 11
    price = pricing("global.anthropic.claude-haiku-5-5")
    for inp, out, read, write, cost in results:
        assert abs(cost - price.cost(inp, out, read, write)) < 1e-12
    assert summary.cache_read_tokens == sum(r[2] for r in results)
    assert summary.saved_usd > 0 and "read from the prompt cache" in summary.line()
    (config,) = rows(db, "SELECT config_json FROM runs")[0]
    assert json.loads(config)["prices"]["cache_read"] == 0.01


async def test_no_cache_point_below_the_models_minimum(db: Path, emulator: Any) -> None:
    emu = await emulator(FixedResponder(NOT_PAR))
    await fill(db, [f"prompt number {i}" for i in range(3)])
    # Haiku 4.5 caches from 4,096 tokens: the bundled prompt is shorter, so no cache point.
    await work_on(
        make_settings(db, emu.endpoint, model=HAIKU_45), tuning=FAST, display=quiet_display()
    )
    assert rows(db, "SELECT sum(cache_read_tokens + cache_write_tokens) FROM results") == [(0,)]
    assert emu.stats()["by_outcome"] == {"ok": 3}


async def test_max_tokens_is_sized_per_call_and_a_cut_answer_is_retried_higher(
    db: Path, emulator: Any
) -> None:
    seen: list[int] = []
    long_answer = '{"parallelizable": false, "category_description": "' + "x" * 4000 + '"}'

    def responder(prompt: str, system: str | None, max_tokens: int) -> str:
        seen.append(max_tokens)
        return long_answer

    emu = await emulator(responder)
    await fill(db, ["a short prompt"])
    summary = await work_on(make_settings(db, emu.endpoint), tuning=FAST, display=quiet_display())
    assert summary.processed == 1
    assert seen[0] < 1024  # sized to the prompt, under --max-tokens
    assert seen[1] == 4096  # --max-tokens-retry
    ((stop, out, text),) = rows(db, "SELECT stop_reason, output_tokens, raw_text FROM results")
    assert stop == "end_turn" and text == long_answer
    # both answers were billed: the cut one and the full one
    assert out == seen[0] + count_tokens(long_answer)
    assert emu.stats()["answered"] == 2


async def test_fixed_max_tokens_and_no_retry_reproduce_the_original(
    db: Path, emulator: Any
) -> None:
    seen: list[int] = []

    def responder(prompt: str, system: str | None, max_tokens: int) -> str:
        seen.append(max_tokens)
        return '{"parallelizable": false, "category_description": "' + "x" * 8000 + '"}'

    emu = await emulator(responder)
    await fill(db, ["a short prompt"])
    settings = make_settings(db, emu.endpoint)
    contract = ContractSettings(size_max_tokens=False, max_tokens_retry=0)
    settings = dataclasses.replace(settings, contract=contract)
    await work_on(settings, tuning=FAST, display=quiet_display())
    assert seen == [1024]
    assert rows(db, "SELECT stop_reason FROM results") == [("max_tokens",)]


async def test_stats_status_and_report_show_the_cache_and_the_levers(
    db: Path, emulator: Any, capsys: Any
) -> None:
    from parallelprompt.cli import main

    emu = await emulator(FixedResponder(NOT_PAR))
    await fill(db, [f"prompt number {i}" for i in range(10)])
    await work_on(
        make_settings(db, emu.endpoint, concurrency=1), tuning=FAST, display=quiet_display()
    )
    capsys.readouterr()
    assert main(["stats", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "prompt cache: 90.0% of calls read it" in text and "saved $" in text
    assert "paper's method: Claude 3.5 Haiku" in text and "+ prompt caching" in text
    assert main(["stats", "--db", str(db), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["cache"]["calls_reading_cache"] == 9 and doc["cache"]["saved_usd"] > 0
    by_lever = {row["lever"]: row for row in doc["levers"]}
    paper = by_lever["paper's method: Claude 3.5 Haiku, no cache, max_tokens 1,024"]
    model = by_lever["model: Claude Haiku 5.5"]
    cached = by_lever["+ prompt caching"]
    sized = by_lever["+ max_tokens sized per call"]
    assert paper["cost_usd"] > model["cost_usd"] > cached["cost_usd"] == sized["cost_usd"]
    assert "instead of 1,024" in sized["note"]
    assert main(["status", "--db", str(db)]) == 0
    assert "prompt cache: 90.0% of calls read it" in capsys.readouterr().out
    report = db.parent / "report.html"
    assert main(["report", "--db", str(db), "--out", str(report)]) == 0
    assert "Prompt cache: 90.0% of calls read it" in report.read_text()


def test_estimate_shows_cost_and_time_per_lever(db: Path, capsys: Any) -> None:
    import asyncio

    from parallelprompt.cli import main

    asyncio.run(fill(db, [f"prompt number {i}" for i in range(1000)]))
    assert main(["estimate", "--db", str(db), "--tpm", "2000000", "--rpm", "10000"]) == 0
    out = capsys.readouterr().out
    assert "cost and time per lever at 10,000 RPM / 2,000,000 TPM" in out
    for lever in ("paper's method", "model: Claude Haiku 5.5", "+ prompt caching", "batch price"):
        assert lever in out
    assert main(["estimate", "--db", str(db), "--model", HAIKU_45]) == 0
    assert "no effect: the model caches prefixes from 4,096 tokens" in capsys.readouterr().out


def test_models_lists_the_catalogue(capsys: Any) -> None:
    from parallelprompt.cli import main

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "Claude Haiku 5.5 — active" in out and "END OF LIFE since 2026-06-19" in out


async def test_an_unknown_model_runs_with_a_warning_priced_from_the_flags(
    db: Path, emulator: Any
) -> None:
    from parallelprompt.worker import WorkEvent

    model = "acme.some-new-model-v1:0"
    emu = await emulator(FixedResponder(NOT_PAR), models=(model,))
    await fill(db, ["a prompt", "another prompt"])
    events: list[WorkEvent] = []
    settings = make_settings(
        db, emu.endpoint, model=model, price_in=2.0, price_out=4.0, price_cache_read=0.5
    )
    summary = await work_on(settings, tuning=FAST, display=quiet_display(), on_event=events.append)
    assert summary.processed == 2
    warnings = [e.message for e in events if e.kind == "warning"]
    assert any("not in the catalogue" in w and "--price-in $2" in w for w in warnings)
    stats = emu.stats()
    expected = (stats["input_tokens"] * 2.0 + stats["output_tokens"] * 4.0) / 1e6
    assert abs(summary.cost_usd - expected) < 1e-12
    assert stats["cache_read_tokens"] == 0  # no cache point for an unknown model


def test_the_papers_model_is_one_line_of_end_of_life(db: Path, capsys: Any) -> None:
    import asyncio

    from parallelprompt.cli import main

    asyncio.run(fill(db, ["a prompt"]))
    model = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
    argv = ["work", "--db", str(db), "--model", model, "--endpoint-url", "http://127.0.0.1:9"]
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "reached end of life on Bedrock on 2026-06-19" in err[0]
    assert "Traceback" not in err[0]


async def test_invoke_model_caches_too(db: Path, emulator: Any) -> None:
    emu = await emulator(FixedResponder(NOT_PAR))
    await fill(db, [f"prompt number {i}" for i in range(4)])
    settings = make_settings(db, emu.endpoint, api="invoke", concurrency=1)
    summary = await work_on(settings, tuning=FAST, display=quiet_display())
    assert summary.processed == 4 and emu.stats()["by_api"] == {"invoke": 4}
    assert rows(
        db, "SELECT sum(cache_read_tokens > 0), sum(cache_write_tokens > 0) FROM results"
    ) == [(3, 1)]
    assert emu.stats()["thinking_tokens"] == 0
