"""The aiohttp server and the :class:`Emulator` that owns it.

Each model request goes: authorization header -> model id -> body -> injected error? -> quota
-> answer -> latency -> settle the quota. Counters live in :class:`~emulator.stats.Stats`.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from emulator import answers
from emulator.buckets import Quota
from emulator.errors import (
    INVALID_MODEL,
    MISSING_AUTH,
    RETIRED_MODEL,
    BedrockError,
    error_parts,
)
from emulator.faults import FaultKind, FaultPicker, FaultRates
from emulator.protocol import (
    Answer,
    Api,
    ModelRequest,
    RequestError,
    converse_body,
    invoke_body,
    parse_converse,
    parse_invoke,
)
from emulator.responders import HEURISTIC_NOTICE, HeuristicResponder, Responder, count_tokens
from emulator.stats import Outcome, Stats
from parallelprompt import provenance
from parallelprompt.serving import start_app
from parallelprompt.settings import EmulatorSettings

_JSON = "application/json"


@dataclass(frozen=True)
class EmulatorOptions:
    """Knobs that only the emulator needs (not in :class:`EmulatorSettings`)."""

    #: How long a ``slow`` fault sleeps before answering: past any sane client read timeout.
    slow_seconds: float = 300.0
    #: How full the quota buckets are at start and after a reset (1.0: a full burst).
    initial_fill: float = 1.0
    #: maxTokens assumed for a Converse request without one (Bedrock accepts those and uses the
    #: model's maximum); ``None`` makes a missing maxTokens a ValidationException.
    converse_default_max_tokens: int | None = 4096
    #: Grace given to in-flight requests when the server stops.
    shutdown_timeout: float = 0.5
    #: Send the ``x-parallelprompt-emulator`` header on every response (the worker records
    #: the backend from it). Only tests that stand in for real Bedrock turn it off.
    announce: bool = True

    @classmethod
    def from_settings(cls, settings: EmulatorSettings) -> EmulatorOptions:
        return cls(slow_seconds=settings.slow_seconds, initial_fill=settings.initial_fill)


class _Done(Exception):
    """Ends a request early with a ready response and the outcome to count."""

    def __init__(self, response: web.Response, outcome: str) -> None:
        self.response = response
        self.outcome = outcome


def _error_response(error: BedrockError, message: str | None, request_id: str) -> web.Response:
    status, error_type, body = error_parts(error, message)
    headers = {"X-Amzn-ErrorType": error_type, "x-amzn-RequestId": request_id}
    return web.Response(status=status, body=body, content_type=_JSON, headers=headers)


async def _announce(request: web.Request, response: web.StreamResponse) -> None:
    """Every response says it comes from the emulator (errors and 404s included)."""
    response.headers[provenance.EMULATOR_HEADER] = _VERSION


_VERSION = provenance.version()


class Emulator:
    """A Bedrock Runtime look-alike on a loopback port; ``async with Emulator(s) as e``."""

    def __init__(
        self,
        settings: EmulatorSettings,
        responder: Responder | None = None,
        *,
        options: EmulatorOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.options = options or EmulatorOptions.from_settings(settings)
        self.fault_rates = FaultRates.parse(settings.faults)
        self.responder: Responder = responder or HeuristicResponder()
        self._clock = clock
        self._models = frozenset(settings.models)
        self._retired = frozenset(settings.retired_models)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.endpoint: str | None = None
        self.counters = Stats()
        self.reset()

    # -- state ------------------------------------------------------------------------------

    def reset(self) -> float:
        """Zero the counters, refill the quota buckets and restart the seeded draws.

        Returns the emulator's clock at the reset: the buckets' fill is exact at that instant.
        """
        s = self.settings
        now = self._clock()
        in_flight = self.counters.in_flight
        self.counters = Stats(in_flight=in_flight, peak_concurrency=in_flight)
        self.quota = Quota.build(
            s.rpm, s.tpm, s.burst_seconds, self._clock, fill=self.options.initial_fill, now=now
        )
        self._faults = FaultPicker(self.fault_rates, s.seed)
        self._latency_rng = random.Random(s.seed ^ 0x5EED)
        return now

    def stats(self, with_prompts: bool = False) -> dict[str, Any]:
        now = self._clock()
        out = self.counters.as_dict(now, with_prompts)
        out["clock"] = now  # the emulator's monotonic clock, to measure rates between two reads
        out["notice"] = HEURISTIC_NOTICE
        out["quota"] = self._quota_state()
        return out

    def _quota_state(self) -> dict[str, float | None]:
        q, now = self.quota, self._clock()
        state: dict[str, float | None] = {"rpm": self.settings.rpm, "tpm": self.settings.tpm}
        for name, bucket in (("requests_available", q.requests), ("tokens_available", q.tokens)):
            if bucket is not None:
                bucket.refill(now)
            state[name] = None if bucket is None else round(bucket.level, 3)
        return state

    # -- lifecycle --------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        if self.options.announce:
            app.on_response_prepare.append(_announce)
        app.router.add_post("/model/{model_id:.+}/converse", self._converse)
        app.router.add_post("/model/{model_id:.+}/invoke", self._invoke)
        app.router.add_get("/_emulator/stats", self._get_stats)
        app.router.add_post("/_emulator/reset", self._post_reset)
        return app

    async def start(self) -> str:
        """Bind (port 0: a free one) and return the endpoint URL."""
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        self._runner, self.endpoint = await start_app(
            self.app(),
            self.settings.host,
            self.settings.port,
            handler_cancellation=True,  # a client that hangs up cancels its handler
            shutdown_timeout=self.options.shutdown_timeout,
        )
        return self.endpoint

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- handlers ---------------------------------------------------------------------------

    async def _get_stats(self, request: web.Request) -> web.Response:
        with_prompts = request.query.get("prompts", "") not in ("", "0", "false")
        return web.json_response(self.stats(with_prompts))

    async def _post_reset(self, request: web.Request) -> web.Response:
        return web.json_response({"reset": True, "clock": self.reset()})

    async def _converse(self, request: web.Request) -> web.Response:
        return await self._handle(request, Api.CONVERSE)

    async def _invoke(self, request: web.Request) -> web.Response:
        return await self._handle(request, Api.INVOKE)

    async def _handle(self, request: web.Request, api: Api) -> web.Response:
        if request.match_info["model_id"] == provenance.IDENTIFY_MODEL_ID:
            # The worker's "who are you?": refused as Bedrock refuses it, and not counted.
            request_id = f"e0000000-0000-4000-8000-{next(self._ids):012x}"
            return _error_response(BedrockError.VALIDATION, INVALID_MODEL, request_id)
        self.counters.enter()
        self.counters.by_api[api] += 1
        outcome: str = Outcome.CANCELLED
        try:
            response, outcome = await self._serve(request, api)
            return response
        except _Done as done:
            outcome = done.outcome
            return done.response
        finally:
            self.counters.leave(outcome)  # the current counters: a reset keeps in_flight

    async def _serve(self, request: web.Request, api: Api) -> tuple[web.Response, str]:
        started = self._clock()
        request_id = f"e0000000-0000-4000-8000-{next(self._ids):012x}"
        model = request.match_info["model_id"]
        req = await self._check(request, api, model, request_id)
        fault = self._faults.pick()
        if fault is not None:
            self.counters.faults[fault] += 1
            if fault.error is not None:
                raise _Done(_error_response(fault.error, None, request_id), fault.error)
        input_tokens = count_tokens(req.system) + count_tokens(req.prompt)
        if not self.quota.admit(input_tokens + req.max_tokens):
            error = _error_response(BedrockError.THROTTLING, None, request_id)
            raise _Done(error, Outcome.THROTTLED)
        self.counters.admitted.add(started)
        self.counters.admitted_total += 1
        unused = req.max_tokens
        try:
            answer = self._answer(req, fault, request_id)
            unused = max(0, req.max_tokens - answer.output_tokens)
            await self._delay(answer, fault)
        finally:
            self.quota.settle(unused)
        self.counters.answered(req.prompt, input_tokens, answer.output_tokens)
        latency_ms = int((self._clock() - started) * 1000)
        response = self._respond(req, answer, input_tokens, latency_ms, model, request_id)
        outcome = fault.value if fault is not None else Outcome.OK
        return response, outcome

    async def _check(
        self, request: web.Request, api: Api, model: str, request_id: str
    ) -> ModelRequest:
        """The request as the model will see it, or :class:`_Done` with Bedrock's refusal."""
        if "Authorization" not in request.headers:
            error = _error_response(BedrockError.ACCESS_DENIED, MISSING_AUTH, request_id)
            raise _Done(error, Outcome.UNAUTHENTICATED)
        if model in self._retired:
            error = _error_response(BedrockError.RESOURCE_NOT_FOUND, RETIRED_MODEL, request_id)
            raise _Done(error, BedrockError.RESOURCE_NOT_FOUND)
        if self._models and model not in self._models:
            error = _error_response(BedrockError.VALIDATION, INVALID_MODEL, request_id)
            raise _Done(error, BedrockError.VALIDATION)
        body = await request.read()
        try:
            if api is Api.CONVERSE:
                return parse_converse(body, self.options.converse_default_max_tokens)
            return parse_invoke(body)
        except RequestError as exc:
            raise _Done(_error_response(exc.error, exc.message, request_id), exc.error) from None

    def _answer(self, req: ModelRequest, fault: FaultKind | None, request_id: str) -> Answer:
        try:
            text = self.responder(req.prompt, req.system, req.max_tokens)
        except Exception as exc:  # a broken script is the model failing, not the server
            message = f"The responder failed: {type(exc).__name__}: {exc}"
            error = _error_response(BedrockError.MODEL_ERROR, message, request_id)
            raise _Done(error, "responder_error") from None
        return answers.compose(text, fault, req.max_tokens, count_tokens)

    async def _delay(self, answer: Answer, fault: FaultKind | None) -> None:
        s = self.settings
        seconds = (s.latency_ms + s.per_token_ms * answer.output_tokens) / 1000.0
        if s.jitter_ms > 0:
            seconds += self._latency_rng.uniform(0.0, s.jitter_ms) / 1000.0
        if fault is FaultKind.SLOW:
            seconds += self.options.slow_seconds
        if seconds > 0:
            await asyncio.sleep(seconds)

    def _respond(
        self,
        req: ModelRequest,
        answer: Answer,
        input_tokens: int,
        latency_ms: int,
        model: str,
        request_id: str,
    ) -> web.Response:
        headers = {"x-amzn-RequestId": request_id}
        if req.api is Api.CONVERSE:
            body = converse_body(answer, input_tokens, latency_ms)
        else:
            body = invoke_body(answer, input_tokens, model, request_id)
            headers["X-Amzn-Bedrock-Input-Token-Count"] = str(input_tokens)
            headers["X-Amzn-Bedrock-Output-Token-Count"] = str(answer.output_tokens)
            headers["X-Amzn-Bedrock-Invocation-Latency"] = str(latency_ms)
        return web.Response(body=body, content_type=_JSON, headers=headers)
