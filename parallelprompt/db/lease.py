"""Lease and retry arithmetic: pure functions, no clock and no randomness of their own."""

from __future__ import annotations

from collections.abc import Callable

#: A worker whose heartbeat is this much older than the freshest one is dead: its leases are
#: reclaimed at once instead of at their expiry (the fleet stops counting it as live then too).
STALE_HEARTBEAT_S = 5.0


def backoff_delay(attempt: int, base: float, cap: float, rand: Callable[[], float]) -> float:
    """Capped exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(a-1))].

    Full jitter spreads a burst of failures (a throttling storm) evenly over the window
    instead of letting them return together (AWS architecture blog, "Exponential Backoff And
    Jitter").
    """
    exp = min(attempt - 1, 62)
    ceiling = min(cap, base * (2.0**exp)) if attempt > 0 else base
    return rand() * ceiling


def out_of_attempts(attempts: int, max_attempts: int) -> bool:
    return attempts >= max_attempts
