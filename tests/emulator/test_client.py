"""The real aioboto3 client against the emulator: both APIs, every error type."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any

import aiohttp
import pytest
from botocore.exceptions import ClientError

from parallelprompt.emulator import EmulatorOptions, FaultKind, FixedResponder
from tests.emulator.conftest import MODEL, EmulatorFactory, bedrock, converse, invoke

ANSWER = '{"parallelizable": true, "category": "Repeated Generation", "n": 5}'

ERROR_FAULTS = [kind for kind in FaultKind if kind.error is not None]


async def test_converse_round_trip(running: EmulatorFactory) -> None:
    async with running(FixedResponder(ANSWER)) as emu, bedrock(emu.endpoint or "") as client:
        result = await converse(client, "Give me 5 slogans for a bakery")
    assert result["output"]["message"]["role"] == "assistant"
    assert result["output"]["message"]["content"] == [{"text": ANSWER}]
    assert result["stopReason"] == "end_turn"
    usage = result["usage"]
    assert usage["inputTokens"] > 0 and usage["outputTokens"] > 0
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert result["metrics"]["latencyMs"] >= 0


async def test_invoke_round_trip(running: EmulatorFactory) -> None:
    async with running(FixedResponder(ANSWER)) as emu, bedrock(emu.endpoint or "") as client:
        payload, headers = await invoke(client, "Translate these 3 sentences: a. b. c.")
    assert payload["content"] == [{"type": "text", "text": ANSWER}]
    assert payload["stop_reason"] == "end_turn"
    assert payload["role"] == "assistant"
    usage = payload["usage"]
    assert int(headers["x-amzn-bedrock-input-token-count"]) == usage["input_tokens"]
    assert int(headers["x-amzn-bedrock-output-token-count"]) == usage["output_tokens"]


async def test_model_id_is_url_decoded(running: EmulatorFactory) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/" + MODEL
    async with running(models=(MODEL, arn)) as emu, bedrock(emu.endpoint or "") as client:
        await converse(client, "hello", model=MODEL)  # botocore sends ':' as %3A
        payload, _ = await invoke(client, "hello", model=arn)  # and '/' as %2F
    assert payload["model"] == arn


@pytest.mark.parametrize("api", ["converse", "invoke"])
@pytest.mark.parametrize("fault", ERROR_FAULTS, ids=str)
async def test_every_error_type(running: EmulatorFactory, fault: FaultKind, api: str) -> None:
    error = fault.error
    assert error is not None
    async with running(faults=f"{fault}=1.0") as emu, bedrock(emu.endpoint or "") as client:
        with pytest.raises(ClientError) as caught:
            if api == "converse":
                await converse(client, "hello")
            else:
                await invoke(client, "hello")
        stats = emu.stats()
    err = caught.value.response
    assert err["Error"]["Code"] == error.value
    assert err["Error"]["Message"] == error.default_message
    assert err["ResponseMetadata"]["HTTPStatusCode"] == error.status
    assert stats["by_outcome"] == {error.value: 1}
    assert stats["faults"] == {fault.value: 1}


async def _client_error(coro: Awaitable[object]) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        await coro
    response: dict[str, Any] = caught.value.response
    return response


async def test_unknown_and_retired_models(running: EmulatorFactory) -> None:
    retired = "anthropic.claude-v2"
    async with (
        running(models=(MODEL,), retired_models=(retired,)) as emu,
        bedrock(emu.endpoint or "") as client,
    ):
        unknown = await _client_error(converse(client, "hi", model="anthropic.nope-v9"))
        old = await _client_error(invoke(client, "hi", model=retired))
    assert unknown["Error"]["Code"] == "ValidationException"
    assert unknown["Error"]["Message"] == "The provided model identifier is invalid."
    # What Bedrock answers for an end-of-life model (a 404, not a validation error).
    assert old["Error"]["Code"] == "ResourceNotFoundException"
    assert "end of its life" in str(old["Error"]["Message"])


async def test_missing_max_tokens(running: EmulatorFactory) -> None:
    strict = EmulatorOptions(converse_default_max_tokens=None)
    async with running(options=strict) as emu, bedrock(emu.endpoint or "") as client:
        via_invoke = await _client_error(invoke(client, "hi", max_tokens=None))
        via_converse = await _client_error(converse(client, "hi", max_tokens=None))
    assert via_invoke["Error"]["Code"] == "ValidationException"
    assert "max_tokens" in str(via_invoke["Error"]["Message"])
    assert via_converse["Error"]["Code"] == "ValidationException"


async def test_converse_without_max_tokens_is_accepted_by_default(
    running: EmulatorFactory,
) -> None:
    async with running() as emu, bedrock(emu.endpoint or "") as client:
        result = await converse(client, "hi", max_tokens=None)
    assert result["stopReason"] == "end_turn"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("converse", b"{not json"),
        ("converse", b"[1, 2]"),
        ("converse", b'{"messages": []}'),
        ("converse", b'{"messages": [{"role": "assistant", "content": [{"text": "x"}]}]}'),
        ("converse", b'{"messages": [{"role": "user", "content": "x"}]}'),
        ("invoke", b'{"max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}'),
        ("invoke", b'{"anthropic_version": "bedrock-2023-05-31", "max_tokens": 0, "messages": []}'),
    ],
)
async def test_malformed_bodies(running: EmulatorFactory, path: str, body: bytes) -> None:
    headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/..."}
    async with running() as emu, aiohttp.ClientSession() as http:
        url = f"{emu.endpoint}/model/{MODEL}/{path}"
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 400
            assert resp.headers["X-Amzn-ErrorType"].split(":")[0] == "ValidationException"
            assert (await resp.json())["message"]


async def test_missing_authorization_header(running: EmulatorFactory) -> None:
    body = json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})
    async with running() as emu, aiohttp.ClientSession() as http:
        async with http.post(f"{emu.endpoint}/model/{MODEL}/converse", data=body) as resp:
            assert resp.status == 403
            assert resp.headers["X-Amzn-ErrorType"].startswith("AccessDeniedException")
            assert (await resp.json())["message"] == "Authorization header is missing"
        assert emu.stats()["by_outcome"] == {"unauthenticated": 1}
