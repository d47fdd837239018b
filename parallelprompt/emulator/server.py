"""The aiohttp server and the :class:`Emulator` that owns it.

Each model request goes: authorization header -> model id -> body -> the model's rules ->
injected error? -> prompt cache -> quota -> answer -> latency -> settle the quota. Counters live
in :class:`~emulator.stats.Stats`.

The model's rules come from the catalogue (``catalogue/models.json``), as Bedrock applies them:
an id the catalogue does not know is a ValidationException (unless ``--models`` lists it), an
end-of-life model a ResourceNotFoundException, sampling parameters sent to a model that refuses
them (Claude Haiku 5.5) a ValidationException, and so is a ``thinking.type`` the model does not
take. A model that thinks by default (Haiku 5.5) does so unless the request turns it off: its
answer then carries a reasoning block and spends output tokens on it.

Quota, as Bedrock meters it: a request reserves its counted input (uncached input plus cache
writes; cache reads do not count) plus ``max_tokens``; the answer settles it to counted input
plus output tokens times the model's burndown (5 for Claude 4.x and later).
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

from parallelprompt.catalogue import ModelInfo, lookup
from parallelprompt.common import provenance
from parallelprompt.common.serving import start_app
from parallelprompt.emulator import answers
from parallelprompt.emulator.buckets import Quota
from parallelprompt.emulator.cache import PromptCache
from parallelprompt.emulator.errors import (
    INVALID_MODEL,
    MISSING_AUTH,
    RETIRED_MODEL,
    SAMPLING_REFUSED,
    THINKING_REFUSED,
    BedrockError,
    error_parts,
)
from parallelprompt.emulator.faults import FaultKind, FaultPicker, FaultRates, HostileKind
from parallelprompt.emulator.protocol import (
    Answer,
    Api,
    ModelRequest,
    RequestError,
    Usage,
    converse_body,
    invoke_body,
    parse_converse,
    parse_invoke,
)
from parallelprompt.emulator.responders import (
    HEURISTIC_NOTICE,
    HeuristicResponder,
    Responder,
    StyledResponder,
    count_tokens,
)
from parallelprompt.emulator.settings import EmulatorSettings
from parallelprompt.emulator.stats import Outcome, Stats
from parallelprompt.emulator.style import AnswerStyle

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
    #: Output tokens a default-on thinking model spends thinking, per answer token.
    thinking_per_answer_token: float = 2.0
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
        #: The default responder in the realistic answer style (None: exact, or given).
        self.styled: StyledResponder | None = None
        self.answer_style = "custom" if responder is not None else settings.answer_style
        if responder is None:
            if settings.answer_style == AnswerStyle.EXACT:
                responder = HeuristicResponder()
            else:
                responder = self.styled = StyledResponder(settings.seed)
        self.responder: Responder = responder
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
        self._hostile_rng = random.Random(s.seed ^ 0xBAD)
        if self.styled is not None:
            self.styled.effects.clear()
        self.cache = PromptCache()
        return now

    def stats(self, with_prompts: bool = False) -> dict[str, Any]:
        now = self._clock()
        out = self.counters.as_dict(now, with_prompts)
        out["clock"] = now  # the emulator's monotonic clock, to measure rates between two reads
        out["notice"] = HEURISTIC_NOTICE
        out["answer_style"] = self.answer_style
        out["style_effects"] = dict(self.styled.effects) if self.styled is not None else {}
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
        req, info = await self._check(request, api, model, request_id)
        fault = self._faults.pick()
        if fault is not None:
            self.counters.faults[fault] += 1
            if fault.error is not None:
                raise _Done(_error_response(fault.error, None, request_id), fault.error)
        usage = self._input_usage(req, info)
        counted_in = usage.input_tokens + usage.cache_write
        reserved = counted_in + req.max_tokens
        if not self.quota.admit(reserved):
            error = _error_response(BedrockError.THROTTLING, None, request_id)
            raise _Done(error, Outcome.THROTTLED)
        self.counters.admitted.add(started)
        self.counters.admitted_total += 1
        hostile = self._hostile() if fault is FaultKind.HOSTILE else None
        if hostile is HostileKind.HTML_200:  # not a model's answer: no tokens, no prompt count
            self.quota.settle(reserved)
            page = web.Response(body=answers.HTML_PAGE, content_type="text/html")
            return page, fault.value if fault is not None else Outcome.OK
        used = reserved
        try:
            answer, thought = self._answer(req, info, fault, request_id, hostile)
            burndown = info.output_burndown if info else 1.0
            used = counted_in + round(answer.output_tokens * burndown)
            await self._delay(answer, fault)
        finally:
            self.quota.settle(reserved - used)
        usage = Usage(
            usage.input_tokens,
            answer.output_tokens,
            usage.cache_read,
            usage.cache_write,
            usage.cache_marked,
        )
        self.counters.answered(req.prompt, usage, used, thought)
        latency_ms = int((self._clock() - started) * 1000)
        response = self._respond(req, answer, usage, thought > 0, latency_ms, model, request_id)
        outcome = fault.value if fault is not None else Outcome.OK
        return response, outcome

    def _input_usage(self, req: ModelRequest, info: ModelInfo | None) -> Usage:
        """Input tokens split into uncached, cache read and cache write."""
        total = count_tokens(req.system) + count_tokens(req.prompt)
        if req.cache_prefix is None:
            return Usage(total, 0)
        prefix_tokens = count_tokens(req.cache_prefix)
        minimum = info.min_cache_tokens if info else None
        read, write = self.cache.use(
            info.key if info else "", req.cache_prefix, prefix_tokens, minimum, self._clock()
        )
        return Usage(total - read - write, 0, read, write, cache_marked=True)

    async def _check(
        self, request: web.Request, api: Api, model: str, request_id: str
    ) -> tuple[ModelRequest, ModelInfo | None]:
        """The request as the model will see it and the model's catalogue record, or
        :class:`_Done` with Bedrock's refusal."""
        if "Authorization" not in request.headers:
            error = _error_response(BedrockError.ACCESS_DENIED, MISSING_AUTH, request_id)
            raise _Done(error, Outcome.UNAUTHENTICATED)
        info = lookup(model)
        if model in self._retired or (info is not None and info.end_of_life()):
            error = _error_response(BedrockError.RESOURCE_NOT_FOUND, RETIRED_MODEL, request_id)
            raise _Done(error, BedrockError.RESOURCE_NOT_FOUND)
        known = model in self._models if self._models else info is not None
        if not known:
            error = _error_response(BedrockError.VALIDATION, INVALID_MODEL, request_id)
            raise _Done(error, BedrockError.VALIDATION)
        body = await request.read()
        try:
            if api is Api.CONVERSE:
                req = parse_converse(body, self.options.converse_default_max_tokens)
            else:
                req = parse_invoke(body)
            _model_rules(req, info)
        except RequestError as exc:
            raise _Done(_error_response(exc.error, exc.message, request_id), exc.error) from None
        return req, info

    def _hostile(self) -> HostileKind:
        kind = self._hostile_rng.choice(list(HostileKind))
        self.counters.faults[f"hostile_{kind}"] += 1
        return kind

    def _answer(
        self,
        req: ModelRequest,
        info: ModelInfo | None,
        fault: FaultKind | None,
        request_id: str,
        hostile: HostileKind | None = None,
    ) -> tuple[Answer, int]:
        """The answer and the output tokens spent thinking before it (within max_tokens)."""
        try:
            text = self.responder(req.prompt, req.system, req.max_tokens)
        except Exception as exc:  # a broken script is the model failing, not the server
            message = f"The responder failed: {type(exc).__name__}: {exc}"
            error = _error_response(BedrockError.MODEL_ERROR, message, request_id)
            raise _Done(error, "responder_error") from None
        if hostile is not None:
            text = answers.hostile_text(hostile, text, self._hostile_rng.randrange(3))
        thinks = info is not None and info.thinking_default_on and req.thinking != "disabled"
        thinking = 0
        if thinks:
            wanted = round(count_tokens(text) * self.options.thinking_per_answer_token)
            thinking = min(wanted, req.max_tokens - 1)
        answer = answers.compose(text, fault, req.max_tokens - thinking, count_tokens)
        if thinking:
            answer = Answer(answer.text, answer.stop_reason, answer.output_tokens + thinking)
        return answer, thinking

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
        usage: Usage,
        thought: bool,
        latency_ms: int,
        model: str,
        request_id: str,
    ) -> web.Response:
        headers = {"x-amzn-RequestId": request_id}
        if req.api is Api.CONVERSE:
            body = converse_body(answer, usage, latency_ms, thought)
        else:
            body = invoke_body(answer, usage, model, request_id, thought)
            headers["X-Amzn-Bedrock-Input-Token-Count"] = str(usage.input_tokens)
            headers["X-Amzn-Bedrock-Output-Token-Count"] = str(answer.output_tokens)
            headers["X-Amzn-Bedrock-Invocation-Latency"] = str(latency_ms)
        return web.Response(body=body, content_type=_JSON, headers=headers)


def _model_rules(req: ModelRequest, info: ModelInfo | None) -> None:
    """Refuse what the model refuses (RequestError); an id outside the catalogue has no rules."""
    if info is None:
        return
    if req.sampling and not info.sampling_params:
        message = SAMPLING_REFUSED.format(params=", ".join(req.sampling))
        raise RequestError(BedrockError.VALIDATION, message)
    if req.thinking is not None and req.thinking not in info.thinking_accepted:
        accepted = ", ".join(f"'{t}'" for t in info.thinking_accepted) or "none"
        message = THINKING_REFUSED.format(kind=req.thinking, accepted=accepted)
        raise RequestError(BedrockError.VALIDATION, message)
