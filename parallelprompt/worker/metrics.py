"""The worker's counters, their Prometheus rendering, and the /healthz + /metrics endpoint."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import orjson
from aiohttp import web

from parallelprompt.common.serving import start_app
from parallelprompt.worker.limiter import Limiter


@dataclass
class Counters:
    """Everything this process has done so far; the pool writes, the reporters read."""

    started: float = field(default_factory=time.monotonic)
    outcomes: Counter[str] = field(default_factory=Counter)  # prompts written, by outcome
    requests: Counter[str] = field(default_factory=Counter)  # model calls, by result
    retries: int = 0  # in-process retries (calls after the first, per claim)
    requeued: int = 0  # prompts sent back to the ready set with backoff
    throttled: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cut_retries: int = 0  # answers cut by max_tokens, asked again with a higher ceiling
    cost_usd: float = 0.0
    saved_usd: float = 0.0  # what prompt caching saved against uncached input
    lost_leases: int = 0  # results discarded because another worker had taken the lease
    released: int = 0  # leases given back at shutdown
    in_flight: int = 0  # model calls on the wire now
    held: int = 0  # leases held now (in flight, waiting for the limiter, or backing off)
    queue: dict[str, int] = field(default_factory=dict)  # work rows by status (refreshed)
    done_at_queue_read: int = 0  # ``done`` when ``queue`` was read (progress adds the rest)
    session_started: float | None = None  # registered in the DB as a worker of the run
    session_s: float = 0.0  # from registration to stop: the time throughput is measured over
    others_leased: int = 0  # rows leased by other workers (refreshed with ``queue``)
    others_until: float | None = None  # unix time when the last of those leases ends
    fleet_workers: int = 1

    @property
    def done(self) -> int:
        return sum(self.outcomes.values())

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def elapsed(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.started


_HELP = {
    "parallelprompt_prompts_total": ("counter", "prompts finished by this worker, by outcome"),
    "parallelprompt_requests_total": ("counter", "model calls, by result (ok or error code)"),
    "parallelprompt_retries_total": ("counter", "in-process retries of a model call"),
    "parallelprompt_requeued_total": ("counter", "prompts sent back to the queue with backoff"),
    "parallelprompt_throttled_total": ("counter", "calls refused by Bedrock's quota"),
    "parallelprompt_tokens_total": ("counter", "tokens billed, by direction"),
    "parallelprompt_cost_usd_total": ("counter", "estimated cost in USD"),
    "parallelprompt_lost_leases_total": ("counter", "results discarded: lease lost"),
    "parallelprompt_in_flight": ("gauge", "model calls on the wire"),
    "parallelprompt_leases_held": ("gauge", "leases held by this worker"),
    "parallelprompt_limiter_rpm": ("gauge", "requests/min this worker allows itself now"),
    "parallelprompt_limiter_tpm": ("gauge", "tokens/min this worker allows itself now"),
    "parallelprompt_limiter_multiplier": ("gauge", "adaptive multiplier of the quota"),
    "parallelprompt_fleet_workers": ("gauge", "live workers sharing the quota"),
    "parallelprompt_queue_depth": ("gauge", "work rows by status (whole DB)"),
    "parallelprompt_uptime_seconds": ("gauge", "seconds since this worker started"),
}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(c: Counters, limiter: Limiter | None) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    samples: dict[str, list[tuple[str, float]]] = {name: [] for name in _HELP}
    for outcome, n in sorted(c.outcomes.items()):
        samples["parallelprompt_prompts_total"].append((f'outcome="{_label(outcome)}"', n))
    for result, n in sorted(c.requests.items()):
        samples["parallelprompt_requests_total"].append((f'result="{_label(result)}"', n))
    samples["parallelprompt_retries_total"].append(("", c.retries))
    samples["parallelprompt_requeued_total"].append(("", c.requeued))
    samples["parallelprompt_throttled_total"].append(("", c.throttled))
    samples["parallelprompt_tokens_total"] += [
        ('direction="input"', c.input_tokens),
        ('direction="cache_read"', c.cache_read_tokens),
        ('direction="cache_write"', c.cache_write_tokens),
        ('direction="output"', c.output_tokens),
    ]
    samples["parallelprompt_cost_usd_total"].append(("", c.cost_usd))
    samples["parallelprompt_lost_leases_total"].append(("", c.lost_leases))
    samples["parallelprompt_in_flight"].append(("", c.in_flight))
    samples["parallelprompt_leases_held"].append(("", c.held))
    if limiter is not None:
        samples["parallelprompt_limiter_rpm"].append(("", limiter.rate_rpm))
        samples["parallelprompt_limiter_tpm"].append(("", limiter.rate_tpm))
        samples["parallelprompt_limiter_multiplier"].append(("", limiter.multiplier))
    samples["parallelprompt_fleet_workers"].append(("", c.fleet_workers))
    for status, n in sorted(c.queue.items()):
        samples["parallelprompt_queue_depth"].append((f'status="{_label(status)}"', n))
    samples["parallelprompt_uptime_seconds"].append(("", round(c.elapsed(), 3)))
    lines = []
    for name, (kind, help_) in _HELP.items():
        if not samples[name]:
            continue
        lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
        for labels, value in samples[name]:
            lines.append(f"{name}{{{labels}}} {value:g}" if labels else f"{name} {value:g}")
    return "\n".join(lines) + "\n"


class MetricsServer:
    """``GET /healthz`` (JSON, 200 while the worker runs) and ``GET /metrics`` on one port."""

    def __init__(self, counters: Counters, limiter: Limiter | None, owner: str) -> None:
        self.counters = counters
        self.limiter = limiter
        self.owner = owner
        self.state = "running"
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    async def start(self, host: str, port: int) -> str:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner, self.url = await start_app(app, host, port)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        c = self.counters
        body = {
            "status": self.state,
            "worker": self.owner,
            "done": c.done,
            "in_flight": c.in_flight,
            "uptime_s": round(c.elapsed(), 3),
        }
        status = 200 if self.state in ("running", "draining") else 503
        return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            text=render(self.counters, self.limiter),
            content_type="text/plain",
            charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff"},
        )
