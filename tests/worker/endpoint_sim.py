"""A simulated endpoint and client on a simulated clock, to test the limiter's control law.

The endpoint behaves like Bedrock (and our emulator): a requests bucket refilled at the real
quota and holding ``burst_s`` of it, throttles answered at once and costing no quota, random
throttles at a fixed share whatever the rate, answers after ``latency_s``. The client sends
whenever the limiter lets it and fewer than ``concurrency`` calls are in flight. Nothing
sleeps: time jumps from event to event.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

from parallelprompt.worker.limiter import Limiter, Reservation

THROTTLE_RTT_S = 0.01
RETRY_BASE_S = 0.5  # the pool's first backoff after a throttle: uniform(0, 0.5 s)


@dataclass
class Endpoint:
    quota_rpm: float | None = None  # None: no quota
    burst_s: float = 5.0
    noise: float = 0.0  # share of calls throttled at random
    latency_s: float = 0.5
    seed: int = 1


@dataclass
class Second:
    sent: int = 0
    admitted: int = 0
    throttled: int = 0
    multiplier: float = 0.0


@dataclass
class Trace:
    seconds: list[Second] = field(default_factory=list)

    def span(self, start: int, end: int) -> Second:
        total = Second()
        part = self.seconds[start:end]
        for s in part:
            total.sent += s.sent
            total.admitted += s.admitted
            total.throttled += s.throttled
        total.multiplier = sum(s.multiplier for s in part) / max(1, len(part))
        return total


def simulate(limiter: Limiter, endpoint: Endpoint, seconds: int, concurrency: int = 10**6) -> Trace:
    rng = random.Random(endpoint.seed)
    rate = (endpoint.quota_rpm or 0.0) / 60.0
    capacity = rate * endpoint.burst_s
    level, level_at = capacity, 0.0
    pending: list[tuple[float, int, Reservation, bool]] = []
    busy: list[float] = []  # when each call's slot frees: a throttled call backs off first
    trace = Trace([Second() for _ in range(seconds)])
    now, seq = 0.0, 0
    limiter.now = limiter.last_grow = 0.0
    while now < seconds:
        while pending and pending[0][0] <= now:
            at, _, res, throttled = heapq.heappop(pending)
            if throttled:
                limiter.refund(res, at)
                limiter.on_throttle(res, at)
            else:
                limiter.settle(res, 1, at)
                limiter.on_success(res, at)
        second = trace.seconds[int(now)]
        second.multiplier = limiter.multiplier
        while busy and busy[0] <= now:
            heapq.heappop(busy)
        wait = limiter.wait_time(1, now)
        if wait <= 0 and len(busy) < concurrency:
            res = limiter.take(1, now)
            second.sent += 1
            seq += 1
            if endpoint.quota_rpm is not None:
                level = min(capacity, level + (now - level_at) * rate)
                level_at = now
            noise = rng.random() < endpoint.noise
            if noise or (endpoint.quota_rpm is not None and level < 1.0):
                throttled = True
            else:
                throttled = False
                if endpoint.quota_rpm is not None:
                    level -= 1.0
                second.admitted += 1
            second.throttled += throttled
            done = now + (THROTTLE_RTT_S if throttled else endpoint.latency_s)
            heapq.heappush(pending, (done, seq, res, throttled))
            heapq.heappush(busy, done + (rng.uniform(0, RETRY_BASE_S) if throttled else 0.0))
            continue
        step = wait if wait > 0 else float("inf")
        if pending:
            step = min(step, pending[0][0] - now)
        if busy and len(busy) >= concurrency:
            step = min(step, busy[0] - now)
        now += max(step, 1e-4)
    return trace
