"""What a request costs in tokens, before it is sent (the wire formats belong to the LLM
adapters, :mod:`worker.llm`)."""

from __future__ import annotations

import math

_MESSAGE_OVERHEAD = 8  # role markers and message framing, rounded up


def estimate_tokens(text: str) -> int:
    """A cheap, conservative token estimate: one token per 3 UTF-8 bytes, rounded up, plus
    message overhead. Claude's tokenizers average ~3.5-4 English characters and roughly one
    CJK character per token, so this over-estimates rather than under-estimates."""
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / 3) + _MESSAGE_OVERHEAD
