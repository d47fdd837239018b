"""``work()``: one worker process from its settings sections to summary line.

Who answers. Before anything else the worker asks the endpoint who it is (a request that
Bedrock refuses unbilled, see :mod:`common.provenance`): the emulator names itself in
a response header. That, never a flag, is the backend recorded with the run, and every later
answer must come from the same backend. ``--backend bedrock|emulator`` only demands one.

Spending guard. A Bedrock run without ``--max-cost-usd`` refuses to start, with one line that
shows the estimate; ``--max-cost-usd none`` runs without a budget, knowingly.

Runs. Which run a worker writes into (continue, start, refuse): :mod:`worker.runs`.

Preflight. A new run may send every finished prompt back to the ready set. Before doing that
to a DB that has finished prompts, the worker checks the configuration (credentials, model id,
model access, endpoint) with one short model call: a configuration error then stops it with
nothing changed in the DB (no new run, no reopened rows), instead of leaving an empty run and a
queue of re-opened prompts behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parallelprompt.catalogue import DEFAULT_MODEL, ModelInfo, Pricing, eol_message, lookup
from parallelprompt.common.provenance import BEDROCK, EMULATOR, EMULATOR_NOTICE, Backend
from parallelprompt.common.textsafe import redact_text, without_userinfo
from parallelprompt.db import (
    DatabaseError,
    Queue,
    Run,
    SqliteQueue,
    is_locked_error,
    is_storage_error,
)
from parallelprompt.db.readside import throughput
from parallelprompt.prompts import Contract, ContractError, Outcome, estimate_tokens
from parallelprompt.prompts.settings import ContractSettings
from parallelprompt.worker import signals
from parallelprompt.worker.errors import FatalError, PromptError, RetryableError
from parallelprompt.worker.llm import LOCAL_CREDENTIALS, ClientOptions, LLMClient, Request, opened
from parallelprompt.worker.metrics import Counters, MetricsServer
from parallelprompt.worker.pool import OnEvent, Pool, PoolConfig, StopReason, Tuning, WorkEvent
from parallelprompt.worker.progress import Display, human
from parallelprompt.worker.runs import (
    ConfigError,
    choose_run,
    identity_of,
    reopens_rows,
    run_pricing,
)
from parallelprompt.worker.settings import NO_BUDGET, Job, WorkerSettings
from parallelprompt.worker.shape import Shape
from parallelprompt.worker.sizing import TokenPlan
from parallelprompt.worker.spending import budget_refusal
from parallelprompt.worker.store import Store

OUTCOMES = tuple(o.value for o in Outcome)


@dataclass(frozen=True)
class WorkSummary:
    """What one worker process did. ``line()`` is the one summary line printed at exit."""

    stop_reason: StopReason
    message: str | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    requeued: int = 0
    throttled: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cache_read_tokens: int = 0
    saved_usd: float = 0.0
    elapsed_s: float = 0.0
    active_s: float = 0.0  # registered as the run's worker until stopped (see results.stats)
    lost_leases: int = 0
    released: int = 0
    read_timeouts: int = 0
    run_id: int | None = None
    db: str = ""
    backend: str = "bedrock"
    signal_name: str | None = None

    @property
    def processed(self) -> int:
        return sum(self.outcomes.values())

    @property
    def exit_code(self) -> int:
        """0 drained, budget stop or SIGTERM; 130 after SIGINT; 2 after a fatal error."""
        if self.stop_reason is StopReason.FATAL:
            return 2
        if self.stop_reason is StopReason.SIGNAL and self.signal_name == "SIGINT":
            return 130
        return 0

    def as_dict(self) -> dict[str, Any]:
        """The summary's figures, for the JSON log line."""
        return {
            "stop_reason": self.stop_reason.value,
            "processed": self.processed,
            "outcomes": dict(self.outcomes),
            "requests": self.requests,
            "retries": self.retries,
            "requeued": self.requeued,
            "throttled": self.throttled,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "elapsed_s": round(self.elapsed_s, 3),
            "active_s": round(self.active_s, 3),
            "prompts_per_s": throughput(self.processed, self.active_s),
            "run_id": self.run_id,
            "db": self.db,
            "backend": self.backend,
        }

    def line(self) -> str:
        head = {
            StopReason.DRAINED: "queue drained",
            StopReason.BUDGET: "budget stop",
            StopReason.SIGNAL: f"stopped by {self.signal_name or 'signal'}",
            StopReason.FATAL: "FATAL",
        }[self.stop_reason]
        if self.message:
            head += f" ({self.message})"
        by = ", ".join(f"{k} {self.outcomes.get(k, 0):,}" for k in OUTCOMES)
        rate = throughput(self.processed, self.active_s) or 0.0
        text = (
            f"worker: {head} — {self.processed:,} prompts ({by}); {self.requests:,} requests, "
            f"{self.retries:,} retries, {self.requeued:,} requeued, {self.throttled:,} throttled; "
            f"tokens {human(self.input_tokens)} in / {human(self.output_tokens)} out; "
            f"${self.cost_usd:,.4f}; {self.elapsed_s:,.1f} s, throughput {rate:,.1f} prompts/s "
            f"over {self.active_s:,.1f} s of work"
        )
        if self.cache_read_tokens:
            text += (
                f"; {human(self.cache_read_tokens)} tokens read from the prompt cache "
                f"(saved ${self.saved_usd:,.4f})"
            )
        if self.lost_leases:
            text += f"; {self.lost_leases} lost lease(s)"
        if self.released:
            text += f"; {self.released} lease(s) released"
        if self.read_timeouts:
            text += (
                f"; {self.read_timeouts} call(s) timed out (they may still be processed and "
                "billed by Bedrock)"
            )
        if self.run_id is not None:
            text += f"; run {self.run_id} in {self.db}"
        if self.backend == "emulator":
            text += f"; {EMULATOR_NOTICE}"
        return text


