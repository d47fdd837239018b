"""The Bedrock Runtime wire format: request bodies in, response bodies out. Pure, no I/O.

Converse: ``system: [{text}]``, ``messages: [{role, content: [{text}]}]``,
``inferenceConfig.maxTokens``; the answer carries ``output.message.content[].text``,
``stopReason``, ``usage`` and ``metrics.latencyMs``. InvokeModel with an Anthropic Messages body:
``anthropic_version``, ``max_tokens`` (required), ``system``, ``messages``; the answer carries
``content[].text``, ``stop_reason``, ``usage`` and token-count headers.

Prompt caching: a ``cachePoint`` block in ``system`` (Converse) or ``cache_control`` on a system
block (InvokeModel) marks the prefix to cache; the usage then carries ``cacheReadInputTokens`` /
``cacheWriteInputTokens`` (``cache_read_input_tokens`` / ``cache_creation_input_tokens``), and
the input tokens count only the uncached part. Sampling parameters (``temperature``, ``topP`` /
``top_p``, ``top_k``) and ``thinking`` are read so the server can refuse them where the model
does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from parallelprompt.emulator.errors import BedrockError


class Api(StrEnum):
    CONVERSE = "converse"
    INVOKE = "invoke"


class RequestError(Exception):
    """A request Bedrock would refuse; answered with ``error`` and ``message``."""

    def __init__(self, error: BedrockError, message: str | None = None) -> None:
        super().__init__(message or error.default_message)
        self.error = error
        self.message = message or error.default_message


@dataclass(frozen=True)
class ModelRequest:
    api: Api
    prompt: str  # the text of the last user message
    system: str | None
    max_tokens: int
    sampling: tuple[str, ...] = ()  # sampling parameters present in the request
    thinking: str | None = None  # thinking.type, when the request sets it
    cache_prefix: str | None = None  # the system text before the cache point, if any


@dataclass(frozen=True)
class Usage:
    """What an answer reports: ``input_tokens`` is the uncached input."""

    input_tokens: int
    output_tokens: int
    cache_read: int = 0
    cache_write: int = 0
    cache_marked: bool = False  # the request had a cache point: report the cache fields


@dataclass(frozen=True)
class Answer:
    text: str | None  # None: no content block at all
    stop_reason: str
    output_tokens: int


def _malformed(detail: str) -> RequestError:
    return RequestError(
        BedrockError.VALIDATION,
        f"Malformed input request: {detail}, please reformat your input and try again.",
    )


def _load_object(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _malformed("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _malformed("#: expected type: JSONObject")
    return data


def _cache_prefix(blocks: Any, typed: bool) -> str | None:
    """The system text up to the last cache point (None: no cache point)."""
    if not isinstance(blocks, list):
        return None
    texts: list[str] = []
    prefix = None
    for block in blocks:
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str):
            texts.append(block["text"])
        marked = "cache_control" in block if typed else "cachePoint" in block
        if marked:
            prefix = "\n".join(texts)
    return prefix


def _thinking_type(fields: Any) -> str | None:
    if not isinstance(fields, dict) or "thinking" not in fields:
        return None
    thinking = fields["thinking"]
    if not isinstance(thinking, dict) or not isinstance(thinking.get("type"), str):
        raise _malformed("thinking must be an object with a type")
    return str(thinking["type"])


def _block_texts(blocks: Any, where: str, typed: bool) -> list[str]:
    """Texts of a list of content blocks (Anthropic blocks carry ``type: text``)."""
    if isinstance(blocks, str) and typed:
        return [blocks]
    if not isinstance(blocks, list):
        raise _malformed(f"{where} must be a list of content blocks")
    texts = []
    for block in blocks:
        if not isinstance(block, dict):
            raise _malformed(f"{where} contains a block that is not an object")
        text = block.get("text")
        if text is None:
            continue  # images, documents, tool results: nothing the responder reads
        if not isinstance(text, str):
            raise _malformed(f"{where}.text must be a string")
        texts.append(text)
    return texts


def _last_user_text(messages: Any, typed: bool) -> str:
    if not isinstance(messages, list) or not messages:
        raise RequestError(
            BedrockError.VALIDATION, "A conversation must start with a user message."
        )
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        raise RequestError(BedrockError.VALIDATION, "A conversation must end with a user message.")
    return "\n".join(_block_texts(last.get("content"), "messages.content", typed))


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestError(
            BedrockError.VALIDATION, f"The value of {name} must be an integer of at least 1."
        )
    return value


def parse_converse(body: bytes, default_max_tokens: int | None) -> ModelRequest:
    data = _load_object(body)
    prompt = _last_user_text(data.get("messages"), typed=False)
    system_blocks = data.get("system")
    system = None
    if system_blocks is not None:
        system = "\n".join(_block_texts(system_blocks, "system", typed=False)) or None
    config = data.get("inferenceConfig") or {}
    if not isinstance(config, dict):
        raise _malformed("inferenceConfig must be an object")
    raw_max = config.get("maxTokens", default_max_tokens)
    if raw_max is None:
        raise RequestError(BedrockError.VALIDATION, "inferenceConfig.maxTokens is required.")
    max_tokens = _positive_int(raw_max, "inferenceConfig.maxTokens")
    extra = data.get("additionalModelRequestFields") or {}
    if not isinstance(extra, dict):
        raise _malformed("additionalModelRequestFields must be an object")
    sampling = tuple(k for k in ("temperature", "topP") if k in config)
    sampling += tuple(k for k in ("top_k",) if k in extra)
    return ModelRequest(
        Api.CONVERSE,
        prompt,
        system,
        max_tokens,
        sampling=sampling,
        thinking=_thinking_type(extra),
        cache_prefix=_cache_prefix(system_blocks, typed=False),
    )


def parse_invoke(body: bytes) -> ModelRequest:
    data = _load_object(body)
    for key in ("anthropic_version", "max_tokens", "messages"):
        if key not in data:
            raise _malformed(f"#: required key [{key}] not found")
    max_tokens = _positive_int(data["max_tokens"], "max_tokens")
    prompt = _last_user_text(data["messages"], typed=True)
    system_field = data.get("system")
    system = None
    if system_field is not None:
        system = "\n".join(_block_texts(system_field, "system", typed=True)) or None
    return ModelRequest(
        Api.INVOKE,
        prompt,
        system,
        max_tokens,
        sampling=tuple(k for k in ("temperature", "top_p", "top_k") if k in data),
        thinking=_thinking_type(data),
        cache_prefix=_cache_prefix(system_field, typed=True),
    )


def _dumps(body: dict[str, Any]) -> bytes:
    """orjson, or the standard library for text orjson refuses (a lone surrogate from a
    ``hostile`` fault: written as a ``\\udXXX`` escape, as a broken server would)."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body).encode()


