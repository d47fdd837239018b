"""A scripted in-memory client for the port: no network, no SDK, answers in microseconds.

The pool's policy tests (breakers, budget, attempts, throttles) drive a real :class:`Pool` on a
real SQLite file with it. A script decides each call: a :class:`Reply` to return or a
:class:`~worker.errors.CallError` to raise. It is never registered as a backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from parallelprompt.common.provenance import EMULATOR, Backend
from parallelprompt.worker.errors import CallError
from parallelprompt.worker.llm.port import Description, Reply, Request

Step = Reply | CallError
#: Decides one call from the request and how many calls this prompt had before it.
Script = Callable[[Request, int], Step]


def reply(text: str, stop_reason: str = "end_turn", **usage: int) -> Reply:
    """An answer with small, fixed token counts unless given."""
    return Reply(
        text=text,
        stop_reason=stop_reason,
        input_tokens=usage.get("input_tokens", 100),
        output_tokens=usage.get("output_tokens", 10),
        latency_ms=1.0,
        cache_read_tokens=usage.get("cache_read_tokens", 0),
        cache_write_tokens=usage.get("cache_write_tokens", 0),
    )


def in_turn(steps: Sequence[Step]) -> Script:
    """Each prompt gets ``steps`` in order, the last one repeated."""
    if not steps:
        raise ValueError("a script needs at least one step")
    return lambda _request, n: steps[min(n, len(steps) - 1)]


class ScriptedClient:
    """An :class:`~worker.llm.port.LLMClient` that follows a script."""

    def __init__(self, script: Script, backend: Backend | None = None) -> None:
        self.script = script
        self.backend = backend or Backend(EMULATOR, "scripted")
        self.calls: list[Request] = []
        self.closed = False
        self._per_prompt: dict[str, int] = {}

    @property
    def description(self) -> Description:
        return Description("scripted", "scripted-model", "converse", "memory://scripted")

    async def identify(self, tries: int = 3, pause_s: float = 0.5) -> Backend:
        return self.backend

    async def call(self, request: Request) -> Reply:
        n = self._per_prompt.get(request.user, 0)
        self._per_prompt[request.user] = n + 1
        self.calls.append(request)
        step = self.script(request, n)
        if isinstance(step, CallError):
            raise step
        return step

    def calls_for(self, prompt: str) -> int:
        return self._per_prompt.get(prompt, 0)

    async def aclose(self) -> None:
        self.closed = True
