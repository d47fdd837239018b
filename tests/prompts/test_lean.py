"""Lean answers (issue 13): pointers into the prompt instead of copies, resolved by
prompts.lean.expand, judged under both profiles; the heuristic extractor answers lean."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parallelprompt.prompts import Contract, Outcome, heuristic_answer, parse_answer
from parallelprompt.prompts.lean import between, expand, find
from parallelprompt.prompts.types import Candidate

DEFAULT = Contract.load()
ORIGINAL = Contract.load(rules="original")
WORDS = [
    "river",
    "valley",
    "stone",
    "harbour",
    "market",
    "winter",
    "garden",
    "letter",
    "bridge",
    "lantern",
]


def passage(chars: int, seed: int = 0) -> str:
    """Prose without lists, counts or repeated phrases (anchors find one place)."""
    rng = random.Random(seed)
    sentences: list[str] = []
    while sum(map(len, sentences)) < chars:
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
        sentences.append(" ".join(words).capitalize() + ". ")
    return "".join(sentences).strip()


def expanded(prompt: str, answer: str) -> Candidate:
    parsed = parse_answer(answer)
    assert isinstance(parsed, Candidate)
    return expand(prompt, parsed)


def test_find_normalises_case_quotes_and_spaces_then_matches_fuzzily() -> None:
    text = "He said “Hello   World” to the\nwhole room of engineers."
    assert find(text, "hello world") == (9, 22)
    assert find(text, '"Hello World" to the whole') == (8, 36)
    assert find(text, "the whole room of enginers") is not None  # a typo: fuzzy
    assert find(text, "the museum opened in 1901") is None
    assert find(text, "xy") is None and find(text, "   ") is None


def test_between_takes_the_end_anchor_after_the_start_anchor() -> None:
    text = "Intro. Alpha beta gamma. Delta beta gamma. Outro."
    assert between(text, "Alpha", "beta gamma.") == (7, 24)
    assert between(text, "Delta", "beta gamma.") == (25, 42)
    assert between(text, "Outro", "Alpha") is None


def test_a_lean_negative_is_not_parallelizable_and_stores_the_prompt_as_serial() -> None:
    for contract in (DEFAULT, ORIGINAL):
        verdict = contract.judge("Write one poem.", '{"parallelizable": false}', "end_turn")
        assert verdict.outcome is Outcome.NOT_PARALLELIZABLE
        assert verdict.candidate is not None and verdict.candidate.serial == "Write one poem."


def test_anchors_offsets_and_names_expand_to_the_published_fields() -> None:
    prompt = "NAME_1 met NAME_2 in Rome. They ate pasta.\n\nWho met whom? Where did they eat?"
    answer = {
        "parallelizable": True,
        "category": "Reading Comprehension",
        "names": {"NAME_1": "Maria", "NAME_2": "Tom"},
        "context": {"from": "Maria met Tom", "to": "ate pasta."},
        "template": "{context}\n\nAnswer: {data}",
        "data": ["Who met whom?", "Where did they eat?"],
    }
    c = expanded(prompt, json.dumps(answer))
    assert c.serial == prompt.replace("NAME_1", "Maria").replace("NAME_2", "Tom")
    assert c.context == "Maria met Tom in Rome. They ate pasta."
    assert c.to_dict()["context"] == c.context  # storage and export carry the text in full
    offsets = expanded(prompt, json.dumps({**answer, "context": [0, 42]}))
    assert offsets.context == c.context  # offsets count in the prompt as given
    anchors_as_given = {"from": "NAME_1 met", "to": "pasta."}
    assert expanded(prompt, json.dumps({**answer, "context": anchors_as_given})).context == (
        c.context
    )
    assert DEFAULT.judge(prompt, json.dumps(answer), "end_turn").outcome is Outcome.HIGH
    assert ORIGINAL.judge(prompt, json.dumps(answer), "end_turn").validation_passed


@pytest.mark.parametrize(
    "context",
    [
        [0, 10_000],
        [30, 10],
        [-5, 10],
        {"from": "They ate", "to": "Maria met"},
        {"from": "a", "to": "zebra crossing"},
    ],
)
def test_pointers_out_of_range_or_not_matching_fail_default_only(context: object) -> None:
    prompt = "Maria met Tom in Rome. They ate pasta.\n\nWho met whom? Where did they eat?"
    answer = json.dumps(
        {
            "parallelizable": True,
            "category": "Reading Comprehension",
            "context": context,
            "template": "{context}\n\nAnswer: {data}",
            "data": ["Who met whom?", "Where did they eat?"],
        }
    )
    verdict = DEFAULT.judge(prompt, answer, "end_turn")
    assert (verdict.outcome, verdict.reason) == (Outcome.FAILED, "context_not_in_prompt")
    # the published validator never looked at the context
    assert ORIGINAL.judge(prompt, answer, "end_turn").validation_passed


def test_a_template_edit_is_the_prompt_with_one_change() -> None:
    prompt = passage(600) + " Give me 5 slogans for the shop."
    edit = {"replace": "5 slogans", "with": "a slogan"}
    answer = json.dumps(
        {"parallelizable": True, "category": "Repeated Generation", "template": edit, "n": 5}
    )
    verdict = DEFAULT.judge(prompt, answer, "end_turn")
    assert verdict.outcome is Outcome.HIGH
    assert verdict.candidate is not None
    assert verdict.candidate.template == prompt.replace("5 slogans", "a slogan")
    missing = answer.replace("5 slogans", "5 taglines")
    verdict = DEFAULT.judge(prompt, missing, "end_turn")
    assert (verdict.outcome, verdict.reason) == (Outcome.FAILED, "template_not_in_prompt")


def test_an_answer_in_the_published_shape_is_judged_as_before() -> None:
    prompt = "Translate to French:\n1. Hello\n2. Goodbye"
    full = {
        "parallelizable": True,
        "category": "Translation",
        "is_novel_category": False,
        "category_description": None,
        "serial": prompt,
        "template": "Translate to French: {data}",
        "context": None,
        "data": ["Hello", "Goodbye"],
        "n": None,
    }
    parsed = parse_answer(json.dumps(full))
    assert isinstance(parsed, Candidate) and parsed.pointers is None
    assert expand(prompt, parsed) is parsed
    lean = {
        k: v for k, v in full.items() if k in ("parallelizable", "category", "template", "data")
    }
    for contract in (DEFAULT, ORIGINAL):
        old = contract.judge(prompt, json.dumps(full), "end_turn")
        new = contract.judge(prompt, json.dumps(lean), "end_turn")
        assert (old.outcome, old.reason, old.category) == (new.outcome, new.reason, new.category)
        assert old.candidate is not None and new.candidate is not None
        assert old.candidate.to_dict() == new.candidate.to_dict()


def test_heuristic_points_to_a_long_context_and_copies_a_short_one() -> None:
    text = passage(1_000)
    prompt = f"{text}\n\nAnswer the following questions:\n1. Where is the river?\n2. Why?"
    body = json.loads(heuristic_answer(prompt))
    assert set(body["context"]) == {"from", "to"}
    verdict = DEFAULT.judge(prompt, heuristic_answer(prompt), "end_turn")
    assert verdict.outcome is Outcome.HIGH
    assert verdict.candidate is not None and verdict.candidate.context == text


def test_heuristic_falls_back_to_offsets_when_anchors_are_ambiguous() -> None:
    text = "The keeper lit the lamp at dusk and the ships came home. " * 6
    prompt = f"{text.strip()}\n\nAnswer the following questions:\n1. Who lit it?\n2. When?"
    body = json.loads(heuristic_answer(prompt))
    assert body["context"] == [0, len(text.strip())]
    verdict = DEFAULT.judge(prompt, heuristic_answer(prompt), "end_turn")
    assert verdict.outcome is Outcome.HIGH
    assert verdict.candidate is not None and verdict.candidate.context == text.strip()


@pytest.mark.parametrize("chars", [5_000, 20_000])
def test_an_answer_does_not_grow_with_the_prompt(chars: int) -> None:
    text = passage(chars)
    questions = "\n\nAnswer the following questions:\n1. Where is the river?\n2. Why?"
    for prompt in (text, text + questions, text + " Give me 5 slogans for the market."):
        assert len(heuristic_answer(prompt)) < 300, prompt[-60:]


texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60)
pointers = st.one_of(
    st.fixed_dictionaries({"from": texts, "to": texts}),
    st.tuples(st.integers(), st.integers()).map(list),
    st.fixed_dictionaries({"replace": texts, "with": texts}),
    st.dictionaries(st.sampled_from(["from", "to", "replace", "with", "x"]), texts, max_size=3),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prompt=texts,
    context=pointers,
    template=pointers | texts,
    names=st.dictionaries(st.sampled_from(["NAME_1", "NAME_2", "x"]), texts, max_size=2),
)
def test_expanding_any_pointer_never_raises(
    prompt: str, context: object, template: object, names: dict[str, str]
) -> None:
    """Hostile pointers (huge or reversed offsets, blank or foreign anchors, lone surrogates)
    resolve or are named unresolved; judging never falls into rule_error."""
    answer = {
        "parallelizable": True,
        "category": "Reading Comprehension",
        "names": names,
        "context": context,
        "template": template,
        "data": ["a", "b"],
    }
    text = json.dumps(answer)
    for contract in (DEFAULT, ORIGINAL):
        verdict = contract.judge(prompt, text, "end_turn")
        assert verdict.reason != "rule_error", verdict
    parsed = parse_answer(text)
    if isinstance(parsed, Candidate):
        c = expand(prompt, parsed)
        assert c.pointers is not None
        if "context" not in c.pointers.unresolved and c.pointers.context_offsets is not None:
            start, end = c.pointers.context_offsets
            assert 0 <= start < end <= len(prompt)


def test_item_lines_between_two_anchors_are_the_data() -> None:
    prompt = "Translate to German:\n1. Good morning\n2) Thank you\n\n- See you soon\nThanks!"
    lean = {
        "parallelizable": True,
        "category": "Translation",
        "template": "Translate to German: {data}",
        "data": {"from": "Good morning", "to": "See you"},
    }
    c = expanded(prompt, json.dumps(lean))
    assert c.data == ("Good morning", "Thank you", "See you soon")  # markers and blanks dropped
    assert c.raw is not None and c.raw["data"] == list(c.data)  # what `original` judges
    for contract in (DEFAULT, ORIGINAL):
        assert contract.judge(prompt, json.dumps(lean), "end_turn").validation_passed
    missing = json.dumps({**lean, "data": {"from": "Good night", "to": "Bye bye"}})
    verdict = DEFAULT.judge(prompt, missing, "end_turn")
    assert (verdict.outcome, verdict.reason) == (Outcome.FAILED, "items_not_in_prompt")


def test_heuristic_points_to_many_item_lines() -> None:
    lines = [passage(60, seed) for seed in range(300)]
    prompt = "Translate these sentences to French:\n" + "\n".join(
        f"{i + 1}. {line}" for i, line in enumerate(lines)
    )
    assert len(prompt) > 20_000 and len(set(lines)) == len(lines)
    answer = heuristic_answer(prompt)
    assert set(json.loads(answer)["data"]) == {"from", "to"} and len(answer) < 300
    verdict = DEFAULT.judge(prompt, answer, "end_turn")
    assert verdict.outcome is Outcome.HIGH
    assert verdict.candidate is not None and verdict.candidate.data == tuple(lines)