THINKING_TEXT = "Let me look at the prompt's structure before answering."


def converse_body(answer: Answer, usage: Usage, latency_ms: int, thought: bool = False) -> bytes:
    content: list[dict[str, Any]] = [] if answer.text is None else [{"text": answer.text}]
    if thought:
        reasoning = {"reasoningText": {"text": THINKING_TEXT, "signature": "emulator"}}
        content.insert(0, {"reasoningContent": reasoning})
    body_usage: dict[str, int] = {
        "inputTokens": usage.input_tokens,
        "outputTokens": usage.output_tokens,
        "totalTokens": usage.input_tokens
        + usage.output_tokens
        + usage.cache_read
        + usage.cache_write,
    }
    if usage.cache_marked:
        body_usage["cacheReadInputTokens"] = usage.cache_read
        body_usage["cacheWriteInputTokens"] = usage.cache_write
    return _dumps(
        {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": answer.stop_reason,
            "usage": body_usage,
            "metrics": {"latencyMs": latency_ms},
        }
    )


def invoke_body(
    answer: Answer, usage: Usage, model: str, request_id: str, thought: bool = False
) -> bytes:
    content: list[dict[str, Any]] = (
        [] if answer.text is None else [{"type": "text", "text": answer.text}]
    )
    if thought:
        content.insert(0, {"type": "thinking", "thinking": THINKING_TEXT, "signature": "emulator"})
    body_usage: dict[str, int] = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
    }
    if usage.cache_marked:
        body_usage["cache_read_input_tokens"] = usage.cache_read
        body_usage["cache_creation_input_tokens"] = usage.cache_write
    return _dumps(
        {
            "id": "msg_bdrk_" + request_id.replace("-", "")[:24],
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": answer.stop_reason,
            "stop_sequence": None,
            "usage": body_usage,
        }
    )
