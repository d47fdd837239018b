"""``max_tokens`` per call, and what a call counts toward the tokens-per-minute quota. Pure.

Bedrock reserves ``input + max_tokens`` against the quota when a call starts, so a loose
``max_tokens`` (the paper's 1,024 for answers of ~100 tokens) throttles a run long before the
tokens it really uses would. A lean answer (prompts/lean.py) copies at most the prompt's items
once and points to the rest, so each call asks for ``BASE + FACTOR x prompt tokens``, within
``--max-tokens``.
An answer cut short by ``max_tokens`` is retried once with a higher ceiling
(``--max-tokens-retry``, or twice the first one, within the model's maximum output).

When a call ends, Bedrock settles the reservation to ``input + cache writes + output x
burndown``: cache reads are left out, and Claude 4.x output tokens count 5x.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE = 256  # the JSON frame, a category, a short template: room even for a tiny prompt
FACTOR = 1  # lean answers copy the items at most (was 2 while serial echoed the prompt)


@dataclass(frozen=True, slots=True)
class TokenPlan:
    ceiling: int  # --max-tokens
    retry_ceiling: int  # --max-tokens-retry; 0: no retry
    sized: bool  # False: every call asks for the ceiling (the paper's way)
    model_max: int = 128_000

    def first(self, prompt_tokens: int) -> int:
        if not self.sized:
            return self.ceiling
        return max(1, min(self.ceiling, BASE + FACTOR * prompt_tokens))

    def retry(self, cut_at: int) -> int | None:
        """The ceiling for the one retry after a cut at ``cut_at``; None: no retry."""
        if self.retry_ceiling <= 0:
            return None
        ceiling = min(self.model_max, max(self.retry_ceiling, 2 * cut_at))
        return ceiling if ceiling > cut_at else None


def quota_tokens(input_tokens: int, output_tokens: int, cache_write: int, burndown: float) -> int:
    """What an answered call counts toward tokens per minute (cache reads do not count)."""
    return input_tokens + cache_write + round(output_tokens * burndown)
