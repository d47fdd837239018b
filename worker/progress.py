"""Live progress on a terminal, structured log lines otherwise. Formatting is pure."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

import orjson

from parallelprompt.textsafe import terminal_safe
from worker.metrics import Counters


def human(n: float) -> str:
    """1234 -> 1.2k, 1234567 -> 1.2M."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            return f"{n / limit:.1f}{suffix}"
    return f"{n:.0f}"


def duration(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One look at the counters, with the rate measured since the previous look."""

    done: int
    dead: int
    rate: float  # prompts/s, recent
    input_tokens: int
    output_tokens: int
    cost_usd: float
    remaining: int | None  # ready + leased rows in the whole DB (all workers)
    in_flight: int
    limiter_rpm: float | None
    throttled: int

    @property
    def eta_s(self) -> float | None:
        if self.remaining is None or self.rate <= 0:
            return None
        return self.remaining / self.rate

    def line(self) -> str:
        eta = self.eta_s
        parts = [
            f"done {self.done:,}" + (f" ({self.dead:,} dead)" if self.dead else ""),
            f"{self.rate:,.1f}/s",
            f"tokens {human(self.input_tokens)} in / {human(self.output_tokens)} out",
            f"${self.cost_usd:,.4f}",
            f"in flight {self.in_flight}",
        ]
        if self.remaining is not None:
            parts.append(f"left {self.remaining:,}")
        parts.append(f"ETA {duration(eta) if eta is not None else '?'}")
        return " | ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": "progress",
            "done": self.done,
            "dead": self.dead,
            "rate": round(self.rate, 2),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "remaining": self.remaining,
            "in_flight": self.in_flight,
            "limiter_rpm": None if self.limiter_rpm is None else round(self.limiter_rpm, 1),
            "throttled": self.throttled,
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
        }


class RateMeter:
    """Prompts/s over the last interval, smoothed (EWMA) so the ETA does not jump around."""

    def __init__(self, now: float, alpha: float = 0.3) -> None:
        self._last_t = now
        self._last_done = 0
        self._alpha = alpha
        self.rate = 0.0

    def update(self, done: int, now: float) -> float:
        dt = now - self._last_t
        if dt <= 0:
            return self.rate
        inst = (done - self._last_done) / dt
        self.rate = (
            inst if self._last_done == 0 else (1 - self._alpha) * self.rate + self._alpha * inst
        )
        self._last_t, self._last_done = now, done
        return self.rate


def snapshot(c: Counters, meter: RateMeter, limiter_rpm: float | None) -> Snapshot:
    remaining = None
    if c.queue:
        remaining = c.queue.get("ready", 0) + c.queue.get("leased", 0)
    return Snapshot(
        done=c.done,
        dead=c.outcomes.get("dead", 0),
        rate=meter.update(c.done, time.monotonic()),
        input_tokens=c.input_tokens,
        output_tokens=c.output_tokens,
        cost_usd=c.cost_usd,
        remaining=remaining,
        in_flight=c.in_flight,
        limiter_rpm=limiter_rpm,
        throttled=c.throttled,
    )


class Display:
    """Where progress goes: a rewritten line on a terminal, else text or JSON log lines."""

    def __init__(self, stream: TextIO | None, log_format: str, quiet: bool) -> None:
        self.stream = stream or sys.stderr
        tty = self.stream.isatty()
        self.mode = "off" if quiet else ("live" if tty and log_format == "auto" else log_format)
        if self.mode == "auto":
            self.mode = "text"
        self._live_width = 0

    @property
    def interval(self) -> float:
        return 0.5 if self.mode == "live" else 5.0

    def progress(self, snap: Snapshot) -> None:
        if self.mode == "off":
            return
        if self.mode == "live":
            text = snap.line()
            pad = max(0, self._live_width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._live_width = len(text)
        elif self.mode == "json":
            self.stream.write(orjson.dumps(snap.as_dict()).decode() + "\n")
        else:
            self.stream.write("progress: " + snap.line() + "\n")
        self.stream.flush()

    def log(self, event: str, message: str, **fields: Any) -> None:
        """A notable event (start, warning, stop); shown even in quiet mode."""
        self.end_live()
        if self.mode == "json":
            record = {"event": event, "message": message, **fields}
            self.stream.write(orjson.dumps(record, default=str).decode() + "\n")
        else:  # text from the data (categories, errors) never drives the terminal
            self.stream.write(f"{event}: {terminal_safe(message)}\n")
        self.stream.flush()

    def end_live(self) -> None:
        if self.mode == "live" and self._live_width:
            self.stream.write("\n")
            self._live_width = 0
