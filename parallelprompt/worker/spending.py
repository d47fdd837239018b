"""The spending guard: a Bedrock run starts only with a budget, or with ``none`` written out."""

from __future__ import annotations

from parallelprompt.catalogue import pricing
from parallelprompt.catalogue.projection import Observed, expected_tokens, project
from parallelprompt.db import Queue
from parallelprompt.prompts import Contract
from parallelprompt.worker.settings import Job


async def budget_refusal(queue: Queue, settings: Job, contract: Contract) -> str | None:
    """None when the run may spend; else the one line that refuses it, with the estimate."""
    w = settings.worker
    if w.max_cost_usd is not None:
        return None
    price = pricing(w.model, w.price_in, w.price_out, w.price_cache_write, w.price_cache_read)
    work = await queue.workload(w.model)
    used = Observed(work.calls, work.input_tokens, work.output_tokens, work.chars)
    est = project(
        pending=work.pending,
        pending_chars=work.pending_chars,
        observed=used if used.calls else None,
        price_in=price.price_in,
        price_out=price.price_out,
        rpm=w.rpm,
        tpm=w.tpm,
        max_tokens=settings.contract.max_tokens,
        system_prompt_tokens=expected_tokens(contract.system_prompt),
    )
    cost = (
        f"~${est['cost_on_demand_usd']:,.2f} (worst case ${est['cost_worst_case_usd']:,.2f})"
        if price.known
        else "an unknown amount (no price known for this model)"
    )
    return (
        f"no budget for a Bedrock run: {est['pending_prompts']:,} pending prompts would cost "
        f"{cost} with {w.model} — pass --max-cost-usd USD (or set PARALLELPROMPT_MAX_COST_USD), "
        "or --max-cost-usd none to run without a budget"
    )
