"""The lever arithmetic: each lever's effect on cost and time, at a quota."""

from __future__ import annotations

import pytest

from parallelprompt.catalogue import pricing
from parallelprompt.catalogue.levers import Workload, levers

HAIKU_55 = "global.anthropic.claude-haiku-5-5"
WORK = Workload(
    prompts=1_000_000,
    prefix_tokens=2_900,
    prompt_tokens=100,
    output_tokens=100,
    sized_max_tokens=456,
)


def test_each_lever_lowers_cost_or_reservation_at_the_quota() -> None:
    rows = levers(WORK, HAIKU_55, pricing(HAIKU_55), rpm=10_000, tpm=2_000_000)
    paper, model, cached, sized, batch = rows
    # 3.5 Haiku: 3,000 in x $0.80 + 100 out x $4.00 per million, per prompt
    assert paper.cost_usd == pytest.approx(1e6 * (3000 * 0.8 + 100 * 4.0) / 1e6)
    assert model.cost_usd == pytest.approx(1e6 * (3000 * 0.1 + 100 * 0.5) / 1e6)
    assert cached.cost_usd == pytest.approx(1e6 * (2900 * 0.01 + 100 * 0.1 + 100 * 0.5) / 1e6)
    assert sized.cost_usd == cached.cost_usd
    assert batch.cost_usd == pytest.approx(model.cost_usd / 2) and batch.minutes is None
    # time: settled tokens per call, cache reads left out, output x5 for Haiku 5.5
    assert paper.minutes == pytest.approx(1e6 * (3000 + 100) / 2e6)
    assert model.minutes == pytest.approx(1e6 * (3000 + 500) / 2e6)
    assert cached.minutes == pytest.approx(1e6 * 600 / 2e6)
    assert sized.minutes_if_reserved is not None and cached.minutes_if_reserved is not None
    assert sized.minutes_if_reserved < cached.minutes_if_reserved


def test_a_model_that_cannot_cache_the_prefix_says_so() -> None:
    haiku45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    rows = levers(WORK, haiku45, pricing(haiku45), rpm=10_000, tpm=2_000_000)
    assert rows[2].cost_usd == rows[1].cost_usd
    assert "4,096" in rows[2].note


def test_requests_per_minute_can_bind() -> None:
    rows = levers(WORK, HAIKU_55, pricing(HAIKU_55), rpm=1_000, tpm=2_000_000)
    assert rows[3].minutes == pytest.approx(1_000.0)  # 1M prompts at 1,000 RPM
