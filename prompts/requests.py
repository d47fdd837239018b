"""Request bodies for Bedrock (Converse, and InvokeModel with the Anthropic Messages body)."""

from __future__ import annotations

import math
from typing import Any

ANTHROPIC_VERSION = "bedrock-2023-05-31"
ORIGINAL_MAX_TOKENS = 1024
ORIGINAL_TEMPERATURE = 0.2
_MESSAGE_OVERHEAD = 8  # role markers and message framing, rounded up


def converse_request(
    system: str,
    prompt: str,
    *,
    max_tokens: int = ORIGINAL_MAX_TOKENS,
    temperature: float = ORIGINAL_TEMPERATURE,
) -> dict[str, Any]:
    """Keyword arguments for `client.converse(modelId=..., **request)`."""
    return {
        "system": [{"text": system}],
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
        "inferenceConfig": {"maxTokens": max_tokens, "temperature": temperature},
    }


def invoke_body(
    system: str,
    prompt: str,
    *,
    max_tokens: int = ORIGINAL_MAX_TOKENS,
    temperature: float = ORIGINAL_TEMPERATURE,
) -> dict[str, Any]:
    """The Anthropic Messages body for InvokeModel (JSON-encode it as `body`)."""
    return {
        "anthropic_version": ANTHROPIC_VERSION,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "system": system,
        "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
    }


def estimate_tokens(text: str) -> int:
    """A cheap, conservative token estimate: one token per 3 UTF-8 bytes, rounded up, plus
    message overhead. Claude's tokenizers average ~3.5-4 English characters and roughly one
    CJK character per token, so this over-estimates rather than under-estimates."""
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / 3) + _MESSAGE_OVERHEAD
