"""Statistics of a run: every prompt accounted for, in one consistent snapshot.

``compute_stats`` reads everything inside one read transaction (a WAL snapshot), so that the
numbers agree with each other and with the work table even while workers are committing; the
shaping into the JSON document and the text summary are pure functions of the rows read.

The published pipeline's five keys keep their meaning (docs/results.md):
``total_classified_as_parallelizable`` = verdicts with parallelizable true;
``passed_validation`` = outcome high_confidence or medium_confidence;
``failed_validation`` = parallelizable true and not passed; ``categories_passed`` /
``categories_failed`` = the same two counts per category.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from parallelprompt.common.provenance import EMULATOR_NOTICE as EMULATOR_NOTE
from parallelprompt.db import readside
from parallelprompt.db.errors import QueryError
from parallelprompt.db.models import Run
from parallelprompt.db.readside import Row, resolve_run, rq, snapshot, throughput
from parallelprompt.prompts.types import Outcome
from parallelprompt.results.document import (
    Cache,
    CategoryRow,
    Dedup,
    LanguageRow,
    NovelRow,
    Queue,
    Reasons,
    RunInfo,
    SourceRow,
    Stats,
    Tiers,
    Usage,
    rate,
)
from parallelprompt.results.text import EMULATED_COST, contract_label, format_cache, format_stats

__all__ = [  # besides what is defined here, what the other read commands take from here
    "EMULATED_COST",
    "Row",
    "contract_label",
    "format_cache",
    "format_stats",
    "resolve_run",
    "rq",
    "snapshot",
    "throughput",
]

PASSED = (Outcome.HIGH.value, Outcome.MEDIUM.value)
OUTCOMES = tuple(o.value for o in Outcome)
UNJUDGED = "unjudged"  # a result with no verdict under the profile read (revalidate first)
NOVEL_EXAMPLES = 3
EXAMPLE_CHARS = 300


#: How many known values a "matches nothing" message lists.
KNOWN_SHOWN = 15


def _known(conn: sqlite3.Connection, kind: str) -> str:
    values = readside.known_values(conn, kind)
    if not values:
        return "none in this database yet"
    shown = ", ".join(values[:KNOWN_SHOWN])
    more = len(values) - KNOWN_SHOWN
    return f"{shown}, and {more:,} more" if more > 0 else shown


def check_profile(conn: sqlite3.Connection, profile: str | None, run: Run | None) -> None:
    """An explicit ``--profile`` must have verdicts (the run's own profile always passes).

    Raises QueryError naming the profiles that have verdicts."""
    if profile is None or (run is not None and profile == run.rules):
        return
    if not readside.value_exists(conn, "profile", profile):
        raise QueryError(
            f"no verdicts under profile {profile!r} (profiles with verdicts: "
            f"{_known(conn, 'profile')}); run `parallelprompt revalidate --rules "
            f"{profile}` first"
        )


PASSED_TIERS = ("high_confidence", "medium_confidence")


def check_tiers(tiers: str | Sequence[str] | None) -> tuple[str, ...]:
    """``--tier`` (one or several tier labels, any case) in their stored spelling; () for all."""
    if tiers is None:
        return ()
    if isinstance(tiers, str):
        tiers = (tiers,)
    return tuple(dict.fromkeys(t for t in (check_tier(x) for x in tiers) if t is not None))


def check_tier(tier: str | None) -> str | None:
    """A ``--tier`` must be a tier label (any case); returns it in its stored spelling."""
    if tier is None:
        return None
    if tier.lower() not in OUTCOMES:
        raise QueryError(f"unknown tier {tier!r} (tier labels: {', '.join(OUTCOMES)})")
    return tier.lower()


def check_source(conn: sqlite3.Connection, source: str | None) -> None:
    """A ``--source`` must name a source recorded in the database (exact spelling)."""
    if source is not None and not readside.value_exists(conn, "source", source):
        raise QueryError(
            f"no source {source!r} in this database (sources: {_known(conn, 'source')})"
        )


def check_language(conn: sqlite3.Connection, language: str | None) -> None:
    """A ``--language`` (any case) must be a language of some source row."""
    if language is not None and not readside.value_exists(conn, "language", language):
        raise QueryError(
            f"no source row in language {language!r} (languages: {_known(conn, 'language')})"
        )


def check_category(conn: sqlite3.Connection, category: str | None) -> None:
    """A ``--category`` (any case) must be a category of some verdict."""
    if category is not None and not readside.value_exists(conn, "category", category):
        raise QueryError(
            f"no verdict in category {category!r} (categories: {_known(conn, 'category')})"
        )


def run_info(run: Run | None) -> RunInfo | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "created_at": run.created_at,
        "model_id": run.model_id,
        "api": run.api,
        "contract_version": run.contract_version,
        "rules": run.rules,
        "backend": run.backend,
    }


def backend_note(run: Run | None) -> str | None:
    return EMULATOR_NOTE if run is not None and run.backend == "emulator" else None


# -- reading ----------------------------------------------------------------------------------


@dataclass
class StatsRows:
    """What the queries returned, before any shaping."""

    run: Run | None
    profile: str | None
    source: str | None
    outcomes: list[Row] = field(default_factory=list)
    categories: list[Row] = field(default_factory=list)
    reasons: list[Row] = field(default_factory=list)
    languages: list[Row] = field(default_factory=list)
    sources: list[Row] = field(default_factory=list)
    novel: list[Row] = field(default_factory=list)
    novel_examples: list[Row] = field(default_factory=list)
    emergence: list[Row] = field(default_factory=list)
    totals: Row = (0, 0, 0, 0.0, None, None, None, 0)
    cache: Row = (0, 0, 0, 0, 0, 0, 0, 0)
    corpus: Row = (0, 0)
    queue: list[Row] = field(default_factory=list)
    sessions: list[Row] = field(default_factory=list)


def read_stats_rows(
    conn: sqlite3.Connection,
    *,
    run_id: int | None = None,
    source: str | None = None,
    profile: str | None = None,
) -> StatsRows:
    """Run every statistics query inside one snapshot.

    Raises QueryError when ``profile`` has no verdicts or ``source`` was never recorded (the
    message lists the known ones), NoSuchRun for an unknown ``run_id``."""
    with snapshot(conn):
        run = resolve_run(conn, run_id)
        check_profile(conn, profile, run)
        check_source(conn, source)
        prof = profile or (run.rules if run else None)
        rows = StatsRows(run=run, profile=prof, source=source)
        p = readside.scope(run, prof, source)
        split_summary(rows, readside.run_summary(conn, p))
        rows.languages, rows.sources = split_sources(
            group_source_rows(readside.source_rows(conn, p))
        )
        if rows.novel:
            rows.novel_examples = readside.novel_examples(conn, p, NOVEL_EXAMPLES)
            rows.emergence = emergence(conn, rows.novel, p)
        rows.corpus = readside.corpus_totals(conn, source)
        rows.queue = readside.queue_rows(conn)
        rows.sessions = readside.worker_sessions(conn, p["run_id"])
    return rows


def _add(acc: dict[Any, list[Any]], key: Any, values: Sequence[Any]) -> None:
    """Sum ``values`` into ``acc[key]`` (None counts as 0)."""
    have = acc.get(key)
    if have is None:
        acc[key] = [v or 0 for v in values]
    else:
        for i, v in enumerate(values):
            have[i] += v or 0


#: Outcomes whose reasons the statistics count: the cue that earned a tier, and why a prompt
#: failed, was unparseable or died.
REASONED = ("high_confidence", "medium_confidence", "failed", "unparseable", "dead")


def split_summary(rows: StatsRows, summary: Sequence[Row]) -> None:
    """Fill the per-outcome, per-category, per-reason, novel, totals and cache rows from the
    groups of ``run_summary`` (pure)."""
    outcomes: dict[Any, list[Any]] = {}
    categories: dict[str, list[Any]] = {}
    reasons: dict[Any, list[Any]] = {}
    novel: dict[str, list[Any]] = {}
    totals: list[Any] = [0, 0, 0, 0.0, None, None, 0.0, 0, 0]  # latency sum, count, attempts
    cache = [0] * 8
    for group in summary:
        (outcome, version, par, category, is_novel, reason, prompts, tin, tout, cost) = group[:10]
        (first_at, last_at, latency, latencies, attempts) = group[10:15]
        answered, first_id = group[15:-1], group[-1]
        if not prompts:
            continue  # no unjudged result
        par = par == 1
        _add(outcomes, (outcome, version), (prompts, prompts if par else 0))
        passed = prompts if outcome in PASSED else 0
        if par:
            label = "(none)" if category is None else str(category)
            entry = categories.setdefault(label, [0, 0, 0, 0])
            entry[0] = max(entry[0], int(is_novel or 0))
            entry[1] += prompts
            entry[2] += passed
            entry[3] += prompts if outcome == Outcome.HIGH.value else 0
            if is_novel == 1 and category is not None:
                got = novel.setdefault(str(category), [0, 0, first_at, first_id])
                got[0] += prompts
                got[1] += passed
                got[2] = min(got[2], first_at)
                got[3] = min(got[3], first_id)
        if outcome in REASONED:
            _add(reasons, (outcome, "(none)" if reason is None else reason), (prompts,))
        for i, v in enumerate((prompts, tin, tout, cost)):
            totals[i] += v or 0
        totals[4] = first_at if totals[4] is None else min(totals[4], first_at)
        totals[5] = last_at if totals[5] is None else max(totals[5], last_at)
        totals[6] += latency or 0.0
        totals[7] += latencies
        totals[8] += attempts or 0
        for i, v in enumerate(answered):
            cache[i] += v or 0
    rows.outcomes = [(o, n, par, version) for (o, version), (n, par) in sorted(
        outcomes.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]  # fmt: skip
    rows.categories = sorted(
        ((c, *v) for c, v in categories.items()), key=lambda r: (-int(r[2]), str(r[0]))
    )
    rows.reasons = sorted(
        ((o, r, v[0]) for (o, r), v in reasons.items()), key=lambda r: (-int(r[2]), str(r[1]))
    )
    rows.novel = sorted(((c, *v) for c, v in novel.items()), key=lambda r: (-int(r[1]), r[0]))
    avg_latency = totals[6] / totals[7] if totals[7] else None
    rows.totals = (*totals[:6], avg_latency, totals[8])
    rows.cache = tuple(cache)


def group_source_rows(stream: Iterable[Row]) -> list[Row]:
    """Source rows per source, language, outcome and parallelizable: (source, language,
    outcome, parallelizable, source rows, prompts counted once per source, prompts counted once
    per language), from ``readside.source_rows`` (a prompt's rows together, first row first;
    pure). A prompt counts in its first row of each source and of each language."""
    groups: dict[tuple[str, str, str, int], list[int]] = {}
    last = None
    sources: set[str] = set()
    languages: set[str] = set()
    for work_id, source, language, outcome, par in stream:
        lang = "unknown" if language is None else language
        if work_id != last:
            last, sources, languages = work_id, {source}, {lang}
            in_source = in_language = 1
        else:
            in_source, in_language = int(source not in sources), int(lang not in languages)
            sources.add(source)
            languages.add(lang)
        key = (source, lang, UNJUDGED if outcome is None else outcome, int(par == 1))
        group = groups.get(key)
        if group is None:
            groups[key] = [1, in_source, in_language]
        else:
            group[0] += 1
            group[1] += in_source
            group[2] += in_language
    return [(*key, *counts) for key, counts in groups.items()]


def split_sources(summary: Sequence[Row]) -> tuple[list[Row], list[Row]]:
    """The language rows and the per-source-and-outcome rows from ``source_summary`` (pure)."""
    languages: dict[str, list[int]] = {}
    sources: dict[tuple[str, str], list[int]] = {}
    for source, language, outcome, par, rows, source_prompts, language_prompts in summary:
        passed = outcome in PASSED
        _add(
            languages,
            str(language),
            (rows, language_prompts, language_prompts if par else 0,
             language_prompts if passed else 0),
        )  # fmt: skip
        _add(
            sources,
            (str(source), str(outcome)),
            (rows, source_prompts, source_prompts if par else 0),
        )
    return (
        sorted(((k, *v) for k, v in languages.items()), key=lambda r: (-int(r[1]), r[0])),
        [(s, o, *v) for (s, o), v in sorted(sources.items())],
    )


def emergence(conn: sqlite3.Connection, novel: Sequence[Row], p: Mapping[str, Any]) -> list[Row]:
    """(label, prompts processed when it first appeared), in order of appearance."""
    firsts = {int(first_id): str(label) for label, *_, first_id in novel}
    positions = readside.results_before(conn, p, sorted(firsts))
    return sorted(((firsts[int(i)], int(n)) for i, n in positions), key=lambda r: r[1])


def compute_stats(
    conn: sqlite3.Connection,
    *,
    run_id: int | None = None,
    source: str | None = None,
    profile: str | None = None,
    levers: Levers | None = None,
) -> Stats:
    """The statistics document of a run (default: the latest) under a rule profile (default:
    the run's own), optionally restricted to the prompts of one source dataset. ``levers``:
    adds the cost per lever replaying the run's tokens (the ``stats`` command's)."""
    rows = read_stats_rows(conn, run_id=run_id, source=source, profile=profile)
    stats = shape_stats(rows)
    if levers is not None:
        stats["levers"] = levers(stats, rows.run.config_json if rows.run else None)
    return stats


#: The cost-per-lever table of a statistics document and its run's recorded configuration
#: (``parallelprompt.results.costs``: it sizes calls as the worker does).
Levers = Callable[[Stats, str | None], list[dict[str, Any]]]


# -- shaping (pure) ---------------------------------------------------------------------------


def shape_stats(rows: StatsRows) -> Stats:
    outcomes = outcome_counts(rows.outcomes)
    categories = category_table(rows.categories)
    parallelizable = sum(int(r[2]) for r in rows.outcomes)
    passed = outcomes["high_confidence"] + outcomes["medium_confidence"]
    sources = source_table(rows.sources)
    prompts = sum(outcomes.values())
    source_rows = sum(s["source_rows"] for s in sources)
    reasons = reason_tables(rows.reasons)
    use = usage(rows.totals, rows.sessions)
    return {
        "total_classified_as_parallelizable": parallelizable,
        "failed_validation": parallelizable - passed,
        "passed_validation": passed,
        "categories_failed": {c["category"]: c["failed"] for c in categories if c["failed"]},
        "categories_passed": {c["category"]: c["passed"] for c in categories if c["passed"]},
        "run": run_info(rows.run),
        "profile": rows.profile,
        "filters": {"source": rows.source},
        "backend_note": backend_note(rows.run),
        "processed": {"prompts": prompts, "source_rows": source_rows},
        "outcomes": outcomes,
        "verdict_contract_versions": verdict_contracts(rows.outcomes),
        "pass_rate": rate(passed, parallelizable),
        "tiers": tier_split(outcomes),
        "categories": categories,
        "languages": language_table(rows.languages),
        "sources": sources,
        "high_cues": reasons["high_cues"],
        "medium_cues": reasons["medium_cues"],
        "failure_reasons": reasons["failure_reasons"],
        "unparseable_reasons": reasons["unparseable_reasons"],
        "dead_reasons": reasons["dead_reasons"],
        "novel_categories": novel_table(rows.novel, rows.novel_examples, rows.emergence),
        "dedup": dedup(source_rows, prompts, rows.corpus),
        "tokens": use["tokens"],
        "cost_usd": use["cost_usd"],
        "throughput": use["throughput"],
        "cache": cache_usage(rows.cache, run_prices(rows.run)),
        "queue": queue_counts(rows.queue),
    }


def outcome_counts(rows: Sequence[Row]) -> dict[str, int]:
    counts = {o: 0 for o in OUTCOMES}
    for outcome, prompts, *_ in rows:
        counts[str(outcome)] = counts.get(str(outcome), 0) + int(prompts)
    return counts


def verdict_contracts(rows: Sequence[Row]) -> dict[str, int]:
    """``{contract_version: prompts}`` of the verdicts read (``outcome_counts`` rows)."""
    versions: dict[str, int] = {}
    for _, prompts, _, version in rows:
        if version is not None:
            versions[str(version)] = versions.get(str(version), 0) + int(prompts)
    return dict(sorted(versions.items()))


def tier_split(outcomes: Mapping[str, int]) -> Tiers:
    high, medium = outcomes["high_confidence"], outcomes["medium_confidence"]
    return {
        "high_confidence": high,
        "medium_confidence": medium,
        "high_share": rate(high, high + medium),
        "medium_share": rate(medium, high + medium),
    }


def category_table(rows: Sequence[Row]) -> list[CategoryRow]:
    return [
        {
            "category": str(category),
            "is_novel": bool(novel),
            "classified": int(classified),
            "passed": int(passed),
            "failed": int(classified) - int(passed),
            "high": int(high),
            "medium": int(passed) - int(high),
            "pass_rate": rate(int(passed), int(classified)),
        }
        for category, novel, classified, passed, high in rows
    ]


def language_table(rows: Sequence[Row]) -> list[LanguageRow]:
    return [
        {
            "language": str(language),
            "source_rows": int(source_rows),
            "prompts": int(prompts),
            "parallelizable": int(par),
            "passed": int(passed),
            "pass_rate": rate(int(passed), int(par)),
        }
        for language, source_rows, prompts, par, passed in rows
    ]


def source_table(rows: Sequence[Row]) -> list[SourceRow]:
    by_source: dict[str, SourceRow] = {}
    for source, outcome, source_rows, prompts, par in rows:
        entry = by_source.setdefault(
            str(source),
            {
                "source": str(source),
                "source_rows": 0,
                "prompts": 0,
                "parallelizable": 0,
                "passed": 0,
                "outcomes": {o: 0 for o in OUTCOMES},
                "outcomes_by_source_row": {o: 0 for o in OUTCOMES},
                "pass_rate": None,
            },
        )
        entry["source_rows"] += int(source_rows)
        entry["prompts"] += int(prompts)
        entry["parallelizable"] += int(par)
        if outcome in PASSED:
            entry["passed"] += int(prompts)
        entry["outcomes"][str(outcome)] = int(prompts)
        entry["outcomes_by_source_row"][str(outcome)] = int(source_rows)
    for entry in by_source.values():
        entry["pass_rate"] = rate(entry["passed"], entry["parallelizable"])
    return sorted(by_source.values(), key=lambda e: (-e["source_rows"], e["source"]))


#: The reason table of each outcome that has reasons.
REASON_KEYS = {
    "high_confidence": "high_cues",
    "medium_confidence": "medium_cues",
    "failed": "failure_reasons",
    "unparseable": "unparseable_reasons",
    "dead": "dead_reasons",
}


def reason_tables(rows: Sequence[Row]) -> Reasons:
    out: dict[str, dict[str, int]] = {k: {} for k in REASON_KEYS.values()}
    for outcome, reason, prompts in rows:
        out[REASON_KEYS[str(outcome)]][str(reason)] = int(prompts)
    return cast(Reasons, out)


def novel_table(
    rows: Sequence[Row], examples: Sequence[Row], emergence: Sequence[Row]
) -> list[NovelRow]:
    samples: dict[str, list[str]] = {}
    descriptions: dict[str, str] = {}
    for label, description, prompt in examples:
        samples.setdefault(str(label), []).append(_clip(str(prompt)))
        if description and str(label) not in descriptions:
            descriptions[str(label)] = str(description)
    position = {str(label): int(pos) for label, pos in emergence}
    return [
        {
            "label": str(label),
            "description": descriptions.get(str(label)),
            "count": int(count),
            "passed": int(passed),
            "first_seen_at": first_at,
            "first_seen_after_prompts": position.get(str(label)),
            "examples": samples.get(str(label), []),
        }
        for label, count, passed, first_at, _first_id in rows
    ]


def _clip(text: str) -> str:
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def dedup(source_rows: int, prompts: int, corpus: Row) -> Dedup:
    corpus_prompts, corpus_rows = int(corpus[0]), int(corpus[1])
    return {
        "source_rows": source_rows,
        "unique_prompts": prompts,
        "calls_saved": source_rows - prompts,
        "savings": rate(source_rows - prompts, source_rows),
        "corpus_source_rows": corpus_rows,
        "corpus_unique_prompts": corpus_prompts,
    }


def active_seconds(sessions: Sequence[Row]) -> float:
    """Seconds during which at least one worker of the run was working: the union of the
    workers' ``[started, stopped]`` intervals, so that a run resumed a day later does not count
    the night, and two workers side by side do not count twice."""
    total, end = 0.0, None
    for start, stop in sorted((float(a), float(b)) for a, b in sessions if a is not None):
        if end is None or start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def usage(totals: Row, sessions: Sequence[Row] = ()) -> Usage:
    prompts, tin, tout, cost, first_at, last_at, latency, attempts = totals
    span = (last_at - first_at) if first_at is not None and last_at is not None else 0.0
    # without worker time (results written by other tools), the results' own time span
    elapsed = active_seconds(sessions) or span
    per_s = throughput(int(prompts), elapsed)
    return {
        "tokens": {"input": int(tin), "output": int(tout), "total": int(tin) + int(tout)},
        "cost_usd": round(float(cost), 6),
        "throughput": {
            "first_result_at": first_at,
            "last_result_at": last_at,
            "results_span_s": round(span, 3),
            "elapsed_s": round(elapsed, 3),
            "prompts_per_s": None if per_s is None else round(per_s, 3),
            "prompts_per_min": None if per_s is None else round(per_s * 60, 1),
            "avg_latency_ms": None if latency is None else round(float(latency), 1),
            "attempts": int(attempts),
        },
    }


def run_prices(run: Run | None) -> dict[str, float] | None:
    """The prices (USD per million tokens) a run recorded in its config, if it did."""
    if run is None:
        return None
    try:
        prices = json.loads(run.config_json).get("prices")
    except (ValueError, AttributeError):
        return None
    if not isinstance(prices, dict):
        return None
    keys = ("input", "output", "cache_write", "cache_read")
    if not all(isinstance(prices.get(k), int | float) for k in keys):
        return None
    return {k: float(prices[k]) for k in keys}


def cache_usage(row: Row, prices: Mapping[str, float] | None) -> Cache:
    """Prompt-cache figures of the answered calls: the share of calls that read the cache,
    the share of input tokens it served, and the dollars it saved against sending those
    tokens uncached (cache writes cost more than plain input, and count against it)."""
    answered, reading, writing, read, write, tin, tout, chars = (int(x) for x in row)
    saved = None
    if prices is not None:
        saved = round(
            (
                read * (prices["input"] - prices["cache_read"])
                - write * (prices["cache_write"] - prices["input"])
            )
            / 1e6,
            6,
        )
    return {
        "answered_calls": answered,
        "calls_reading_cache": reading,
        "calls_writing_cache": writing,
        "hit_rate": rate(reading, answered),
        "read_tokens": read,
        "write_tokens": write,
        "token_hit_rate": rate(read, read + write + tin),
        "input_tokens": tin,
        "output_tokens": tout,
        "prompt_chars": chars,
        "saved_usd": saved,
    }


def queue_counts(rows: Sequence[Row]) -> Queue:
    counts = {s: 0 for s in ("ready", "leased", "done", "dead")}
    for status, n in rows:
        counts[str(status)] = int(n)
    return {
        "ready": counts["ready"],
        "leased": counts["leased"],
        "done": counts["done"],
        "dead": counts["dead"],
        "total": sum(counts.values()),
    }
