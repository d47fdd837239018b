"""Token-bucket arithmetic with a hand-driven clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parallelprompt.emulator import Quota, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_refills_continuously_up_to_capacity() -> None:
    b = TokenBucket.per_minute(60, burst_seconds=5, now=0.0, fill=0.0)
    assert (b.rate, b.capacity, b.level) == (1.0, 5.0, 0.0)
    assert not b.can_take(1, now=0.5)
    assert b.can_take(1, now=1.0)
    b.take(1)
    assert b.level == 0.0
    assert b.can_take(5, now=100.0)  # capped at capacity, not 99
    assert not b.can_take(5.01, now=100.0)
    assert b.wait_time(6, now=100.0) == float("inf")


def test_give_back_never_exceeds_capacity() -> None:
    b = TokenBucket.per_minute(600, burst_seconds=1, now=0.0)
    b.take(4)
    b.give_back(100, now=0.0)
    assert b.level == b.capacity == 10.0


def test_quota_admits_both_or_neither() -> None:
    clock = Clock()
    q = Quota.build(rpm=600, tpm=6000, burst_seconds=1, clock=clock)  # 10 requests, 100 tokens
    assert q.admit(60)
    assert not q.admit(60)  # tokens short: the request bucket must not be charged
    assert q.requests is not None and q.requests.level == 9
    assert q.admit(40)
    q.settle(30)  # the answer used 30 tokens fewer than reserved
    assert q.tokens is not None and q.tokens.level == 30
    clock.now += 0.75  # +75 tokens (capped at 100), +7.5 requests
    assert q.admit(100)
    assert not q.admit(1)


def test_zero_means_no_quota() -> None:
    q = Quota.build(rpm=0, tpm=0, burst_seconds=60, clock=Clock())
    assert q.unlimited
    assert all(q.admit(10**9) for _ in range(1000))


@pytest.mark.parametrize("fill", [0.0, 0.5, 1.0])
def test_steady_state_admits_the_rate(fill: float) -> None:
    """Offered load far above R admits R per minute once the burst is spent."""
    clock = Clock()
    rpm = 600.0
    q = Quota.build(rpm=rpm, tpm=0, burst_seconds=5, clock=clock, fill=fill)
    admitted_by_second = []
    for _ in range(120):  # two minutes, 100 offers a second
        n = 0
        for _ in range(100):
            clock.now += 0.01
            n += q.admit(1)
        admitted_by_second.append(n)
    last_minute = sum(admitted_by_second[60:])
    assert 0.97 * rpm <= last_minute <= rpm
    first_minute = sum(admitted_by_second[:60])
    assert first_minute <= rpm + 5 * rpm / 60 * fill + 1  # at most one burst on top


@given(
    offers=st.lists(
        st.tuples(st.floats(0, 5), st.integers(0, 300), st.integers(0, 300)), max_size=200
    ),
    rpm=st.floats(1, 10_000),
    tpm=st.floats(100, 1_000_000),
    burst=st.floats(0.1, 120),
)
def test_never_admits_more_than_burst_plus_refill(
    offers: list[tuple[float, int, int]], rpm: float, tpm: float, burst: float
) -> None:
    clock = Clock()
    q = Quota.build(rpm=rpm, tpm=tpm, burst_seconds=burst, clock=clock)
    start = clock.now
    admitted = 0
    tokens = 0
    for gap, reserve, unused in offers:
        clock.now += gap
        if q.admit(reserve):
            admitted += 1
            tokens += reserve
            q.settle(min(unused, reserve))
            tokens -= min(unused, reserve)
    elapsed = clock.now - start
    assert q.requests is not None and q.tokens is not None
    assert admitted <= q.requests.capacity + elapsed * rpm / 60 + 1e-6
    assert tokens <= q.tokens.capacity + elapsed * tpm / 60 + 1e-6
    assert 0 <= q.tokens.level <= q.tokens.capacity
