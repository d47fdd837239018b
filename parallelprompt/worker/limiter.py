"""The client-side rate limiter: token buckets for requests/min and tokens/min, and the control
law that adapts them to what the endpoint admits. Pure.

Nothing here sleeps or reads a clock of its own: every method takes ``now`` (seconds, any
monotonic clock), so the arithmetic is tested deterministically with a simulated clock. The
pool asks :meth:`Limiter.wait_time` how long to wait, sleeps, then :meth:`Limiter.take`\\ s,
and reports each call's outcome (:meth:`Limiter.on_success`, :meth:`Limiter.on_throttle`).

How a call is metered, mirroring Bedrock: before each attempt it reserves one request and
``estimated input tokens + max_tokens`` tokens; when the answer comes back the reservation is
settled to the actual ``input + output`` tokens (the unused part flows back into the bucket).

The rate actually used is ``ceiling x share x multiplier``:

* ``ceiling`` — the configured quota (``--rpm``, ``--tpm``), which is the *fleet's* quota;
* ``share`` — ``1 / live workers`` as last read from the DB heartbeat, so N processes
  together never send more than the quota;
* ``multiplier`` in ``(0, 1]`` (never under ``min_rpm``) — adaptive, for when the endpoint
  admits less than the configured quota (a wrong ``--rpm``, another client on the account).

The control law (docs/worker.md has the measured curves). A throttle is evidence of a ceiling
only when throttles are more frequent than the *noise floor* — the share of throttles that
does not go away when we send less (Bedrock throttles a steady trickle when a region is short
of capacity, whatever our rate). So:

1. **Suspect.** Over a sliding window (``window_s``) of the answers to calls sent since the
   last change of rate, with ``n`` answers and ``k`` throttles, a ceiling is suspected when
   ``k - floor*n > excess_min + excess_z*sqrt(floor*n)``: more throttles than the floor
   explains, beyond chance. Nothing changes yet.
2. **Hold.** The next calls at the same rate are counted afresh (``probe_min_n`` answers over
   at least ``probe_min_s``, at most ``probe_max_s``); not too many → chance, done. Too many →
   their share ``s1`` is an unbiased look at this rate.
3. **Cut.** To ``decrease`` x the rate actually sent (not the allowance, which a
   concurrency-bound worker may never reach), with no burst; ``s2`` is counted the same way.
4. **Judge.** A ceiling admits the same number at both rates: ``s2 = 1 - (1 - s1)/decrease``;
   noise keeps ``s2 = s1``. Nearer noise → the earlier rate at once, and *verify* there: the
   same share again → noise, the floor learns it; more throttles → a ceiling after all, cut.
   Fewer but still above the floor → the ceiling is lower still, cut again. At the floor → a
   ceiling: the rate stays, the floor learns ``s2``, and if the excess ``s1 - floor`` is at
   least ``clear_excess``, ``(1 - (s1 - floor))`` x the rate sent becomes the *estimate*.
5. **Recover.** Towards the estimate (or the configured ceiling when there is none)
   exponentially, time constant ``recover_tau_s``; from ``knee`` x the estimate on,
   ``climb_per_s`` per second (multiplicative), so a raised quota is found.

Throttled calls are retried by the pool with jittered exponential backoff per call; nothing
pauses the whole worker. Outcomes of calls sent *before* the last change of rate are not
counted: all the calls in flight when a quota ran out come back throttled together, and that
is one episode, not many.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class LimiterConstants:
    decrease: float = 0.7  # the probe's cut: large enough to drop below a ceiling we overshot
    window_s: float = 10.0  # outcomes looked at to suspect a ceiling
    excess_min: float = 2.0  # throttles beyond the floor needed, at the least ...
    excess_z: float = 3.0  # ... plus this many standard deviations of the floor's count
    probe_min_n: int = 40  # answers at the lower rate before judging
    probe_min_s: float = 2.0
    probe_max_s: float = 15.0  # judge with what there is after this long (little traffic)
    floor_keep: float = 0.7  # weight of the earlier probes in the floor, per probe
    recover_tau_s: float = 2.0  # time constant of the climb back to the estimate
    knee: float = 0.95  # from this fraction of the estimate on, climb slowly ...
    climb_per_s: float = 0.01  # ... by this much per second (multiplicative)
    clear_excess: float = 0.1  # a ceiling found with less excess sets no estimate
    min_rpm: float = 1.0  # never below one request a minute (not a fraction of --rpm: 1e9 is fine)
    burst_s: float = 1.0
    used_window_s: float = 2.0  # the rate actually sent is measured over this long


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


class Window:
    """Sums of recent events in one-second slots, over the last ``span`` seconds."""

    __slots__ = ("_slots", "a", "b", "span")

    def __init__(self, span: float) -> None:
        self.span = span
        self._slots: deque[list[float]] = deque()
        self.a = 0.0
        self.b = 0.0

    def add(self, now: float, a: float, b: float) -> None:
        self.trim(now)
        if not self._slots or now - self._slots[-1][0] >= 1.0:
            self._slots.append([now, 0.0, 0.0])
        slot = self._slots[-1]
        slot[1] += a
        slot[2] += b
        self.a += a
        self.b += b

    def trim(self, now: float) -> None:
        while self._slots and now - self._slots[0][0] > self.span:
            _, a, b = self._slots.popleft()
            self.a -= a
            self.b -= b

    def age(self, now: float) -> float:
        """How long the window has been collecting (at most ``span`` + one slot)."""
        return now - self._slots[0][0] if self._slots else 0.0

    def clear(self) -> None:
        self._slots.clear()
        self.a = self.b = 0.0


@dataclass(frozen=True, slots=True)
class Reservation:
    tokens: int
    at: float  # when it was taken: outcomes of calls sent before a change of rate do not count


class Phase(enum.Enum):
    HOLD = "hold"  # a ceiling is suspected: count afresh at the same rate
    CUT = "cut"  # at ``decrease`` x the rate sent
    VERIFY = "verify"  # the cut changed nothing: back at the rate before it, check again


@dataclass(slots=True)
class Probe:
    """The experiment once a ceiling is suspected: answers and throttles of the calls sent
    since its current phase began."""

    phase: Phase
    since: float
    restore: float = 1.0  # the multiplier before the cut
    sent: float = 1.0  # the multiplier actually used before the cut
    high: float = 0.0  # the throttled share at the rate before the cut
    low: float = 0.0  # ... and at the rate after it (VERIFY)
    n_before: int = 0  # answers and throttles of the earlier phases
    k_before: int = 0
    n: int = 0
    k: int = 0


@dataclass
class Limiter:
    """Requests/min and tokens/min buckets with a fleet share and an adaptive multiplier."""

    rpm: float  # the fleet's configured ceiling
    tpm: float
    now: float
    constants: LimiterConstants = field(default_factory=LimiterConstants)
    share: float = 1.0
    multiplier: float = 1.0
    estimate: float | None = None  # the multiplier the endpoint admitted, after a ceiling
    changed_at: float = float("-inf")
    last_grow: float = 0.0
    throttles: int = 0
    decreases: int = 0
    restores: int = 0  # cuts undone: the throttles were noise
    probe: Probe | None = None
    requests: Bucket = field(init=False)
    tokens: Bucket = field(init=False)
    _floor_k: float = 0.0
    _floor_n: float = 0.0
    _outcomes: Window = field(init=False)  # a = answers, b = throttles
    _used: Window = field(init=False)  # a = requests, b = tokens (net of settlements)

    def __post_init__(self) -> None:
        c = self.constants
        rps, tps = self.rpm / 60.0, self.tpm / 60.0
        self.requests = Bucket(rps, max(rps * c.burst_s, 1.0), 1.0, self.now)
        self.requests.level = min(1.0, self.requests.capacity)
        self.tokens = Bucket(tps, max(tps * c.burst_s, 1.0), 0.0, self.now)
        self.tokens.level = self.tokens.capacity
        self.last_grow = self.now
        self._outcomes = Window(c.window_s)
        self._used = Window(c.used_window_s)

    # -- rates ------------------------------------------------------------------------------

    @property
    def rate_rpm(self) -> float:
        """The requests/min this process allows itself now."""
        return self.rpm * self.share * self.multiplier

    @property
    def rate_tpm(self) -> float:
        return self.tpm * self.share * self.multiplier

    @property
    def floor(self) -> float:
        """The throttled share that does not depend on our rate (noise), as learned so far."""
        return self._floor_k / self._floor_n if self._floor_n > 0 else 0.0

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
        wait = max(self.requests.wait_time(1.0, now), self.tokens.wait_time(float(tokens), now))
        return max(wait, 0.0)

    def take(self, tokens: int, now: float) -> Reservation:
        """Reserve one request and ``tokens`` tokens (call when :meth:`wait_time` is 0)."""
        self.requests.refill(now)
        self.tokens.refill(now)
        self.requests.level -= 1.0
        self.tokens.level -= tokens
        self._used.add(now, 1.0, float(tokens))
        return Reservation(tokens, now)

    def settle(self, reservation: Reservation, used_tokens: int, now: float) -> None:
        """Replace the reservation by the actual use (may give back or take more)."""
        self.tokens.refill(now)
        self.tokens.level = min(self.tokens.capacity, self.tokens.level + reservation.tokens)
        self.tokens.level -= used_tokens
        self._used.add(now, 0.0, float(used_tokens - reservation.tokens))

    def refund(self, reservation: Reservation, now: float) -> None:
        """A throttled or failed-before-running call used no tokens; the request stays spent."""
        self.settle(reservation, 0, now)

    # -- adaptation -------------------------------------------------------------------------

    def on_success(self, reservation: Reservation | None, now: float) -> None:
        """An answer: counts towards the window (or the probe), and the rate recovers."""
        self._outcome(reservation, False, now)

    def on_throttle(self, reservation: Reservation | None, now: float) -> bool:
        """A ThrottlingException; True if it made the rate drop (a cut, not a retry)."""
        self.throttles += 1
        before = self.decreases
        self._outcome(reservation, True, now)
        return self.decreases > before

    def _outcome(self, reservation: Reservation | None, throttled: bool, now: float) -> None:
        fresh = reservation is None or reservation.at >= self.changed_at
        probe = self.probe
        if probe is not None:
            if fresh:
                probe.n += 1
                probe.k += throttled
            self._judge(probe, now)
            return
        self._grow(now)
        if not fresh:
            return
        window = self._outcomes
        window.add(now, 1.0, float(throttled))
        if throttled and self._too_many(window.b, window.a):
            # Suspected: measure afresh at the same rate (the window mixes in answers from
            # before the trouble began, or is a fluke the fresh count will not repeat).
            self.probe = Probe(Phase.HOLD, now)
            self.changed_at = now
            self._outcomes.clear()

    def _too_many(self, k: float, n: float) -> bool:
        """More throttles than the noise floor explains, beyond chance."""
        c = self.constants
        expected = self.floor * n
        return k - expected > c.excess_min + c.excess_z * math.sqrt(expected)

    def _sent(self, now: float) -> float:
        """The multiplier actually used lately: what was sent, over the configured quota."""
        used = self._used
        used.trim(now)
        seconds = max(used.age(now), 1.0)
        base_r, base_t = self.rpm * self.share / 60.0, self.tpm * self.share / 60.0
        sent = max(
            used.a / seconds / base_r if base_r > 0 else 0.0,
            used.b / seconds / base_t if base_t > 0 else 0.0,
        )
        return min(self.multiplier, sent) if sent > 0 else self.multiplier

    def _lowest(self) -> float:
        base = self.rpm * self.share
        return min(1.0, self.constants.min_rpm / base) if base > 0 else 1.0

    def _set(self, multiplier: float, now: float) -> None:
        self.multiplier = max(self._lowest(), min(1.0, multiplier))
        self.changed_at = now
        self.last_grow = now
        self._outcomes.clear()
        self._apply(now)

    def _cut(self, high: float, n: int, k: int, now: float) -> None:
        sent = self._sent(now)
        self.probe = Probe(Phase.CUT, now, self.multiplier, sent, high, n_before=n, k_before=k)
        self.decreases += 1
        self._set(sent * self.constants.decrease, now)
        # No burst at the lower rate: the probe must see the rate it asked for.
        self.requests.level = min(self.requests.level, 1.0)
        self.tokens.level = min(self.tokens.level, 0.0)

    def _noise_like(self, high: float, low: float) -> bool:
        """Whether the share ``low`` at ``decrease`` x the rate is nearer what noise predicts
        (the same share) than what a ceiling does (the endpoint admits the same number)."""
        if_ceiling = max(0.0, 1.0 - (1.0 - high) / self.constants.decrease)
        return abs(low - high) < (high - if_ceiling) / 2.0

    def _judge(self, probe: Probe, now: float) -> None:
        c = self.constants
        elapsed = now - probe.since
        if elapsed < c.probe_max_s and (elapsed < c.probe_min_s or probe.n < c.probe_min_n):
            return
        self.probe = None
        n, k = probe.n, probe.k
        share = k / n if n else 0.0
        if probe.phase is Phase.HOLD:
            # Not learnt into the floor when it clears: a hold taken while a ceiling's burst
            # runs out would teach the floor the ceiling's share.
            if n and self._too_many(k, n):
                self._cut(share, n, k, now)  # confirmed at the same rate: try a lower one
            return
        if probe.phase is Phase.CUT:
            if n and self._noise_like(probe.high, share):
                # As many throttles at the lower rate: noise, it seems. Go back, check there.
                self.probe = replace(
                    probe,
                    phase=Phase.VERIFY,
                    since=now,
                    low=share,
                    n_before=probe.n_before + n,
                    k_before=probe.k_before + k,
                    n=0,
                    k=0,
                )
                self._set(probe.restore, now)
                return
            if n and self._too_many(k, n):
                # Fewer, but still too many (the ceiling is lower still), or more: the endpoint
                # admits less than it did (its burst ran out, another client took a share).
                self._cut(share, n, k, now)
                return
            self._learn_floor(k, n)  # under the ceiling: what is left is noise
            excess = max(0.0, probe.high - self.floor)
            admitted = probe.sent * (1.0 - excess)
            # A few percent over what the endpoint admits costs a few percent of throttled
            # retries, no quota: only a clear excess caps the climb back.
            self.estimate = max(self._lowest(), admitted) if excess >= c.clear_excess else None
            self.last_grow = now
            return
        if n and share > probe.low and not self._noise_like(share, probe.low):
            # Back at the higher rate, more throttles again: they rise with the rate after
            # all (the first look at the higher rate was taken while a burst ran out).
            self._cut(share, n, k, now)
            return
        self._learn_floor(probe.k_before + k, probe.n_before + n)  # noise, at every rate
        self.restores += 1

    def _learn_floor(self, k: int, n: int) -> None:
        keep = self.constants.floor_keep
        self._floor_k = self._floor_k * keep + k
        self._floor_n = self._floor_n * keep + n

    def _grow(self, now: float) -> None:
        """Recover: fast towards the estimate (or the ceiling), then slowly past it."""
        dt = now - self.last_grow
        if dt <= 0:
            return
        self.last_grow = now
        c, m, estimate = self.constants, self.multiplier, self.estimate
        target = 1.0 if estimate is None else min(1.0, estimate)
        if m >= 1.0:
            return
        if estimate is None or m < c.knee * target:
            m = target - (target - m) * math.exp(-dt / c.recover_tau_s)
        else:
            m *= 1.0 + c.climb_per_s * dt
        self.multiplier = max(self._lowest(), min(1.0, m))
        self._apply(now)
