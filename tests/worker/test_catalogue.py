"""The model catalogue, request shaping and max_tokens sizing: pure policy, no I/O."""

from __future__ import annotations

import datetime as dt

import pytest

from parallelprompt.catalogue import catalogue, eol_message, format_catalogue, lookup, pricing
from parallelprompt.prompts import Contract
from parallelprompt.worker import shape
from parallelprompt.worker.llm import Request
from parallelprompt.worker.llm.bedrock import converse_request, invoke_body
from parallelprompt.worker.sizing import TokenPlan, quota_tokens

HAIKU_55 = "global.anthropic.claude-haiku-5-5"
HAIKU_45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


def test_every_model_states_every_fact_and_its_sources() -> None:
    cat = catalogue()
    for m in cat.models:
        assert m.sources and all(s in cat.sources for s in m.sources), m.key
        assert "regional" in m.prices
        for p in m.prices.values():
            assert p.batch_input == pytest.approx(p.input / 2)
            assert p.batch_output == pytest.approx(p.output / 2)
        assert m.output_burndown >= 1
    for src in cat.sources.values():
        assert src["url"] and src["read"]


def test_haiku_5_5_facts() -> None:
    m = lookup(HAIKU_55)
    assert m is not None and m.name == "Claude Haiku 5.5"
    assert m.min_cache_tokens == 512 and not m.sampling_params and m.thinking_default_on
    assert m.thinking_off == {"thinking": {"type": "disabled"}}
    g, r = m.price("global"), m.price("regional")
    assert (g.input, g.output) == (0.10, 0.50)
    assert r.input == pytest.approx(g.input * 1.1) and r.output == pytest.approx(g.output * 1.1)
    assert g.cache_write == pytest.approx(1.25 * g.input)
    assert g.cache_read == pytest.approx(0.1 * g.input)
    assert lookup("us.anthropic.claude-haiku-5-5") is m
    assert lookup("anthropic.claude-haiku-5-5") is m


def test_profile_a_model_does_not_have_is_unknown() -> None:
    assert lookup("global.anthropic.claude-3-5-haiku-20241022-v1:0") is None
    assert pricing("global.anthropic.claude-3-5-haiku-20241022-v1:0").known is False


def test_end_of_life_message_names_the_date_and_the_successor() -> None:
    m = lookup("us.anthropic.claude-3-5-haiku-20241022-v1:0")
    assert m is not None
    assert m.end_of_life(dt.date(2026, 6, 19)) and not m.end_of_life(dt.date(2026, 6, 18))
    line = eol_message(m, "us.anthropic.claude-3-5-haiku-20241022-v1:0")
    assert "2026-06-19" in line and "Claude Haiku 5.5" in line and "\n" not in line


def test_catalogue_listing() -> None:
    text = format_catalogue(dt.date(2026, 11, 29))
    assert "Claude Haiku 5.5 — active" in text
    assert "Claude 3.5 Haiku (the paper's model) — END OF LIFE since 2026-06-19" in text
    assert "sources:" in text and "model-card-anthropic-claude-haiku-5-5" in text


def test_shape_for_haiku_5_5_drops_temperature_turns_thinking_off_and_caches() -> None:
    contract = Contract.load()
    s = shape.Shape.for_model(lookup(HAIKU_55), 3000, caching=True)
    req = shape.converse(
        converse_request(Request(contract.system_prompt, "Name 3 colours.", 300, 0.2)), s
    )
    assert "temperature" not in req["inferenceConfig"]
    assert req["inferenceConfig"]["maxTokens"] == 300
    assert req["additionalModelRequestFields"] == {"thinking": {"type": "disabled"}}
    assert req["system"][-1] == {"cachePoint": {"type": "default"}}
    body = shape.invoke(
        invoke_body(Request(contract.system_prompt, "Name 3 colours.", 1024, 0.2)), s
    )
    assert "temperature" not in body and body["thinking"] == {"type": "disabled"}
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["system"][0]["text"] == contract.system_prompt


def test_shape_keeps_temperature_and_skips_a_prefix_below_the_minimum() -> None:
    contract = Contract.load()
    s = shape.Shape.for_model(lookup(HAIKU_45), 3000, caching=True)  # 4,096 minimum
    req = shape.converse(
        converse_request(Request(contract.system_prompt, "Name 3 colours.", 1024, 0.2)), s
    )
    assert req["inferenceConfig"]["temperature"] == 0.2
    assert "additionalModelRequestFields" not in req
    assert len(req["system"]) == 1
    off = shape.Shape.for_model(lookup(HAIKU_55), 3000, caching=False)
    assert not off.cache_point
    assert shape.Shape.for_model(None, 10**6, caching=True) == shape.AS_BUILT


def test_token_plan_sizes_within_the_ceiling_and_retries_higher() -> None:
    plan = TokenPlan(ceiling=1024, retry_ceiling=4096, sized=True, model_max=8192)
    assert plan.first(10) == 266  # 256 + 1 x 10: a lean answer copies the items at most
    assert plan.first(10_000) == 1024
    assert plan.retry(266) == 4096
    assert TokenPlan(1024, 4096, sized=True, model_max=3000).retry(1024) == 3000
    assert TokenPlan(1024, 0, sized=True).retry(1024) is None
    assert TokenPlan(1024, 4096, sized=False).first(10) == 1024
    assert TokenPlan(8192, 4096, sized=True, model_max=8192).retry(8192) is None


def test_quota_tokens_leave_cache_reads_out_and_burn_output_down() -> None:
    assert quota_tokens(100, 50, cache_write=0, burndown=5) == 350
    assert quota_tokens(100, 50, cache_write=3000, burndown=1) == 3150
