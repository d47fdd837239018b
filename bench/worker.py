"""Benchmarks of the worker pool, worker(s) and emulator in separate processes.

    .venv/bin/python bench/worker.py             # all five scenarios, about 4 minutes
    .venv/bin/python bench/worker.py --quick     # 20 s windows instead of 60 s
    .venv/bin/python bench/worker.py --only 2 3  # some scenarios

Each scenario fills a temporary DB with synthetic prompts, starts ``python -m emulator`` and
one or more ``python -m worker`` processes (dummy credentials, loopback only) and prints its
figure and the ratio to its target:

1. Overhead ceiling: emulator at zero latency and no quota; prompts/s end to end through
   aioboto3, claim, parse, validate and write, one worker process. Target >= 300/s.
2. Quota fill: emulator quota 1,200 requests/min, 500 ms latency; the worker configured with
   the same quota. Over the window (60 s, counted from the first request the emulator sees):
   admitted >= 95 % of the quota, <= 1 % of requests throttled.
3. Wrong ceiling: the worker configured at 2x the emulator's real quota (1,200/min). The
   emulator's buckets hold 5 s of quota (``--burst-seconds 5``; with its default of 60 s a
   full bucket would hide the wrong ceiling for a whole minute). After the first 15 s:
   admitted >= 85 % of the real quota, <= 5 % throttled.
4. Fleet: 4 worker processes sharing one configured quota of 1,200/min (emulator without a
   quota, so it counts what the fleet sends): total <= 102 % of the quota over the window.
5. Memory: peak RSS of the worker process at 256 calls in flight (3 s latency). <= 300 MB.

Only requests/min is exercised (``--tpm`` is set high on both sides): the tokens bucket uses
the same arithmetic, covered by the unit tests.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Run as a script, this file's folder would come first on sys.path and shadow the worker
# package with this very module: put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import psutil  # noqa: E402

from db import SourceRow, SqliteQueue  # noqa: E402
from emulator.process import spawn  # noqa: E402
from parallelprompt.settings import EmulatorSettings  # noqa: E402

ROOT = _HERE.parent
TEMPLATES = [
    "Give me {i} slogans for a bakery on street number {i}",
    "Translate these sentences into French: good morning ({i}); see you soon; thank you.",
    "Answer the questions about passage {i}: 1. Who wrote it? 2. Where? 3. When?",
    "Write a short poem about the number {i}",
    "Extract the keywords from: the {i} quick brown foxes jump over the lazy dog",
    "What is the square root of {i}?",
    "List 3 ideas for a birthday party for a {i} year old",
    "Correct the grammar: 'he go to school {i} times yesterday'",
]


def fill(db: Path, n: int) -> None:
    async def run() -> None:
        queue = await SqliteQueue.open(db)
        rows = []
        for i in range(n):
            text = TEMPLATES[i % len(TEMPLATES)].format(i=i)
            digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
            rows.append(SourceRow(text, digest, "bench", "train", i))
        await queue.enqueue_many(rows)
        await queue.close()

    asyncio.run(run())


def env() -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("PARALLELPROMPT_")}
    e.update(
        AWS_ACCESS_KEY_ID="AKIDBENCH",
        AWS_SECRET_ACCESS_KEY="bench-secret",
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(ROOT),
    )
    return e


def start_worker(db: Path, endpoint: str, *flags: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "worker", "--db", str(db), "--endpoint-url", endpoint]
    argv += ["--region", "us-east-1", "--quiet", "--tpm", "1e10", *flags]
    return subprocess.Popen(
        argv, env=env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def stats(endpoint: str) -> dict[str, Any]:
    with urllib.request.urlopen(endpoint + "/_emulator/stats", timeout=5) as resp:
        data: dict[str, Any] = json.loads(resp.read())
    return data


def throttled(s: dict[str, Any]) -> int:
    by = s["by_outcome"]
    return int(by.get("throttled", 0)) + int(by.get("ThrottlingException", 0))


def wait_first_request(endpoint: str, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stats(endpoint)["requests"] > 0:
            return time.monotonic()
        time.sleep(0.01)
    raise RuntimeError("the worker sent nothing")


def stop(procs: list[subprocess.Popen[str]]) -> list[str]:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    lines = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        if p.returncode not in (0, 130):
            raise RuntimeError(f"worker exited {p.returncode}: {err.strip()[-500:]}")
        lines.append(out.strip())
    return lines


@contextmanager
def scratch(n: int) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        db = Path(tmp) / "bench.db"
        fill(db, n)
        yield db


def report(name: str, figure: str, ratio: float, target: str, ok: bool) -> None:
    """``ratio`` is figure / target: >= 1 meets a floor, <= 1 meets a ceiling."""
    mark = "ok" if ok else "MISSED"
    print(f"[{name}] {figure}; figure/target {ratio:.3f} ({target}) -> {mark}", flush=True)


# -- scenarios ----------------------------------------------------------------------------


def overhead(n: int) -> None:
    with scratch(n) as db, spawn(EmulatorSettings(port=0, answer_style="exact")) as endpoint:
        started = time.monotonic()
        proc = start_worker(db, endpoint, "--rpm", "1e9", "--concurrency", "64")
        out, err = proc.communicate(timeout=600)
        wall = time.monotonic() - started
        if proc.returncode != 0:
            raise RuntimeError(err)
        found = re.search(r"\(([\d,.]+) prompts/s\)", out)
        rate = float(found.group(1).replace(",", "")) if found else 0.0
        s = stats(endpoint)
    print(f"  {out.strip()}")
    print(f"  {n} prompts, {s['requests']} requests; wall incl. interpreter start {wall:.1f} s")
    report("1 overhead", f"{rate:,.0f} prompts/s", rate / 300, ">= 300/s", rate >= 300)


def quota_fill(window: float, burst: float) -> None:
    rpm = 1200.0
    emu = EmulatorSettings(
        port=0, answer_style="exact", rpm=rpm, latency_ms=500, burst_seconds=burst
    )
    n = int(rpm / 60 * window * 1.5) + 200
    with scratch(n) as db, spawn(emu) as endpoint:
        proc = start_worker(db, endpoint, "--rpm", str(rpm), "--concurrency", "64")
        t0 = wait_first_request(endpoint)
        time.sleep(max(0.0, t0 + window - time.monotonic()))
        s = stats(endpoint)
        elapsed = time.monotonic() - t0
        stop([proc])
    quota = rpm / 60 * elapsed
    ratio = s["admitted"] / quota
    thr = throttled(s) / max(1, s["requests"])
    print(
        f"  emulator burst {burst:g} s; admitted {s['admitted']} of {quota:.0f} in "
        f"{elapsed:.1f} s; throttled {thr:.2%}"
    )
    report("2 quota fill", f"{ratio:.1%} of the quota", ratio / 0.95, ">= 95 %", ratio >= 0.95)
    report("2 quota fill", f"{thr:.2%} throttled", thr / 0.01, "<= 1 %", thr <= 0.01)


def wrong_ceiling(window: float) -> None:
    rpm = 1200.0
    warmup = 15.0
    emu = EmulatorSettings(port=0, answer_style="exact", rpm=rpm, latency_ms=500, burst_seconds=5)
    n = int(rpm / 60 * (window + warmup) * 2) + 200
    with scratch(n) as db, spawn(emu) as endpoint:
        proc = start_worker(db, endpoint, "--rpm", str(2 * rpm), "--concurrency", "64")
        t0 = wait_first_request(endpoint)
        time.sleep(max(0.0, t0 + warmup - time.monotonic()))
        a = stats(endpoint)
        ta = time.monotonic()
        time.sleep(max(0.0, t0 + warmup + window - time.monotonic()))
        b = stats(endpoint)
        elapsed = time.monotonic() - ta
        stop([proc])
    admitted = b["admitted"] - a["admitted"]
    quota = rpm / 60 * elapsed
    ratio = admitted / quota
    thr = (throttled(b) - throttled(a)) / max(1, b["requests"] - a["requests"])
    print(
        f"  after {warmup:.0f} s: admitted {admitted} of a real quota of {quota:.0f} in "
        f"{elapsed:.1f} s; throttled {thr:.2%}; first {warmup:.0f} s: {throttled(a)} throttled"
        f" of {a['requests']}"
    )
    report(
        "3 wrong ceiling", f"{ratio:.1%} of the real quota", ratio / 0.85, ">= 85 %", ratio >= 0.85
    )
    report("3 wrong ceiling", f"{thr:.2%} throttled", thr / 0.05, "<= 5 %", thr <= 0.05)


def fleet(window: float, workers: int = 4) -> None:
    rpm = 1200.0
    n = int(rpm / 60 * window * 1.5) + 400
    with (
        scratch(n) as db,
        spawn(EmulatorSettings(port=0, answer_style="exact", latency_ms=200)) as endpoint,
    ):
        flags = ("--rpm", str(rpm), "--concurrency", "32")
        procs = [start_worker(db, endpoint, *flags) for _ in range(workers)]
        t0 = wait_first_request(endpoint)
        time.sleep(max(0.0, t0 + window - time.monotonic()))
        s = stats(endpoint)
        elapsed = time.monotonic() - t0
        stop(procs)
    quota = rpm / 60 * elapsed
    ratio = s["admitted"] / quota
    print(
        f"  {workers} workers sent {s['admitted']} against a shared {quota:.0f} in {elapsed:.1f} s"
    )
    report("4 fleet", f"{ratio:.1%} of the quota", ratio / 1.02, "<= 102 %", ratio <= 1.02)


def memory(in_flight: int = 256) -> None:
    n = in_flight * 4
    with (
        scratch(n) as db,
        spawn(EmulatorSettings(port=0, answer_style="exact", latency_ms=3000)) as endpoint,
    ):
        proc = start_worker(db, endpoint, "--rpm", "1e9", "--concurrency", str(in_flight))
        ps = psutil.Process(proc.pid)
        peak, peak_flight = 0, 0
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                peak = max(peak, ps.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            peak_flight = max(peak_flight, int(stats(endpoint)["in_flight"]))
            time.sleep(0.1)
        stop([proc])
    mb = peak / 2**20
    print(f"  peak calls in flight seen by the emulator: {peak_flight}")
    report(
        "5 memory",
        f"peak RSS {mb:.0f} MB at {in_flight} in flight",
        mb / 300,
        "<= 300 MB",
        mb <= 300,
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="20 s windows instead of 60 s")
    p.add_argument("--only", nargs="+", type=int, choices=range(1, 6), metavar="N")
    p.add_argument("--prompts", type=int, default=12_000, help="prompts for scenario 1")
    p.add_argument(
        "--emulator-burst",
        type=float,
        default=EmulatorSettings().burst_seconds,
        help="scenario 2: the emulator's bucket size in seconds of quota (5: strict)",
    )
    args = p.parse_args()
    window = 20.0 if args.quick else 60.0
    chosen = set(args.only or range(1, 6))
    print(f"bench/worker.py on {os.cpu_count()} cores; window {window:.0f} s", flush=True)
    if 1 in chosen:
        overhead(args.prompts // (3 if args.quick else 1))
    if 2 in chosen:
        quota_fill(window, args.emulator_burst)
    if 3 in chosen:
        wrong_ceiling(window)
    if 4 in chosen:
        fleet(window)
    if 5 in chosen:
        memory()
    return 0


if __name__ == "__main__":
    sys.exit(main())
