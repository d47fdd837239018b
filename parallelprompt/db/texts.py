"""A verdict's serial, template and context stored as pointers into the prompt (schema 8).

Pure functions. A serial is almost always the prompt itself, a template the prompt with one
change, a context a span of it: storing them in full kept each prompt's text three more times
per rule profile. ``compact`` gives the columns to store; the view ``verdict_texts`` (and the
export queries) rebuild the texts with the same arithmetic in SQL (see
``db/migrations/0008_verdict_texts_point_into_prompt.sql``). Offsets count code points, as
SQLite's ``substr`` counts characters of valid UTF-8 text.
"""

from __future__ import annotations

from typing import Any

#: A text is stored as a pointer only when that saves at least this many characters.
MIN_SHARED = 16


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix (binary search over C-level slice compares)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the longest common suffix, at most ``limit``."""
    lo, hi = 0, min(len(a), len(b), limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def splice(prompt: str, text: str | None) -> tuple[str | None, int | None, int | None]:
    """``(middle, at, to)`` with ``text == prompt[:at] + (middle or '') + prompt[to:]``, or
    ``(text, None, None)`` when the text shares too little with the prompt."""
    if text is None:
        return None, None, None
    if text == prompt:
        return None, len(prompt), len(prompt)
    head = common_prefix(prompt, text)
    tail = common_suffix(prompt, text, min(len(prompt), len(text)) - head)
    if head + tail < MIN_SHARED:
        return text, None, None
    middle = text[head : len(text) - tail]
    return middle or None, head, len(prompt) - tail


def span(prompt: str, text: str | None) -> tuple[str | None, int | None, int | None]:
    """``(None, at, to)`` with ``text == prompt[at:to]``, or ``(text, None, None)``."""
    if text is None or len(text) < MIN_SHARED:
        return text, None, None
    at = prompt.find(text)
    if at < 0:
        return text, None, None
    return None, at, at + len(text)


def expand_splice(prompt: str, middle: str | None, at: int | None, to: int | None) -> str | None:
    """The inverse of ``splice`` (what the SQL views compute)."""
    if at is None or to is None:
        return middle
    return prompt[:at] + (middle or "") + prompt[to:]


def compact(
    prompt: str | None, serial: str | None, template: str | None, context: str | None
) -> dict[str, Any]:
    """The stored columns of a verdict's three texts, pointing into ``prompt`` where they can.

    A prompt with a NUL character is never pointed into: SQLite's text functions stop there."""
    if prompt is None or "\x00" in prompt:
        return {
            "serial": serial, "serial_at": None, "serial_to": None,
            "template": template, "template_at": None, "template_to": None,
            "context": context, "context_at": None, "context_to": None,
        }  # fmt: skip
    s, s_at, s_to = splice(prompt, serial)
    t, t_at, t_to = splice(prompt, template)
    c, c_at, c_to = span(prompt, context)
    return {
        "serial": s, "serial_at": s_at, "serial_to": s_to,
        "template": t, "template_at": t_at, "template_to": t_to,
        "context": c, "context_at": c_at, "context_to": c_to,
    }  # fmt: skip
