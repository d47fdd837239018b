"""Live progress: a tqdm bar on a terminal, one structured line per interval otherwise.

The numbers come from one :class:`Snapshot`, a pure function of the counters, so the bar, the
text lines, the JSON lines and the ``progress`` events always agree:

* ``n / total``: prompts finished (done or dead) in the whole queue, by every worker, out of
  the queue's rows. The queue's counts are read from the DB every few seconds; the prompts
  this worker finished since that read are added, so ``n + left == total`` at every moment.
* rate and ETA: finished prompts per second (smoothed), and ``left / rate``.
* cost: this worker's so far, and projected to the end of the queue at its cost per prompt.
* failures: dead letters and failed calls (retried or not); throttles on their own.

In JSON mode (``--log-format json``) every line is one JSON object with ``ts`` (ISO 8601, UTC).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from tqdm import tqdm

from parallelprompt.common.textsafe import terminal_safe
from parallelprompt.worker.metrics import Counters

FINISHED = ("done", "dead")
NOT_FAILURES = frozenset({"ok", "throttled"})
BAR_FORMAT = (
    "{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"
)


def iso_now() -> str:
    """Now as ISO 8601 in UTC with milliseconds, e.g. 2026-11-29T20:30:00.123Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_line(event: str, message: str, **fields: Any) -> str:
    """One JSON log line: ``ts``, ``event``, ``message`` and the fields."""
    record = {"ts": iso_now(), "event": event, "message": message, **fields}
    return orjson.dumps(record, default=str).decode()


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

    n: int  # prompts finished in the whole queue (all workers)
    total: int | None  # rows in the queue (None: not read yet)
    done: int  # prompts this worker finished (written), dead letters included
    dead: int
    failed_calls: int  # calls that failed other than by a throttle
    throttled: int
    rate: float  # finished prompts/s, recent
    elapsed_s: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    in_flight: int
    limiter_rpm: float | None
    ready: int | None = None  # rows any worker could claim now (whole DB)
    others_leased: int = 0  # rows leased by other workers
    others_within_s: float | None = None  # the last of those leases ends within this

    @property
    def waiting_on_others(self) -> bool:
        """Nothing to do here but wait for other workers' leases (finished, or reclaimed when
        their worker dies): an ETA from a rate near zero would be meaningless."""
        return self.in_flight == 0 and self.ready == 0 and self.others_leased > 0

    def waiting_text(self) -> str:
        bound = self.others_within_s
        within = f", their leases end within {duration(bound)}" if bound is not None else ""
        return (
            f"waiting on {self.others_leased:,} prompt(s) leased by other workers{within} "
            "(sooner if a worker dies)"
        )

    @property
    def left(self) -> int | None:
        return None if self.total is None else self.total - self.n

    @property
    def percent(self) -> float | None:
        if self.total is None:
            return None
        return 100.0 * self.n / self.total if self.total else 100.0

    @property
    def eta_s(self) -> float | None:
        left = self.left
        if left is None or self.rate <= 0 or self.waiting_on_others:
            return None
        return left / self.rate

    @property
    def projected_cost_usd(self) -> float | None:
        """This worker's cost at the end of the queue, at its cost per prompt so far."""
        left = self.left
        if left is None or self.done <= 0:
            return None
        return self.cost_usd + self.cost_usd / self.done * left

    def cost_text(self) -> str:
        projected = self.projected_cost_usd
        text = f"${self.cost_usd:,.4f}"
        return text + (f" (~${projected:,.2f} projected)" if projected is not None else "")

    def failures_text(self) -> str:
        return (
            f"dead {self.dead:,} | failed calls {self.failed_calls:,} | "
            f"throttled {self.throttled:,}"
        )

    def line(self) -> str:
        eta = self.eta_s
        if self.total is None:
            head = f"{self.n:,} done"
        else:
            head = f"{self.n:,}/{self.total:,} ({self.percent:.1f}%)"
        parts = [
            head,
            f"elapsed {duration(self.elapsed_s)}",
            self.waiting_text()
            if self.waiting_on_others
            else f"ETA {duration(eta) if eta is not None else '?'}",
            f"{self.rate:,.1f} prompts/s",
            self.cost_text(),
            self.failures_text(),
            f"in flight {self.in_flight}",
            f"tokens {human(self.input_tokens)} in / {human(self.output_tokens)} out",
        ]
        return " | ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        projected = self.projected_cost_usd
        percent = self.percent
        return {
            "event": "progress",
            "n": self.n,
            "total": self.total,
            "left": self.left,
            "percent": None if percent is None else round(percent, 2),
            "done_by_worker": self.done,
            "dead": self.dead,
            "failed_calls": self.failed_calls,
            "throttled": self.throttled,
            "rate": round(self.rate, 2),
            "elapsed_s": round(self.elapsed_s, 1),
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "projected_cost_usd": None if projected is None else round(projected, 4),
            "in_flight": self.in_flight,
            "limiter_rpm": None if self.limiter_rpm is None else round(self.limiter_rpm, 1),
            "waiting_on_others": self.others_leased if self.waiting_on_others else 0,
            "others_within_s": None
            if self.others_within_s is None
            else round(self.others_within_s, 1),
        }


