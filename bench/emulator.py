"""Benchmark of the Bedrock emulator: throughput, and quota admission under overload.

    .venv/bin/python bench/emulator.py            # both parts, about 75 s
    .venv/bin/python bench/emulator.py --help

The emulator runs in its own process (``parallelprompt emulator``); the load client is a plain
aiohttp client in this process. All traffic goes to 127.0.0.1 and is bounded in count and time.

1. Throughput: zero latency, no quota, unique prompts answered by the heuristic responder; the
   target is >= 1,500 Converse requests/s on a 2-core machine.
2. Admission: a quota of R requests/min and an offered load of ``--offered-factor`` x R.
   A full bucket would admit one burst on top of R, so the emulator runs with its buckets
   starting empty (``--initial-fill 0``) and the first ``--window`` seconds after a reset are
   counted, scaled to a minute; the next window (steady state) is printed too. The target is
   0.97 R <= admitted/min <= 1.0 R. A window shorter than a minute with a scaled R keeps the
   run short; the arithmetic is the same at any scale.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and shadow the emulator
# package with this very module: put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import aiohttp  # noqa: E402
import orjson  # noqa: E402

from parallelprompt.emulator.process import spawn  # noqa: E402
from parallelprompt.emulator.server import EmulatorOptions  # noqa: E402
from parallelprompt.emulator.settings import EmulatorSettings  # noqa: E402

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
HEADERS = {
    "Content-Type": "application/json",
    # Any SigV4-looking header passes; the emulator only checks that there is one.
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/bedrock/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0",
}
SYSTEM = "You decide whether a prompt is parallelizable and answer in JSON."
PROMPTS = [
    "Give me {i} slogans for a bakery",
    "Translate these sentences into French: good morning ({i}); see you soon; thank you.",
    "Answer the questions about the passage {i}: 1. Who? 2. Where? 3. When?",
    "Write a short poem about the number {i}",
    "Extract the keywords from: the {i} quick brown foxes jump over the lazy dog",
]


def body(i: int) -> bytes:
    prompt = PROMPTS[i % len(PROMPTS)].format(i=i)
    return orjson.dumps(
        {
            "system": [{"text": SYSTEM}],
            "messages": [{"role": "user", "content": [{"text": prompt}]}],
            "inferenceConfig": {"maxTokens": 512, "temperature": 0.2},
        }
    )


@dataclass
class Tally:
    statuses: Counter[int]
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


async def closed_loop(endpoint: str, concurrency: int, seconds: float, limit: int) -> Tally:
    """``concurrency`` clients sending back to back for ``seconds`` (at most ``limit`` calls)."""
    url = f"{endpoint}/model/{MODEL}/converse"
    bodies = [body(i) for i in range(limit)]  # unique prompts: no answer is cached
    statuses: Counter[int] = Counter()
    next_i = 0
    deadline = time.monotonic() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal next_i
        while time.monotonic() < deadline and next_i < limit:
            data, next_i = bodies[next_i], next_i + 1
            async with session.post(url, data=data, headers=HEADERS) as resp:
                await resp.read()
                statuses[resp.status] += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.monotonic()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        return Tally(statuses, time.monotonic() - started)


async def admitted_at(session: aiohttp.ClientSession, endpoint: str) -> tuple[float, int]:
    """(the emulator's clock, requests admitted since the reset) from its stats."""
    async with session.get(f"{endpoint}/_emulator/stats") as resp:
        result = await resp.json()
        return float(result["clock"]), int(result["admitted"])


@dataclass
class Admission:
    first_window: tuple[int, float]  # (admitted, seconds) from an empty bucket
    steady_window: tuple[int, float]  # (admitted, seconds) right after it


async def offer(
    session: aiohttp.ClientSession, url: str, rate: float, limit: int, stop: asyncio.Event
) -> Counter[int]:
    """Send at a steady ``rate`` per second (open loop) until ``stop`` or ``limit`` calls."""
    statuses: Counter[int] = Counter()
    tasks: set[asyncio.Task[None]] = set()

    async def one(i: int) -> None:
        async with session.post(url, data=body(i), headers=HEADERS) as resp:
            await resp.read()
            statuses[resp.status] += 1

    started = time.monotonic()
    for i in range(limit):
        if stop.is_set():
            break
        await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
        task = asyncio.create_task(one(i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return statuses


async def measure_admission(endpoint: str, rpm: float, factor: float, window: float) -> Admission:
    """Offer ``factor`` x rpm; count admissions over two consecutive windows.

    The first window starts at a reset, with the buckets empty (the emulator runs with
    ``--initial-fill 0``), so nothing but the refill can be admitted in it. The second follows
    at once, in steady state; its count can be off by one request (the bucket's level at the
    two ends), which is within 1/(R x window/60) of R.
    """
    url = f"{endpoint}/model/{MODEL}/converse"
    rate = rpm / 60.0 * factor
    stop = asyncio.Event()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:
        async with session.post(f"{endpoint}/_emulator/reset") as resp:
            t0 = float((await resp.json())["clock"])
        load = asyncio.create_task(offer(session, url, rate, int(rate * (2 * window + 10)), stop))
        await asyncio.sleep(window)
        t1, n1 = await admitted_at(session, endpoint)
        await asyncio.sleep(window)
        t2, n2 = await admitted_at(session, endpoint)
        stop.set()
        await load
    return Admission((n1, t1 - t0), (n2 - n1, t2 - t1))


def throughput(args: argparse.Namespace) -> float:
    settings = EmulatorSettings(port=0, answer_style="exact")
    with spawn(settings) as endpoint:
        # A short warm-up (connections, imports), then the measured run.
        asyncio.run(closed_loop(endpoint, args.concurrency, 1.0, 2000))
        tally = asyncio.run(closed_loop(endpoint, args.concurrency, args.seconds, args.max_calls))
    rate = tally.total / tally.seconds
    ok = tally.statuses.get(200, 0)
    print(
        f"throughput: {tally.total} Converse calls in {tally.seconds:.1f} s = {rate:,.0f} req/s "
        f"({ok} answered, {args.concurrency} concurrent clients, zero latency, no quota) "
        f"— target >= 1,500: {'PASS' if rate >= 1500 else 'FAIL'}"
    )
    return rate


def admission(args: argparse.Namespace) -> float:
    settings = EmulatorSettings(
        port=0, answer_style="exact", rpm=args.rpm, burst_seconds=args.burst_seconds
    )
    with spawn(settings, EmulatorOptions(initial_fill=0.0)) as endpoint:
        result = asyncio.run(
            measure_admission(endpoint, args.rpm, args.offered_factor, args.window)
        )
    ratios = []
    for label, (admitted, seconds) in (
        ("first window, empty bucket", result.first_window),
        ("next window, steady state", result.steady_window),
    ):
        per_minute = admitted * 60.0 / seconds
        ratios.append(per_minute / float(args.rpm))
        print(
            f"admission ({label}): R = {args.rpm:g}/min, offered {args.offered_factor:g} x R: "
            f"{admitted} admitted in {seconds:.2f} s = {per_minute:.1f}/min = {ratios[-1]:.4f} R"
        )
    ratio = ratios[0]
    verdict = "PASS" if 0.97 <= ratio <= 1.0 else "FAIL"
    print(f"admission: {ratio:.4f} R from an empty bucket — target 0.97..1.0 R: {verdict}")
    return ratio


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=10.0, help="throughput run length")
    p.add_argument("--concurrency", type=int, default=64, help="throughput client connections")
    p.add_argument("--max-calls", type=int, default=100_000, help="throughput call cap")
    p.add_argument("--rpm", type=float, default=600.0, help="quota R for the admission run")
    p.add_argument("--burst-seconds", type=float, default=60.0, help="quota bucket capacity")
    p.add_argument("--offered-factor", type=float, default=3.0, help="offered load / R")
    p.add_argument("--window", type=float, default=30.0, help="admission window, seconds")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-admission", action="store_true")
    args = p.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print("the emulator's answers are heuristics, not a model's")
    ok = True
    if not args.skip_throughput:
        ok &= throughput(args) >= 1500
    if not args.skip_admission:
        ok &= 0.97 <= admission(args) <= 1.0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
