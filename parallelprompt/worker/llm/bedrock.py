"""The Bedrock Runtime adapter: one aioboto3 client per process, our errors at the boundary.

It owns the wire: the Converse request and the InvokeModel body (Anthropic Messages) built from
a neutral :class:`~worker.llm.port.Request`, fitted to the model by :mod:`worker.shape`, and the
replies parsed back. Everything it raises is a :class:`~worker.errors.CallError`
(:mod:`worker.llm.bedrock_errors`).

The client is entered once and shared by every task. botocore's own retries are off
(``total_max_attempts=1``): every attempt must pass our limiter, and our taxonomy
(:mod:`worker.errors`) decides what is retried. ``max_pool_connections`` is sized to the
concurrency (botocore's default of 10 would silently cap it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from typing import Any

import aioboto3
import orjson
from botocore.config import Config
from botocore.exceptions import ClientError

from parallelprompt.common import provenance
from parallelprompt.common.provenance import Backend
from parallelprompt.common.textsafe import redact_text
from parallelprompt.worker import shape as shaping
from parallelprompt.worker.errors import CallError, Code, FatalError, RetryableError
from parallelprompt.worker.llm.bedrock_errors import translate
from parallelprompt.worker.llm.port import ClientOptions, Description, Reply, Request

NAME = "bedrock"
DEFAULT_REGION = "us-east-1"
ANTHROPIC_VERSION = "bedrock-2023-05-31"

#: Cross-region inference profiles: the model id's prefix and the regions it is served from.
PROFILE_REGIONS = {
    "us": ("us-",),
    "us-gov": ("us-gov-",),
    "eu": ("eu-",),
    "apac": ("ap-",),
    "jp": ("ap-northeast-",),
    "au": ("ap-southeast-",),
    "ca": ("ca-",),
}


def profile_region_mismatch(model_id: str, region: str) -> str | None:
    """A warning when the model's inference-profile prefix (``us.``, ``eu.``, ...) is not
    served in ``region``; None when they fit (``global.`` and plain model ids fit anywhere)."""
    prefix, dot, _ = model_id.partition(".")
    if not dot or prefix not in PROFILE_REGIONS:
        return None
    if region.startswith(PROFILE_REGIONS[prefix]):
        return None
    fits = " or ".join(f"{p}*" for p in PROFILE_REGIONS[prefix])
    return (
        f"model {model_id} is a {prefix}. cross-region inference profile, served from regions "
        f"{fits}, but the region is {region}: Bedrock will refuse this model id there; "
        f"pass --region with a {prefix.upper()} region, or the {region.split('-')[0]}. or "
        "global. profile of the model"
    )


def converse_request(request: Request) -> dict[str, Any]:
    """Keyword arguments for ``client.converse(modelId=..., **request)``."""
    return {
        "system": [{"text": request.system}],
        "messages": [{"role": "user", "content": [{"text": request.user}]}],
        "inferenceConfig": {"maxTokens": request.max_tokens, "temperature": request.temperature},
    }


def invoke_body(request: Request) -> dict[str, Any]:
    """The Anthropic Messages body for InvokeModel (JSON-encode it as ``body``)."""
    return {
        "anthropic_version": ANTHROPIC_VERSION,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "system": request.system,
        "messages": [{"role": "user", "content": [{"type": "text", "text": request.user}]}],
    }


class Bedrock:
    """Calls one model through Converse (default) or InvokeModel."""

    def __init__(
        self, client: Any, options: ClientOptions, stack: contextlib.AsyncExitStack | None = None
    ) -> None:
        self._client = client
        self._stack = stack
        self.options = options
        meta = getattr(client, "meta", None)
        #: What the client actually uses (after the AWS chain and the defaults).
        self.region: str = getattr(meta, "region_name", None) or options.region or DEFAULT_REGION
        #: What answers at the endpoint, from :meth:`identify`; every answer must match it.
        self.backend: Backend | None = None

    @property
    def endpoint(self) -> str:
        """The URL the client sends to (credentials redacted)."""
        url = str(getattr(getattr(self._client, "meta", None), "endpoint_url", "") or "")
        return redact_text(url or self.options.endpoint_url or "?")

    @property
    def description(self) -> Description:
        o = self.options
        mismatch = profile_region_mismatch(o.model_id, self.region)
        warnings = (mismatch,) if mismatch else ()
        return Description(NAME, o.model_id, o.api, self.endpoint, self.region, warnings)

    async def aclose(self) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    async def identify(self, tries: int = 3, pause_s: float = 0.5) -> Backend:
        """Ask the endpoint who it is, with a request that Bedrock refuses before any inference
        (an invalid model id: nothing is billed). Any HTTP answer identifies it, from its
        headers; credential errors are raised as the FatalError they are."""
        last: CallError | None = None
        for n in range(max(1, tries)):
            if n:
                await asyncio.sleep(pause_s * 2 ** (n - 1))
            try:
                resp = await self._client.converse(
                    modelId=provenance.IDENTIFY_MODEL_ID,
                    messages=[{"role": "user", "content": [{"text": "?"}]}],
                    inferenceConfig={"maxTokens": 1},
                )
                _converse_reply(resp, 0.0)  # a 200 must at least be a Converse answer
            except ClientError as exc:
                error = translate(exc)
                if isinstance(error, FatalError) and error.code is Code.CREDENTIALS:
                    raise error from exc
                self.backend = provenance.from_response(exc.response)
                return self.backend
            except Exception as exc:
                last = translate(exc)
                if isinstance(last, FatalError):
                    raise last from exc
                continue
            self.backend = provenance.from_response(resp)
            return self.backend
        assert last is not None
        where = f"{self.endpoint} (region {self.region})"
        if last.code is Code.BAD_RESPONSE:
            message = (
                f"the endpoint {where} does not answer like Bedrock ({max(1, tries)} tries): "
                f"{last.message} — check --endpoint-url (a wrong URL, a proxy?)"
            )
        else:
            message = (
                f"cannot reach the Bedrock endpoint {where} in {max(1, tries)} tries: "
                f"{last.message} — check --endpoint-url, --region and the network"
            )
        raise FatalError(last.code, f"{message}; nothing was changed in the DB")

    def _check_backend(self, resp: dict[str, Any]) -> None:
        """An answer from anything other than what :meth:`identify` found stops the worker:
        a run never mixes the emulator's answers with a model's."""
        if self.backend is None:
            return
        got = provenance.from_response(resp)
        if got.kind != self.backend.kind:
            raise FatalError(
                Code.VALIDATION,
                f"{self.endpoint} answered as {got.label}, but this run talks to "
                f"{self.backend.label}: the endpoint changed; restart the worker",
            )

    async def call(self, request: Request) -> Reply:
        """One attempt; raises :class:`~worker.errors.CallError` subclasses only."""
        o = self.options
        shape = o.shape
        if shape.cache_point != request.cache_point:
            shape = dataclasses.replace(shape, cache_point=request.cache_point)
        started = time.perf_counter()
        try:
            if o.api == "invoke":
                body = shaping.invoke(invoke_body(request), shape)
                resp = await self._client.invoke_model(
                    modelId=o.model_id,
                    body=orjson.dumps(body),
                    contentType="application/json",
                    accept="application/json",
                )
                raw = await resp["body"].read()
                latency = (time.perf_counter() - started) * 1000
                self._check_backend(resp)
                return _invoke_reply(raw, latency)
            resp = await self._client.converse(
                modelId=o.model_id, **shaping.converse(converse_request(request), shape)
            )
        except CallError:
            raise
        except Exception as exc:
            raise translate(exc) from exc
        latency = (time.perf_counter() - started) * 1000
        self._check_backend(resp)
        return _converse_reply(resp, latency)


async def open_client(options: ClientOptions) -> Bedrock:
    """The registry's entry: one aioboto3 client, entered now, exited by ``aclose()``.
    Explicit ``options.credentials`` (a local endpoint) replace the AWS chain."""
    keys = options.credentials
    session = (
        aioboto3.Session()
        if keys is None
        else aioboto3.Session(
            aws_access_key_id=keys.access_key, aws_secret_access_key=keys.secret_key
        )
    )
    region = options.region or session.region_name or DEFAULT_REGION
    config = Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        max_pool_connections=options.concurrency + 8,
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
        tcp_keepalive=True,
    )
    stack = contextlib.AsyncExitStack()
    try:
        client = await stack.enter_async_context(
            session.client(
                "bedrock-runtime",
                region_name=region,
                endpoint_url=options.endpoint_url,
                config=config,
            )
        )
    except BaseException:
        await stack.aclose()
        raise
    return Bedrock(client, options, stack)


def _texts(blocks: Any) -> str | None:
    if not isinstance(blocks, list):
        return None
    parts = [b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)]
    return "".join(parts) if parts else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _not_bedrock(api: str, what: str) -> RetryableError:
    """A 200 whose body is not a model's answer (an HTML page from a wrong URL or a proxy):
    a transport error, retried and counted toward the outage breaker, never judged."""
    return RetryableError(
        Code.BAD_RESPONSE,
        f"the endpoint answered with a body that is not a Bedrock {api} answer ({what})",
    )


def _converse_reply(resp: dict[str, Any], latency_ms: float) -> Reply:
    output = resp.get("output")
    message = output.get("message") if isinstance(output, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        raise _not_bedrock("Converse", "no output.message.content")
    if not isinstance(resp.get("stopReason"), str):
        raise _not_bedrock("Converse", "no stopReason")
    usage = resp.get("usage") or {}
    return Reply(
        text=_texts(message.get("content")),
        stop_reason=resp.get("stopReason"),
        input_tokens=_int(usage.get("inputTokens")),
        output_tokens=_int(usage.get("outputTokens")),
        latency_ms=latency_ms,
        cache_read_tokens=_int(usage.get("cacheReadInputTokens")),
        cache_write_tokens=_int(usage.get("cacheWriteInputTokens")),
    )


def _invoke_reply(raw: bytes, latency_ms: float) -> Reply:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _not_bedrock("InvokeModel", f"not JSON: {raw[:40]!r}") from None
    if not isinstance(data, dict):
        raise _not_bedrock("InvokeModel", "not a JSON object")
    if not isinstance(data.get("content"), list) or not isinstance(data.get("usage"), dict):
        raise _not_bedrock("InvokeModel", "no content or usage")
    usage = data.get("usage") or {}
    return Reply(
        text=_texts(data.get("content")),
        stop_reason=data.get("stop_reason"),
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        latency_ms=latency_ms,
        cache_read_tokens=_int(usage.get("cache_read_input_tokens")),
        cache_write_tokens=_int(usage.get("cache_creation_input_tokens")),
    )
