"""What the pending prompts will cost and how long they will take, before a single call:
the figures read from the database, projected by :mod:`catalogue.projection`, and printed."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from parallelprompt.catalogue import Pricing, lookup, pricing
from parallelprompt.catalogue.levers import Lever
from parallelprompt.catalogue.projection import Observed, expected_tokens, project
from parallelprompt.db import readside
from parallelprompt.prompts.settings import ContractSettings
from parallelprompt.results.costs import estimate_levers
from parallelprompt.worker.settings import WorkerSettings
from parallelprompt.worker.sizing import TokenPlan

__all__ = ["estimate", "estimate_campaign", "format_estimate"]


def estimate(
    conn: sqlite3.Connection,
    *,
    model: str,
    price_in: float,
    price_out: float,
    rpm: float,
    tpm: float,
    max_tokens: int,
    system_prompt_tokens: int,
) -> dict[str, Any]:
    """Estimate for the pending (ready or leased) prompts with ``model`` at the given prices
    (USD per million tokens) and quota. Observed usage of the same model is preferred."""
    with readside.snapshot(conn):
        pending, chars = readside.pending_work(conn)
        row = readside.completed_usage(conn, model)
        if not row[0]:
            row = readside.completed_usage(conn, None)
    observed = Observed(*(int(x) for x in row)) if row[0] else None
    result = project(
        pending=int(pending),
        pending_chars=int(chars),
        observed=observed,
        price_in=price_in,
        price_out=price_out,
        rpm=rpm,
        tpm=tpm,
        max_tokens=max_tokens,
        system_prompt_tokens=system_prompt_tokens,
    )
    return {"model": model, **result}


def estimate_campaign(
    conn: sqlite3.Connection,
    worker: WorkerSettings,
    contract: ContractSettings,
    system_prompt: str,
) -> tuple[dict[str, Any], list[Lever], Pricing]:
    """The ``estimate`` command's figures: the projection of the pending prompts before
    caching, the cost per lever (cumulative), and the prices used (``known`` is False when the
    model is not in the catalogue and no price was given: the costs are then $0)."""
    w, k = worker, contract
    price = pricing(w.model, w.price_in, w.price_out, w.price_cache_write, w.price_cache_read)
    # the expected count (a tokenizer's), not the limiter's conservative reservation
    system_tokens = expected_tokens(system_prompt)
    result = estimate(
        conn,
        model=w.model,
        price_in=price.price_in,
        price_out=price.price_out,
        rpm=w.rpm,
        tpm=w.tpm,
        max_tokens=k.max_tokens,
        system_prompt_tokens=system_tokens,
    )
    info = lookup(w.model)
    ceiling = info.max_output_tokens if info else max(k.max_tokens, k.max_tokens_retry)
    plan = TokenPlan(k.max_tokens, k.max_tokens_retry, k.size_max_tokens, ceiling)
    rows = estimate_levers(
        result,
        model=w.model,
        price=price,
        system_tokens=system_tokens,
        plan=plan,
        rpm=w.rpm,
        tpm=w.tpm,
    )
    return result, rows, price


def _duration(minutes: float | None) -> str:
    if minutes is None:
        return "unbounded (no quota set)"
    if minutes < 60:
        return f"{minutes:.1f} min"
    return f"{minutes / 60:.1f} h"


def format_estimate(est: Mapping[str, Any]) -> str:
    lines = [
        f"pending: {est['pending_prompts']:,} prompts ({est['pending_chars']:,} characters)",
        f"model: {est['model']} at ${est['price_in_per_mtok']}/M in, "
        f"${est['price_out_per_mtok']}/M out (estimate from {est['basis']})",
        f"tokens: ~{est['input_tokens']:,} in + ~{est['output_tokens']:,} out "
        f"(worst case out: {est['output_tokens_worst_case']:,})",
        f"cost before caching: ~${est['cost_on_demand_usd']:,.2f} on demand, "
        f"~${est['cost_batch_usd']:,.2f} at batch price (worst case on demand "
        f"${est['cost_worst_case_usd']:,.2f}); the levers below include the prompt cache",
        f"time: ~{_duration(est['minutes'])} at {est['rpm']:,.0f} RPM / {est['tpm']:,.0f} TPM "
        f"(bound by {est['bound_by']}; "
        f"{_duration(est['minutes_if_reservation_binds'])} if max_tokens reservations bind)",
    ]
    return "\n".join(lines)
