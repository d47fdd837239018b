"""Who writes the answers: the heuristic extractor, in a model's style by default (``exact``:
as it is), or fixed or scripted text in tests.

A responder is any callable ``(prompt_text, system, max_tokens) -> answer text``. It must be
cheap and deterministic: the emulator calls it on the event loop for every admitted request.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Protocol

from parallelprompt.common.provenance import EMULATOR_NOTICE
from parallelprompt.emulator.style import REALISTIC, StyleRates, restyle
from parallelprompt.prompts import heuristic_answer

#: Said by every run that uses the emulator (the one notice, from provenance).
HEURISTIC_NOTICE = EMULATOR_NOTICE


class Responder(Protocol):
    def __call__(self, prompt_text: str, system: str | None, max_tokens: int) -> str: ...


def count_tokens(text: str | None) -> int:
    """The emulator's stand-in for the model's tokenizer: one token per 4 UTF-8 bytes, about
    what Claude's tokenizer gives for English prose. It is deliberately *below* the worker's
    reservation estimate (``prompts.estimate_tokens``, one per 3 bytes + 8), as a real tokenizer
    is: the limiter reserves more than a call uses and settles to the usage reported, so the
    settle path is exercised and the demo's token counts and cost are realistic."""
    return -(-len(text.encode("utf-8", "replace")) // 4) if text else 0


class HeuristicResponder:
    """Answers with ``prompts.heuristic_answer(user_text)`` in the system prompt's JSON format.

    The extractor is deterministic, so answers are cached by prompt: a campaign's retries and
    duplicate prompts cost nothing to answer again.
    """

    def __init__(self, cache_size: int = 65_536) -> None:
        self._answer = functools.lru_cache(maxsize=cache_size)(heuristic_answer)

    def __call__(self, prompt_text: str, system: str | None, max_tokens: int) -> str:
        return self._answer(prompt_text)


class StyledResponder:
    """The heuristic extractor's answer with a model's imperfections (:mod:`emulator.style`),
    drawn from ``(seed, prompt)``: a retry of a prompt gets the answer it got before.

    ``effects`` counts the answers by imperfection (one count per class per answer).
    """

    def __init__(self, seed: int, rates: StyleRates = REALISTIC, cache_size: int = 65_536) -> None:
        self.seed = seed
        self.rates = rates
        self.effects: Counter[str] = Counter()
        self._answer = functools.lru_cache(maxsize=cache_size)(heuristic_answer)
        self._styled = functools.lru_cache(maxsize=cache_size)(self._style)

    def _style(self, prompt_text: str, max_tokens: int) -> tuple[str, tuple[str, ...]]:
        styled = restyle(
            self._answer(prompt_text), prompt_text, max_tokens, self.seed, count_tokens, self.rates
        )
        return styled.text, styled.effects

    def __call__(self, prompt_text: str, system: str | None, max_tokens: int) -> str:
        text, effects = self._styled(prompt_text, max_tokens)
        self.effects.update(effects)
        return text


class FixedResponder:
    """The same text for every prompt."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, prompt_text: str, system: str | None, max_tokens: int) -> str:
        return self.text


class ScriptedResponder:
    """Answers from a mapping prompt -> text (with a default), or from any plain function."""

    def __init__(
        self,
        script: Mapping[str, str] | Callable[[str], str],
        default: str | None = None,
    ) -> None:
        self._script = script
        self._default = default

    def __call__(self, prompt_text: str, system: str | None, max_tokens: int) -> str:
        if callable(self._script):
            return self._script(prompt_text)
        answer = self._script.get(prompt_text, self._default)
        if answer is None:
            raise KeyError(f"no scripted answer for prompt {prompt_text[:60]!r}")
        return answer
