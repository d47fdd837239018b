"""Turning a responder's text into the answer Bedrock would send, faults included. Pure."""

from __future__ import annotations

from collections.abc import Callable

from parallelprompt.emulator.faults import FaultKind, HostileKind
from parallelprompt.emulator.protocol import Answer

REFUSAL_TEXT = (
    "I'm sorry, but I can't help with that request. I'm not able to analyse this content."
)
MALFORMED_PREFIX = "Here is the analysis you asked for:\n\n"
HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Welcome</title></head>"
    b"<body><h1>It works!</h1><p>Sign in to continue.</p></body></html>\n"
)
_HUGE_N = ("100000000000000000000", "1e20", "9223372036854775808")
_SURROGATE_ESCAPES = (
    '{"parallelizable": true, "category": "Translation", "is_novel_category": false, '
    '"category_description": "\\udfff", "serial": "Translate a, b", '
    '"template": "Translate {data} \\ud800", "context": null, "data": ["a\\udc00", "b"], '
    '"n": null}'
)


def hostile_text(kind: HostileKind, text: str, draw: int) -> str:
    """The answer text of a ``hostile`` fault (HTML_200 has no answer text: see the server)."""
    if kind is HostileKind.HUGE_N:
        return (
            '{"parallelizable": true, "category": "Repeated Generation", '
            '"is_novel_category": false, "category_description": null, '
            '"serial": "Write many poems", "template": "Write a poem", "context": null, '
            f'"data": null, "n": {_HUGE_N[draw % len(_HUGE_N)]}}}'
        )
    if kind is HostileKind.SURROGATE_ESCAPES:
        return _SURROGATE_ESCAPES
    return text + " \ud800"  # a lone surrogate in the text itself (JSON-escaped on the wire)


def compose(
    text: str,
    fault: FaultKind | None,
    max_tokens: int,
    count: Callable[[str], int],
) -> Answer:
    """The answer for ``text``, cut at ``max_tokens`` and shaped by an answer-level fault."""
    if fault is FaultKind.EMPTY:
        return Answer(None, "end_turn", 0)
    if fault is FaultKind.REFUSAL:
        text = REFUSAL_TEXT
    elif fault is FaultKind.MALFORMED:
        # Prose around JSON whose last brace is missing: what a confused model sends.
        text = MALFORMED_PREFIX + text.rstrip()[:-1]
    elif fault is FaultKind.TRUNCATED:
        # The model ran out of tokens half way through its JSON.
        return Answer(text[: max(1, len(text) // 2)], "max_tokens", max_tokens)
    tokens = count(text)
    if tokens > max_tokens:
        return Answer(cut(text, max_tokens, count), "max_tokens", max_tokens)
    return Answer(text, "end_turn", tokens)


def cut(text: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """The longest prefix of ``text`` within ``max_tokens`` (at least one character): where a
    model that runs out of tokens stops."""
    low, high = 1, len(text)  # count(text[:low]) fits or low == 1; count(text[:high+1]) > max
    while low < high:
        mid = (low + high + 1) // 2
        if count(text[:mid]) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    return text[:low]
