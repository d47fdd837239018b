"""The limiter's arithmetic with a fake clock: pacing, reservations, AIMD, the fleet share."""

from __future__ import annotations

import pytest

from worker.limiter import Limiter, LimiterConstants


def drive(limiter: Limiter, seconds: float, tokens: int = 1, step: float = 0.001) -> list[float]:
    """Take as fast as the limiter allows for ``seconds`` of fake time; the take times."""
    now, taken = limiter.now, []
    end = now + seconds
    while now < end:
        wait = limiter.wait_time(tokens, now)
        if wait <= 0:
            limiter.take(tokens, now)
            taken.append(now)
        else:
            now += max(wait, step)
    return taken


def test_paces_requests_per_minute_without_an_initial_burst() -> None:
    limiter = Limiter(rpm=600, tpm=1e9, now=0.0)  # 10 per second
    taken = drive(limiter, 60.0)
    assert 599 <= len(taken) <= 601
    assert len([t for t in taken if t < 1.0]) <= 11  # no burst beyond one second of quota


def test_token_bucket_limits_by_reservation_and_settles_to_actual_use() -> None:
    limiter = Limiter(rpm=1e6, tpm=60_000, now=0.0)  # 1,000 tokens per second
    taken = drive(limiter, 10.0, tokens=500)
    assert 19 <= len(taken) <= 22  # 2 per second at 500 reserved each
    limiter = Limiter(rpm=1e6, tpm=60_000, now=0.0)
    now, count = 0.0, 0
    while now < 10.0:
        if limiter.wait_time(500, now) <= 0:
            r = limiter.take(500, now)
            limiter.settle(r, 100, now)  # actual use 100: 400 flow back
            count += 1
        else:
            now += 0.001
    assert 95 <= count <= 111  # 10 per second at 100 used each (+ the first second's tokens)


def test_a_reservation_larger_than_the_bucket_still_passes_once_full() -> None:
    limiter = Limiter(rpm=1e6, tpm=600, now=0.0)  # 10 tokens/s, capacity 10
    assert limiter.wait_time(50, 0.0) == 0.0  # full bucket: may go into debt
    limiter.take(50, 0.0)
    assert limiter.wait_time(50, 0.0) == pytest.approx(5.0)  # pays the debt back first


def test_throttle_cuts_once_per_episode_and_pauses() -> None:
    c = LimiterConstants(decrease=0.5, pause_s=2.0, increase_per_s=0.1)
    limiter = Limiter(rpm=600, tpm=1e9, now=0.0, constants=c)
    early = [limiter.take(1, 0.0) for _ in range(3)]
    assert limiter.on_throttle(early[0], 1.0) is True
    assert limiter.multiplier == pytest.approx(0.5)
    assert limiter.rate_rpm == pytest.approx(300)
    # the other calls of the same burst were sent before the cut: no second cut
    assert limiter.on_throttle(early[1], 1.1) is False
    assert limiter.multiplier == pytest.approx(0.5)
    assert limiter.wait_time(1, 1.5) == pytest.approx(1.5)  # paused until t=3
    late = limiter.take(1, 3.0)
    assert limiter.on_throttle(late, 3.1) is True
    assert limiter.multiplier == pytest.approx(0.25)
    assert limiter.throttles == 3 and limiter.decreases == 2


def test_additive_increase_by_elapsed_time_up_to_the_ceiling() -> None:
    c = LimiterConstants(decrease=0.5, pause_s=1.0, increase_per_s=0.1)
    limiter = Limiter(rpm=600, tpm=1e9, now=0.0, constants=c)
    limiter.on_throttle(None, 0.0)
    limiter.on_success(0.5)  # still paused: no growth
    assert limiter.multiplier == pytest.approx(0.5)
    limiter.on_success(3.0)  # 2 s after the pause
    assert limiter.multiplier == pytest.approx(0.7)
    limiter.on_success(100.0)
    assert limiter.multiplier == 1.0
    assert limiter.rate_rpm == pytest.approx(600)


def test_multiplier_has_a_floor() -> None:
    c = LimiterConstants(decrease=0.1, min_multiplier=0.05)
    limiter = Limiter(rpm=600, tpm=1e9, now=0.0, constants=c)
    for i in range(10):
        limiter.on_throttle(None, float(i * 10))
    assert limiter.multiplier == pytest.approx(0.05)


@pytest.mark.parametrize("workers", [1, 2, 4, 8])
def test_fleet_share_divides_the_quota(workers: int) -> None:
    limiters = [Limiter(rpm=1200, tpm=1e9, now=0.0) for _ in range(workers)]
    for lim in limiters:
        lim.set_fleet(workers, 0.0)
        assert lim.rate_rpm == pytest.approx(1200 / workers)
    total = sum(len(drive(lim, 60.0)) for lim in limiters)
    assert total <= 1200 + workers  # one starting request each, never N x the quota
    assert total >= 1200 * 0.98


def test_fleet_share_follows_workers_joining_and_leaving() -> None:
    limiter = Limiter(rpm=1200, tpm=1e9, now=0.0)
    assert len(drive(limiter, 10.0)) == pytest.approx(200, abs=2)
    limiter.set_fleet(2, limiter.now + 10.0)
    limiter.now = 10.0
    assert len(drive(limiter, 10.0)) == pytest.approx(100, abs=2)
    limiter.set_fleet(1, 20.0)
    limiter.now = 20.0
    assert len(drive(limiter, 10.0)) == pytest.approx(200, abs=2)
