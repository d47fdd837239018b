"""The pool: claim leases sized to free slots, call the model through the limiter with our
retry taxonomy, judge the answer, buffer the results, and stop cleanly.

Attempts. ``--max-attempts`` bounds the model calls per prompt. A claim may make up to
``Tuning.tries_per_claim`` calls (in-process retries with exponential backoff + full jitter,
each passing the limiter again); then the prompt goes back to the ready set with a DB-side
backoff (``queue.fail``), to be claimed again, by any worker. The calls made before a claim are
counted conservatively as ``(claims - 1) x tries_per_claim`` (the work row counts claims), so a
prompt never gets more than ``max_attempts`` calls, and a prompt that keeps killing its
workers becomes a dead letter without another call.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from parallelprompt.catalogue import CACHE_TTL_S, Pricing
from parallelprompt.db import CompleteResult, Completion, FailOutcome, Failure, Lease, Status
from parallelprompt.db.storable import valid_text
from parallelprompt.db.verdicts import verdict_row
from parallelprompt.prompts import Contract, estimate_tokens
from parallelprompt.worker.buffer import ResultBuffer
from parallelprompt.worker.errors import CallError, Code, FatalError, PromptError, RetryableError
from parallelprompt.worker.limiter import Limiter, LimiterConstants, Reservation
from parallelprompt.worker.llm.port import LLMClient, Reply, Request
from parallelprompt.worker.metrics import Counters
from parallelprompt.worker.progress import Display, RateMeter, queue_progress, snapshot
from parallelprompt.worker.sizing import TokenPlan, quota_tokens
from parallelprompt.worker.store import Store
from parallelprompt.worker.writes import WriteGate

THROTTLE_LOG_S = 10.0  # at most one throttle log line per this many seconds
# Failures that mean "no answer from a model": they count toward the outage breaker.
NO_ANSWER = frozenset({Code.CONNECTION, Code.READ_TIMEOUT, Code.BAD_RESPONSE})
TIMEOUT_BILLING = "a timed-out call may still be processed and billed by Bedrock"


@dataclass(frozen=True, slots=True)
class Tuning:
    """Internal constants; tests pass faster ones. Defaults are what production uses."""

    tries_per_claim: int = 3  # calls per claim before the prompt goes back to the queue
    retry_base_s: float = 0.5  # in-process backoff: uniform(0, base * 2**n), capped
    retry_cap_s: float = 20.0
    db_backoff_base_s: float = 2.0  # DB-side backoff between claims (queue.fail)
    db_backoff_cap_s: float = 300.0
    heartbeat_s: float = 1.0  # fleet share refresh
    heartbeat_ttl_s: float = 5.0  # a worker silent for this long no longer counts
    join_heartbeat_s: float = 0.2  # faster heartbeats while a fleet is starting up
    join_period_s: float = 3.0
    queue_counts_s: float = 5.0  # how often queue depth is read for progress and metrics
    idle_poll_s: float = 0.5  # how often an idle worker looks for ready rows
    claim_coalesce_s: float = 0.004  # wait this long for more free slots before claiming few
    prompt_error_breaker: int = 20  # consecutive per-prompt rejections that stop the run
    # Consecutive "no answer" failures (connection errors and read timeouts, no answer in
    # between) that stop the run: an endpoint that cannot be reached or never answers within
    # --read-timeout is an outage or a misconfiguration, not a property of the prompts, and
    # must not turn the queue into dead letters. Before the first answer of this process, one
    # claim's tries are enough to decide.
    outage_breaker: int = 30
    preflight_tries: int = 3  # --new-run's check call, before finished prompts are re-opened
    # One write waits this long for another process's write lock, then the worker logs that
    # it is waiting and waits again (SQLite's busy timeout).
    db_lock_wait_s: float = 60.0
    storage_retry_s: float = 5.0  # how often a worker that cannot write (disk full) tries again
    limiter: LimiterConstants = field(default_factory=LimiterConstants)


class StopReason(enum.StrEnum):
    DRAINED = "drained"
    BUDGET = "budget"
    SIGNAL = "signal"
    FATAL = "fatal"


@dataclass(frozen=True, slots=True)
class PoolConfig:
    run_id: int
    model_id: str
    concurrency: int
    lease_seconds: float
    max_attempts: int
    max_tokens: int
    temperature: float
    cache_prefix: bool  # ask for the system prompt to be cached (the model caches it)
    read_timeout_s: float  # the client's --read-timeout, for the outage messages
    max_cost_usd: float | None
    grace_seconds: float
    exit_when_empty: bool
    rpm: float  # the fleet's quota
    tpm: float
    flush_rows: int
    flush_ms: float
    tokens: TokenPlan | None = None  # None: every call asks for max_tokens, no cut-off retry
    burndown: float = 1.0  # output tokens count this many times toward the TPM quota


@dataclass(frozen=True, slots=True)
class WorkEvent:
    """What ``on_event`` receives: kind is started | progress | warning | stopping | finished."""

    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


OnEvent = Callable[[WorkEvent], None]


class Interrupted(Exception):
    """A stop was requested while this lease was waiting (limiter or backoff): leave it."""


class Pool:
    def __init__(
        self,
        *,
        store: Store,
        client: LLMClient,
        contract: Contract,
        config: PoolConfig,
        pricing: Pricing,
        tuning: Tuning,
        display: Display,
        on_event: OnEvent | None = None,
        counters: Counters | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.contract = contract
        self.config = config
        self.pricing = pricing
        self.tuning = tuning
        self.display = display
        self.on_event = on_event
        self.counters = counters or Counters()
        self.clock = time.monotonic
        self.limiter = Limiter(
            rpm=config.rpm, tpm=config.tpm, now=self.clock(), constants=tuning.limiter
        )
        self.buffer = ResultBuffer(
            store,
            flush_rows=config.flush_rows,
            flush_s=config.flush_ms / 1000.0,
            on_written=self._written,
            on_error=self._flush_failed,
        )
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()  # a slot was freed, or a stop was asked for
        self._no_claims = asyncio.Event()  # stop claiming (any stop)
        self._interrupt = asyncio.Event()  # abort waits (signal, fatal)
        self._hard = asyncio.Event()  # cancel in-flight calls now
        self._gate = asyncio.Lock()  # FIFO order through the limiter
        self.stop_reason: StopReason | None = None
        self._deadline: float | None = None  # end of the grace period, once signalled
        self.stop_message: str | None = None
        self.fatal: CallError | None = None
        self._prompt_errors = 0
        self._no_answer = 0  # consecutive connection failures + read timeouts, reset by answers
        self._no_answer_timeouts = 0  # of which read timeouts
        self._timeout_warned = False
        self._cost_others = 0.0  # the run's spend recorded by others (and earlier processes)
        self._fleet_concurrency = 0  # the live workers' concurrency, ours included
        self._cost_at_refresh = 0.0  # our spend when we last read the others'
        self._meter = RateMeter(time.monotonic())
        self._cost_recorded = 0.0  # our own spend as last recorded in the workers table
        self._price_warned = False
        self._throttle_logged = -math.inf
        self._batch_min = max(1, config.concurrency // 4)
        self._plan = config.tokens or TokenPlan(config.max_tokens, 0, sized=False)
        self._system_tokens = estimate_tokens(contract.system_prompt)
        self._cache_warm_until = -math.inf  # the cached prefix is known to be live until then
        self.gate = WriteGate(self.buffer, tuning.storage_retry_s, self._log)

    # -- stopping ---------------------------------------------------------------------------

    def request_stop(self, reason: StopReason, message: str | None = None) -> None:
        """Stop claiming. A signal also aborts waits and starts the grace period (even during a
        budget stop); a second signal or a fatal error cancels in-flight calls at once."""
        first = self.stop_reason is None
        if first or reason is StopReason.FATAL or self.stop_reason is StopReason.BUDGET:
            self.stop_reason, self.stop_message = reason, message
        elif reason is StopReason.SIGNAL and self.stop_reason is StopReason.SIGNAL:
            self._hard.set()
        self._no_claims.set()
        if reason in (StopReason.SIGNAL, StopReason.FATAL):
            self._interrupt.set()
            if self._deadline is None:
                self._deadline = self.clock() + self.config.grace_seconds
        if reason is StopReason.FATAL:
            self._hard.set()
        self._wake.set()

    # -- main -------------------------------------------------------------------------------

    async def run(self) -> None:
        c = self.config
        await self.store.register_worker(c.run_id, c.concurrency)
        self.counters.session_started = time.monotonic()
        await self._beat()
        await self._refresh_cost()
        await self._refresh_counts()
        self._meter = RateMeter(time.monotonic(), start=queue_progress(self.counters)[0])
        side: list[asyncio.Task[None]] = []
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.buffer.run())
                side += [
                    tg.create_task(self._heartbeats()),
                    tg.create_task(self._lease_keeper()),
                    tg.create_task(self._progress()),
                ]
                try:
                    await self._claim_loop()
                    await self._drain()
                finally:
                    # The flusher is stopped, not cancelled: a flush cancelled while its
                    # COMMIT is awaited would be put back and written again (see buffer.py).
                    self.buffer.stop()
                    for t in side:
                        t.cancel()
        finally:
            await self._finish()

    async def _finish(self) -> None:
        for t in list(self._tasks.values()):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        try:
            await self.buffer.flush()
        except Exception as exc:  # the leases are released all the same (below)
            self._warn(f"{len(self.buffer)} result(s) could not be written at exit: {exc}")
        try:
            self.counters.released = await self.store.release(None)
            await self.store.stop_worker(self.counters.cost_usd)
        except Exception as exc:  # our heartbeat goes stale: others reclaim the leases
            self._warn(f"could not release the leases at exit: {exc}")
        if self.counters.session_started is not None:
            self.counters.session_s = time.monotonic() - self.counters.session_started
        with contextlib.suppress(Exception):  # the last look; the DB may be gone
            await self._refresh_counts()
            self._show_progress()
        self.display.end_live()

    async def _claim_loop(self) -> None:
        c = self.config
        while not self._no_claims.is_set():
            self._wake.clear()
            free = c.concurrency - len(self._tasks)
            if free <= 0:
                await self._nap(self.tuning.idle_poll_s)
                continue
            if free < self._batch_min and self._tasks:
                await asyncio.sleep(self.tuning.claim_coalesce_s)
                free = c.concurrency - len(self._tasks)
            if await self._held_back_by_disk():
                continue
            if self._budget_in_reach():
                # Others' spend is read at their heartbeats: near the end of the budget, read
                # it (and publish ours) before every claim, or the fleet overshoots by a
                # heartbeat's worth of everybody's calls.
                await self._beat()
                await self._refresh_cost()
            n = self._affordable(free)
            if n <= 0 and self._tasks:
                # The answers in flight will tell what a call really costs (the guess before
                # the first answer ignores the prompt cache): decide when they are in.
                await self._nap(self.tuning.idle_poll_s)
                continue
            if n <= 0:
                self.request_stop(
                    StopReason.BUDGET,
                    f"budget of ${c.max_cost_usd:g} would be exceeded: stopped claiming, "
                    "finished the prompts in flight",
                )
                break
            leases = await self._claim(n)
            if leases:
                for lease in leases:
                    self._spawn(lease)
                continue
            if self._tasks:
                await self._nap(self.tuning.idle_poll_s)
            elif c.exit_when_empty and await self._drained():
                self.request_stop(StopReason.DRAINED)
            else:
                await self._nap(self.tuning.idle_poll_s)

    async def _held_back_by_disk(self) -> bool:
        """While the DB cannot be written: write what is kept; claim nothing (after a nap)
        while answers are unwritten or calls are out."""
        if not self.gate.blocked:
            return False
        await self.gate.flush()  # a write that succeeds ends the state
        if self.gate.blocked and (len(self.buffer) or self._tasks):
            await self._nap(self.gate.retry_s)
            return True
        return False

    async def _claim(self, n: int) -> list[Lease]:
        if self.gate.blocked:
            n = min(n, 1)  # a probe: its answer is the write that tells the disk has room
        try:
            return await self.store.claim(n, self.config.lease_seconds, self.tuning.heartbeat_ttl_s)
        except Exception as exc:
            if not self.gate.failed(exc):
                raise
            await self._nap(self.gate.retry_s)
            return []

    async def _nap(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _drained(self) -> bool:
        if not await self.gate.flush():
            return False
        await self._refresh_counts()
        queue = self.counters.queue
        return queue[Status.READY] == 0 and queue[Status.LEASED] == 0

    async def _drain(self) -> None:
        """Let leases in hand finish: all of them after a budget stop (until a signal comes),
        within the grace period after a signal, none after a fatal error."""
        reason = self.stop_reason
        if reason in (StopReason.SIGNAL, StopReason.FATAL) and self._tasks:
            self._log(
                "stopping",
                f"{reason}: stopped claiming; {self.counters.in_flight} call(s) in flight, "
                f"grace {self.config.grace_seconds:g} s",
            )
        while self._tasks and not self._hard.is_set():
            left = math.inf if self._deadline is None else self._deadline - self.clock()
            if left <= 0:
                break
            self._wake.clear()
            await self._nap(min(left, 0.25))
        if self._tasks:
            pending = list(self._tasks.values())
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def _flush_failed(self, exc: BaseException) -> None:
        if not self.gate.failed(exc):  # a full disk is said once, by the gate
            self._warn(f"result flush failed, will retry: {exc}")

    # -- budget -----------------------------------------------------------------------------

    def _spent(self) -> float:
        return self._cost_others + self.counters.cost_usd

    def _expected_cost(self) -> float:
        ok = self.counters.requests.get("ok", 0)
        if ok:
            return self.counters.cost_usd / ok
        est_in = self.contract.estimate_input_tokens("") + 200
        return self.pricing.cost(est_in, self.config.max_tokens)

    def _budget_in_reach(self) -> bool:
        """Whether the fleet's calls in flight plus one heartbeat of others' calls could reach
        the budget (then every claim reads the spend fresh)."""
        budget = self.config.max_cost_usd
        if budget is None:
            return False
        if self._fleet_concurrency != self.config.concurrency:
            return True  # others share the run (or have not been seen yet): read it each time
        per_call = max(self._expected_cost(), 1e-12)
        return budget - self._spent() <= 2 * self.config.concurrency * per_call

    def _affordable(self, free: int) -> int:
        budget = self.config.max_cost_usd
        if budget is None:
            return free
        if not self.pricing.known or self.pricing.price_in + self.pricing.price_out == 0:
            if not self._price_warned:
                self._price_warned = True
                self._warn(
                    f"no price known for {self.config.model_id}: --max-cost-usd cannot be "
                    "enforced (pass --price-in and --price-out)"
                )
            return free
        per_call = max(self._expected_cost(), 1e-12)
        # Our calls in flight, and as many as the other live workers may have in flight.
        others = max(0, self._fleet_concurrency - self.config.concurrency)
        room = budget - self._spent() - (len(self._tasks) + others) * per_call
        if others:  # every worker sees the same room: each takes its share of it
            room *= self.config.concurrency / self._fleet_concurrency
        return max(0, min(free, math.floor(room / per_call)))

    # -- one lease --------------------------------------------------------------------------

    def _spawn(self, lease: Lease) -> None:
        task = asyncio.create_task(self._handle(lease), name=f"lease-{lease.work_id}")
        self._tasks[lease.work_id] = task
        self.counters.held = len(self._tasks)
        task.add_done_callback(functools.partial(self._task_done, lease.work_id))

    def _task_done(self, work_id: int, task: asyncio.Task[None]) -> None:
        self._tasks.pop(work_id, None)
        self.counters.held = len(self._tasks)
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            if exc is not None and self.gate.failed(exc):  # its lease is released at exit
                return
            self._warn(f"prompt {work_id} failed unexpectedly: {type(exc).__name__}: {exc}")

    async def _handle(self, lease: Lease) -> None:
        c, t = self.config, self.tuning
        prior = (lease.attempts - 1) * t.tries_per_claim
        allowed = min(t.tries_per_claim, c.max_attempts - prior)
        if allowed <= 0:
            message = f"claimed {lease.attempts} times without an answer (max {c.max_attempts})"
            await self._dead(lease, prior, Code.ATTEMPTS_EXHAUSTED, message)
            return
        limit = self._plan.first(estimate_tokens(lease.prompt))
        calls = 0
        reply: Reply | None = None
        cut: Reply | None = None  # an answer cut short by max_tokens, asked again higher
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(allowed),
                wait=wait_random_exponential(multiplier=t.retry_base_s, max=t.retry_cap_s),
                retry=retry_if_exception_type(RetryableError),
                sleep=self._backoff_sleep,
                reraise=True,
            ):
                with attempt:
                    calls += 1
                    reply = await self._call_once(lease.prompt, limit)
                    higher = self._plan.retry(limit) if cut is None else None
                    if reply.stop_reason == "max_tokens" and higher is not None:
                        cut, limit = reply, higher
                        self.counters.cut_retries += 1
                        calls += 1
                        reply = await self._call_once(lease.prompt, limit)
        except Interrupted:
            return  # released at exit, not charged
        except RetryableError as exc:
            self.counters.retries += calls - 1
            if self._unreachable(exc):
                self._fatal(FatalError(exc.code, self._outage_message(exc), exc.aws_code))
                return
            await self._requeue(lease, prior + calls, exc)
            return
        except PromptError as exc:
            await self._rejected(lease, prior, calls, exc)
            return
        except FatalError as exc:
            if not self._prompt_specific(exc):
                self._fatal(exc)
                return
            # A ValidationException after answers: this prompt's request, not the setup.
            await self._rejected(lease, prior, calls, exc)
            return
        assert reply is not None
        self.counters.retries += calls - 1 - (cut is not None)
        self._prompt_errors = 0
        self.buffer.add(self._completion(lease, _billed(cut, reply), prior + calls))

    async def _rejected(self, lease: Lease, prior: int, calls: int, exc: CallError) -> None:
        """The model rejected this prompt's request: a dead letter for it alone, unless so
        many prompts in a row are rejected that the setup, not the prompts, must be wrong."""
        self.counters.retries += calls - 1
        self._prompt_errors += 1
        if self._prompt_errors >= self.tuning.prompt_error_breaker:
            message = f"{self._prompt_errors} prompts in a row rejected, last: {exc}"
            self._fatal(FatalError(exc.code, message, exc.aws_code))
            return
        await self._dead(lease, prior + calls, exc.code, str(exc))

    def _reserve(self, prompt: str, max_tokens: int) -> int:
        """What Bedrock will reserve: input + max_tokens, less the cached prefix while the
        cache is known to be live (cache reads do not count toward the quota)."""
        tokens = self.contract.estimate_input_tokens(prompt) + max_tokens
        if self.config.cache_prefix and self.clock() < self._cache_warm_until:
            tokens -= self._system_tokens
        return tokens

    async def _call_once(self, prompt: str, max_tokens: int) -> Reply:
        reservation = await self._admit(self._reserve(prompt, max_tokens))
        counters = self.counters
        counters.in_flight += 1
        try:
            reply = await self.client.call(self._request(prompt, max_tokens))
        except CallError as exc:
            self._settle_failure(exc, reservation)
            raise
        finally:
            counters.in_flight -= 1
        self._no_answer = self._no_answer_timeouts = 0
        now = self.clock()
        used = quota_tokens(
            reply.input_tokens, reply.output_tokens, reply.cache_write_tokens, self.config.burndown
        )
        self.limiter.settle(reservation, used, now)
        self.limiter.on_success(reservation, now)
        if reply.cache_read_tokens or reply.cache_write_tokens:
            self._cache_warm_until = now + CACHE_TTL_S * 0.9
        counters.requests["ok"] += 1
        counters.input_tokens += reply.input_tokens
        counters.output_tokens += reply.output_tokens
        counters.cache_read_tokens += reply.cache_read_tokens
        counters.cache_write_tokens += reply.cache_write_tokens
        counters.cost_usd += self._cost(reply)
        counters.saved_usd += self.pricing.saved(reply.cache_read_tokens, reply.cache_write_tokens)
        return reply

    def _request(self, prompt: str, max_tokens: int) -> Request:
        c = self.config
        return Request(
            self.contract.system_prompt, prompt, max_tokens, c.temperature, c.cache_prefix
        )

    def _cost(self, reply: Reply) -> float:
        return self.pricing.cost(
            reply.input_tokens,
            reply.output_tokens,
            reply.cache_read_tokens,
            reply.cache_write_tokens,
        )

    def _prompt_specific(self, exc: FatalError) -> bool:
        """A request the backend found invalid, once this process has had answers, concerns
        one prompt (the configuration was fine for those); before, it is a configuration
        error."""
        return exc.request_invalid and self.counters.requests["ok"] > 0

    def _unreachable(self, exc: CallError) -> bool:
        """Whether "no answer" failures (connection errors, read timeouts) say the endpoint is
        down, or --read-timeout too short, rather than one call unlucky."""
        if exc.code not in NO_ANSWER:
            return False
        if self.counters.requests["ok"] > 0:
            needed = self.tuning.outage_breaker
        else:
            needed = max(1, min(self.tuning.tries_per_claim, self.config.max_attempts))
        return self._no_answer >= needed

    def _outage_message(self, exc: CallError) -> str:
        where = self.client.description.where
        n, timeouts = self._no_answer, self._no_answer_timeouts
        mixed = f", {n - timeouts} of them connection failures" if timeouts < n else ""
        if exc.code is Code.BAD_RESPONSE:
            return (
                f"the endpoint {where} does not answer like Bedrock ({n} calls in a row without "
                f"a model's answer): {exc.message} — check --endpoint-url (a wrong URL, a "
                "proxy?); nothing was marked dead"
            )
        if timeouts == 0:
            return (
                f"cannot reach the Bedrock endpoint {where} ({n} connection failures in a row, "
                f"no answer in between): {exc.message} — check --endpoint-url, --region and "
                "the network; nothing was marked dead"
            )
        return (
            f"no answer within --read-timeout {self.config.read_timeout_s:g} s from {where} ({n} "
            f"calls in a row{mixed}); raise --read-timeout or check the endpoint; nothing was "
            f"marked dead ({TIMEOUT_BILLING})"
        )

    def _settle_failure(self, exc: CallError, reservation: Reservation) -> None:
        now = self.clock()
        self.limiter.refund(reservation, now)
        self.counters.requests[exc.code.value] += 1
        if exc.code in NO_ANSWER:
            self._no_answer += 1
        if exc.code is Code.READ_TIMEOUT:
            self._no_answer_timeouts += 1
            if not self._timeout_warned:
                self._timeout_warned = True
                self._warn(
                    f"a call got no answer within --read-timeout "
                    f"{self.config.read_timeout_s:g} s; it is retried "
                    f"({TIMEOUT_BILLING})"
                )
        if exc.code is Code.THROTTLED:
            self.counters.throttled += 1
            cut = self.limiter.on_throttle(reservation, now)
            if cut and now - self._throttle_logged >= THROTTLE_LOG_S:
                self._throttle_logged = now
                self._log(
                    "throttled",
                    f"Bedrock throttles us ({self.counters.throttled} so far): limiter at "
                    f"{self.limiter.rate_rpm:,.0f} rpm (x{self.limiter.multiplier:.2f} of this "
                    "worker's share)",
                    quiet=True,
                )

    async def _admit(self, tokens: int) -> Reservation:
        """Wait (FIFO) until the limiter lets one more call start, then reserve it."""
        async with self._gate:
            while True:
                if self._interrupt.is_set():
                    raise Interrupted
                now = self.clock()
                wait = self.limiter.wait_time(tokens, now)
                if wait <= 0:
                    return self.limiter.take(tokens, now)
                await asyncio.sleep(min(wait, 0.1))

    async def _backoff_sleep(self, seconds: float) -> None:
        if self._interrupt.is_set():
            raise Interrupted
        try:
            await asyncio.wait_for(self._interrupt.wait(), seconds)
        except TimeoutError:
            return
        raise Interrupted

    def _completion(self, lease: Lease, reply: Reply, attempts: int) -> Completion:
        # A lone surrogate in the answer itself (a \udXXX escape in the response body) cannot
        # be stored: replaced before judging, so the stored text is the judged one.
        text = None if reply.text is None else valid_text(reply.text)
        verdict = self.contract.judge(lease.prompt, text, reply.stop_reason)
        return Completion(
            work_id=lease.work_id,
            run_id=self.config.run_id,
            model_id=self.config.model_id,
            verdict=verdict_row(verdict, self.contract),
            attempts=attempts,
            raw_text=text,
            stop_reason=reply.stop_reason,
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            cost_usd=self._cost(reply),
            latency_ms=round(reply.latency_ms, 3),
            cache_read_tokens=reply.cache_read_tokens,
            cache_write_tokens=reply.cache_write_tokens,
        )

    def _failure(
        self, lease: Lease, attempts: int, code: str, message: str, retry: bool
    ) -> Failure:
        return Failure(
            work_id=lease.work_id,
            run_id=self.config.run_id,
            model_id=self.config.model_id,
            profile=self.contract.profile.name,
            contract_version=self.contract.version,
            attempts=attempts,
            error_code=code,
            message=message[:2000],
            retryable=retry,
        )

    async def _requeue(self, lease: Lease, attempts: int, exc: CallError) -> None:
        failure = self._failure(lease, attempts, exc.code.value, str(exc), True)
        outcome = await self.store.fail(failure, self.config.max_attempts)
        self._count_fail(outcome)

    async def _dead(self, lease: Lease, attempts: int, code: str, message: str) -> None:
        failure = self._failure(lease, attempts, code, message, False)
        outcome = await self.store.fail(failure, self.config.max_attempts)
        self._count_fail(outcome)

    def _count_fail(self, outcome: FailOutcome) -> None:
        if outcome is FailOutcome.RETRY:
            self.counters.requeued += 1
        elif outcome is FailOutcome.DEAD:
            self.counters.outcomes["dead"] += 1
        else:
            self.counters.lost_leases += 1

    def _fatal(self, exc: CallError) -> None:
        if self.fatal is None:
            self.fatal = exc
            self.request_stop(StopReason.FATAL, str(exc))
            current = asyncio.current_task()
            for task in self._tasks.values():
                if task is not current:
                    task.cancel()

    def _written(self, batch: Sequence[Completion], result: CompleteResult) -> None:
        if result.written:
            self.gate.wrote()
        lost = set(result.lost)
        for completion in batch:
            if completion.work_id in lost:
                continue
            self.counters.outcomes[completion.verdict.outcome] += 1
        if lost:
            self.counters.lost_leases += len(lost)
            self._warn(f"{len(lost)} result(s) discarded: their lease had passed to another worker")

    # -- side tasks -------------------------------------------------------------------------

    async def _beat(self) -> None:
        spent = self.counters.cost_usd
        fleet = await self.store.heartbeat(self.tuning.heartbeat_ttl_s, spent)
        self._cost_recorded = spent
        self.limiter.set_fleet(fleet.live_workers, self.clock())
        self.counters.fleet_workers = fleet.live_workers
        self._fleet_concurrency = fleet.total_concurrency

    async def _refresh_cost(self) -> None:
        if self.config.max_cost_usd is None:
            return
        total = await self.store.run_cost(self.config.run_id)
        self._cost_others = max(0.0, total - self._cost_recorded)
        self._cost_at_refresh = self.counters.cost_usd

    async def _refresh_counts(self) -> None:
        done_before = self.counters.done
        counts = await self.store.counts()
        self.counters.queue = {str(k): v for k, v in counts.items()}
        self.counters.done_at_queue_read = done_before
        others = await self.store.leased_by_others()
        self.counters.others_leased, self.counters.others_until = others

    async def _heartbeats(self) -> None:
        t = self.tuning
        started = self.clock()
        last_counts = self.clock()
        while True:
            joining = self.clock() - started < t.join_period_s
            await asyncio.sleep(t.join_heartbeat_s if joining else t.heartbeat_s)
            try:
                await self._beat()
                await self._refresh_cost()
                if self.clock() - last_counts >= t.queue_counts_s:
                    last_counts = self.clock()
                    await self._refresh_counts()
            except Exception as exc:  # the DB is full or gone: say so (once), keep going
                if not self.gate.failed(exc):
                    self._warn(f"heartbeat failed: {exc}")

    async def _lease_keeper(self) -> None:
        """Extend our leases while their calls run, so a slow call keeps its prompt."""
        period = max(self.config.lease_seconds / 3.0, 0.05)
        while True:
            await asyncio.sleep(period)
            held = set(self._tasks) | self.buffer.pending_ids()
            if not held:
                continue
            try:
                still = await self.store.extend(held, self.config.lease_seconds)
            except Exception as exc:
                if not self.gate.failed(exc):
                    self._warn(f"lease extension failed: {exc}")
                continue
            lost = held - still
            if lost:
                self._warn(f"{len(lost)} lease(s) expired and were taken by another worker")

    async def _progress(self) -> None:
        while True:
            await asyncio.sleep(self.display.interval)
            self._show_progress()

    def _show_progress(self) -> None:
        snap = snapshot(self.counters, self._meter, self.limiter.rate_rpm, time.monotonic())
        self.display.progress(snap)
        self._emit(WorkEvent("progress", snap.line(), snap.as_dict()))

    # -- output -----------------------------------------------------------------------------

    def _emit(self, event: WorkEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _log(self, kind: str, message: str, *, quiet: bool = False) -> None:
        if not quiet or self.display.mode != "live":
            self.display.log(kind, message)
        self._emit(WorkEvent(kind, message))

    def _warn(self, message: str) -> None:
        self._log("warning", message)


def _billed(cut: Reply | None, reply: Reply) -> Reply:
    """The final answer, carrying the tokens of the cut-short answer before it too (both were
    billed)."""
    if cut is None:
        return reply
    return Reply(
        text=reply.text,
        stop_reason=reply.stop_reason,
        input_tokens=cut.input_tokens + reply.input_tokens,
        output_tokens=cut.output_tokens + reply.output_tokens,
        latency_ms=cut.latency_ms + reply.latency_ms,
        cache_read_tokens=cut.cache_read_tokens + reply.cache_read_tokens,
        cache_write_tokens=cut.cache_write_tokens + reply.cache_write_tokens,
    )
