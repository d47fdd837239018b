"""The emulator names itself on every response (issue 11 §3): answers, errors, unknown paths."""

from __future__ import annotations

import aiohttp
import pytest
from botocore.exceptions import ClientError

from parallelprompt.common import provenance
from tests.emulator.conftest import EmulatorFactory, bedrock, converse, invoke


async def test_every_response_carries_the_emulator_header(running: EmulatorFactory) -> None:
    version = provenance.version()
    async with running(faults="throttle=1.0") as emu, bedrock(emu.endpoint) as client:
        with pytest.raises(ClientError) as refused:
            await converse(client, "hello")
        assert refused.value.response["Error"]["Code"] == "ThrottlingException"
        assert provenance.from_response(refused.value.response).kind == provenance.EMULATOR
        async with aiohttp.ClientSession() as http:
            for method, path in (("GET", "/nowhere"), ("GET", "/_emulator/stats")):
                async with http.request(method, emu.endpoint + path) as resp:
                    assert resp.headers[provenance.EMULATOR_HEADER] == version
    async with running() as emu, bedrock(emu.endpoint) as client:
        answered = await converse(client, "hello")
        assert provenance.from_response(answered) == provenance.Backend("emulator", version)
        _, headers = await invoke(client, "hello")
        assert provenance.from_headers(headers).kind == provenance.EMULATOR


async def test_the_identification_request_is_refused_and_not_counted(
    running: EmulatorFactory,
) -> None:
    async with running() as emu, bedrock(emu.endpoint) as client:
        with pytest.raises(ClientError) as refused:
            await converse(client, "?", model=provenance.IDENTIFY_MODEL_ID)
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert provenance.from_response(refused.value.response).kind == provenance.EMULATOR
        assert emu.stats()["requests"] == 0


def test_no_header_means_bedrock() -> None:
    assert provenance.from_headers({"x-amzn-requestid": "1"}).kind == provenance.BEDROCK
    assert provenance.from_response({}).kind == provenance.BEDROCK
    assert provenance.from_headers({"X-ParallelPrompt-Emulator": "1.2"}).version == "1.2"
