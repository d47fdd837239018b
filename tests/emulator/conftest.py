"""Shared helpers: an emulator on a free loopback port and the real aioboto3 client."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import aioboto3
import botocore.config
import pytest

from parallelprompt.emulator import Emulator, EmulatorOptions, Responder
from parallelprompt.settings import EmulatorSettings

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
SYSTEM = "Answer in JSON."

_SESSION = aioboto3.Session()  # one session: botocore's loader caches the service model


def settings(**changes: Any) -> EmulatorSettings:
    """Exact heuristic answers unless a test asks for ``answer_style="realistic"``."""
    return dataclasses.replace(EmulatorSettings(port=0, answer_style="exact"), **changes)


@asynccontextmanager
async def bedrock(endpoint: str, read_timeout: float = 10.0) -> AsyncIterator[Any]:
    config = botocore.config.Config(
        retries={"total_max_attempts": 1}, read_timeout=read_timeout, connect_timeout=5
    )
    async with _SESSION.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config,
    ) as client:
        yield client


async def converse(
    client: Any, prompt: str, max_tokens: int | None = 256, model: str = MODEL
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "modelId": model,
        "system": [{"text": SYSTEM}],
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
    }
    if max_tokens is not None:
        kwargs["inferenceConfig"] = {"maxTokens": max_tokens, "temperature": 0.2}
    result: dict[str, Any] = await client.converse(**kwargs)
    return result


async def invoke(
    client: Any, prompt: str, max_tokens: int | None = 256, model: str = MODEL
) -> tuple[dict[str, Any], dict[str, str]]:
    body: dict[str, Any] = {
        "anthropic_version": "bedrock-2023-05-31",
        "system": SYSTEM,
        "messages": [{"role": "user", "content": prompt}],
        "temperature": 0.2,
    }
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    resp = await client.invoke_model(modelId=model, body=json.dumps(body))
    payload: dict[str, Any] = json.loads(await resp["body"].read())
    headers: dict[str, str] = resp["ResponseMetadata"]["HTTPHeaders"]
    return payload, headers


EmulatorFactory = Callable[..., AbstractAsyncContextManager[Emulator]]


@pytest.fixture
def running() -> EmulatorFactory:
    """``async with running(rpm=60, ...) as emu`` starts an emulator on a free port."""

    @asynccontextmanager
    async def start(
        responder: Responder | None = None,
        options: EmulatorOptions | None = None,
        clock: Callable[[], float] | None = None,
        **changes: Any,
    ) -> AsyncIterator[Emulator]:
        kwargs: dict[str, Any] = {"options": options}
        if clock is not None:
            kwargs["clock"] = clock
        async with Emulator(settings(**changes), responder, **kwargs) as emu:
            yield emu

    return start
