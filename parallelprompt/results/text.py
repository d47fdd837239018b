"""The statistics document as text: the ``stats`` command's summary (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from parallelprompt.results.document import Cache, Stats, rate

EMULATED_COST = " (at the model's prices; the emulator charged nothing)"


def contract_label(stats: Stats) -> str:
    """The contract version(s) the profile's verdicts were judged under, for a header: the
    run's own version when they agree (or there are no verdicts yet), else each version with
    its prompts and the run's version."""
    run = stats["run"]
    versions = stats["verdict_contract_versions"]
    if run is None:
        return ""
    if not versions or list(versions) == [run["contract_version"]]:
        return f"contract {run['contract_version']}"
    if len(versions) == 1:
        judged = f"verdicts under contract {next(iter(versions))}"
    else:
        judged = "verdicts under contracts " + ", ".join(
            f"{v} ({n:,} prompts)" for v, n in versions.items()
        )
    return f"{judged}; the run's contract {run['contract_version']}"


def format_cache(cache: Cache) -> str | None:
    """One line, or None when nothing was cached."""
    if not cache["read_tokens"] and not cache["write_tokens"]:
        return None
    saved = "" if cache["saved_usd"] is None else f", saved ${cache['saved_usd']:,.4f}"
    hit = cache["hit_rate"] or 0.0
    served = cache["token_hit_rate"] or 0.0
    return (
        f"prompt cache: {hit:.1%} of calls read it ({served:.1%} of input tokens), "
        f"{cache['read_tokens']:,} tokens read, {cache['write_tokens']:,} written{saved}"
    )


# -- text -------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _header(stats: Stats) -> list[str]:
    run = stats["run"]
    if run is None:
        return ["no run recorded yet: nothing has been processed (run `parallelprompt work`)"]
    lines = [
        f"run {run['id']}: model {run['model_id']} via {run['api']}, backend {run['backend']}, "
        f"profile {stats['profile']} ({contract_label(stats)})"
    ]
    if stats["backend_note"]:
        lines.append(f"NOTE: {stats['backend_note']}")
    if stats["filters"]["source"]:
        lines.append(f"source: {stats['filters']['source']}")
    return lines


def _overview(stats: Stats) -> list[str]:
    proc, dd = stats["processed"], stats["dedup"]
    lines = [
        f"processed: {proc['prompts']:,} unique prompts from {proc['source_rows']:,} source rows "
        f"({dd['calls_saved']:,} calls saved by dedup, {_pct(dd['savings'])})",
        "outcomes:",
    ]
    for outcome, n in stats["outcomes"].items():
        lines.append(f"  {outcome:<20} {n:>10,}  {_pct(rate(n, proc['prompts']))}")
    tiers = stats["tiers"]
    lines += [
        f"classified parallelizable: {stats['total_classified_as_parallelizable']:,}; "
        f"passed validation: {stats['passed_validation']:,} ({_pct(stats['pass_rate'])}); "
        f"failed validation: {stats['failed_validation']:,}",
        f"tiers: high {tiers['high_confidence']:,} ({_pct(tiers['high_share'])}), "
        f"medium {tiers['medium_confidence']:,} ({_pct(tiers['medium_share'])})",
    ]
    return lines


class _Passing(TypedDict):
    """What the languages and the sources tables have in common."""

    prompts: int
    parallelizable: int
    passed: int
    pass_rate: float | None


def _table(title: str, rows: Sequence[tuple[str, _Passing]], limit: int = 20) -> list[str]:
    if not rows:
        return []
    lines = [f"{title}:"]
    for label, r in rows[:limit]:
        lines.append(
            f"  {label[:36]:<36} passed {r['passed']:>8,} of {r['parallelizable']:>8,} "
            f"parallelizable ({_pct(r['pass_rate'])}), {r['prompts']:,} prompts"
        )
    if len(rows) > limit:
        lines.append(f"  ... {len(rows) - limit} more")
    return lines


def _categories(stats: Stats, limit: int = 20) -> list[str]:
    rows = stats["categories"]
    if not rows:
        return []
    lines = ["categories (passed of classified parallelizable):"]
    for c in rows[:limit]:
        novel = " (novel)" if c["is_novel"] else ""
        lines.append(
            f"  {(c['category'] + novel)[:36]:<36} {c['passed']:>8,} of {c['classified']:>8,}"
            f"  {_pct(c['pass_rate'])}"
        )
    if len(rows) > limit:
        lines.append(f"  ... {len(rows) - limit} more")
    return lines


def _reasons(stats: Stats) -> list[str]:
    lines = []
    for title, reasons in (
        ("high tier earned by", stats["high_cues"]),
        ("medium tier earned by", stats["medium_cues"]),
        ("failure reasons", stats["failure_reasons"]),
        ("unparseable reasons", stats["unparseable_reasons"]),
        ("dead letters", stats["dead_reasons"]),
    ):
        if reasons:
            lines.append(f"{title}: " + ", ".join(f"{r} {n:,}" for r, n in reasons.items()))
    novel = stats["novel_categories"]
    if novel:
        top = ", ".join(f"{n['label']} {n['count']:,}" for n in novel[:8])
        lines.append(f"novel categories: {len(novel)} labels; top: {top}")
    return lines


def _usage(stats: Stats) -> list[str]:
    tok, tp, q = stats["tokens"], stats["throughput"], stats["queue"]
    rate_txt = "-" if tp["prompts_per_s"] is None else f"{tp['prompts_per_s']:.2f} prompts/s"
    cache = format_cache(stats["cache"])
    return [
        f"tokens: {tok['input']:,} in + {tok['output']:,} out; cost ${stats['cost_usd']:.4f}"
        + (EMULATED_COST if stats["backend_note"] else ""),
        *([cache] if cache else []),
        f"throughput: {rate_txt} over {tp['elapsed_s']:.1f} s of worker time, "
        f"avg latency {tp['avg_latency_ms'] or 0:.0f} ms",
        f"queue: ready {q['ready']:,}, leased {q['leased']:,}, done {q['done']:,}, "
        f"dead {q['dead']:,}",
    ]


def format_stats(stats: Stats) -> str:
    """A readable summary of ``compute_stats``'s document."""
    lines = _header(stats)
    if stats["run"] is not None:
        lines += _overview(stats)
        lines += _categories(stats)
        lines += _table("languages", [(r["language"], r) for r in stats["languages"]], 12)
        lines += _table("sources", [(r["source"], r) for r in stats["sources"]], 12)
        lines += _reasons(stats)
        lines += _usage(stats)
    return "\n".join(lines)
