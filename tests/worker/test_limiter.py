"""The limiter's arithmetic with a fake clock: pacing, reservations, the control law, the fleet
share. No real sleeping, no timing: the endpoint and the clock are simulated."""

from __future__ import annotations

import math

import pytest

from parallelprompt.worker.limiter import Limiter, LimiterConstants, Phase, Reservation
from tests.worker.endpoint_sim import Endpoint, Trace, simulate


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


# -- the control law, on a simulated endpoint and clock (tests/worker/endpoint_sim.py) -------


def steady(trace: Trace, start: int, end: int, quota_per_s: float) -> tuple[float, float]:
    """(admitted / quota, throttled / sent) over seconds [start, end)."""
    span = trace.span(start, end)
    return span.admitted / (quota_per_s * (end - start)), span.throttled / max(1, span.sent)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("noise", [0.02, 0.2])
def test_random_throttles_at_a_constant_rate_cost_only_the_retries(noise: float, seed: int) -> None:
    """Throttles at the same share whatever the rate are noise: the rate stays at the
    ceiling (the endpoint's quota equals the configured one and would admit it all)."""
    limiter = Limiter(rpm=1000, tpm=1e12, now=0.0)
    endpoint = Endpoint(quota_rpm=1000, burst_s=60, noise=noise, seed=seed)
    trace = simulate(limiter, endpoint, 240)
    sent = trace.span(30, 240).sent / 210
    assert sent >= 0.9 * 1000 / 60  # the rate stays near the configured ceiling
    assert trace.span(30, 240).multiplier >= 0.9
    admitted, _ = steady(trace, 30, 240, 1000 / 60)
    assert admitted >= 0.9 * (1 - noise)  # only the throttled retries are lost
    assert limiter.floor == pytest.approx(noise, abs=0.6 * noise + 0.01)  # it learned the noise


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("noise", [0.0, 0.02])
@pytest.mark.parametrize("factor", [2.0, 4.0])
def test_a_real_lower_ceiling_is_found_and_kept(factor: float, noise: float, seed: int) -> None:
    """Configured at ``factor`` x the endpoint's real quota (its bucket holding 5 s of it):
    the rate converges to the real quota, fills it and is seldom throttled."""
    real = 1200.0
    limiter = Limiter(rpm=real * factor, tpm=1e12, now=0.0)
    endpoint = Endpoint(quota_rpm=real, burst_s=5, noise=noise, seed=seed)
    trace = simulate(limiter, endpoint, 240)
    admitted, throttled = steady(trace, 30, 240, real / 60)
    assert admitted >= 0.9
    assert throttled <= noise + 0.05
    assert limiter.estimate is not None
    assert limiter.estimate * limiter.rpm == pytest.approx(real, rel=0.15)
    sent = trace.span(30, 240).sent / 210 * 60
    assert sent <= real * 1.1 / (1 - noise)  # below the configured ceiling: at the real one


def test_a_concurrency_bound_worker_far_under_its_allowance_still_finds_the_ceiling() -> None:
    """``--rpm 1e9`` and 32 calls in flight: cuts are taken from the rate actually sent, not
    from the (meaningless) allowance, or no cut would ever bite."""
    limiter = Limiter(rpm=1e9, tpm=1e12, now=0.0)
    trace = simulate(limiter, Endpoint(quota_rpm=1200, burst_s=5), 180, concurrency=32)
    admitted, throttled = steady(trace, 30, 180, 20.0)
    assert admitted >= 0.9
    assert throttled <= 0.05


def test_without_throttles_the_rate_is_the_configured_one() -> None:
    limiter = Limiter(rpm=1200, tpm=1e12, now=0.0)
    trace = simulate(limiter, Endpoint(quota_rpm=1200, burst_s=5), 60)
    admitted, throttled = steady(trace, 1, 60, 20.0)
    assert admitted >= 0.99 and throttled == 0.0
    assert limiter.decreases == 0 and limiter.multiplier == 1.0


def test_a_suspicion_is_checked_at_the_same_rate_before_any_cut() -> None:
    """Three throttles in the window make a suspicion, not a cut: the calls sent next, at the
    same rate, decide; when they are not throttled, nothing changes."""
    c = LimiterConstants(probe_min_n=5, probe_min_s=1.0)
    limiter = Limiter(rpm=600, tpm=1e9, now=0.0, constants=c)
    calls = [limiter.take(1, 0.0) for _ in range(3)]
    assert [limiter.on_throttle(r, 0.1) for r in calls] == [False, False, False]
    assert limiter.probe is not None and limiter.multiplier == 1.0
    for i in range(5):
        limiter.on_success(limiter.take(1, 1.0 + i * 0.1), 1.5 + i * 0.1)
    assert limiter.probe is None and limiter.decreases == 0 and limiter.multiplier == 1.0


