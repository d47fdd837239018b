"""The emulator applies the catalogue's rules as Bedrock does, and caches prompt prefixes:
a request the real service would refuse fails here, in a test, not in a paid run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from parallelprompt.emulator import FixedResponder
from parallelprompt.emulator.responders import count_tokens
from tests.emulator.conftest import EmulatorFactory, bedrock

HAIKU_55 = "global.anthropic.claude-haiku-5-5"
HAIKU_35 = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
ANSWER = '{"parallelizable": false}'
LONG_SYSTEM = "Classify the prompt and answer in JSON. " * 60  # ~600 tokens: over 5.5's 512
SHORT_SYSTEM = "Answer in JSON."


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _converse(
    client: Any,
    *,
    model: str = HAIKU_55,
    system: str = LONG_SYSTEM,
    cache: bool = True,
    config: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [{"text": system}]
    if cache:
        blocks.append({"cachePoint": {"type": "default"}})
    kwargs: dict[str, Any] = {
        "modelId": model,
        "system": blocks,
        "messages": [{"role": "user", "content": [{"text": "Name 3 colours."}]}],
        "inferenceConfig": config or {"maxTokens": 300},
    }
    if extra is not None:
        kwargs["additionalModelRequestFields"] = extra
    result: dict[str, Any] = await client.converse(**kwargs)
    return result


OFF = {"thinking": {"type": "disabled"}}


async def _error(coro: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        await coro
    error: dict[str, Any] = caught.value.response["Error"]
    return error


async def test_models_outside_the_catalogue_and_end_of_life_models(
    running: EmulatorFactory,
) -> None:
    async with running(FixedResponder(ANSWER)) as emu, bedrock(emu.endpoint or "") as client:
        unknown = await _error(_converse(client, model="anthropic.claude-nope-v9"))
        wrong_profile = await _error(
            _converse(client, model="global.anthropic.claude-3-5-haiku-20241022-v1:0")
        )
        eol = await _error(_converse(client, model=HAIKU_35, extra=None))
        ok = await _converse(client, extra=OFF)
    assert unknown["Code"] == wrong_profile["Code"] == "ValidationException"
    assert eol["Code"] == "ResourceNotFoundException" and "end of its life" in eol["Message"]
    assert ok["stopReason"] == "end_turn"


async def test_haiku_5_5_refuses_sampling_parameters_and_unknown_thinking(
    running: EmulatorFactory,
) -> None:
    async with running(FixedResponder(ANSWER)) as emu, bedrock(emu.endpoint or "") as client:
        hot = await _error(_converse(client, config={"maxTokens": 300, "temperature": 0.2}))
        top_k = await _error(_converse(client, extra={**OFF, "top_k": 5}))
        budget = await _error(
            _converse(client, extra={"thinking": {"type": "enabled", "budget_tokens": 1024}})
        )
        old_adaptive = await _error(
            _converse(
                client,
                model="us.anthropic.claude-haiku-4-5-20251001-v1:0",
                extra={"thinking": {"type": "adaptive"}},
            )
        )
    for error in (hot, top_k, budget, old_adaptive):
        assert error["Code"] == "ValidationException"
    assert "temperature" in hot["Message"] and "top_k" in top_k["Message"]


async def test_thinking_is_on_by_default_and_costs_output_tokens(
    running: EmulatorFactory,
) -> None:
    async with running(FixedResponder(ANSWER)) as emu, bedrock(emu.endpoint or "") as client:
        thinking = await _converse(client)
        quiet = await _converse(client, extra=OFF)
    answer_tokens = count_tokens(ANSWER)
    assert quiet["usage"]["outputTokens"] == answer_tokens
    assert thinking["usage"]["outputTokens"] == 3 * answer_tokens
    blocks = thinking["output"]["message"]["content"]
    assert "reasoningContent" in blocks[0] and blocks[-1]["text"] == ANSWER
    assert quiet["output"]["message"]["content"] == [{"text": ANSWER}]


async def test_prompt_cache_write_read_ttl_and_minimum(running: EmulatorFactory) -> None:
    clock = Clock()
    prefix = count_tokens(LONG_SYSTEM)
    prompt = count_tokens("Name 3 colours.")
    async with (
        running(FixedResponder(ANSWER), clock=clock) as emu,
        bedrock(emu.endpoint or "") as client,
    ):
        first = (await _converse(client, extra=OFF))["usage"]
        clock.now += 299
        second = (await _converse(client, extra=OFF))["usage"]  # a hit restarts the TTL
        clock.now += 299
        third = (await _converse(client, extra=OFF))["usage"]
        clock.now += 301
        expired = (await _converse(client, extra=OFF))["usage"]
        short = (await _converse(client, system=SHORT_SYSTEM, extra=OFF))["usage"]
        unmarked = (await _converse(client, cache=False, extra=OFF))["usage"]
        stats = emu.stats()
    assert (first["cacheWriteInputTokens"], first["cacheReadInputTokens"]) == (prefix, 0)
    assert first["inputTokens"] == prompt
    assert (second["cacheReadInputTokens"], second["cacheWriteInputTokens"]) == (prefix, 0)
    assert third["cacheReadInputTokens"] == prefix
    assert expired["cacheWriteInputTokens"] == prefix
    # Shorter than the model's minimum: silently not cached, all of it plain input.
    assert (short["cacheReadInputTokens"], short["cacheWriteInputTokens"]) == (0, 0)
    assert short["inputTokens"] == count_tokens(SHORT_SYSTEM) + prompt
    assert "cacheReadInputTokens" not in unmarked
    assert stats["cache_read_tokens"] == 2 * prefix
    assert stats["cache_write_tokens"] == 2 * prefix


async def test_cache_reads_are_left_out_of_the_token_quota(running: EmulatorFactory) -> None:
    clock = Clock()
    async with (
        running(FixedResponder(ANSWER), clock=clock, tpm=10**9) as emu,
        bedrock(emu.endpoint or "") as client,
    ):
        await _converse(client, extra=OFF)
        before = emu.stats()["quota_tokens"]
        await _converse(client, extra=OFF)
        after = emu.stats()["quota_tokens"]
    output = 5 * count_tokens(ANSWER)  # Haiku 5.5's output counts 5x
    assert before == count_tokens(LONG_SYSTEM) + count_tokens("Name 3 colours.") + output
    assert after - before == count_tokens("Name 3 colours.") + output


async def test_invoke_model_cache_control_and_usage_names(running: EmulatorFactory) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 300,
        "thinking": {"type": "disabled"},
        "system": [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Name 3 colours."}],
    }
    async with running(FixedResponder(ANSWER)) as emu, bedrock(emu.endpoint or "") as client:
        usages = []
        for _ in range(2):
            resp = await client.invoke_model(modelId=HAIKU_55, body=json.dumps(body))
            usages.append(json.loads(await resp["body"].read())["usage"])
        hot = await _error(
            client.invoke_model(modelId=HAIKU_55, body=json.dumps({**body, "temperature": 0.2}))
        )
    assert usages[0]["cache_creation_input_tokens"] == count_tokens(LONG_SYSTEM)
    assert usages[1]["cache_read_input_tokens"] == count_tokens(LONG_SYSTEM)
    assert hot["Code"] == "ValidationException"
