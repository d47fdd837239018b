"""Backends by name, imported only when chosen (the Bedrock adapter pulls in aioboto3).

Adding a backend: write ``worker/llm/NAME.py`` with ``async def open_client(options) ->
LLMClient`` and add one line below.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import cast

from parallelprompt.worker.llm.port import ClientOptions, LLMClient

ADAPTERS: dict[str, str] = {
    # Bedrock Runtime, and the local emulator that speaks it
    "bedrock": "parallelprompt.worker.llm.bedrock",
}

Opener = Callable[[ClientOptions], Awaitable[LLMClient]]


def opener(name: str) -> Opener:
    """The adapter's ``open_client``; ValueError for a name not in :data:`ADAPTERS`."""
    try:
        module_name = ADAPTERS[name]
    except KeyError:
        known = ", ".join(sorted(ADAPTERS))
        raise ValueError(f"unknown LLM backend {name!r} (known: {known})") from None
    module = importlib.import_module(module_name)
    return cast(Opener, module.open_client)


@contextlib.asynccontextmanager
async def opened(name: str, options: ClientOptions) -> AsyncIterator[LLMClient]:
    """An opened client, closed on exit."""
    client = await opener(name)(options)
    try:
        yield client
    finally:
        await client.aclose()