def test_throttles_of_calls_sent_before_a_cut_do_not_count() -> None:
    c = LimiterConstants(probe_min_n=3, probe_min_s=0.5)
    limiter = Limiter(rpm=600, tpm=1e9, now=0.0, constants=c)
    before = [limiter.take(1, 0.0) for _ in range(10)]
    for r in before[:3]:
        limiter.on_throttle(r, 0.1)  # suspicion
    fresh = [limiter.take(1, 0.2) for _ in range(3)]
    cut = [limiter.on_throttle(r, 0.7) for r in fresh]
    assert cut == [False, False, True] and limiter.multiplier < 1.0
    m = limiter.multiplier
    for r in before[3:]:  # the same burst, sent before the cut: no effect on the probe
        assert limiter.on_throttle(r, 0.8) is False
    assert limiter.multiplier == m and limiter.probe is not None and limiter.probe.n == 0
    assert limiter.throttles == 13


def feed(limiter: Limiter, n: int, k: int, at: float) -> None:
    """``n`` calls sent at ``at``, ``k`` of them throttled, answered 0.05 s later."""
    calls = [Reservation(1, at) for _ in range(n)]
    for i, r in enumerate(calls):
        if i < k:
            limiter.on_throttle(r, at + 0.05)
        else:
            limiter.on_success(r, at + 0.05)


@pytest.mark.parametrize(("throttled", "estimate"), [(3, False), (12, True)])
def test_only_a_clear_excess_caps_the_climb_back(throttled: int, estimate: bool) -> None:
    """Suspect, hold (``throttled`` of 40 at the same rate), cut, no throttles at the lower
    rate: a ceiling. 7.5 % over it costs 7.5 % of retries and no quota, so the rate climbs
    straight back; 30 % over it is a real ceiling, and the climb stops at its estimate."""
    c = LimiterConstants(probe_min_n=40, probe_min_s=0.5)
    limiter = Limiter(rpm=600, tpm=1e12, now=0.0, constants=c)
    feed(limiter, 3, 3, 0.0)  # suspicion
    assert limiter.probe is not None and limiter.probe.phase is Phase.HOLD
    feed(limiter, 40, throttled, 1.0)
    assert limiter.probe is not None and limiter.probe.phase is Phase.CUT
    assert limiter.multiplier == pytest.approx(0.7)
    feed(limiter, 40, 0, 2.0)
    assert limiter.probe is None and limiter.restores == 0
    if estimate:
        assert limiter.estimate == pytest.approx(1.0 - throttled / 40)
    else:
        assert limiter.estimate is None
    limiter.on_success(None, 12.0)  # 10 s later: fast to 1, or 1 %/s past the estimate
    assert (limiter.multiplier > 0.95) is not estimate


def test_a_throttle_pauses_nothing() -> None:
    """Retries back off per call (in the pool); the limiter lets the next call go at once."""
    limiter = Limiter(rpm=6000, tpm=1e12, now=0.0)  # 100 per second
    calls = [limiter.take(1, 0.0)]
    calls += [limiter.take(1, 0.01 * i) for i in range(1, 4)]
    for r in calls[:3]:
        limiter.on_throttle(r, 0.05)
    assert limiter.wait_time(1, 0.06) <= 0.01  # the bucket's pace, no pause
    assert limiter.multiplier == 1.0


def test_recovery_to_the_estimate_takes_seconds() -> None:
    limiter = Limiter(rpm=600, tpm=1e9, now=0.0)
    limiter.estimate = 0.8
    limiter.multiplier = 0.4
    limiter.on_success(None, 6.0)  # three time constants
    assert limiter.multiplier == pytest.approx(0.8 - 0.4 * math.exp(-3), rel=1e-6)
    limiter.estimate = None
    limiter.on_success(None, 12.0)  # no estimate: the configured ceiling is the target
    assert limiter.multiplier > 0.95


def test_the_rate_never_drops_under_one_request_a_minute() -> None:
    limiter = Limiter(rpm=1e9, tpm=1e12, now=0.0)
    limiter.multiplier = 0.0
    limiter._set(0.0, 0.0)
    assert limiter.rate_rpm == pytest.approx(1.0)


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
