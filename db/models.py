"""Rows that cross the queue port, as frozen dataclasses. No SQL here."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson


class Status(enum.StrEnum):
    READY = "ready"
    LEASED = "leased"
    DONE = "done"
    DEAD = "dead"


FLAG_OVERSIZED = 1


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One kept source row: its first-turn prompt and where it came from."""

    prompt: str
    text_hash: bytes  # dedup key: hash of the normalised prompt (producer.normalise)
    source: str
    split: str
    row_index: int
    conversation_id: str | None = None
    language: str | None = None
    model: str | None = None
    toxic: bool | None = None
    redacted: bool | None = None
    flags: int = 0


class StagedRow(NamedTuple):
    """One kept source row as the producer hands it to :meth:`BulkWriter.enqueue
    <db.port.BulkWriter.enqueue>` (source and split are per batch). A tuple, so that SQLite
    binds it as it is. On a hot path build it with ``tuple.__new__(StagedRow, (...))``: the same
    object without ``NamedTuple.__new__``'s Python-level call (about 2.5x cheaper)."""

    text_hash: bytes  # dedup key: hash of the normalised prompt (producer.normalise)
    prompt: str
    chars: int  # len(prompt)
    flags: int
    row_index: int
    conversation_id: str | None
    language: str | None
    model: str | None
    toxic: bool | None
    redacted: bool | None


@dataclass(frozen=True, slots=True)
class EnqueueResult:
    rows: int  # source rows offered
    new_prompts: int  # unique prompts not seen before
    new_sources: int  # source rows not recorded before

    @property
    def known_sources(self) -> int:
        """Source rows already recorded by an earlier ingest (re-running adds nothing)."""
        return self.rows - self.new_sources


@dataclass(frozen=True, slots=True)
class Lease:
    work_id: int
    prompt: str
    attempts: int  # including this one
    expires_at: float


@dataclass(frozen=True, slots=True)
class VerdictRow:
    """A judgement as stored: the outcome under one rule profile and the extracted schema."""

    profile: str
    contract_version: str
    outcome: str
    reason: str | None = None
    tier_label: str | None = None
    validation_passed: bool = False
    parallelizable: bool | None = None
    category: str | None = None
    is_novel_category: bool | None = None
    category_description: str | None = None
    serial: str | None = None
    template: str | None = None
    context: str | None = None
    data: tuple[str, ...] | None = None
    n: int | None = None
    repairs: tuple[str, ...] = ()  # the parser's repairs (prompts.Coercion names)


@dataclass(frozen=True, slots=True)
class Completion:
    """The final outcome of one leased prompt in one run: the answer (or error) and verdict."""

    work_id: int
    run_id: int
    model_id: str
    verdict: VerdictRow
    attempts: int
    raw_text: str | None = None
    stop_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float | None = None
    error_code: str | None = None  # set for dead letters
    error_message: str | None = None
    cache_read_tokens: int = 0  # input read from the prompt cache (not in input_tokens)
    cache_write_tokens: int = 0  # input written to the prompt cache (not in input_tokens)

    @property
    def dead(self) -> bool:
        return self.verdict.outcome == "dead"


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed attempt. Retryable ones go back to the ready set with backoff until the
    attempts run out; then, or at once when not retryable, the prompt becomes a dead letter
    recorded as a result with outcome ``dead``."""

    work_id: int
    run_id: int
    model_id: str
    profile: str
    contract_version: str
    attempts: int
    error_code: str
    message: str
    retryable: bool
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class FailOutcome(enum.StrEnum):
    RETRY = "retry"
    DEAD = "dead"
    LOST = "lost"  # the lease had already passed to another worker: nothing written


@dataclass(frozen=True, slots=True)
class CompleteResult:
    written: int
    lost: tuple[int, ...]  # work ids whose lease was lost: their results were discarded


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    created_at: float
    model_id: str
    api: str
    contract_version: str
    rules: str
    backend: str
    config_json: str

    @property
    def endpoint(self) -> str:
        """The endpoint part of the run's identity ("" for runs recorded before it was)."""
        try:
            config = orjson.loads(self.config_json)
        except orjson.JSONDecodeError:
            return ""
        value = config.get("endpoint") if isinstance(config, dict) else None
        return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class RunIdentity:
    """What makes two runs the same run: model, API, contract version, rule profile, the
    backend that answered and the endpoint. Decided here only: the worker's choice of a run
    (:mod:`worker.runs`) and every implementation's :meth:`Queue.start_run
    <db.port.Queue.start_run>` compare through :meth:`matches`.

    ``endpoint_url`` (the redacted ``--endpoint-url``) is not part of the identity: it lets a
    run recorded before endpoints were (no ``config.endpoint``) match when its backend label
    and its raw endpoint URL do."""

    model_id: str
    api: str
    contract_version: str
    rules: str
    backend: str
    endpoint: str
    endpoint_url: str | None = field(default=None, compare=False)

    @classmethod
    def of_run(cls, run: Run) -> RunIdentity:
        return cls(
            run.model_id, run.api, run.contract_version, run.rules, run.backend, run.endpoint
        )

    def matches(self, run: Run) -> bool:
        """Whether ``run`` has this identity (see the class doc for runs recorded before the
        endpoint was part of it)."""
        theirs = RunIdentity.of_run(run)
        if theirs == self:
            return True
        try:
            config = orjson.loads(run.config_json)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(config, dict) or "endpoint" in config:
            return False
        legacy = RunIdentity(
            self.model_id, self.api, self.contract_version, self.rules, self.backend, ""
        )
        return theirs == legacy and config.get("endpoint_url") == self.endpoint_url


@dataclass(frozen=True, slots=True)
class Fleet:
    live_workers: int
    total_concurrency: int


@dataclass(frozen=True, slots=True)
class Workload:
    """What is left to do, and what the answered calls used so far (for the estimate that
    the spending guard shows): pending (ready or leased) prompts and their characters;
    answered calls (dead letters excluded) with their input tokens (cache reads and writes
    included), output tokens and prompt characters — of the model asked about, or of any
    model when it has none yet."""

    pending: int
    pending_chars: int
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    chars: int = 0
