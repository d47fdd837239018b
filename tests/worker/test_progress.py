"""Live progress: correct counts, every JSON line JSON with ``ts``, the bar on a terminal; and
the ``estimate`` against what a run then measures on the emulator."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from parallelprompt.catalogue import lookup
from parallelprompt.cli import estimate_for
from parallelprompt.db import connect_sync
from parallelprompt.emulator.process import spawn
from parallelprompt.results.stats import compute_stats
from parallelprompt.settings import CommonSettings, EmulatorSettings, IngestSettings
from parallelprompt.worker.metrics import Counters
from parallelprompt.worker.progress import Display, RateMeter, Snapshot, queue_progress, snapshot
from tests.producer.conftest import ingest_on
from tests.worker.conftest import FAST, fill, make_settings, work_on
from tests.worker.procs import start_worker, worker_env


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _counters(**queue: int) -> Counters:
    c = Counters(started=0.0)
    c.queue = dict(queue)
    return c


def test_done_plus_left_is_the_queue_at_every_moment() -> None:
    c = _counters(ready=1_950, leased=50, done=0, dead=0)
    c.done_at_queue_read = 0
    # this worker then finishes 50 prompts before the next read of the queue's counts
    c.outcomes["high_confidence"] += 45
    c.outcomes["dead"] += 5
    n, total = queue_progress(c)
    assert (n, total) == (50, 2_000)
    snap = snapshot(c, RateMeter(0.0, start=0), None, now=10.0)
    assert snap.n + snap.left == 2_000  # type: ignore[operator]
    assert snap.percent == pytest.approx(2.5)
    assert snap.rate == pytest.approx(5.0)
    assert snap.eta_s == pytest.approx(1_950 / 5.0)
    # the next read: the DB now has them; nothing is counted twice
    c.queue = {"ready": 1_900, "leased": 50, "done": 45, "dead": 5}
    c.done_at_queue_read = c.done
    assert queue_progress(c) == (50, 2_000)


def test_snapshot_line_has_everything_a_long_job_needs() -> None:
    c = _counters(ready=500, leased=100, done=400)
    c.done_at_queue_read = 400
    c.outcomes.update({"high_confidence": 390, "dead": 10})
    c.requests.update({"ok": 390, "throttled": 7, "server_error": 3})
    c.throttled = 7
    c.cost_usd = 4.0
    snap = snapshot(c, RateMeter(0.0, start=0), 1000.0, now=100.0)
    line = snap.line()
    for part in (
        "400/1,000 (40.0%)",
        "elapsed 1m40s",
        "ETA 2m30s",
        "4.0 prompts/s",
        "$4.0000 (~$10.00 projected)",
        "dead 10",
        "failed calls 3",
        "throttled 7",
    ):
        assert part in line
    record = snap.as_dict()
    assert record["n"] + record["left"] == record["total"] == 1_000
    assert record["projected_cost_usd"] == 10.0


def test_live_mode_draws_a_bar_and_logs_above_it() -> None:
    stream = FakeTty()
    display = Display(stream, "auto", quiet=False)
    assert display.mode == "live"
    snap = Snapshot(
        n=600,
        total=1_000,
        done=600,
        dead=2,
        failed_calls=1,
        throttled=3,
        rate=10.0,
        elapsed_s=60.0,
        input_tokens=1,
        output_tokens=1,
        cost_usd=1.5,
        in_flight=4,
        limiter_rpm=None,
    )
    display.progress(snap)
    display.log("warning", "something to say")
    display.end_live()
    out = stream.getvalue()
    assert "60%|" in out
    assert "600/1000" in out
    assert "$1.5000 (~$2.50 projected)" in out
    assert "throttled 3" in out
    assert "warning: something to say" in out


@pytest.mark.parametrize("mode", ["json", "text"])
async def test_a_run_logs_correct_counts(db: Path, emulator: Any, mode: str) -> None:
    prompts = [f"Give me {i % 7 + 2} slogans for shop number {i}" for i in range(120)]
    await fill(db, prompts)
    emu = await emulator(latency_ms=5.0)
    settings = make_settings(db, emu.endpoint, concurrency=4, backend="emulator")
    stream = io.StringIO()
    display = Display(stream, mode, quiet=False, interval_s=0.05)
    summary = await work_on(settings, tuning=FAST, display=display)
    assert summary.processed == 120
    lines = stream.getvalue().splitlines()
    if mode == "text":
        progress = [line for line in lines if line.startswith("progress: ")]
        assert progress[-1].startswith("progress: 120/120 (100.0%)")
        return
    records = [orjson.loads(line) for line in lines]  # every line is JSON
    for record in records:
        datetime.fromisoformat(record["ts"])
    progress = [r for r in records if r["event"] == "progress"]
    assert progress, records
    for r in progress:
        assert r["n"] + r["left"] == r["total"] == 120
    assert progress[-1]["n"] == 120
    assert {"started", "progress"} <= {r["event"] for r in records}


async def test_estimate_is_within_15_percent_of_an_emulator_run(
    tmp_path: Path, emulator: Any
) -> None:
    """The bundled sample: estimate first, then classify it on the emulator (its model-like
    answers, the prompt cache) and compare cost and tokens; and the time at a quota against
    the same rate model applied to the tokens the run used."""
    db = tmp_path / "sample.db"
    base = make_settings(db, None)
    settings = dataclasses.replace(
        base, common=CommonSettings(db=db, quiet=True), ingest=IngestSettings()
    )
    await ingest_on(settings, progress=False)
    rpm, tpm = 600.0, 200_000.0
    at_quota = dataclasses.replace(
        settings, worker=dataclasses.replace(settings.worker, rpm=rpm, tpm=tpm)
    )
    est, levers = estimate_for(at_quota)
    assert est["basis"] == "defaults"
    # the configured setup: prompt cache on, max_tokens sized per call (the defaults)
    assert settings.worker.prompt_cache and settings.contract.size_max_tokens
    configured = next(row for row in levers if row.name.startswith("+ max_tokens sized"))

    emu = await emulator(answer_style="realistic")  # what `parallelprompt run` uses
    run = dataclasses.replace(
        settings,
        worker=dataclasses.replace(settings.worker, endpoint_url=emu.endpoint, backend="emulator"),
    )
    summary = await work_on(run, tuning=FAST, display=Display(io.StringIO(), "text", quiet=True))
    assert summary.processed == est["pending_prompts"]
    cache = compute_stats(connect_sync(db))["cache"]

    def close(estimated: float, measured: float) -> bool:
        return abs(estimated - measured) <= 0.15 * measured

    assert close(configured.cost_usd, summary.cost_usd), (configured, summary.cost_usd)
    used_in = cache["input_tokens"] + cache["read_tokens"] + cache["write_tokens"]
    assert close(est["input_tokens"], used_in), (est["input_tokens"], used_in)
    assert close(est["output_tokens"], cache["output_tokens"])
    # Bedrock settles input + cache writes + output x burndown (cache reads left out)
    info = lookup(settings.worker.model)
    assert info is not None
    settled = cache["input_tokens"] + cache["write_tokens"]
    settled += cache["output_tokens"] * info.output_burndown
    measured_minutes = max(summary.requests / rpm, settled / tpm)
    assert settled / tpm > summary.requests / rpm  # the token quota binds: tokens are tested
    assert configured.minutes is not None
    assert close(configured.minutes, measured_minutes), (configured.minutes, measured_minutes)


@pytest.mark.slow
def test_json_log_mode_every_line_of_a_worker_process_is_json_with_ts(db: Path) -> None:
    """What docker compose runs (PARALLELPROMPT_LOG_FORMAT=json): stdout and stderr."""
    asyncio.run(fill(db, [f"List {i % 5 + 2} ideas for party number {i}" for i in range(30)]))
    with spawn(EmulatorSettings(port=0)) as endpoint:
        flags = ("--no-quiet", "--log-format", "json", "--backend", "emulator")
        proc = start_worker(db, endpoint, *flags)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    logs = [orjson.loads(line) for line in err.splitlines() if line.strip()]
    (summary,) = [orjson.loads(line) for line in out.splitlines() if line.strip()]
    records = [*logs, summary]
    for record in records:
        datetime.fromisoformat(record["ts"])
    events = [r["event"] for r in logs]
    assert "started" in events and "progress" in events and summary["event"] == "summary"
    assert summary["processed"] == 30 and summary["outcomes"]["dead"] == 0
    final = [r for r in records if r["event"] == "progress"][-1]
    assert final["n"] == final["total"] == 30 and final["left"] == 0


def test_json_log_mode_error_line(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    proc = subprocess.run(
        [sys.executable, "-m", "parallelprompt", "work", "--db", str(typo), "--log-format", "json"],
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    record = orjson.loads(line)
    assert record["event"] == "error" and "no database at" in record["message"]
    datetime.fromisoformat(record["ts"])
    assert not typo.exists()
