"""Scaling the worker fleet: 1, 2 and 4 ``parallelprompt work`` processes on one SQLite file.

    .venv/bin/python -m bench.scale            # about 5 minutes
    .venv/bin/python -m bench.scale --quick    # shorter windows, about 2 minutes
    .venv/bin/python -m bench.scale --only throughput

Run it as a module: run by path, ``bench/worker.py`` would shadow the ``worker`` package.

Two tables, every process separate (the emulator in its own process, each worker in its own),
all on 127.0.0.1, dummy credentials, the real aioboto3 client and a real SQLite file:

throughput
    The emulator at a fixed latency (200 ms) with no quota; each worker ``--concurrency 32``
    and a fleet quota far above demand. Prompts/s written to the DB over a window that opens
    once every worker is registered and a short warm-up has passed. The ideal is Little's
    law: processes x concurrency / latency. On a small machine the CPU, not the latency,
    ends the scaling: the table shows the CPU time the emulator and the workers used over
    the window, in cores.

quota
    A binding quota: 600 requests/min on the emulator (its bucket holding 5 s of quota, so
    that over-sending is throttled quickly) and ``--rpm 600`` as the workers' fleet setting.
    For 1, 2 and 4 processes: requests sent and admitted per minute against the quota, the
    share throttled, over a steady-state window, and what the fleet sent over the whole run
    counted from its first request (start-up and peers joining included).

Only requests/min is exercised; ``--tpm`` is set far above demand on both sides.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench.worker import fill, start_worker, stats, stop, throttled, wait_first_request
from parallelprompt.db.probe import result_count, running_workers
from parallelprompt.emulator.process import spawn
from parallelprompt.emulator.settings import EmulatorSettings


@dataclass(frozen=True)
class Sample:
    """One reading of the emulator's counters and the DB's results, at one instant."""

    at: float  # this process's monotonic clock
    emu_clock: float
    requests: int
    admitted: int
    answered: int
    throttled: int
    results: int


def sample(endpoint: str, db: Path) -> Sample:
    s = stats(endpoint)
    return Sample(
        at=time.monotonic(),
        emu_clock=float(s["clock"]),
        requests=int(s["requests"]),
        admitted=int(s["admitted"]),
        answered=int(s["answered"]),
        throttled=throttled(s),
        results=result_count(db),
    )


def wait_registered(db: Path, procs: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while running_workers(db) < procs:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {running_workers(db)} of {procs} workers registered")
        time.sleep(0.05)


@contextmanager
def scratch(prompts: int) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        db = Path(tmp) / "scale.db"
        fill(db, prompts)
        yield db


@contextmanager
def fleet(db: Path, endpoint: str, procs: int, flags: Sequence[str]) -> Iterator[None]:
    workers = [start_worker(db, endpoint, *flags) for _ in range(procs)]
    try:
        yield
    finally:
        stop(workers)


@dataclass(frozen=True)
class Window:
    first: Sample  # at the fleet's first request
    start: Sample
    end: Sample
    cores: float  # CPU used by the emulator and the workers over the window, in cores

    @property
    def seconds(self) -> float:
        return self.end.emu_clock - self.start.emu_clock

    def per_minute(self, field: str, since: Sample | None = None) -> float:
        a = since or self.start
        span = self.end.emu_clock - a.emu_clock
        counted: int = getattr(self.end, field) - getattr(a, field)
        return counted / span * 60.0


def cpu_seconds(procs: Sequence[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def measure(db: Path, endpoint: str, procs: int, warmup: float, window: float) -> Window:
    """Wait for the first request and for every worker, warm up, then read one window."""
    wait_first_request(endpoint, timeout=60)
    first = sample(endpoint, db)
    wait_registered(db, procs)
    time.sleep(warmup)
    ours = psutil.Process().children(recursive=True)  # the emulator and the workers
    cpu0 = cpu_seconds(ours)
    start = sample(endpoint, db)
    time.sleep(window)
    end = sample(endpoint, db)
    cores = (cpu_seconds(ours) - cpu0) / (end.at - start.at)
    return Window(first, start, end, cores)


# -- the two tables -------------------------------------------------------------------------


def throughput(counts: Sequence[int], latency_ms: float, concurrency: int, window: float) -> None:
    warmup = 3.0
    print(
        f"\nthroughput: emulator latency {latency_ms:g} ms, no quota; each worker "
        f"--concurrency {concurrency}, fleet --rpm 1e9; window {window:g} s after {warmup:g} s "
        "of warm-up\n"
    )
    print(
        "| processes | prompts/s | speed-up | calls/s | ideal (procs x conc / latency) "
        "| of ideal | CPU used (cores) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    emu = EmulatorSettings(port=0, answer_style="exact", latency_ms=latency_ms)
    base: float | None = None
    for procs in counts:
        ideal = procs * concurrency / (latency_ms / 1000.0)
        prompts = math.ceil(ideal * (warmup + window + 20) * 1.2) + 500
        flags = ("--rpm", "1e9", "--concurrency", str(concurrency))
        with scratch(prompts) as db, spawn(emu) as endpoint, fleet(db, endpoint, procs, flags):
            w = measure(db, endpoint, procs, warmup, window)
            if w.end.results >= prompts:
                print(f"  (warning: the queue drained during the window at {procs} processes)")
        rate = (w.end.results - w.start.results) / (w.end.at - w.start.at)
        calls = w.per_minute("answered") / 60.0
        base = base or rate
        print(
            f"| {procs} | {rate:,.0f} | {rate / base:.2f}x | {calls:,.0f} | {ideal:,.0f} "
            f"| {rate / ideal:.0%} "
            f"| {w.cores:.2f} |",
            flush=True,
        )
    print(
        "\n(speed-up: prompts/s over the first row's; CPU used: the emulator's and the "
        f"workers' CPU time over the window, of {os.cpu_count()} cores; load average now "
        f"{os.getloadavg()[0]:.2f})"
    )


def quota(counts: Sequence[int], rpm: float, latency_ms: float, window: float) -> None:
    warmup = 5.0
    print(
        f"\nquota: emulator {rpm:g} requests/min (5 s bucket), latency {latency_ms:g} ms; "
        f"workers --rpm {rpm:g} (the fleet's), --concurrency 32; window {window:g} s after "
        f"{warmup:g} s of warm-up\n"
    )
    print(
        "| processes | sent/min | admitted/min | admitted / quota | throttled "
        "| whole run: sent / quota |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    emu = EmulatorSettings(
        port=0, answer_style="exact", rpm=rpm, latency_ms=latency_ms, burst_seconds=5
    )
    for procs in counts:
        prompts = math.ceil(rpm / 60 * (warmup + window + 20) * 1.5) + 200
        flags = ("--rpm", str(rpm), "--concurrency", "32")
        with scratch(prompts) as db, spawn(emu) as endpoint, fleet(db, endpoint, procs, flags):
            w = measure(db, endpoint, procs, warmup, window)
        sent = w.per_minute("requests")
        admitted = w.per_minute("admitted")
        thr = (w.end.throttled - w.start.throttled) / max(1, w.end.requests - w.start.requests)
        whole = w.per_minute("requests", since=w.first)
        print(
            f"| {procs} | {sent:,.0f} | {admitted:,.0f} | {admitted / rpm:.3f} | {thr:.2%} "
            f"| {whole / rpm:.3f} |",
            flush=True,
        )


def machine() -> str:
    mem = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} cores, {mem:.0f} GiB, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="8 s / 20 s windows instead of 20 / 60")
    p.add_argument("--only", choices=("throughput", "quota"), help="one table only")
    p.add_argument("--procs", nargs="+", type=int, default=[1, 2, 4], metavar="N")
    p.add_argument("--latency-ms", type=float, default=200.0)
    p.add_argument("--concurrency", type=int, default=32, help="per worker (throughput table)")
    p.add_argument("--rpm", type=float, default=600.0, help="the binding quota (quota table)")
    args: Any = p.parse_args(argv)
    print(f"bench.scale on {machine()}", flush=True)
    if args.only in (None, "throughput"):
        throughput(args.procs, args.latency_ms, args.concurrency, 8.0 if args.quick else 20.0)
    if args.only in (None, "quota"):
        quota(args.procs, args.rpm, args.latency_ms, 20.0 if args.quick else 60.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
