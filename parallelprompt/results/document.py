"""The statistics document, typed: what ``stats --json`` prints, key for key.

TypedDicts and not dataclasses: the document *is* the JSON (``orjson`` writes it as it is,
sorted keys), and the text summary, the report and the cost levers read it by key — mypy now
checks every one of those keys and their types. The meaning of each figure is in
docs/results.md.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class RunInfo(TypedDict):
    id: int
    created_at: float
    model_id: str
    api: str
    contract_version: str
    rules: str
    backend: str


class Filters(TypedDict):
    source: str | None


class Processed(TypedDict):
    prompts: int
    source_rows: int


class Tiers(TypedDict):
    high_confidence: int
    medium_confidence: int
    high_share: float | None
    medium_share: float | None


class CategoryRow(TypedDict):
    category: str
    is_novel: bool
    classified: int
    passed: int
    failed: int
    high: int
    medium: int
    pass_rate: float | None


class LanguageRow(TypedDict):
    language: str
    source_rows: int
    prompts: int
    parallelizable: int
    passed: int
    pass_rate: float | None


class SourceRow(TypedDict):
    source: str
    source_rows: int
    prompts: int
    parallelizable: int
    passed: int
    outcomes: dict[str, int]
    outcomes_by_source_row: dict[str, int]
    pass_rate: float | None


class NovelRow(TypedDict):
    label: str
    description: str | None
    count: int
    passed: int
    first_seen_at: float
    first_seen_after_prompts: int | None
    examples: list[str]


class Dedup(TypedDict):
    source_rows: int
    unique_prompts: int
    calls_saved: int
    savings: float | None
    corpus_source_rows: int
    corpus_unique_prompts: int


class Tokens(TypedDict):
    input: int
    output: int
    total: int


class Throughput(TypedDict):
    first_result_at: float | None
    last_result_at: float | None
    results_span_s: float
    elapsed_s: float
    prompts_per_s: float | None
    prompts_per_min: float | None
    avg_latency_ms: float | None
    attempts: int


class Usage(TypedDict):
    tokens: Tokens
    cost_usd: float
    throughput: Throughput


class Cache(TypedDict):
    answered_calls: int
    calls_reading_cache: int
    calls_writing_cache: int
    hit_rate: float | None
    read_tokens: int
    write_tokens: int
    token_hit_rate: float | None
    input_tokens: int
    output_tokens: int
    prompt_chars: int
    saved_usd: float | None


class Queue(TypedDict):
    ready: int
    leased: int
    done: int
    dead: int
    total: int


class Reasons(TypedDict):
    high_cues: dict[str, int]
    medium_cues: dict[str, int]
    failure_reasons: dict[str, int]
    unparseable_reasons: dict[str, int]
    dead_reasons: dict[str, int]


class Stats(TypedDict):
    """``stats --json``: the published pipeline's five keys first, then ours."""

    total_classified_as_parallelizable: int
    failed_validation: int
    passed_validation: int
    categories_failed: dict[str, int]
    categories_passed: dict[str, int]
    run: RunInfo | None
    profile: str | None
    filters: Filters
    backend_note: str | None
    processed: Processed
    outcomes: dict[str, int]
    verdict_contract_versions: dict[str, int]
    pass_rate: float | None
    tiers: Tiers
    categories: list[CategoryRow]
    languages: list[LanguageRow]
    sources: list[SourceRow]
    high_cues: dict[str, int]
    medium_cues: dict[str, int]
    failure_reasons: dict[str, int]
    unparseable_reasons: dict[str, int]
    dead_reasons: dict[str, int]
    novel_categories: list[NovelRow]
    dedup: Dedup
    tokens: Tokens
    cost_usd: float
    throughput: Throughput
    cache: Cache
    queue: Queue
    #: the cost per lever replaying the run's tokens (``Lever.as_dict`` rows); the ``stats``
    #: command adds them, a bare ``compute_stats`` has none
    levers: NotRequired[list[dict[str, Any]]]


class LiveWorker(TypedDict):
    id: str
    run_id: int | None
    host: str
    pid: int
    concurrency: int
    started_at: float
    heartbeat_age_s: float


class Workers(TypedDict):
    live: int
    live_concurrency: int
    registered: int
    stale: int
    list: list[LiveWorker]


class RecentRate(TypedDict):
    last_60s: float
    last_300s: float


class InOut(TypedDict):
    input: int
    output: int


class Status(TypedDict):
    """What ``status --json`` prints, key for key."""

    run: RunInfo | None
    backend_note: str | None
    queue: Queue
    pending: int
    workers: Workers
    rate_per_min: RecentRate
    tokens_last_60s: int
    eta_s: float | None
    processed: int
    tokens: InOut
    cost_usd: float
    cache: Cache
    now: float


def rate(part: float, whole: float) -> float | None:
    """A share as the document holds it: four decimals; None when there is no whole."""
    return round(part / whole, 4) if whole else None
