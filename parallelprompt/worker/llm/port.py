"""The LLM client port: what the pool and the run need from a model backend, nothing more.

A backend is an adapter module under :mod:`worker.llm` that turns a neutral :class:`Request`
into its own wire format, and every failure of its own (SDK exceptions, HTTP codes, bodies that
are not an answer) into the :class:`~worker.errors.CallError` family. The pool only sees this
module and :mod:`worker.errors`. :mod:`worker.llm.registry` chooses and imports adapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from parallelprompt.common.provenance import Backend
from parallelprompt.worker import shape as shaping


@dataclass(frozen=True, slots=True)
class Request:
    """One call: the system prompt, the user's text, and how to answer."""

    system: str
    user: str
    max_tokens: int
    temperature: float
    cache_point: bool = False  # ask the backend to cache the system prompt (a wish)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the model answered, and what it cost in tokens."""

    text: str | None
    stop_reason: str | None
    input_tokens: int  # uncached input, as the backend reports it
    output_tokens: int
    latency_ms: float
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Description:
    """Who the client talks to, for logs and the runs table (credentials redacted)."""

    backend: str  # the adapter's registry name
    model: str
    api: str
    endpoint: str
    region: str | None = None
    warnings: tuple[str, ...] = ()  # about the configuration, said when the run starts

    @property
    def where(self) -> str:
        return f"{self.endpoint} (region {self.region})" if self.region else self.endpoint


@dataclass(frozen=True, slots=True)
class Credentials:
    """Explicit keys for a local endpoint (the emulator accepts any signature)."""

    access_key: str
    secret_key: str


#: What a local emulator is signed with: never a real account's keys.
LOCAL_CREDENTIALS = Credentials("emulator", "emulator")


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How to open a client. ``api`` and ``shape`` are read by adapters that know them."""

    model_id: str
    api: str
    region: str | None
    endpoint_url: str | None
    concurrency: int
    connect_timeout: float
    read_timeout: float
    shape: shaping.Shape = shaping.AS_BUILT  # the catalogue's rules for the model
    credentials: Credentials | None = None  # None: the backend's own chain


class LLMClient(Protocol):
    """One opened backend client, shared by every task of a process."""

    @property
    def description(self) -> Description: ...

    async def identify(self, tries: int = 3, pause_s: float = 0.5) -> Backend:
        """What answers at the endpoint (before any billed call); FatalError if nothing does.
        Every later answer must come from the same kind of backend."""
        ...

    async def call(self, request: Request) -> Reply:
        """One attempt; raises :class:`~worker.errors.CallError` subclasses only."""
        ...

    async def aclose(self) -> None: ...
