"""The cost-per-lever tables of ``estimate`` (projected) and ``stats`` (measured): builds a
:class:`catalogue.levers.Workload` from what those commands read, nothing else."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from parallelprompt.catalogue import Pricing, pricing
from parallelprompt.catalogue.levers import Lever, Workload, levers
from parallelprompt.results.document import Stats
from parallelprompt.worker.sizing import TokenPlan


def estimate_levers(
    est: Mapping[str, Any],
    *,
    model: str,
    price: Pricing,
    system_tokens: int,
    plan: TokenPlan,
    rpm: float,
    tpm: float,
) -> list[Lever]:
    """Levers for ``results.estimate``'s projection of the pending prompts."""
    prompts = int(est["pending_prompts"])
    per_prompt = float(est["input_tokens_per_prompt"] or 0.0)
    rest = max(0.0, per_prompt - system_tokens)
    work = Workload(
        prompts=prompts,
        prefix_tokens=float(system_tokens),
        prompt_tokens=rest,
        output_tokens=float(est["output_tokens_per_prompt"]),
        # The worker sizes from its own (conservative) estimate: ~4/3 of these tokens.
        sized_max_tokens=float(plan.first(round(rest * 4 / 3))),
        fixed_max_tokens=plan.ceiling,
    )
    return levers(work, model, price, rpm, tpm)


def lever_dicts(stats: Stats, config_json: str | None) -> list[dict[str, Any]]:
    """:func:`measured_levers` as ``stats --json`` holds them (none: an empty list)."""
    return [r.as_dict() for r in measured_levers(stats, config_json) or []]


def measured_levers(stats: Stats, config_json: str | None) -> list[Lever] | None:
    """Levers replaying the run's measured tokens (None: nothing answered yet)."""
    cache = stats["cache"]
    n = int(cache["answered_calls"] or 0)
    run = stats["run"]
    if n == 0 or run is None:
        return None
    try:
        config = json.loads(config_json or "{}")
    except ValueError:
        config = {}
    read, write = int(cache["read_tokens"]), int(cache["write_tokens"])
    with_prefix = int(cache["calls_reading_cache"]) + int(cache["calls_writing_cache"])
    if with_prefix:
        prefix = (read + write) / with_prefix
    else:
        prefix = float(config.get("system_prompt_tokens") or 0)
    total_in = (int(cache["input_tokens"]) + read + write) / n
    rest = max(0.0, total_in - prefix)
    ceiling = int(config.get("max_tokens") or 1024)
    plan = TokenPlan(ceiling, 0, bool(config.get("size_max_tokens", False)))
    work = Workload(
        prompts=n,
        prefix_tokens=prefix,
        prompt_tokens=rest,
        output_tokens=int(cache["output_tokens"]) / n,
        sized_max_tokens=float(plan.first(round(rest * 4 / 3))),
        fixed_max_tokens=ceiling,
        cache_hit=(int(cache["calls_reading_cache"]) / n) if with_prefix else 1.0,
    )
    model = str(run["model_id"])
    price = _recorded_pricing(config.get("prices"), model)
    return levers(work, model, price, float(config.get("rpm") or 0), float(config.get("tpm") or 0))


def _recorded_pricing(prices: Any, model: str) -> Pricing:
    """The prices the run recorded (flags included), else the catalogue's."""
    if isinstance(prices, dict):
        try:
            return Pricing(
                float(prices["input"]),
                float(prices["output"]),
                float(prices["cache_write"]),
                float(prices["cache_read"]),
                bool(prices.get("known", True)),
                str(prices.get("family", "regional")),
            )
        except (KeyError, TypeError, ValueError):
            pass
    return pricing(model)
