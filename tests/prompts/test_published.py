"""`original` reproduces the published validator: the oracle (a re-implementation of the
published code in published_oracle.py) and our profile agree on outcome and pass/fail for
every answer shape, including the ones our parser repairs under `default`."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parallelprompt.prompts import Contract, FailureReason, Outcome, Verdict
from parallelprompt.prompts.published import _greedy

from .published_oracle import published

ORIGINAL = Contract.load(rules="original")
DEFAULT = ORIGINAL.with_profile("default")
PROMPT = "Translate these sentences into French: 1. Good morning. 2. Thank you."
BARE_PROMPT = "Say hello"


def expected_outcome(stage: str, tier: str) -> tuple[Outcome, str | None]:
    if stage == "fallback":
        return Outcome.UNPARSEABLE, None
    if stage == "crash":
        return Outcome.FAILED, FailureReason.type_error
    if stage == "said_no":
        return Outcome.NOT_PARALLELIZABLE, None
    if stage == "schema":
        return Outcome.FAILED, None
    return {
        "high_confidence": (Outcome.HIGH, None),
        "medium_confidence": (Outcome.MEDIUM, None),
        "low_confidence": (Outcome.FAILED, FailureReason.no_structural_cue),
    }[tier]


def agree(prompt: str, text: str) -> Verdict:
    stage, tier, passed = published(prompt, text)
    verdict = ORIGINAL.judge(prompt, text, "end_turn")
    outcome, reason = expected_outcome(stage, tier)
    context = f"{stage}/{tier} vs {verdict.outcome}/{verdict.reason}: {text[:300]}"
    assert verdict.outcome is outcome, context
    assert verdict.validation_passed is passed, context
    if reason is not None:
        assert verdict.reason == reason, context
    if stage in ("schema", "crash"):
        assert verdict.reason not in (None, FailureReason.no_structural_cue), context
    if verdict.outcome is not Outcome.UNPARSEABLE:
        assert verdict.tier_label == tier, context
    return verdict


def answer(**fields: Any) -> str:
    body: dict[str, Any] = {
        "parallelizable": True,
        "category": "Translation",
        "is_novel_category": False,
        "category_description": None,
        "serial": PROMPT,
        "template": "Translate into French: {data}",
        "context": None,
        "data": ["Good morning.", "Thank you."],
        "n": None,
    }
    for key, value in fields.items():
        if value is _MISSING:
            body.pop(key, None)
        else:
            body[key] = value
    return json.dumps(body, ensure_ascii=False)


_MISSING = object()
NON_BOOLEANS: tuple[Any, ...] = (1, 0, None, "no", "", [])
RG = {"category": "Repeated Generation", "template": "Say hello", "data": None}

SHAPES: list[tuple[str, str]] = [
    ("n 2.5", answer(**RG, n=2.5)),
    ("n 1.5", answer(**RG, n=1.5)),
    ("n 5.0", answer(**RG, n=5.0)),
    ("n '5'", answer(**RG, n="5")),
    ("n true", answer(**RG, n=True)),
    ("n NaN", answer(**RG).replace('"n": null', '"n": NaN')),
    ("n Infinity", answer(**RG).replace('"n": null', '"n": Infinity')),
    *[(f"n {v!r}", answer(**RG, n=v)) for v in ("", "  ", "null", "None")],
    *[(f"data {v!r}", answer(data=v)) for v in ("", "  ", "null", "None")],
    *[(f"data {v!r} with n", answer(**{**RG, "n": 3, "data": v})) for v in ("", "null")],
    ("data string", answer(data="Good morning.")),
    ("data numbers", answer(data=[1, 2])),
    ("data one item", answer(data=["Good morning."])),
    ("data object", answer(data={"a": "b"})),
    ("data and n", answer(n=2)),
    ("neither", answer(data=None)),
    *[(f"parallelizable {v!r}", answer(parallelizable=v)) for v in NON_BOOLEANS],
    ("parallelizable missing", answer(parallelizable=_MISSING)),
    ("Parallelizable key", answer(parallelizable=_MISSING, Parallelizable=True)),
    ("Data key", answer(data=_MISSING, Data=["a", "b"])),
    ("context number", answer(context=5)),
    ("context list", answer(context=["x"])),
    ("serial object", answer(serial={"a": 1})),
    ("serial null", answer(serial=None)),
    ("category number", answer(category=7)),
    ("category list", answer(category=["Translation"])),
    ("category dict", answer(category={"a": 1})),
    ("category missing", answer(category=_MISSING)),
    ("category RC no cue", answer(category="Reading Comprehension")),
    ("template number", answer(template=3)),
    ("template bool", answer(template=True)),
    ("template list", answer(template=["{data}"])),
    ("template list without", answer(template=["x"])),
    ("template dict", answer(template={"{context}": 1})),
    ("RG template {n}", answer(**{**RG, "n": 3, "template": "Say {n} hellos"})),
    ("is_novel string", answer(is_novel_category="yes")),
    ("is_novel number", answer(is_novel_category=1)),
    ("trailing comma", answer().replace('"n": null', '"n": null,')),
    ("python literals", "{'parallelizable': True, 'category': 'Translation', 'data': ['a', 'b']}"),
    ("fenced", f"Here:\n```json\n{answer()}\n```\nDone."),
    ("prose", f"Sure. {answer()} Hope it helps."),
    ("two objects", f"{answer()}\n{answer(parallelizable=False)}"),
    ("a list", f"[{answer()}]"),
    ("a string", json.dumps("parallelizable")),
    ("null", "null"),
    ("no json", "I think this prompt is parallelizable."),
    ("empty", ""),
]


@pytest.mark.parametrize(("name", "text"), SHAPES, ids=[name for name, _ in SHAPES])
@pytest.mark.parametrize("prompt", [PROMPT, BARE_PROMPT], ids=["cued", "bare"])
def test_original_agrees_with_the_published_validator(name: str, text: str, prompt: str) -> None:
    agree(prompt, text)


def test_fractional_n_passes_as_published() -> None:
    verdict = agree("Give me 3 ideas", answer(**RG, n=2.5))
    assert verdict.validation_passed


def test_non_boolean_parallelizable_uses_truthiness() -> None:
    assert agree(PROMPT, answer(parallelizable="no")).validation_passed
    assert agree(PROMPT, answer(parallelizable=0)).outcome is Outcome.NOT_PARALLELIZABLE


def test_default_records_every_repair_on_the_verdict() -> None:
    verdict = DEFAULT.judge(PROMPT, answer(parallelizable="yes").replace("]", ",]"), "end_turn")
    assert "parallelizable_from_string" in verdict.repairs
    assert "json_trailing_commas" in verdict.repairs
    cased = DEFAULT.judge(PROMPT, answer(parallelizable=_MISSING, Parallelizable=True), None)
    assert cased.repairs == ("keys_case_folded",)
    blank = DEFAULT.judge(PROMPT, answer(n="  "), None)
    assert "n_blank_as_null" in blank.repairs


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 1_000)
    | st.floats(allow_nan=True)
    | st.sampled_from(["", "  ", "null", "None", "{data}", "{n}", "{context}", "x", "5"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=6,
)
templates = st.sampled_from(["Translate {data}", "Say hi", "Do {n}", "{context} {data}"])
categories = st.sampled_from(
    ["Translation", "Repeated Generation", "Reading Comprehension", "Novel", "translation"]
)
keys = st.sampled_from(
    ["parallelizable", "Parallelizable", "category", "template", "context", "serial",
     "data", "n", "is_novel_category", "Data"]
)  # fmt: skip
item_lists = st.lists(st.sampled_from(["Good morning.", "Thank you.", "x", "y"]), max_size=4)


@st.composite
def answers(draw: st.DrawFn) -> str:
    body: dict[str, Any] = {}
    body["parallelizable"] = draw(st.booleans() | json_values)
    body["category"] = draw(categories | json_values)
    body["template"] = draw(templates | json_values)
    body["data"] = draw(item_lists | json_values)
    body["n"] = draw(st.none() | json_values)
    for _ in range(draw(st.integers(0, 3))):
        body[draw(keys)] = draw(json_values)
    if draw(st.booleans()):
        body.pop(draw(keys), None)
    text = json.dumps(body)
    wrap = draw(st.sampled_from(["plain", "fence", "prose", "comma"]))
    if wrap == "fence":
        return f"```json\n{text}\n```"
    if wrap == "prose":
        return f"Here you go: {text} -- done"
    if wrap == "comma":
        return text[:-1] + ",}"
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=answers(), prompt=st.sampled_from([PROMPT, BARE_PROMPT, "List 5 ideas, each new"]))
def test_original_agrees_on_generated_answers(text: str, prompt: str) -> None:
    agree(prompt, text)


DEEP = "[" * 100_000 + "]" * 100_000
GOOD = answer(data=["Good morning.", "Thank you."], template="Translate: {data}")


@pytest.mark.parametrize(
    "text",
    [
        f"{DEEP} ```json\n{GOOD}\n```",  # the whole text too deep: json raised out of the code
        f"```json\n{DEEP}\n```\n{GOOD}",  # the fenced block too deep
        f'Here: {{"x": {DEEP}}} {GOOD}',  # the greedy span too deep
    ],
)
def test_a_nesting_too_deep_for_json_ended_the_published_decoding(text: str) -> None:
    """Only JSONDecodeError moved the published code on to its next attempt; RecursionError
    escaped, and the answer was stored as not parallelizable, whatever came after it."""
    assert published(PROMPT, text)[2] is False
    verdict = agree(PROMPT, text)
    assert not verdict.validation_passed


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet='{}ab\n"', max_size=40))
def test_the_greedy_span_is_the_published_regex_match(text: str) -> None:
    match = re.search(r"\{.*\}", text, re.DOTALL)
    assert _greedy(text) == ([match.group(0)] if match else [])
