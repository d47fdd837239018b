"""The client-side rate limiter: token buckets for requests/min and tokens/min. Pure.

Nothing here sleeps or reads a clock of its own: every method takes ``now`` (seconds, any
monotonic clock), so the arithmetic is tested deterministically with a fake clock. The pool
asks :meth:`Limiter.wait_time` how long to wait, sleeps, then :meth:`Limiter.take`\\ s.

How a call is metered, mirroring Bedrock: before each attempt it reserves one request and
``estimated input tokens + max_tokens`` tokens; when the answer comes back the reservation is
settled to the actual ``input + output`` tokens (the unused part flows back into the bucket).

The rate actually used is ``ceiling x share x multiplier``:

* ``ceiling`` — the configured quota (``--rpm``, ``--tpm``), which is the *fleet's* quota;
* ``share`` — ``1 / live workers`` as last read from the DB heartbeat, so N processes
  together never send more than the quota;
* ``multiplier`` in ``[MIN_MULTIPLIER, 1]`` — adaptive (AIMD), for when the configured
  quota is higher than the account's real one.

Constants (see :class:`LimiterConstants`) and why:

``DECREASE = 0.7``
    On a throttle the multiplier is multiplied by 0.7: a 30 % cut brings a 2x-too-high ceiling
    under the real quota in two steps, while one stray throttle costs less than TCP's halving.
``PAUSE_S = 1.0``
    After a throttle nothing is sent for one second, so the server's bucket can refill instead
    of answering our next burst with more throttles; Bedrock's buckets refill continuously, so
    a longer pause only wastes quota.
``INCREASE_PER_S = 0.03``
    While calls succeed the multiplier grows by 0.03 per second (additive, by elapsed time, not
    per success, so the climb speed does not depend on the request rate): a 30 % cut is won
    back in ten seconds, slow enough that the overshoot past the real quota is a few requests
    per cycle (<= 1-2 % throttled), fast enough to follow a raised quota within a minute.
``BURST_S = 1.0``
    The buckets hold one second of quota, and the requests bucket starts with one request: a
    starting fleet of 8 processes must not fire 8 bursts at once, and the per-minute quota is
    then met with an even pace instead of a burst and a stall.
Throttles of requests sent *before* the last decrease do not decrease again: one overload
episode is one cut, however many calls were in flight when it happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LimiterConstants:
    decrease: float = 0.7
    pause_s: float = 1.0
    increase_per_s: float = 0.03
    min_multiplier: float = 0.02
    burst_s: float = 1.0


@dataclass(slots=True)
class Bucket:
    """A continuously refilled bucket that may run into debt (a reservation larger than its
    capacity is allowed once the bucket is full, and is paid back before the next one)."""

    rate: float  # units per second
    capacity: float
    level: float
    updated: float

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
            self.updated = now

    def need(self, amount: float) -> float:
        """What the level must reach before ``amount`` may be taken."""
        return min(amount, self.capacity)

    def wait_time(self, amount: float, now: float) -> float:
        self.refill(now)
        short = self.need(amount) - self.level
        if short <= 0:
            return 0.0
        return short / self.rate if self.rate > 0 else float("inf")

    def set_rate(self, rate: float, burst_s: float, minimum: float, now: float) -> None:
        self.refill(now)
        self.rate = rate
        self.capacity = max(rate * burst_s, minimum)
        self.level = min(self.level, self.capacity)


@dataclass(frozen=True, slots=True)
class Reservation:
    tokens: int
    at: float  # when it was taken: throttles of older requests do not cut the rate again


@dataclass
class Limiter:
    """Requests/min and tokens/min buckets with a fleet share and an AIMD multiplier."""

    rpm: float  # the fleet's configured ceiling
    tpm: float
    now: float
    constants: LimiterConstants = field(default_factory=LimiterConstants)
    share: float = 1.0
    multiplier: float = 1.0
    paused_until: float = 0.0
    last_decrease: float = float("-inf")
    last_increase: float = 0.0
    throttles: int = 0
    decreases: int = 0
    requests: Bucket = field(init=False)
    tokens: Bucket = field(init=False)

    def __post_init__(self) -> None:
        c = self.constants
        rps, tps = self.rpm / 60.0, self.tpm / 60.0
        self.requests = Bucket(rps, max(rps * c.burst_s, 1.0), 1.0, self.now)
        self.requests.level = min(1.0, self.requests.capacity)
        self.tokens = Bucket(tps, max(tps * c.burst_s, 1.0), 0.0, self.now)
        self.tokens.level = self.tokens.capacity
        self.last_increase = self.now

    # -- rates ------------------------------------------------------------------------------

    @property
    def rate_rpm(self) -> float:
        """The requests/min this process allows itself now."""
        return self.rpm * self.share * self.multiplier

    @property
    def rate_tpm(self) -> float:
        return self.tpm * self.share * self.multiplier

    def _apply(self, now: float) -> None:
        c = self.constants
        self.requests.set_rate(self.rate_rpm / 60.0, c.burst_s, 1.0, now)
        self.tokens.set_rate(self.rate_tpm / 60.0, c.burst_s, 1.0, now)

    def set_fleet(self, live_workers: int, now: float) -> None:
        """Take ``1 / live_workers`` of the configured quota (the DB heartbeat's count)."""
        share = 1.0 / max(1, live_workers)
        if share != self.share:
            self.share = share
            self._apply(now)

    # -- admission --------------------------------------------------------------------------

    def wait_time(self, tokens: int, now: float) -> float:
        """Seconds until a call reserving ``tokens`` may start (0: now)."""
        pause = self.paused_until - now
        wait = max(
            pause, self.requests.wait_time(1.0, now), self.tokens.wait_time(float(tokens), now)
        )
        return max(wait, 0.0)

    def take(self, tokens: int, now: float) -> Reservation:
        """Reserve one request and ``tokens`` tokens (call when :meth:`wait_time` is 0)."""
        self.requests.refill(now)
        self.tokens.refill(now)
        self.requests.level -= 1.0
        self.tokens.level -= tokens
        return Reservation(tokens, now)

    def settle(self, reservation: Reservation, used_tokens: int, now: float) -> None:
        """Replace the reservation by the actual use (may give back or take more)."""
        self.tokens.refill(now)
        self.tokens.level = min(self.tokens.capacity, self.tokens.level + reservation.tokens)
        self.tokens.level -= used_tokens

    def refund(self, reservation: Reservation, now: float) -> None:
        """A throttled or failed-before-running call used no tokens; the request stays spent."""
        self.settle(reservation, 0, now)

    # -- adaptation -------------------------------------------------------------------------

    def on_success(self, now: float) -> None:
        """Additive increase, by elapsed time since the last change, up to the ceiling."""
        if now <= self.last_increase:
            return
        if self.multiplier < 1.0:
            grown = self.multiplier + self.constants.increase_per_s * (now - self.last_increase)
            self.multiplier = min(1.0, grown)
            self._apply(now)
        self.last_increase = now

    def on_throttle(self, reservation: Reservation | None, now: float) -> bool:
        """Multiplicative decrease and a pause, once per overload episode; True if cut."""
        self.throttles += 1
        if reservation is not None and reservation.at < self.last_decrease:
            return False
        c = self.constants
        self.multiplier = max(c.min_multiplier, self.multiplier * c.decrease)
        self.last_decrease = now
        self.paused_until = now + c.pause_s
        self.last_increase = self.paused_until
        self.decreases += 1
        self._apply(now)
        return True
