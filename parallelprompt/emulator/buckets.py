"""Token-bucket arithmetic for the quotas, pure and clocked from outside.

Bedrock meters requests per minute and tokens per minute. A request reserves its input tokens
plus its max tokens when it arrives and is settled to actual use when it finishes. Here each
quota is a bucket refilled continuously at ``per_minute / 60`` per second up to a capacity of
``burst_seconds`` worth of quota; a request is admitted only if *both* buckets can pay at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """A continuously refilled bucket. ``now`` is any monotonic clock in seconds."""

    rate: float  # units per second
    capacity: float
    level: float
    updated: float

    @classmethod
    def per_minute(
        cls, per_minute: float, burst_seconds: float, now: float, fill: float = 1.0
    ) -> TokenBucket:
        """A bucket for ``per_minute`` units, holding ``burst_seconds`` of quota, ``fill`` full."""
        rate = per_minute / 60.0
        capacity = max(rate * burst_seconds, 1.0)
        return cls(rate=rate, capacity=capacity, level=capacity * fill, updated=now)

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
            self.updated = now

    def can_take(self, amount: float, now: float) -> bool:
        self.refill(now)
        return self.level >= amount

    def take(self, amount: float) -> None:
        """Remove ``amount`` (after :meth:`can_take` said yes at the same ``now``)."""
        self.level -= amount

    def give_back(self, amount: float, now: float) -> None:
        self.refill(now)
        self.level = min(self.capacity, self.level + amount)

    def wait_time(self, amount: float, now: float) -> float:
        """Seconds until ``amount`` could be taken (inf if it never fits)."""
        self.refill(now)
        if self.level >= amount:
            return 0.0
        if amount > self.capacity or self.rate <= 0:
            return float("inf")
        return (amount - self.level) / self.rate


@dataclass
class Quota:
    """Requests-per-minute and tokens-per-minute buckets; ``None`` means no such quota."""

    requests: TokenBucket | None
    tokens: TokenBucket | None
    clock: Callable[[], float] = field(repr=False)

    @classmethod
    def build(
        cls,
        rpm: float,
        tpm: float,
        burst_seconds: float,
        clock: Callable[[], float],
        fill: float = 1.0,
        now: float | None = None,
    ) -> Quota:
        now = clock() if now is None else now
        return cls(
            requests=TokenBucket.per_minute(rpm, burst_seconds, now, fill) if rpm > 0 else None,
            tokens=TokenBucket.per_minute(tpm, burst_seconds, now, fill) if tpm > 0 else None,
            clock=clock,
        )

    @property
    def unlimited(self) -> bool:
        return self.requests is None and self.tokens is None

    def admit(self, reserve_tokens: int) -> bool:
        """Take one request and ``reserve_tokens`` tokens, or nothing; True if admitted."""
        if self.unlimited:
            return True
        now = self.clock()
        if self.requests is not None and not self.requests.can_take(1.0, now):
            return False
        if self.tokens is not None and not self.tokens.can_take(reserve_tokens, now):
            return False
        if self.requests is not None:
            self.requests.take(1.0)
        if self.tokens is not None:
            self.tokens.take(reserve_tokens)
        return True

    def settle(self, unused_tokens: int) -> None:
        """Credit back the part of a reservation the answer did not use; a negative amount
        (an answer whose burned-down output exceeds max_tokens) takes more."""
        if self.tokens is not None and unused_tokens != 0:
            self.tokens.give_back(unused_tokens, self.clock())
