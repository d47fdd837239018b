"""The pool's policy in milliseconds: a real Pool on the in-memory queue
(:mod:`db.memory`, which passes the queue port's contract tests), the model replaced by the
scripted in-memory client of the LLM port (:mod:`worker.llm.scripted`). The real SQLite,
emulator and aioboto3 tests (test_pool, test_breakers) stay the acceptance tier."""

from __future__ import annotations

from dataclasses import replace

from parallelprompt.catalogue import Pricing
from parallelprompt.db import RunIdentity, SourceRow
from parallelprompt.db.memory import MemoryQueue
from parallelprompt.prompts import Contract
from parallelprompt.worker.errors import Code, FatalError, PromptError, RetryableError
from parallelprompt.worker.llm.port import Request
from parallelprompt.worker.llm.scripted import Script, ScriptedClient, Step, in_turn, reply
from parallelprompt.worker.metrics import Counters
from parallelprompt.worker.pool import Pool, PoolConfig, StopReason
from parallelprompt.worker.store import Store
from tests.answers import answer

from .conftest import FAST, quiet_display, text_hash

CONTRACT = Contract.load(None, None, "default")
NOT_PAR = reply(answer(parallelizable=False, serial="x"))
FREE = Pricing(0.0, 0.0, 0.0, 0.0, known=True)
THROTTLED = RetryableError(Code.THROTTLED, "slow down", "ThrottlingException")
DOWN = RetryableError(Code.CONNECTION, "connection refused")
TOO_LONG = PromptError(Code.PROMPT_TOO_LONG, "too long", "ValidationException")
INVALID = FatalError(Code.VALIDATION, "rejected", "ValidationException", request_invalid=True)


async def run_pool(
    script: Script,
    n: int = 6,
    *,
    pricing: Pricing = FREE,
    **config: object,
) -> tuple[Pool, ScriptedClient]:
    queue = MemoryQueue(owner="policy", backoff_base=0.001, backoff_cap=0.002)
    prompts = [f"prompt {i}" for i in range(n)]
    await queue.enqueue_many(
        [SourceRow(p, text_hash(p), "test", "train", i) for i, p in enumerate(prompts)]
    )
    client = ScriptedClient(script)
    try:
        run = await queue.start_run(
            RunIdentity("m", "converse", CONTRACT.version, CONTRACT.profile.name, "emulator", ""),
            {},
            reopen=False,
        )
        base = PoolConfig(
            run_id=run.id,
            model_id="m",
            concurrency=4,
            lease_seconds=30.0,
            max_attempts=4,
            max_tokens=1024,
            temperature=0.2,
            cache_prefix=False,
            read_timeout_s=5.0,
            max_cost_usd=None,
            grace_seconds=1.0,
            exit_when_empty=True,
            rpm=1e6,
            tpm=1e9,
            flush_rows=10,
            flush_ms=5.0,
        )
        pool = Pool(
            store=Store(queue),
            client=client,
            contract=CONTRACT,
            config=replace(base, **config),  # type: ignore[arg-type]
            pricing=pricing,
            tuning=replace(FAST, outage_breaker=5, prompt_error_breaker=3),
            display=quiet_display(),
            counters=Counters(),
        )
        await pool.run()
    finally:
        await queue.close()
    return pool, client


async def test_answers_are_judged_and_stored_with_the_request_the_contract_asks() -> None:
    pool, client = await run_pool(in_turn([NOT_PAR]))
    assert pool.stop_reason is StopReason.DRAINED
    assert await statuses(pool) == {"done": 6}
    assert len(client.calls) == 6
    first = client.calls[0]
    assert first == Request(CONTRACT.system_prompt, first.user, first.max_tokens, 0.2, False)


async def test_throttles_are_retried_and_told_to_the_limiter() -> None:
    pool, client = await run_pool(in_turn([THROTTLED, THROTTLED, NOT_PAR]))
    assert await statuses(pool) == {"done": 6}
    assert pool.counters.throttled == 12 and pool.counters.retries == 12
    assert pool.limiter.throttles == 12  # every throttle reaches the limiter (its policy)
    assert all(client.calls_for(f"prompt {i}") == 3 for i in range(6))


async def test_attempts_are_bounded_then_the_prompt_is_a_dead_letter() -> None:
    server = RetryableError(Code.SERVER, "boom", "InternalServerException")

    def script(request: Request, n: int) -> Step:
        return server if request.user == "prompt 0" else NOT_PAR

    pool, client = await run_pool(script, max_attempts=5)
    assert await statuses(pool) == {"done": 5, "dead": 1}
    assert pool.counters.outcomes["dead"] == 1
    assert client.calls_for("prompt 0") == 5  # never more calls than --max-attempts


async def test_an_outage_stops_the_run_without_dead_letters() -> None:
    pool, client = await run_pool(in_turn([DOWN]))
    assert pool.stop_reason is StopReason.FATAL
    assert pool.stop_message is not None and "cannot reach" in pool.stop_message
    assert "memory://scripted" in pool.stop_message
    assert pool.counters.outcomes["dead"] == 0
    assert "done" not in await statuses(pool)
    assert len(client.calls) <= 4 * 3  # the claims in hand, one claim's tries each


async def test_consecutive_prompt_rejections_stop_the_run() -> None:
    pool, _ = await run_pool(in_turn([TOO_LONG]), concurrency=1)
    assert pool.stop_reason is StopReason.FATAL
    assert pool.stop_message is not None and "3 prompts in a row rejected" in pool.stop_message
    assert pool.counters.outcomes["dead"] == 2  # the third stops the run instead


async def test_an_invalid_request_is_fatal_before_answers_and_one_prompt_s_after() -> None:
    pool, _ = await run_pool(in_turn([INVALID]), concurrency=1)
    assert pool.stop_reason is StopReason.FATAL
    assert pool.counters.outcomes["dead"] == 0

    def later(request: Request, n: int) -> Step:
        return INVALID if request.user == "prompt 5" else NOT_PAR

    pool, _ = await run_pool(later, concurrency=1)
    assert pool.stop_reason is StopReason.DRAINED
    assert pool.counters.outcomes["dead"] == 1


async def test_the_budget_stops_claiming() -> None:
    big = reply(NOT_PAR.text or "", input_tokens=5000, output_tokens=1000)  # $0.06 a call
    dear = Pricing(10.0, 10.0, 0.0, 0.0, known=True)
    pool, client = await run_pool(in_turn([big]), 20, pricing=dear, max_cost_usd=0.5)
    assert pool.stop_reason is StopReason.BUDGET
    assert 1 <= len(client.calls) < 20
    assert pool.counters.cost_usd <= 0.5 + 4 * 0.06  # at most the calls in flight over


async def statuses(pool: Pool) -> dict[str, int]:
    """Prompts by status, the statuses that have any."""
    return {str(s): n for s, n in (await pool.store.counts()).items() if n}
