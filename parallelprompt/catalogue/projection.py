"""What pending prompts will cost and how long they will take: the projection, pure.

From the pending prompts' count and characters, and the usage observed on answered calls
when there is some (the observed input tokens per prompt character beyond the system prompt,
and the observed output tokens per answer), else defaults. Time is bounded by both quotas:
requests/min and tokens/min. ``results.estimate`` reads the figures from a database and
prints the projection; the worker's budget guard projects the pending work with it too.

This is the *expected* use, not the limiter's conservative reservation: text is counted at
``BYTES_PER_TOKEN`` (about what Claude's tokenizer gives for English prose, and what the
emulator counts), where the limiter reserves one token per 3 bytes so that it never
under-reserves. Counting the system prompt with the reservation's estimator over-estimated
every call by a third of the system prompt (it is ~3k tokens of every call's input).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

BYTES_PER_TOKEN = 4.0  # expected tokenizer rate (English prose); observed ratios replace it
CHARS_PER_TOKEN = 4.0  # the same for the prompts, whose length is stored in characters
MESSAGE_OVERHEAD_TOKENS = 10  # role markers and the like around the user turn
# A typical lean answer of the contract (docs/cost.md): a "no" is ~7 tokens, a "yes" that
# points into the prompt ~50; the emulator's model-like answers also ramble now and then and
# are cut and retried, which brings its average to ~130 per prompt on the bundled sample. Once
# a run has results, the observed average replaces this default (a small pilot run
# calibrates it).
DEFAULT_OUTPUT_TOKENS = 130
BATCH_DISCOUNT = 0.5  # Bedrock batch inference: 50 % of on-demand


def expected_tokens(text: str) -> int:
    """The expected token count of ``text`` (not the limiter's conservative reservation)."""
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / BYTES_PER_TOKEN)


@dataclass(frozen=True)
class Observed:
    """Usage of answered calls: count, input and output tokens, prompt characters."""

    calls: int
    input_tokens: int
    output_tokens: int
    chars: int


def project(
    *,
    pending: int,
    pending_chars: int,
    observed: Observed | None,
    price_in: float,
    price_out: float,
    rpm: float,
    tpm: float,
    max_tokens: int,
    system_prompt_tokens: int,
) -> dict[str, Any]:
    """Token, cost and time estimate for ``pending`` prompts of ``pending_chars`` characters.
    Prices are USD per million tokens."""
    fixed = system_prompt_tokens + MESSAGE_OVERHEAD_TOKENS
    per_char, out_per_call, basis = 1.0 / CHARS_PER_TOKEN, float(DEFAULT_OUTPUT_TOKENS), "defaults"
    if observed is not None and observed.calls > 0:
        basis = f"{observed.calls} completed results"
        out_per_call = observed.output_tokens / observed.calls
        beyond_fixed = observed.input_tokens - observed.calls * fixed
        if observed.chars > 0 and beyond_fixed > 0:
            per_char = beyond_fixed / observed.chars
    out_per_call = min(out_per_call, float(max_tokens))
    tokens_in = round(pending * fixed + pending_chars * per_char)
    tokens_out = round(pending * out_per_call)
    cost = (tokens_in * price_in + tokens_out * price_out) / 1e6
    by_requests = pending / rpm if rpm > 0 else math.inf
    by_tokens = (tokens_in + tokens_out) / tpm if tpm > 0 else math.inf
    # Bedrock reserves input + max_tokens when a call starts; a loose max_tokens makes the
    # token quota bind earlier than the actual use suggests.
    reserved = (tokens_in + pending * max_tokens) / tpm if tpm > 0 else math.inf
    minutes = max(by_requests, by_tokens)
    return {
        "pending_prompts": pending,
        "pending_chars": pending_chars,
        "basis": basis,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "output_tokens_worst_case": pending * max_tokens,
        "input_tokens_per_prompt": round(tokens_in / pending, 1) if pending else None,
        "output_tokens_per_prompt": round(out_per_call, 1),
        "cost_on_demand_usd": round(cost, 4),
        "cost_batch_usd": round(cost * BATCH_DISCOUNT, 4),
        "cost_worst_case_usd": round(
            (tokens_in * price_in + pending * max_tokens * price_out) / 1e6, 4
        ),
        "price_in_per_mtok": price_in,
        "price_out_per_mtok": price_out,
        "rpm": rpm,
        "tpm": tpm,
        "minutes": _finite(minutes),
        "minutes_if_reservation_binds": _finite(max(by_requests, reserved)),
        "bound_by": "requests/min" if by_requests >= by_tokens else "tokens/min",
    }


def _finite(x: float) -> float | None:
    return None if math.isinf(x) else round(x, 2)
