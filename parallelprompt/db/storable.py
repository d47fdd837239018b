"""What SQLite can bind, checked before binding: a paid answer whose verdict cannot be stored
(an ``n`` beyond 64 bits, a lone surrogate from a JSON escape) is kept as its raw answer with
the outcome ``unparseable`` instead of failing the whole flush. Pure functions."""

from __future__ import annotations

import dataclasses
import math

from parallelprompt.db.models import Completion, VerdictRow

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UNSTORABLE = "unstorable"


def valid_text(text: str) -> str:
    """Lone surrogates become U+FFFD (as on ingest); anything else is unchanged."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _problem(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else "an integer beyond 64 bits"
    if isinstance(value, float):
        return None if math.isfinite(value) else "a number that is not finite"
    if isinstance(value, str):
        return None if valid_text(value) is value else "text with lone surrogates"
    if isinstance(value, tuple):
        return next(filter(None, map(_problem, value)), None)
    return f"a value of type {type(value).__name__}"


def unstorable_reason(c: Completion) -> str | None:
    """Why ``c`` cannot be bound as it is, or None."""
    for record in (c, c.verdict):
        for f in dataclasses.fields(record):
            value = getattr(record, f.name)
            if isinstance(value, VerdictRow):
                continue
            problem = _problem(value)
            if problem is not None:
                return f"{f.name}: {problem}"
    return None


def _int(value: int) -> int:
    return min(max(value, 0), INT64_MAX)


def _float(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _text(value: str | None) -> str | None:
    return None if value is None else valid_text(value)


def as_unparseable(c: Completion, why: str) -> Completion:
    """``c`` reduced to what can always be stored: the raw answer (lone surrogates replaced),
    usage and cost, with the outcome ``unparseable`` and the reason. Nothing paid is lost."""
    verdict = VerdictRow(
        profile=valid_text(c.verdict.profile),
        contract_version=valid_text(c.verdict.contract_version),
        outcome="dead" if c.dead else "unparseable",
        reason=f"{UNSTORABLE}: {why}"[:300],
        tier_label="dead" if c.dead else "unparseable",
    )
    return dataclasses.replace(
        c,
        verdict=verdict,
        model_id=valid_text(c.model_id),
        attempts=_int(c.attempts),
        raw_text=_text(c.raw_text),
        stop_reason=_text(c.stop_reason),
        input_tokens=_int(c.input_tokens),
        output_tokens=_int(c.output_tokens),
        cache_read_tokens=_int(c.cache_read_tokens),
        cache_write_tokens=_int(c.cache_write_tokens),
        cost_usd=_float(c.cost_usd) or 0.0,
        latency_ms=_float(c.latency_ms),
        error_code=_text(c.error_code),
        error_message=_text(c.error_message),
    )
