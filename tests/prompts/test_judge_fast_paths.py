"""The judge's fast paths give the verdicts of the straightforward code, on a corpus.

The fast paths (``revalidate`` at 1M answers): ``cues.requested_counts`` tries its patterns
only where a number starts, ``cues.list_intro`` searches a pattern that opens with a character
class, ``parse`` neither folds an answer's keys when they are all ours as written nor tests a
string field for a pointer, ``lean.evolve`` copies a candidate's fields instead of
``dataclasses.replace``, ``categories.label_key`` is memoised. Each is swapped back for the
straightforward code and every answer of the corpus (the gold set's answers, the bench's mixed
pool of prompts with the heuristic's lean answers and their published shape) is judged under
both profiles both ways.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bench.readside import prompt_pool
from parallelprompt.prompts import Contract, Verdict, cues, heuristic_answer, lean, parse
from parallelprompt.prompts import categories as categories_module
from parallelprompt.prompts.published import published_shape
from parallelprompt.prompts.types import Coercion

GOLD = Path(__file__).parent / "gold" / "gold.jsonl"


def _corpus() -> list[tuple[str, str]]:
    pairs = [(c["prompt"], c["answer"]) for c in map(json.loads, GOLD.read_text().splitlines())]
    for prompt in prompt_pool("mixed"):
        answer = heuristic_answer(prompt)
        pairs += [(prompt, answer), (prompt, published_shape(prompt, answer))]
    return pairs


def _verdicts(pairs: list[tuple[str, str]]) -> list[Verdict]:
    out = []
    for rules in ("default", "original"):
        contract = Contract.load(rules=rules)
        out += [contract.judge(prompt, answer, "end_turn") for prompt, answer in pairs]
    return out


def test_fast_paths_judge_as_the_straightforward_code(monkeypatch: pytest.MonkeyPatch) -> None:
    pairs = _corpus()
    fast = _verdicts(pairs)
    monkeypatch.setattr(cues, "requested_counts", cues.requested_counts_reference)
    monkeypatch.setattr(cues, "list_intro", lambda lower: bool(cues.LIST_INTRO.search(lower)))
    monkeypatch.setattr(lean, "evolve", dataclasses.replace)
    monkeypatch.setattr(parse, "_ALL_FIELDS", _NeverAll(parse._ALL_FIELDS))
    monkeypatch.setattr(parse, "_text_field", _text_field_plain)
    monkeypatch.setattr(categories_module, "label_key", categories_module.label_key.__wrapped__)
    plain = _verdicts(pairs)
    assert len(fast) == 2 * len(pairs) > 1_000
    assert fast == plain
    assert [repr(v) for v in fast] == [repr(v) for v in plain]


class _NeverAll(frozenset[str]):
    """``parse._ALL_FIELDS`` that never holds all of an answer's keys: every answer is folded."""

    def issuperset(self, other: object) -> bool:
        return False


def _text_field_plain(name: str, value: object, coercions: set[Coercion]) -> str | None:
    return None if lean.is_pointer(name, value) else parse._text(name, value, coercions)
