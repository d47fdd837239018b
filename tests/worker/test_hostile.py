"""Issue 11: hostile answers among ordinary ones never crash a worker or lose a paid answer;
a junk HTTP 200 is never a model's answer; the budget counts the spend of a killed worker."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from parallelprompt.emulator import ScriptedResponder
from parallelprompt.emulator.process import spawn
from parallelprompt.settings import EmulatorSettings
from parallelprompt.worker import StopReason
from tests.answers import answer
from tests.worker.conftest import work_on

from .conftest import FAST, fill, make_settings, quiet_display
from .procs import emulator_stats, start_worker, wait_for

ORDINARY = answer(parallelizable=False, serial="x")
HOSTILE = {
    "write 10^20 poems": '{"parallelizable": true, "category": "Repeated Generation", '
    '"template": "Write a poem", "n": 100000000000000000000}',
    "write 1e20 poems": '{"parallelizable": true, "category": "Repeated Generation", '
    '"template": "Write a poem", "n": 1e20}',
    "write 2**63 poems": '{"parallelizable": true, "category": "Repeated Generation", '
    '"template": "Write a poem", "n": 9223372036854775808}',
    "surrogate template": '{"parallelizable": true, "category": "Repeated Generation", '
    '"template": "Write \\ud800 poem", "n": 3}',
    "surrogate data": '{"parallelizable": true, "category": "Translation", '
    '"template": "Translate {data}", "data": ["a\\udc00", "b"]}',
    "surrogate in the text itself": ORDINARY + " \ud800",
    "surrogate description": '{"parallelizable": true, "category": "Something new", '
    '"is_novel_category": true, "category_description": "\\udfff", "n": 3, '
    '"template": "Do it"}',
}


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def test_hostile_answers_among_ordinary_ones_are_all_stored(db: Path, emulator: Any) -> None:
    ordinary = [f"ordinary prompt {i}" for i in range(30)]
    script = {**HOSTILE, **dict.fromkeys(ordinary, ORDINARY)}
    emu = await emulator(ScriptedResponder(script))
    await fill(db, [*ordinary[:15], *HOSTILE, *ordinary[15:]])
    summary = await work_on(
        make_settings(db, emu.endpoint, flush_rows=1000, flush_ms=60_000),
        tuning=FAST,
        display=quiet_display(),
    )
    assert summary.stop_reason is StopReason.DRAINED and summary.exit_code == 0
    assert summary.processed == 37
    assert rows(db, "SELECT status, count(*) FROM work GROUP BY status") == [("done", 37)]
    got = {
        prompt: (outcome, reason)
        for prompt, outcome, reason in rows(
            db,
            "SELECT w.prompt, v.outcome, v.reason FROM work w JOIN results r ON r.work_id = w.id "
            "JOIN verdicts v ON v.result_id = r.id",
        )
    }
    assert len(got) == 37
    assert got["surrogate in the text itself"] == ("not_parallelizable", None)
    (raw,) = rows(
        db,
        "SELECT r.raw_text FROM results r JOIN work w ON w.id = r.work_id "
        "WHERE w.prompt = 'surrogate in the text itself'",
    )
    assert raw == (ORDINARY + " \ufffd",)
    for prompt in ("write 10^20 poems", "write 1e20 poems", "write 2**63 poems"):
        assert got[prompt] == ("failed", "n_invalid")
    (template,) = rows(
        db,
        "SELECT t.template FROM verdicts v JOIN results r ON r.id = v.result_id "
        "JOIN verdict_texts t ON t.result_id = v.result_id AND t.profile = v.profile "
        "JOIN work w ON w.id = r.work_id WHERE w.prompt = 'surrogate template'",
    )
    assert template == ("Write \ufffd poem",)
    assert all(got[p] == ("not_parallelizable", None) for p in ordinary)


@pytest.mark.slow
def test_the_budget_counts_the_calls_of_a_killed_worker(db: Path) -> None:
    """A worker that paid for answers and died before writing them: the next worker sees the
    spend and stays within the budget ($0.057 against $0.02 in the issue's reproduction)."""
    asyncio.run(fill(db, [f"prompt number {i}" for i in range(200)]))
    with spawn(EmulatorSettings(port=0, latency_ms=50)) as endpoint:
        first = start_worker(
            db, endpoint, "--concurrency", "4", "--flush-rows", "100000", "--flush-ms", "600000"
        )
        wait_for(lambda: emulator_stats(endpoint)["answered"] >= 40, 30, "40 answers")
        wait_for(
            lambda: rows(db, "SELECT max(spent_usd) FROM workers")[0][0] > 0.0,
            30,
            "the first worker's spend recorded",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert rows(db, "SELECT count(*) FROM results") == [(0,)]
        (spent,) = rows(db, "SELECT sum(spent_usd) FROM workers")[0]
        before = emulator_stats(endpoint)["answered"]
        second = start_worker(db, endpoint, "--max-cost-usd", f"{spent * 0.9:.6f}")
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
        assert "budget" in out
        assert emulator_stats(endpoint)["answered"] == before  # not one more paid call


HTML = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"


@pytest.fixture
async def junk_endpoint() -> Any:
    """A real HTTP server that answers every request 200 with an HTML page (a wrong URL, a
    proxy's login page)."""
    from aiohttp import web

    calls = {"n": 0}

    async def page(request: web.Request) -> web.Response:
        calls["n"] += 1
        await request.read()
        return web.Response(body=HTML, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", calls
    await runner.cleanup()


@pytest.mark.parametrize("api", ["converse", "invoke"])
async def test_a_junk_200_is_an_error_never_the_models_answer(
    db: Path, junk_endpoint: Any, api: str
) -> None:
    endpoint, calls = junk_endpoint
    await fill(db, [f"prompt number {i}" for i in range(20)])
    summary = await work_on(
        make_settings(db, endpoint, api=api, max_attempts=8),
        tuning=FAST,
        display=quiet_display(),
    )
    assert summary.stop_reason is StopReason.FATAL and summary.exit_code == 2
    assert "not a Bedrock" in (summary.message or "")
    assert summary.processed == 0
    assert rows(db, "SELECT count(*) FROM results") == [(0,)]
    assert rows(db, "SELECT status, count(*) FROM work GROUP BY status") == [("ready", 20)]
    assert calls["n"] >= 3  # retried before giving up


async def test_junk_200s_among_answers_are_retried(db: Path, emulator: Any) -> None:
    """One junk body now and then (a flaky proxy) is retried like a 5xx, never stored."""
    emu = await emulator(ScriptedResponder(lambda prompt: ORDINARY), faults="hostile=0.2", seed=3)
    await fill(db, [f"prompt number {i}" for i in range(60)])
    summary = await work_on(
        make_settings(db, emu.endpoint, max_attempts=12), tuning=FAST, display=quiet_display()
    )
    assert summary.stop_reason is StopReason.DRAINED
    assert emu.stats()["faults"]["hostile"] > 0
    assert rows(db, "SELECT status, count(*) FROM work GROUP BY status") == [("done", 60)]
    (empty,) = rows(
        db, "SELECT count(*) FROM verdicts WHERE outcome = 'unparseable' AND reason = 'empty'"
    )
    assert empty == (0,)


DEEP = "[" * 100_000 + "]" * 100_000
MORE_HOSTILE = {
    "deeply nested data": '{"parallelizable": true, "category": "Translation", '
    f'"template": "Translate {{data}}", "data": {DEEP}}}',
    "deeply nested answer": DEEP,
    "ten megabytes": '{"parallelizable": true, "category": "Translation", '
    '"template": "Translate {data}", "data": ["a", "' + "b" * 10_000_000 + '"]}',
    "nul escapes": '{"parallelizable": true, "category": "Translation", '
    '"template": "Translate \\u0000 {data}", "data": ["a\\u0000", "b"]}',
    "raw nul": ORDINARY + "\x00",
    "n -1e308": '{"parallelizable": true, "category": "Repeated Generation", '
    '"template": "Write a poem", "n": -1e308}',
    "n 1e400": '{"parallelizable": true, "category": "Repeated Generation", '
    '"template": "Write a poem", "n": 1e400}',
    "n NaN": '{"parallelizable": true, "category": "Repeated Generation", '
    '"template": "Write a poem", "n": NaN}',
    "n of 5000 digits": '{"parallelizable": true, "category": "Repeated Generation", '
    '"template": "Write a poem", "n": ' + "9" * 5000 + "}",
    "100k items": '{"parallelizable": true, "category": "Translation", '
    '"template": "Translate {data}", "data": ['
    + ", ".join(f'"item {i}"' for i in range(100_000))
    + "]}",
    "repeated keys": '{"parallelizable": true, "category": "Translation", "category": 7, '
    '"template": "Translate {data}", "data": ["a", "b"], "data": null, "n": 3}',
}


async def test_more_hostile_answers_never_crash_a_worker(db: Path, emulator: Any) -> None:
    """Answers the emulator's hostile fault does not produce: JSON nested too deep for json,
    10 MB, NUL characters, n of -1e308 / 1e400 / NaN / 5000 digits, 100k items, repeated
    keys. Each ends as one stored, counted outcome; the ordinary answers around them too."""
    ordinary = [f"ordinary prompt {i}" for i in range(10)]
    script = {**MORE_HOSTILE, **dict.fromkeys(ordinary, ORDINARY)}
    emu = await emulator(ScriptedResponder(script))
    await fill(db, [*ordinary[:5], *MORE_HOSTILE, *ordinary[5:]])
    summary = await work_on(
        make_settings(db, emu.endpoint, flush_rows=1000, flush_ms=60_000),
        tuning=FAST,
        display=quiet_display(),
    )
    total = len(ordinary) + len(MORE_HOSTILE)
    assert summary.stop_reason is StopReason.DRAINED and summary.exit_code == 0
    assert summary.processed == total
    assert rows(db, "SELECT status, count(*) FROM work GROUP BY status") == [("done", total)]
    got = {
        prompt: (outcome, reason)
        for prompt, outcome, reason in rows(
            db,
            "SELECT w.prompt, v.outcome, v.reason FROM work w JOIN results r ON r.work_id = w.id "
            "JOIN verdicts v ON v.result_id = r.id",
        )
    }
    assert len(got) == total, got
    for prompt in ("n -1e308", "n 1e400", "n NaN"):
        assert got[prompt] == ("failed", "n_invalid")
    assert got["n of 5000 digits"][0] == "unparseable"
    assert got["deeply nested answer"][0] == "unparseable"
    assert got["nul escapes"] == ("failed", "items_not_in_prompt")
    assert all(got[p] == ("not_parallelizable", None) for p in ordinary)
