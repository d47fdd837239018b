"""Quota, latency, faults and counters of a running emulator."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from parallelprompt.common.provenance import EMULATOR_NOTICE
from parallelprompt.emulator import (
    EmulatorOptions,
    FixedResponder,
    HeuristicResponder,
    ScriptedResponder,
)
from parallelprompt.emulator.responders import count_tokens
from parallelprompt.prompts import heuristic_answer
from tests.emulator.conftest import SYSTEM, EmulatorFactory, bedrock, converse, invoke

ANSWER = '{"parallelizable": false}'


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


async def _outcomes(client: Any, n: int, max_tokens: int = 100) -> list[str]:
    out = []
    for i in range(n):
        try:
            await converse(client, f"prompt {i}", max_tokens=max_tokens)
            out.append("ok")
        except ClientError as exc:
            out.append(exc.response["Error"]["Code"])
    return out


async def test_requests_per_minute_quota(running: EmulatorFactory) -> None:
    clock = Clock()
    # 60/min with a 3-second burst: 3 at once, then one a second.
    async with (
        running(FixedResponder(ANSWER), clock=clock, rpm=60, burst_seconds=3) as emu,
        bedrock(emu.endpoint or "") as client,
    ):
        assert await _outcomes(client, 5) == ["ok"] * 3 + ["ThrottlingException"] * 2
        clock.now += 1.0
        assert await _outcomes(client, 2) == ["ok", "ThrottlingException"]
        clock.now += 10.0
        assert await _outcomes(client, 4) == ["ok"] * 3 + ["ThrottlingException"]
        stats = emu.stats()
    assert stats["by_outcome"] == {"ok": 7, "throttled": 4}
    assert stats["admitted"] == 7


async def test_tokens_per_minute_reserve_then_settle(running: EmulatorFactory) -> None:
    clock = Clock()
    max_tokens = 300
    reserve = count_tokens(SYSTEM) + count_tokens("prompt 0") + max_tokens
    burndown = 5  # Claude Haiku 4.5's output tokens count 5x toward the quota
    used = count_tokens(SYSTEM) + count_tokens("prompt 0") + burndown * count_tokens(ANSWER)
    tpm = 60.0 * reserve  # burst_seconds=1: room for exactly one reservation
    async with (
        running(FixedResponder(ANSWER), clock=clock, tpm=tpm, burst_seconds=1) as emu,
        bedrock(emu.endpoint or "") as client,
    ):
        # The first call reserves everything; settling gives back what its answer did not use,
        # which is not enough for a second reservation.
        assert await _outcomes(client, 2, max_tokens) == ["ok", "ThrottlingException"]
        assert emu.stats()["quota"]["tokens_available"] == pytest.approx(reserve - used)
        clock.now += 1.0  # refilled
        assert await _outcomes(client, 1, max_tokens) == ["ok"]
        # A loose max_tokens throttles early: a small one fits in what is left.
        assert await _outcomes(client, 1, max_tokens - used) == ["ok"]


async def test_reservation_is_held_while_the_answer_is_in_flight(
    running: EmulatorFactory,
) -> None:
    clock = Clock()
    max_tokens = 300
    reserve = count_tokens(SYSTEM) + count_tokens("prompt 0") + max_tokens
    async with (
        running(
            FixedResponder(ANSWER),
            clock=clock,
            tpm=60.0 * reserve,
            burst_seconds=1,
            latency_ms=300,
        ) as emu,
        bedrock(emu.endpoint or "") as client,
    ):
        first = asyncio.create_task(converse(client, "prompt 0", max_tokens=max_tokens))
        for _ in range(500):  # until the first call holds its reservation
            if emu.stats()["in_flight"]:
                break
            await asyncio.sleep(0.01)
        assert await _outcomes(client, 1, max_tokens) == ["ThrottlingException"]
        await first
        assert await _outcomes(client, 1, 10) == ["ok"]  # the unused part came back
        assert emu.stats()["peak_concurrency"] == 2  # the throttled one overlapped


async def test_latency_is_at_least_the_base(running: EmulatorFactory) -> None:
    async with (
        running(FixedResponder(ANSWER), latency_ms=150, per_token_ms=1, jitter_ms=20) as emu,
        bedrock(emu.endpoint or "") as client,
    ):
        started = time.monotonic()
        result = await converse(client, "hello")
        elapsed = time.monotonic() - started
    floor = 150 + result["usage"]["outputTokens"]
    # 1 ms of slack: the event loop may wake a hair early, and latencyMs is truncated.
    assert result["metrics"]["latencyMs"] >= floor - 1
    assert elapsed * 1000 >= floor - 1


@pytest.mark.parametrize(
    ("fault", "stop_reason", "check"),
    [
        ("truncated", "max_tokens", lambda text: text and not text.endswith("}")),
        ("refusal", "end_turn", lambda text: text.startswith("I'm sorry")),
        ("malformed", "end_turn", lambda text: text.startswith("Here is")),
        ("empty", "end_turn", lambda text: text is None),
    ],
)
async def test_answer_faults(
    running: EmulatorFactory, fault: str, stop_reason: str, check: Any
) -> None:
    answer = '{"parallelizable": true, "n": 5, "category": "Repeated Generation"}'
    async with (
        running(FixedResponder(answer), faults=f"{fault}=1") as emu,
        bedrock(emu.endpoint or "") as client,
    ):
        result = await converse(client, "Give me 5 names")
        payload, _ = await invoke(client, "Give me 5 names")
        stats = emu.stats()
    content = result["output"]["message"]["content"]
    assert result["stopReason"] == payload["stop_reason"] == stop_reason
    assert check(content[0]["text"] if content else None)
    assert check(payload["content"][0]["text"] if payload["content"] else None)
    assert stats["by_outcome"] == {fault: 2}


async def test_slow_answer_is_cancelled_when_the_client_gives_up(
    running: EmulatorFactory,
) -> None:
    options = EmulatorOptions(slow_seconds=30)
    async with (
        running(FixedResponder(ANSWER), options=options, faults="slow=1", rpm=60) as emu,
        bedrock(emu.endpoint or "", read_timeout=0.3) as client,
    ):
        with pytest.raises(ReadTimeoutError):
            await converse(client, "hello")
        for _ in range(200):  # the server notices the hang-up
            if emu.stats()["in_flight"] == 0:
                break
            await asyncio.sleep(0.01)
        stats = emu.stats()
    assert stats["in_flight"] == 0
    assert stats["by_outcome"] == {"cancelled": 1}
    assert stats["quota"]["requests_available"] < 60  # charged, not lost


async def test_faults_are_reproducible_with_a_seed(running: EmulatorFactory) -> None:
    async def run(seed: int) -> list[str]:
        faults = "throttle=0.2,server=0.2,empty=0.1"
        async with running(seed=seed, faults=faults) as emu, bedrock(emu.endpoint or "") as c:
            out = await _outcomes(c, 30)
            emu.reset()  # a reset restarts the draws
            assert await _outcomes(c, 30) == out
            return out

    first = await run(42)
    assert first == await run(42)
    assert first != await run(43)
    assert {"ok", "ThrottlingException", "InternalServerException"} <= set(first)


async def test_stats_duplicates_and_reset(running: EmulatorFactory) -> None:
    async with running(FixedResponder(ANSWER), rpm=600) as emu, aiohttp.ClientSession() as http:
        async with bedrock(emu.endpoint or "") as client:
            for prompt in ["a", "b", "a", "a", "c"]:
                await converse(client, prompt)
            await invoke(client, "b")
        async with http.get(f"{emu.endpoint}/_emulator/stats?prompts=1") as resp:
            stats = await resp.json()
        assert stats["requests"] == 6
        assert stats["by_outcome"] == {"ok": 6}
        assert stats["by_api"] == {"converse": 5, "invoke": 1}
        assert stats["prompts_seen"] == 3 and stats["duplicate_calls"] == 3
        assert sorted(stats["prompts"].values()) == [1, 2, 3]
        assert stats["input_tokens"] > 0 and stats["output_tokens"] == 6 * count_tokens(ANSWER)
        assert stats["notice"] == EMULATOR_NOTICE
        assert stats["admitted_last_minute"] == 6
        async with http.post(f"{emu.endpoint}/_emulator/reset") as resp:
            assert resp.status == 200
        async with http.get(f"{emu.endpoint}/_emulator/stats") as resp:
            after = await resp.json()
        assert after["requests"] == 0 and after["prompts_seen"] == 0 and "prompts" not in after
        assert after["quota"]["requests_available"] == 600


async def test_peak_concurrency(running: EmulatorFactory) -> None:
    async with (
        running(FixedResponder(ANSWER), latency_ms=200) as emu,
        bedrock(emu.endpoint or "") as client,
    ):
        await asyncio.gather(*(converse(client, f"p{i}") for i in range(5)))
        assert emu.stats()["peak_concurrency"] == 5


async def test_scripted_and_heuristic_responders(running: EmulatorFactory) -> None:
    script = ScriptedResponder({"one": '{"n": 1}'}, default='{"n": 0}')
    async with running(script) as emu, bedrock(emu.endpoint or "") as client:
        one = await converse(client, "one")
        other = await converse(client, "two")
    assert one["output"]["message"]["content"][0]["text"] == '{"n": 1}'
    assert other["output"]["message"]["content"][0]["text"] == '{"n": 0}'

    def broken(prompt: str) -> str:
        raise KeyError(prompt)

    async with running(ScriptedResponder(broken)) as emu, bedrock(emu.endpoint or "") as c:
        with pytest.raises(ClientError) as caught:
            await converse(c, "x")
    assert caught.value.response["Error"]["Code"] == "ModelErrorException"

    async with running() as emu, bedrock(emu.endpoint or "") as client:  # exact: tests default
        result = await converse(client, "Give me 5 slogans for a bakery")
    text = result["output"]["message"]["content"][0]["text"]
    assert text == heuristic_answer("Give me 5 slogans for a bakery")
    assert json.loads(text)["parallelizable"] is True
    assert HeuristicResponder()("Give me 5 slogans for a bakery", None, 9) == text


async def test_empty_bucket_admits_only_the_refill(running: EmulatorFactory) -> None:
    clock = Clock()
    empty = EmulatorOptions(initial_fill=0.0)
    async with (
        running(FixedResponder(ANSWER), options=empty, clock=clock, rpm=60) as emu,
        bedrock(emu.endpoint or "") as client,
    ):
        assert await _outcomes(client, 1) == ["ThrottlingException"]
        clock.now += 2.5
        assert await _outcomes(client, 3) == ["ok", "ok", "ThrottlingException"]
        assert emu.reset() == clock.now
        assert await _outcomes(client, 1) == ["ThrottlingException"]
