"""A real results database, built through the queue port like a worker would build it.

Eleven unique prompts from fourteen source rows in two datasets (three prompts shared, one of
them three times), every outcome, several categories and languages, a novel category seen
twice, a dead letter, and one prompt left pending. Results are written one per clock tick
(2 s apart) so that the timeline has several buckets.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from parallelprompt.db import Completion, Failure, RunIdentity, SourceRow, SqliteQueue, VerdictRow
from tests.answers import answer

LMSYS = "lmsys/lmsys-chat-1m"
WILDCHAT = "allenai/WildChat-1M"
MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
T0 = 1_700_000_000.0


@dataclass(frozen=True)
class Case:
    prompt: str
    sources: tuple[tuple[str, int, str], ...]  # (dataset, row index, language)
    verdict: VerdictRow | None  # None: dead letter (transport failure)
    raw: str | None = None
    stop_reason: str | None = "end_turn"


def _v(outcome: str, **kw: object) -> VerdictRow:
    passed = outcome in ("high_confidence", "medium_confidence")
    tier = kw.pop("tier_label", outcome if outcome != "dead" else "dead")
    return VerdictRow(
        profile="default",
        contract_version="test-v1",
        outcome=outcome,
        tier_label=str(tier),
        validation_passed=passed,
        **kw,  # type: ignore[arg-type]
    )


SLOGANS = "Give me 5 slogans for a coffee shop"
TRANSLATE = "Translate these sentences into French:\n1. Good morning\n2. Thank you very much"
KEYWORDS = "Extract the keywords from this list: apples, pears and plums"
CAPITAL = "What is the capital of France?"
PHONES = "Compare these three phones: Pixel 8, iPhone 15 and Galaxy S24"
CARS = "Compare the Tesla Model 3 and the BMW i4"
POEM = "Write a poem about the sea"
SPANISH = "Traduce estas frases al inglés: 1. Hola 2. Adiós"
DEAD = "Summarise these two articles for me please"
GERMAN = "Finde alle Namen in diesen Sätzen: 1. Anna wohnt in Berlin. 2. Max fährt nach Wien."
PENDING = "List 3 ideas for a birthday party at home"

CASES: tuple[Case, ...] = (
    Case(
        SLOGANS,
        ((LMSYS, 0, "English"), (WILDCHAT, 0, "English"), (LMSYS, 5, "English")),
        _v(
            "high_confidence",
            parallelizable=True,
            category="Repeated Generation",
            is_novel_category=False,
            serial=SLOGANS,
            template="Give me a slogan for a coffee shop",
            n=5,
        ),
        answer(
            category="Repeated Generation",
            serial=SLOGANS,
            template="Give me a slogan for a coffee shop",
            n=5,
        ),
    ),
    Case(
        TRANSLATE,
        ((LMSYS, 1, "English"), (WILDCHAT, 7, "English")),
        _v(
            "high_confidence",
            parallelizable=True,
            category="Translation",
            is_novel_category=False,
            serial=TRANSLATE,
            template="Translate this sentence into French: {data}",
            data=("Good morning", "Thank you very much"),
        ),
        answer(
            category="Translation",
            serial=TRANSLATE,
            template="Translate this sentence into French: {data}",
            data=["Good morning", "Thank you very much"],
        ),
    ),
    Case(
        KEYWORDS,
        ((LMSYS, 2, "English"),),
        _v(
            "medium_confidence",
            parallelizable=True,
            category="Keyword Extraction",
            is_novel_category=False,
            serial=KEYWORDS,
            template="Extract the keyword from: {data}",
            data=("apples", "pears", "plums"),
        ),
        answer(
            category="Keyword Extraction",
            serial=KEYWORDS,
            template="Extract the keyword from: {data}",
            data=["apples", "pears", "plums"],
        ),
    ),
    Case(
        CAPITAL,
        ((LMSYS, 3, "English"), (WILDCHAT, 3, "English")),
        _v("not_parallelizable", parallelizable=False),
        answer(parallelizable=False),
    ),
    Case(
        PHONES,
        ((WILDCHAT, 4, "English"),),
        _v(
            "medium_confidence",
            parallelizable=True,
            category="Comparative Analysis",
            is_novel_category=True,
            category_description="Comparing several items on common criteria",
            serial=PHONES,
            template="Describe the strengths of {data}",
            data=("Pixel 8", "iPhone 15", "Galaxy S24"),
        ),
        answer(
            category="Comparative Analysis",
            is_novel_category=True,
            category_description="Comparing several items on common criteria",
            serial=PHONES,
            template="Describe the strengths of {data}",
            data=["Pixel 8", "iPhone 15", "Galaxy S24"],
        ),
    ),
    Case(
        CARS,
        ((LMSYS, 6, "English"),),
        _v(
            "failed",
            reason="no_structural_cue",
            parallelizable=True,
            category="Comparative Analysis",
            is_novel_category=True,
            category_description="Comparing two things",
            serial=CARS,
            template="Describe {data}",
            data=("Tesla Model 3", "BMW i4"),
            tier_label="failed",
        ),
        answer(
            category="Comparative Analysis",
            is_novel_category=True,
            category_description="Comparing two things",
            serial=CARS,
            template="Describe {data}",
            data=["Tesla Model 3", "BMW i4"],
        ),
    ),
    Case(
        POEM,
        ((WILDCHAT, 8, "English"),),
        _v(
            "failed",
            reason="neither_data_nor_n",
            parallelizable=True,
            category="Repeated Generation",
            is_novel_category=False,
            serial=POEM,
            template="Write a poem about the sea",
            tier_label="failed",
        ),
        answer(category="Repeated Generation", serial=POEM, template="Write a poem about the sea"),
    ),
    Case(
        SPANISH,
        ((WILDCHAT, 9, "Spanish"),),
        _v("unparseable", reason="truncated", tier_label="unparseable"),
        '{"parallelizable": true, "category": "Transl',
        "max_tokens",
    ),
    Case(DEAD, ((LMSYS, 7, "English"),), None),
    Case(
        GERMAN,
        ((LMSYS, 8, "German"),),
        _v(
            "high_confidence",
            parallelizable=True,
            category="Named Entity Recognition",
            is_novel_category=False,
            serial=GERMAN,
            template="Finde alle Namen in diesem Satz: {data}",
            data=("Anna wohnt in Berlin.", "Max fährt nach Wien."),
        ),
        answer(
            category="Named Entity Recognition",
            serial=GERMAN,
            template="Finde alle Namen in diesem Satz: {data}",
            data=["Anna wohnt in Berlin.", "Max fährt nach Wien."],
        ),
    ),
)
PENDING_SOURCES = ((LMSYS, 9, "English"), (WILDCHAT, 10, "English"))


def source_rows() -> list[SourceRow]:
    rows = []
    cases = [*((c.prompt, c.sources) for c in CASES), (PENDING, PENDING_SOURCES)]
    for prompt, sources in cases:
        for dataset, index, language in sources:
            rows.append(
                SourceRow(
                    prompt=prompt,
                    text_hash=hashlib.blake2b(prompt.encode(), digest_size=16).digest(),
                    source=dataset,
                    split="train",
                    row_index=index,
                    conversation_id=f"{dataset}-{index}",
                    language=language,
                    model="vicuna-13b",
                )
            )
    return rows


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _build(path: Path) -> None:
    clock = Clock()
    queue = await SqliteQueue.open(path, owner="test-worker", clock=clock)
    try:
        await queue.enqueue_many(source_rows())
        run = await queue.start_run(
            RunIdentity(MODEL, "converse", "test-v1", "default", "emulator", ""),
            {},
            reopen=False,
        )
        await queue.register_worker(run.id, concurrency=4)
        leases = {lease.prompt: lease for lease in await queue.claim(len(CASES), 300.0)}
        for i, case in enumerate(CASES):
            clock.now += 2.0
            await queue.heartbeat(60.0)  # as a working worker does
            lease = leases[case.prompt]
            if case.verdict is None:
                await queue.fail(
                    Failure(
                        work_id=lease.work_id,
                        run_id=run.id,
                        model_id=MODEL,
                        profile="default",
                        contract_version="test-v1",
                        attempts=lease.attempts,
                        error_code="AccessDeniedException",
                        message="no access to the model",
                        retryable=False,
                    ),
                    max_attempts=8,
                )
                continue
            done = await queue.complete_many(
                [
                    Completion(
                        work_id=lease.work_id,
                        run_id=run.id,
                        model_id=MODEL,
                        verdict=case.verdict,
                        attempts=lease.attempts,
                        raw_text=case.raw,
                        stop_reason=case.stop_reason,
                        input_tokens=1000 + 10 * i,
                        output_tokens=100 + i,
                        cost_usd=0.0015 + 0.0001 * i,
                        latency_ms=800.0 + i,
                    )
                ]
            )
            assert done.written == 1
    finally:
        await queue.close()


def build_results_db(path: Path) -> Path:
    asyncio.run(_build(path))
    return path


@pytest.fixture(scope="session")
def results_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_results_db(tmp_path_factory.mktemp("results") / "template.db")


@pytest.fixture
def results_db(results_db_template: Path, tmp_path: Path) -> Path:
    """A private copy of the built database (tests that write do not disturb the others)."""
    import sqlite3

    dest = tmp_path / "results.db"
    src = sqlite3.connect(results_db_template)
    dst = sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    dst.close()
    return dest


Factory = Callable[[Path], Path]
