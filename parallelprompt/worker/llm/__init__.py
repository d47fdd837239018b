"""LLM clients: the port (:mod:`worker.llm.port`), the registry of adapters, the adapters."""

from parallelprompt.worker.llm.port import (
    LOCAL_CREDENTIALS,
    ClientOptions,
    Credentials,
    Description,
    LLMClient,
    Reply,
    Request,
)
from parallelprompt.worker.llm.registry import ADAPTERS, opened, opener

__all__ = [
    "ADAPTERS",
    "LOCAL_CREDENTIALS",
    "ClientOptions",
    "Credentials",
    "Description",
    "LLMClient",
    "Reply",
    "Request",
    "opened",
    "opener",
]
