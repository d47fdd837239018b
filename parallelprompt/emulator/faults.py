"""Fault injection: typed rates parsed from ``throttle=0.05,server=0.01,...`` and a seeded picker.

One uniform draw per request picks at most one fault: the rates are laid end to end on [0, 1)
in the order of :class:`FaultKind`, so their sum must not exceed 1. The draw comes from a
``random.Random(seed)`` of its own, so the same seed and the same sequence of requests give the
same faults, whatever the latency settings.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from enum import StrEnum

from parallelprompt.common.errors import ParallelPromptError
from parallelprompt.emulator.errors import BedrockError


class FaultSpecError(ParallelPromptError, ValueError):
    """A ``--faults`` string that cannot be used; the message says which part and why."""


class FaultKind(StrEnum):
    # Errors: answered at once, before the quota is charged.
    THROTTLE = "throttle"
    NOT_READY = "not_ready"
    MODEL_TIMEOUT = "model_timeout"
    UNAVAILABLE = "unavailable"
    SERVER = "server"
    MODEL_ERROR = "model_error"
    ACCESS_DENIED = "access_denied"
    VALIDATION = "validation"
    # Answers that go wrong: admitted and charged like any answer.
    SLOW = "slow"
    MALFORMED = "malformed"
    TRUNCATED = "truncated"
    REFUSAL = "refusal"
    EMPTY = "empty"
    HOSTILE = "hostile"  # one of HostileKind: what an attacker or a broken proxy sends

    @property
    def error(self) -> BedrockError | None:
        return _ERROR_OF.get(self)


_ERROR_OF = {
    FaultKind.THROTTLE: BedrockError.THROTTLING,
    FaultKind.NOT_READY: BedrockError.MODEL_NOT_READY,
    FaultKind.MODEL_TIMEOUT: BedrockError.MODEL_TIMEOUT,
    FaultKind.UNAVAILABLE: BedrockError.SERVICE_UNAVAILABLE,
    FaultKind.SERVER: BedrockError.INTERNAL_SERVER,
    FaultKind.MODEL_ERROR: BedrockError.MODEL_ERROR,
    FaultKind.ACCESS_DENIED: BedrockError.ACCESS_DENIED,
    FaultKind.VALIDATION: BedrockError.VALIDATION,
}

#: Other spellings accepted in a faults string.
ALIASES = {"timeout": FaultKind.MODEL_TIMEOUT, "not-ready": FaultKind.NOT_READY}


@dataclass(frozen=True)
class FaultRates:
    """Probability of each fault per request; all zero by default."""

    throttle: float = 0.0
    not_ready: float = 0.0
    model_timeout: float = 0.0
    unavailable: float = 0.0
    server: float = 0.0
    model_error: float = 0.0
    access_denied: float = 0.0
    validation: float = 0.0
    slow: float = 0.0
    malformed: float = 0.0
    truncated: float = 0.0
    refusal: float = 0.0
    empty: float = 0.0
    hostile: float = 0.0

    def __post_init__(self) -> None:
        for kind, rate in self.items():
            if not 0.0 <= rate <= 1.0:
                raise FaultSpecError(f"fault rate {kind}={rate} is not between 0 and 1")
        if self.total() > 1.0 + 1e-9:
            raise FaultSpecError(f"fault rates add up to {self.total():.4g}, more than 1")

    @classmethod
    def parse(cls, text: str) -> FaultRates:
        """``"throttle=0.05,server=0.01"`` -> FaultRates; a clear FaultSpecError on any mistake."""
        rates: dict[str, float] = {}
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, value = part.partition("=")
            name = name.strip().lower()
            if not sep:
                raise FaultSpecError(
                    f"fault {part!r} has no rate: write NAME=RATE, e.g. {name}=0.01"
                )
            kind = ALIASES.get(name) or _kind_named(name)
            if kind.value in rates:
                raise FaultSpecError(f"fault {kind.value!r} is given twice")
            try:
                rates[kind.value] = float(value)
            except ValueError:
                raise FaultSpecError(f"fault rate {part!r} is not a number") from None
        return cls(**rates)

    def items(self) -> list[tuple[FaultKind, float]]:
        return [(FaultKind(f.name), getattr(self, f.name)) for f in dataclasses.fields(self)]

    def total(self) -> float:
        return sum(rate for _, rate in self.items())

    def __str__(self) -> str:
        return ",".join(f"{kind}={rate:g}" for kind, rate in self.items() if rate) or "none"


def _kind_named(name: str) -> FaultKind:
    try:
        return FaultKind(name)
    except ValueError:
        known = ", ".join(k.value for k in FaultKind)
        raise FaultSpecError(f"unknown fault {name!r}; known faults: {known}") from None


class HostileKind(StrEnum):
    """What a ``hostile`` fault answers, drawn in turn from a seeded generator of its own."""

    HUGE_N = "huge_n"  # "n": 10^20 or 1e20 or 2^63: beyond what SQLite can store
    SURROGATE_ESCAPES = "surrogate_escapes"  # \\ud800 escapes in template, data, description
    SURROGATE_TEXT = "surrogate_text"  # a lone surrogate in the answer text itself
    HTML_200 = "html_200"  # HTTP 200 with an HTML page: a wrong URL or a proxy, not a model


class FaultPicker:
    """Draws at most one fault per request, reproducibly from a seed."""

    def __init__(self, rates: FaultRates, seed: int) -> None:
        self._seed = seed
        self._rng = random.Random(seed)
        # Cumulative upper bounds, zero-rate kinds left out.
        self._table: list[tuple[float, FaultKind]] = []
        edge = 0.0
        for kind, rate in rates.items():
            if rate > 0.0:
                edge += rate
                self._table.append((edge, kind))

    def pick(self) -> FaultKind | None:
        if not self._table:
            return None
        u = self._rng.random()
        for edge, kind in self._table:
            if u < edge:
                return kind
        return None

    def reset(self) -> None:
        self._rng = random.Random(self._seed)