class RateMeter:
    """Finished prompts/s over the last interval, smoothed (EWMA) so the ETA does not jump."""

    def __init__(self, now: float, alpha: float = 0.3, start: int | None = None) -> None:
        self._last_t = now
        self._last_n = start
        self._alpha = alpha
        self._measured = False
        self.rate = 0.0

    def update(self, n: int, now: float) -> float:
        if self._last_n is None:  # the first look only sets the starting point
            self._last_t, self._last_n = now, n
            return self.rate
        dt = now - self._last_t
        if dt <= 0:
            return self.rate
        inst = max(0, n - self._last_n) / dt
        a = self._alpha
        self.rate = inst if not self._measured else (1 - a) * self.rate + a * inst
        self._measured = True
        self._last_t, self._last_n = now, n
        return self.rate


def queue_progress(c: Counters) -> tuple[int, int | None]:
    """``(n, total)``: finished prompts in the whole queue and its rows (see the module doc)."""
    if not c.queue:
        return c.done, None
    total = sum(c.queue.values())
    finished = sum(c.queue.get(s, 0) for s in FINISHED) + (c.done - c.done_at_queue_read)
    return min(max(finished, 0), total), total


def snapshot(c: Counters, meter: RateMeter, limiter_rpm: float | None, now: float) -> Snapshot:
    n, total = queue_progress(c)
    return Snapshot(
        n=n,
        total=total,
        done=c.done,
        dead=c.outcomes.get("dead", 0),
        failed_calls=sum(v for k, v in c.requests.items() if k not in NOT_FAILURES),
        throttled=c.throttled,
        rate=meter.update(n, now),
        elapsed_s=c.elapsed(now),
        input_tokens=c.input_tokens,
        output_tokens=c.output_tokens,
        cost_usd=c.cost_usd,
        in_flight=c.in_flight,
        limiter_rpm=limiter_rpm,
        ready=c.queue.get("ready") if c.queue else None,
        others_leased=c.others_leased,
        others_within_s=None if c.others_until is None else max(0.0, c.others_until - time.time()),
    )


class Display:
    """Where progress goes: a tqdm bar on a terminal, else text or JSON log lines.

    ``log_format`` auto: the bar on a terminal, text lines otherwise; text; json.
    """

    def __init__(
        self,
        stream: TextIO | None,
        log_format: str,
        quiet: bool,
        *,
        interval_s: float | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self._interval = interval_s
        tty = self.stream.isatty()
        self.mode = "off" if quiet else ("live" if tty and log_format == "auto" else log_format)
        if self.mode == "auto":
            self.mode = "text"
        self.json = log_format == "json"
        self._bar: tqdm[Any] | None = None

    @property
    def interval(self) -> float:
        if self._interval is not None:
            return self._interval
        return 0.5 if self.mode == "live" else 5.0

    def progress(self, snap: Snapshot) -> None:
        if self.mode == "off":
            return
        if self.mode == "live":
            self._draw(snap)
            return
        if self.mode == "json":
            self.stream.write(orjson.dumps({"ts": iso_now(), **snap.as_dict()}).decode() + "\n")
        else:
            self.stream.write("progress: " + snap.line() + "\n")
        self.stream.flush()

    def _draw(self, snap: Snapshot) -> None:
        if self._bar is None:
            self._bar = tqdm(
                total=snap.total,
                initial=snap.n,
                unit=" prompts",
                file=self.stream,
                dynamic_ncols=True,
                bar_format=BAR_FORMAT,
                smoothing=0.1,
                mininterval=0,
            )
            self._bar.start_t -= snap.elapsed_s  # elapsed counts from the worker's start
        bar = self._bar
        bar.total = snap.total
        bar.set_postfix_str(
            f"{snap.cost_text()} | {snap.failures_text()} | in flight {snap.in_flight}"
            + (f" | {snap.waiting_text()}" if snap.waiting_on_others else ""),
            refresh=False,
        )
        bar.update(snap.n - bar.n)
        bar.refresh()

    def log(self, event: str, message: str, **fields: Any) -> None:
        """A notable event (start, warning, stop); shown even in quiet mode."""
        # text from the data (categories, errors) never drives the terminal; JSON escapes it
        text = f"{event}: {terminal_safe(message)}"
        line = json_line(event, message, **fields) if self.json else text
        if self._bar is not None:
            self._bar.write(line, file=self.stream)  # above the bar, which is redrawn
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def end_live(self) -> None:
        if self._bar is not None:
            self._bar.refresh()
            self._bar.close()
            self._bar = None