PREFLIGHT_PROMPT = "Say OK."


async def preflight(client: LLMClient, request: Request, tuning: Tuning) -> None:
    """One model call that proves credentials, model id and access; FatalError if it cannot.
    Retryable failures are tried ``tuning.preflight_tries`` times (with backoff)."""
    last: RetryableError | None = None
    for n in range(max(1, tuning.preflight_tries)):
        if n:
            await asyncio.sleep(min(tuning.retry_cap_s, tuning.retry_base_s * 2**n))
        try:
            await client.call(request)
            return
        except RetryableError as exc:
            last = exc
        except PromptError as exc:
            raise FatalError(exc.code, f"cannot verify the model: {exc}", exc.aws_code) from exc
    assert last is not None
    raise FatalError(
        last.code,
        f"cannot verify the model ({tuning.preflight_tries} tries): {last}",
        last.aws_code,
    )


@dataclass
class _Stop:
    """What the signal handlers and the run share: the pool to stop once there is one, the
    signals received (the first one names the stop), whether the handlers are installed."""

    pools: list[Pool] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    installed: bool = False


@contextlib.contextmanager
def _signals(stop: _Stop) -> Iterator[None]:
    """SIGTERM/SIGINT only set flags (first: graceful stop, second: hard stop). A signal
    recorded before the loop ran (:mod:`worker.signals`) counts as the first. Re-entrant:
    within an outer use, an inner one changes nothing."""
    if stop.installed:
        yield
        return
    loop = asyncio.get_running_loop()
    installed = []
    early = signals.take()
    if early is not None and not stop.names:
        stop.names.append(early)

    def handler(sig: signal.Signals) -> None:
        if not stop.names:
            stop.names.append(sig.name)
        if stop.pools:
            stop.pools[0].request_stop(StopReason.SIGNAL, None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, handler, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (tests) or no signal support
    stop.installed = True
    try:
        yield
    finally:
        stop.installed = False
        for sig in installed:
            loop.remove_signal_handler(sig)


async def work(
    worker: WorkerSettings,
    contract: ContractSettings,
    *,
    db: Path,
    log_format: str = "auto",
    quiet: bool = False,
    on_event: OnEvent | None = None,
    tuning: Tuning | None = None,
    display: Display | None = None,
) -> WorkSummary:
    """Drain the queue of the database ``db`` through the model; never raises for the
    expected failures (bad configuration, credentials, a refused run, no budget): they come
    back as a summary with ``stop_reason`` FATAL and ``exit_code`` 2. The backend recorded is
    the one that answers at the endpoint (see :mod:`worker.runs`). The signal handlers come
    first: a SIGTERM while the DB is opened or the client created is a graceful stop too."""
    job = _Job(
        Job(worker, contract, db),
        tuning or Tuning(),
        display or Display(None, log_format, quiet),
        on_event,
        time.monotonic(),
        _Stop(),
    )
    with _signals(job.stop):
        return await _start(job)


@dataclass
class _Job:
    """One ``work()`` call: what every step reads, how it speaks, and its one summary."""

    settings: Job
    tuning: Tuning
    display: Display
    on_event: OnEvent | None
    started: float
    stop: _Stop

    def say(self, kind: str, message: str, *, show: bool = True) -> None:
        _say(self.display, self.on_event, kind, message, show=show)

    def summary(
        self,
        reason: StopReason,
        message: str | None = None,
        *,
        backend: str = BEDROCK,
        counters: Counters | None = None,
        run_id: int | None = None,
    ) -> WorkSummary:
        """The summary, built here only: figures from ``counters`` once the pool ran."""
        figures: dict[str, Any] = {}
        if counters is not None:
            figures = {
                "outcomes": {k: counters.outcomes.get(k, 0) for k in OUTCOMES},
                "requests": counters.total_requests,
                "retries": counters.retries,
                "requeued": counters.requeued,
                "throttled": counters.throttled,
                "input_tokens": counters.input_tokens,
                "output_tokens": counters.output_tokens,
                "cost_usd": counters.cost_usd,
                "cache_read_tokens": counters.cache_read_tokens,
                "saved_usd": counters.saved_usd,
                "active_s": counters.session_s,
                "lost_leases": counters.lost_leases,
                "released": counters.released,
                "read_timeouts": counters.requests.get("read_timeout", 0),
            }
        names = self.stop.names
        return WorkSummary(
            stop_reason=reason,
            message=message,
            elapsed_s=time.monotonic() - self.started,
            run_id=run_id,
            db=str(self.settings.db),
            backend=backend,
            signal_name=names[0] if names and reason is not StopReason.FATAL else None,
            **figures,
        )


async def _start(job: _Job) -> WorkSummary:
    """Load the contract, open the queue (waiting out another process's write lock), work."""
    settings = job.settings
    if job.stop.names:
        return job.summary(StopReason.SIGNAL)
    info = lookup(settings.worker.model)
    if info is not None and info.end_of_life():
        return job.summary(StopReason.FATAL, eol_message(info, settings.worker.model))
    try:
        contract = Contract.load(
            settings.contract.system_prompt,
            settings.contract.categories_file,
            settings.contract.rules,
        )
    except ContractError as exc:
        return job.summary(StopReason.FATAL, str(exc))
    db = settings.db
    if settings.worker.exit_when_empty and not db.exists():
        return job.summary(
            StopReason.FATAL,
            f"no database at {db}: run `parallelprompt ingest --db {db}` first (a worker "
            "started with --no-exit-when-empty waits for the producer instead)",
        )
    queue = await _open_queue(job)
    if isinstance(queue, WorkSummary):
        return queue
    store = Store(queue, on_wait=lambda message: job.say("waiting", message))
    try:
        if job.stop.names:
            return job.summary(StopReason.SIGNAL)
        return await _work(job, store, contract)
    except Exception as exc:  # before any answer: nothing to keep, one line and exit 2
        if not is_storage_error(exc):
            raise
        return job.summary(StopReason.FATAL, f"cannot write to the database {db}: {exc}")
    finally:
        await queue.close()


async def _open_queue(job: _Job) -> Queue | WorkSummary:
    """The queue of ``--db`` (the composition: the SQLite implementation is named here), or
    the summary of why not."""
    opening = time.monotonic()
    while True:  # another process's long write lock (a migration, a bulk ingest): wait
        try:
            return await SqliteQueue.open(
                job.settings.db,
                backoff_base=job.tuning.db_backoff_base_s,
                backoff_cap=job.tuning.db_backoff_cap_s,
                busy_timeout_s=job.tuning.db_lock_wait_s,
            )
        except DatabaseError as exc:
            if job.stop.names:
                return job.summary(StopReason.SIGNAL)
            if not is_locked_error(exc.__cause__ or exc):
                return job.summary(StopReason.FATAL, str(exc))
            job.say(
                "waiting",
                "waiting for the database: another process has held its write lock for "
                f"{time.monotonic() - opening:.0f} s",
            )


async def _identify(client: LLMClient, settings: Job, tuning: Tuning) -> Backend:
    """What answers at the endpoint; ConfigError when it is not what ``--backend`` demands."""
    backend = await client.identify(tuning.preflight_tries, tuning.retry_base_s)
    wanted = settings.worker.backend
    if wanted in (BEDROCK, EMULATOR) and backend.kind != wanted:
        raise ConfigError(
            f"--backend {wanted}, but {client.description.endpoint} is "
            + (
                f"the parallelprompt emulator ({backend.label})"
                if backend.kind == EMULATOR
                else "not the parallelprompt emulator"
            ),
        )
    return backend


async def _reopen_checked(
    client: LLMClient,
    request: Request,
    reopen: int,
    tuning: Tuning,
    say: Callable[[str, str], None],
) -> None:
    """Before finished prompts go back to the queue, one real call proves the model works."""
    say(
        "preflight",
        f"a new run will re-open {reopen:,} finished prompt(s): checking model "
        f"{client.description.model} with one preflight call first",
    )
    try:
        await preflight(client, request, tuning)
    except FatalError as exc:
        raise FatalError(
            exc.code,
            f"{exc} — checked before re-opening finished prompts for a new run; "
            "nothing was changed in the DB",
            exc.aws_code,
        ) from exc


def _start_notes(settings: Job, price: Pricing, info: ModelInfo | None) -> list[str]:
    """Warnings for the started line: credentials in the URL, an unknown or legacy model."""
    w = settings.worker
    notes = []
    if without_userinfo(w.endpoint_url) != w.endpoint_url:
        notes.append("the user:password in --endpoint-url is ignored (AWS credentials sign calls)")
    if info is None:
        priced = (
            f"priced from --price-in ${price.price_in:g} / --price-out ${price.price_out:g} "
            "per million tokens"
            if price.known
            else "cost counted as 0 (pass --price-in and --price-out)"
        )
        notes.append(
            f"model {w.model} is not in the catalogue (parallelprompt models): requests are "
            f"sent as for an unknown model (temperature kept, no cache point, thinking "
            f"untouched), {priced}"
        )
    elif info.legacy:
        notes.append(
            f"{info.name} is legacy on Bedrock (end of life {info.eol}); see --model "
            f"{DEFAULT_MODEL}"
        )
    return notes


@dataclass(frozen=True)
class _Plan:
    """What the settings, the catalogue and the contract decide before any call."""

    price: Pricing
    info: ModelInfo | None
    shape: Shape
    tokens: TokenPlan
    options: ClientOptions
    check: Request  # the preflight call


def _plan(settings: Job, contract: Contract) -> _Plan:
    w, k = settings.worker, settings.contract
    info = lookup(w.model)
    shape = Shape.for_model(info, estimate_tokens(contract.system_prompt), w.prompt_cache)
    tokens = TokenPlan(
        k.max_tokens,
        k.max_tokens_retry,
        k.size_max_tokens,
        info.max_output_tokens if info else max(k.max_tokens, k.max_tokens_retry),
    )
    options = ClientOptions(
        model_id=w.model,
        api=w.api,
        region=w.region,
        endpoint_url=without_userinfo(w.endpoint_url),
        concurrency=w.concurrency,
        connect_timeout=w.connect_timeout,
        read_timeout=w.read_timeout,
        shape=shape,
        # The emulator accepts any signature: a real account's keys never sign its calls.
        credentials=LOCAL_CREDENTIALS if w.backend == EMULATOR else None,
    )
    check = Request(
        contract.system_prompt, PREFLIGHT_PROMPT, k.max_tokens, k.temperature, shape.cache_point
    )
    return _Plan(run_pricing(settings), info, shape, tokens, options, check)


def _pool_config(settings: Job, run: Run, plan: _Plan) -> PoolConfig:
    w, k = settings.worker, settings.contract
    return PoolConfig(
        run_id=run.id,
        model_id=w.model,
        concurrency=w.concurrency,
        lease_seconds=w.lease_seconds,
        max_attempts=w.max_attempts,
        max_tokens=k.max_tokens,
        temperature=k.temperature,
        cache_prefix=plan.shape.cache_point,
        read_timeout_s=w.read_timeout,
        max_cost_usd=None if w.max_cost_usd == NO_BUDGET else w.max_cost_usd,
        grace_seconds=w.grace_seconds,
        exit_when_empty=w.exit_when_empty,
        rpm=w.rpm,
        tpm=w.tpm,
        flush_rows=w.flush_rows,
        flush_ms=w.flush_ms,
        tokens=plan.tokens,
        burndown=plan.info.output_burndown if plan.info else 1.0,
    )


async def _backend(job: _Job, store: Store, client: LLMClient, contract: Contract) -> Backend:
    """Who answers (the client's warnings said first), and the spending guard for Bedrock."""
    if job.settings.worker.backend != EMULATOR:  # said before anything can fail
        for warning in client.description.warnings:
            job.say("warning", warning)
    backend = await _identify(client, job.settings, job.tuning)
    if backend.kind == BEDROCK:
        refusal = await budget_refusal(store.queue, job.settings, contract)
        if refusal is not None:
            raise ConfigError(refusal)
    return backend


async def _choose_run(
    job: _Job, store: Store, client: LLMClient, contract: Contract, backend: Backend, plan: _Plan
) -> Run | None:
    """The run to write into (a preflight call first when it re-opens finished prompts);
    None when a signal came before anything was changed."""
    identity = identity_of(job.settings, contract, backend, client.description.endpoint)
    reopen = await reopens_rows(store, job.settings, identity)
    if reopen:
        await _reopen_checked(client, plan.check, reopen, job.tuning, job.say)
    if job.stop.names:
        return None
    return await choose_run(store, job.settings, contract, identity, backend)


def _started_line(settings: Job, run: Run, contract: Contract, backend: Backend, where: str) -> str:
    w = settings.worker
    return (
        f"run {run.id}: model {w.model} via {w.api} at {where}, concurrency "
        f"{w.concurrency}, quota {w.rpm:g} rpm / {w.tpm:g} tpm shared by the fleet, "
        f"prompt version {contract.version}, rules {contract.profile.name}"
        + (f"; {EMULATOR_NOTICE}" if backend.kind == EMULATOR else "")
    )


@contextlib.asynccontextmanager
async def _metrics(job: _Job, counters: Counters, pool: Pool, owner: str) -> AsyncIterator[None]:
    """The metrics endpoint for the pool's lifetime, when ``--metrics-port`` asks for one."""
    w = job.settings.worker
    if w.metrics_port is None:
        yield
        return
    metrics = MetricsServer(counters, pool.limiter, owner)
    try:
        url = await metrics.start(w.metrics_host, w.metrics_port)
        job.say("metrics", f"{url}/metrics and {url}/healthz")
        yield
    finally:
        await metrics.stop()


async def _work(job: _Job, store: Store, contract: Contract) -> WorkSummary:
    """Open the client, choose the run, drain the queue with a pool; one summary."""
    plan = _plan(job.settings, contract)
    notes = _start_notes(job.settings, plan.price, plan.info)
    counters = Counters()
    backend = Backend(BEDROCK)
    with _signals(job.stop):
        try:
            async with opened(job.settings.worker.client, plan.options) as client:
                backend = await _backend(job, store, client, contract)
                run = await _choose_run(job, store, client, contract, backend, plan)
                if run is None:  # stopped before anything was changed
                    return job.summary(StopReason.SIGNAL, backend=backend.kind)
                pool = Pool(
                    store=store,
                    client=client,
                    contract=contract,
                    config=_pool_config(job.settings, run, plan),
                    pricing=plan.price,
                    tuning=job.tuning,
                    display=job.display,
                    on_event=job.on_event,
                    counters=counters,
                )
                job.stop.pools.append(pool)
                if job.stop.names:  # a signal arrived while the client was starting
                    pool.request_stop(StopReason.SIGNAL)
                async with _metrics(job, counters, pool, store.owner):
                    where = client.description.where
                    job.say("started", _started_line(job.settings, run, contract, backend, where))
                    for note in notes:
                        job.say("warning", note)
                    await pool.run()
        except (FatalError, ConfigError) as exc:  # opening the client, identify, preflight, run
            job.stop.pools.clear()
            return job.summary(StopReason.FATAL, redact_text(str(exc)), backend=backend.kind)
    summary = job.summary(
        pool.stop_reason or StopReason.DRAINED,
        pool.stop_message,
        backend=backend.kind,
        counters=counters,
        run_id=run.id,
    )
    job.say("finished", summary.line(), show=False)
    return summary


def _say(
    display: Display, on_event: OnEvent | None, kind: str, message: str, *, show: bool = True
) -> None:
    if show:
        display.log(kind, message)
    if on_event is not None:
        on_event(WorkEvent(kind, message))
