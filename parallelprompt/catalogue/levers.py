"""Cost and time of a campaign per lever, from per-call token figures. Pure arithmetic.

The same table serves ``estimate`` (projected tokens) and ``stats`` (measured tokens): each row
replays one workload under a configuration, cumulatively —

1. the paper's method: Claude 3.5 Haiku on demand, no caching, ``max_tokens`` 1,024;
2. the run's model, still without caching and with the fixed ``max_tokens``;
3. plus prompt caching of the system prompt (when the model caches a prefix that long);
4. plus ``max_tokens`` sized per call: the same cost, a smaller reservation;
5. the batch price, for reference (Bedrock batch has no prompt caching, and a job may take up
   to a day, so no time is given).

Time at a quota: Bedrock settles each call to ``input + cache writes + output x burndown``
(cache reads left out), so a campaign needs ``max(prompts / RPM, settled tokens / TPM)``
minutes; while reservations (``input + max_tokens``) bind instead — many calls in flight
against a small quota — it needs ``reserved tokens / TPM``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from parallelprompt.catalogue.models import PAPER_MODEL, Pricing, lookup, pricing

PAPER_MAX_TOKENS = 1024


@dataclass(frozen=True, slots=True)
class Workload:
    """Per-call averages of a campaign of ``prompts`` calls."""

    prompts: int
    prefix_tokens: float  # the system prompt: the static prefix a cache point covers
    prompt_tokens: float  # the rest of the input
    output_tokens: float
    sized_max_tokens: float  # average max_tokens when sized per call
    fixed_max_tokens: int = PAPER_MAX_TOKENS
    cache_hit: float = 1.0  # share of calls whose prefix is read from the cache


@dataclass(frozen=True, slots=True)
class Lever:
    name: str
    cost_usd: float
    minutes: float | None
    minutes_if_reserved: float | None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "lever": self.name,
            "cost_usd": round(self.cost_usd, 4),
            "minutes": _round(self.minutes),
            "minutes_if_reservations_bind": _round(self.minutes_if_reserved),
            "note": self.note,
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _minutes(calls: int, per_call: float, rpm: float, tpm: float) -> float | None:
    by_requests = calls / rpm if rpm > 0 else 0.0
    by_tokens = calls * per_call / tpm if tpm > 0 else 0.0
    m = max(by_requests, by_tokens)
    return None if (rpm <= 0 and tpm <= 0) or math.isinf(m) else m


def _row(
    name: str,
    w: Workload,
    price: Pricing,
    burndown: float,
    *,
    cached: bool,
    max_tokens: float,
    rpm: float,
    tpm: float,
    note: str = "",
) -> Lever:
    n = w.prompts
    hit = w.cache_hit if cached else 0.0
    read = w.prefix_tokens * hit
    write = w.prefix_tokens * (1 - hit) if cached else 0.0
    plain = w.prompt_tokens + (0.0 if cached else w.prefix_tokens)
    per_call_cost = (
        plain * price.price_in
        + w.output_tokens * price.price_out
        + read * price.cache_read
        + write * price.cache_write
    ) / 1e6
    settled = plain + write + w.output_tokens * burndown
    reserved = plain + write + max_tokens
    return Lever(
        name,
        n * per_call_cost,
        _minutes(n, settled, rpm, tpm),
        _minutes(n, reserved, rpm, tpm),
        note,
    )


def levers(w: Workload, model: str, price: Pricing, rpm: float, tpm: float) -> list[Lever]:
    """The lever table for ``w`` run on ``model`` at ``price`` under the quota."""
    paper = lookup(PAPER_MODEL)
    info = lookup(model)
    burndown = info.output_burndown if info else 1.0
    rows = [
        _row(
            "paper's method: Claude 3.5 Haiku, no cache, max_tokens 1,024",
            w,
            pricing(PAPER_MODEL),
            paper.output_burndown if paper else 1.0,
            cached=False,
            max_tokens=w.fixed_max_tokens,
            rpm=rpm,
            tpm=tpm,
            note="end of life: priced for comparison only",
        ),
        _row(
            f"model: {info.name if info else model}",
            w,
            price,
            burndown,
            cached=False,
            max_tokens=w.fixed_max_tokens,
            rpm=rpm,
            tpm=tpm,
            note=f"output counts x{burndown:g} toward TPM",
        ),
    ]
    caches = info is not None and info.caches(round(w.prefix_tokens))
    note = f"{w.cache_hit:.0%} of calls read the cached system prompt"
    if not caches:
        minimum = info.min_cache_tokens if info else None
        note = (
            f"no effect: the model caches prefixes from {minimum:,} tokens"
            if minimum
            else "no effect: no prompt caching for this model"
        )
    rows.append(
        _row(
            "+ prompt caching",
            w,
            price,
            burndown,
            cached=caches,
            max_tokens=w.fixed_max_tokens,
            rpm=rpm,
            tpm=tpm,
            note=note,
        )
    )
    rows.append(
        _row(
            "+ max_tokens sized per call",
            w,
            price,
            burndown,
            cached=caches,
            max_tokens=w.sized_max_tokens,
            rpm=rpm,
            tpm=tpm,
            note=f"reserves ~{w.sized_max_tokens:,.0f} instead of {w.fixed_max_tokens:,}",
        )
    )
    batch = Pricing(
        price.price_in * 0.5,
        price.price_out * 0.5,
        price.cache_write,
        price.cache_read,
        price.known,
        price.family,
    )
    if info is not None:
        p = info.price(price.family)
        batch = Pricing(p.batch_input, p.batch_output, 0.0, 0.0, True, price.family)
    rows.append(
        Lever(
            "batch price (reference)",
            _row("", w, batch, 1.0, cached=False, max_tokens=0, rpm=0, tpm=0).cost_usd,
            None,
            None,
            "50 % of on demand, no prompt caching in batch, jobs take up to a day",
        )
    )
    return rows


def format_levers(rows: list[Lever], title: str) -> str:
    return format_lever_dicts([r.as_dict() for r in rows], title)


def format_lever_dicts(rows: list[dict[str, Any]], title: str) -> str:
    """The table from :meth:`Lever.as_dict` rows (as ``stats --json`` holds them)."""
    lines = [title]
    for r in rows:
        m, reserved = r["minutes"], r["minutes_if_reservations_bind"]
        minutes = "" if m is None else f"  ~{_duration(m)}"
        if reserved is not None and m is not None:
            minutes += f" ({_duration(reserved)} if reservations bind)"
        note = f"  [{r['note']}]" if r["note"] else ""
        lines.append(f"  {r['lever']:<58} ${r['cost_usd']:>12,.2f}{minutes}{note}")
    return "\n".join(lines)


def _duration(minutes: float) -> str:
    if minutes < 60:
        return f"{minutes:.1f} min"
    return f"{minutes / 60:.1f} h"
