"""The emulator's counters, served at ``GET /_emulator/stats``."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from parallelprompt.emulator.protocol import Usage


class Outcome(StrEnum):
    """How a request ended, besides the error names of :class:`~emulator.errors.BedrockError`."""

    OK = "ok"
    THROTTLED = "throttled"  # refused by the quota (injected throttles count by error name)
    UNAUTHENTICATED = "unauthenticated"  # no Authorization header
    CANCELLED = "cancelled"  # the client went away before the answer


def prompt_key(prompt: str) -> str:
    return hashlib.sha1(prompt.encode("utf-8", "surrogatepass")).hexdigest()


class RateWindow:
    """Events in the last ``span`` seconds, in one-second slots (O(1) per event)."""

    def __init__(self, span: int = 60) -> None:
        self.span = span
        self._slots = [0] * span
        self._seconds = [-1] * span

    def add(self, now: float) -> None:
        second = int(now)
        i = second % self.span
        if self._seconds[i] != second:
            self._seconds[i] = second
            self._slots[i] = 0
        self._slots[i] += 1

    def count(self, now: float) -> int:
        second = int(now)
        return sum(
            n
            for n, s in zip(self._slots, self._seconds, strict=True)
            if second - self.span < s <= second
        )


@dataclass
class Stats:
    """Counters of one emulator since start or the last reset."""

    started_at: float = field(default_factory=time.time)
    requests: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    by_api: Counter[str] = field(default_factory=Counter)
    input_tokens: int = 0  # uncached input
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    thinking_tokens: int = 0  # output tokens spent thinking (in output_tokens)
    quota_tokens: int = 0  # what answers counted toward tokens/min (after burndown)
    in_flight: int = 0
    peak_concurrency: int = 0
    prompts: Counter[str] = field(default_factory=Counter)
    admitted: RateWindow = field(default_factory=RateWindow)
    admitted_total: int = 0

    def enter(self) -> None:
        self.requests += 1
        self.in_flight += 1
        if self.in_flight > self.peak_concurrency:
            self.peak_concurrency = self.in_flight

    def leave(self, outcome: str) -> None:
        self.in_flight -= 1
        self.by_outcome[outcome] += 1

    def answered(self, prompt: str, usage: Usage, quota_tokens: int, thinking: int = 0) -> None:
        """A billed answer (HTTP 200): count its tokens and its prompt."""
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cache_read_tokens += usage.cache_read
        self.cache_write_tokens += usage.cache_write
        self.thinking_tokens += thinking
        self.quota_tokens += quota_tokens
        self.prompts[prompt_key(prompt)] += 1

    def as_dict(self, now: float, with_prompts: bool = False) -> dict[str, Any]:
        answered = sum(self.prompts.values())
        out: dict[str, Any] = {
            "requests": self.requests,
            "by_outcome": {str(k): n for k, n in self.by_outcome.items()},
            "faults": {str(k): n for k, n in self.faults.items()},
            "by_api": {str(k): n for k, n in self.by_api.items()},
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "thinking_tokens": self.thinking_tokens,
            "quota_tokens": self.quota_tokens,
            "peak_concurrency": self.peak_concurrency,
            "in_flight": self.in_flight,
            "admitted": self.admitted_total,
            "admitted_last_minute": self.admitted.count(now),
            "answered": answered,
            "prompts_seen": len(self.prompts),
            "duplicate_calls": answered - len(self.prompts),
            "started_at": self.started_at,
        }
        if with_prompts:
            out["prompts"] = dict(self.prompts)
        return out
