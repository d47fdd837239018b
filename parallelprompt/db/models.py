"""Rows that cross the queue port, as frozen dataclasses. No SQL here."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

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


#: One staged row as SQLite binds it into the stage table (``create_stage`` in queries.sql).
StageTuple = tuple[
    bytes, str, int, int, int, str | None, str | None, str | None, bool | None, bool | None
]


@dataclass(slots=True)
class StagedRows:
    """Kept source rows of one batch, as the producer hands them to :meth:`BulkWriter.enqueue
    <db.port.BulkWriter.enqueue>`: named columns, row ``i`` across them (source and split are
    per batch).

    Columns, not an object per row: a row object per source row (a ``NamedTuple``, a
    dataclass) is tracked by the garbage collector and bound by sqlite3 through its slow
    sequence path, which cost the ingest ~1 µs per row on each side of the reading process's
    pipe (~8 % of its CPU). A batch is ten lists of plain values: it pickles as fast as a list
    of plain tuples, and :meth:`rows` zips them into exact tuples for ``executemany``."""

    text_hash: list[bytes] = field(default_factory=list)  # dedup key (producer.normalise)
    prompt: list[str] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    row_index: list[int] = field(default_factory=list)
    conversation_id: list[str | None] = field(default_factory=list)
    language: list[str | None] = field(default_factory=list)
    model: list[str | None] = field(default_factory=list)
    toxic: list[bool | None] = field(default_factory=list)
    redacted: list[bool | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.row_index)

    def add(
        self,
        text_hash: bytes,
        prompt: str,
        row_index: int,
        *,
        flags: int = 0,
        conversation_id: str | None = None,
        language: str | None = None,
        model: str | None = None,
        toxic: bool | None = None,
        redacted: bool | None = None,
    ) -> None:
        """Append one row (the producer's hot loop appends to the columns directly)."""
        self.text_hash.append(text_hash)
        self.prompt.append(prompt)
        self.flags.append(flags)
        self.row_index.append(row_index)
        self.conversation_id.append(conversation_id)
        self.language.append(language)
        self.model.append(model)
        self.toxic.append(toxic)
        self.redacted.append(redacted)

    def rows(self) -> Iterator[StageTuple]:
        """The rows for the stage table: text_hash, prompt, chars, flags, row_index,
        conversation_id, language, model, toxic, redacted."""
        return zip(
            self.text_hash,
            self.prompt,
            map(len, self.prompt),
            self.flags,
            self.row_index,
            self.conversation_id,
            self.language,
            self.model,
            self.toxic,
            self.redacted,
            strict=True,
        )

    def select(self, positions: Iterable[int]) -> StagedRows:
        """The rows at ``positions``, in that order."""
        keep = list(positions)
        return StagedRows(*([column[i] for i in keep] for column in self._columns()))

    def _columns(self) -> tuple[list[Any], ...]:
        return (
            self.text_hash,
            self.prompt,
            self.flags,
            self.row_index,
            self.conversation_id,
            self.language,
            self.model,
            self.toxic,
            self.redacted,
        )


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
