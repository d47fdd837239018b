"""The heuristic extractor on the bundled sample dataset (issue 3: its answers pass the default
validation for the clear cases).

Every ``parallel`` conversation must be answered high/medium confidence under the default
profile with the manifest's category; every ``negative`` one must stay not parallelizable; no
answer of the heuristic may fail validation (it says "no" rather than give a bad answer)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from parallelprompt.prompts import Contract, Outcome, Verdict, heuristic_answer

SAMPLE = Path(__file__).resolve().parents[2] / "parallelprompt" / "producer" / "sample"
CONTRACT = Contract.load()
PASSED = (Outcome.HIGH, Outcome.MEDIUM)
MIN_CHARS = 10


@dataclass(frozen=True)
class Row:
    dataset: str
    row_index: int
    kind: str
    category: str | None
    prompt: str
    answer: str
    verdict: Verdict

    def describe(self) -> str:
        v = self.verdict
        return (
            f"{self.dataset}[{self.row_index}] {self.kind} expected={self.category!r} -> "
            f"{v.outcome.value} reason={v.reason} category={v.category!r}\n"
            f"  prompt: {self.prompt!r}\n  answer: {self.answer}"
        )


def first_user_turn(conversation: list[dict[str, object]] | None) -> str | None:
    """The first message whose role is "user", if its content is a string of >= 10 characters
    once NUL bytes are removed and it is stripped (the producer's rule)."""
    for message in conversation or []:
        if message.get("role") == "user":
            content = message.get("content")
            if not isinstance(content, str):
                return None
            text = content.replace("\x00", "").strip()
            return text if len(text) >= MIN_CHARS else None
    return None


@functools.cache
def rows() -> tuple[Row, ...]:
    conversations = {
        name: pq.read_table(SAMPLE / f"{name}_sample.parquet", columns=["conversation"])
        .column("conversation")
        .to_pylist()
        for name in ("lmsys", "wildchat")
    }
    entries = json.loads((SAMPLE / "manifest.json").read_text("utf-8"))
    out = []
    for entry in entries:
        prompt = first_user_turn(conversations[entry["dataset"]][entry["row_index"]])
        if prompt is None:
            continue
        answer = heuristic_answer(prompt)
        verdict = CONTRACT.judge(prompt, answer, "end_turn")
        out.append(
            Row(
                entry["dataset"],
                entry["row_index"],
                entry["kind"],
                entry.get("category"),
                prompt,
                answer,
                verdict,
            )
        )
    return tuple(out)


def of_kind(kind: str) -> list[Row]:
    selected = [row for row in rows() if row.kind == kind]
    assert selected, f"no {kind} conversation in the sample"
    return selected


def listing(bad: list[Row], total: int) -> str:
    return f"{len(bad)} of {total}:\n" + "\n".join(row.describe() for row in bad)


def test_parallel_conversations_pass_with_the_manifest_category() -> None:
    parallel = of_kind("parallel")
    bad = [
        row
        for row in parallel
        if row.verdict.outcome not in PASSED or row.verdict.category != row.category
    ]
    assert not bad, listing(bad, len(parallel))


def test_negative_conversations_stay_not_parallelizable() -> None:
    negative = of_kind("negative")
    bad = [row for row in negative if row.verdict.outcome is not Outcome.NOT_PARALLELIZABLE]
    assert not bad, listing(bad, len(negative))


def test_no_answer_fails_validation() -> None:
    """Novel, shared and edge prompts included: the heuristic says "no" or a valid "yes"."""
    every = rows()
    bad = [row for row in every if row.verdict.outcome not in (*PASSED, Outcome.NOT_PARALLELIZABLE)]
    assert not bad, listing(bad, len(every))


def test_novel_answers_are_marked_novel() -> None:
    novel = [row for row in of_kind("novel") if row.verdict.outcome in PASSED]
    assert novel  # a few clear "<verb> each of these" lists
    for row in novel:
        body = json.loads(row.answer)
        assert row.verdict.is_novel_category, row.describe()
        assert body["category_description"], row.describe()
