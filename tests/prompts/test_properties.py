"""parse_answer and judge never raise, whatever the model sends back."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parallelprompt.prompts import (
    Candidate,
    Contract,
    Outcome,
    ParseFailure,
    heuristic_answer,
    parse_answer,
)
from parallelprompt.prompts.published import FIELDS

CONTRACT = Contract.load()
ORIGINAL = CONTRACT.with_profile("original")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
answer_objects = st.fixed_dictionaries(
    {}, optional={name: json_values for name in FIELDS}
) | st.dictionaries(st.sampled_from(FIELDS), json_values)
stop_reasons = st.sampled_from([None, "end_turn", "max_tokens", "content_filtered", "odd"])


@SETTINGS
@given(st.text(max_size=400), stop_reasons)
def test_parse_arbitrary_text(text: str, stop: str | None) -> None:
    assert isinstance(parse_answer(text, stop), Candidate | ParseFailure)


@SETTINGS
@given(json_values, stop_reasons)
def test_parse_arbitrary_json(value: Any, stop: str | None) -> None:
    assert isinstance(parse_answer(json.dumps(value), stop), Candidate | ParseFailure)


@SETTINGS
@given(answer_objects, st.text(max_size=200), st.text(max_size=20))
def test_judge_arbitrary_answers(obj: dict[str, Any], prompt: str, prose: str) -> None:
    text = f"{prose}{json.dumps(obj)}{prose}"
    for contract in (CONTRACT, ORIGINAL):
        verdict = contract.judge(prompt, text, "end_turn")
        assert verdict.outcome is not Outcome.DEAD
        assert verdict.validation_passed == (verdict.outcome in (Outcome.HIGH, Outcome.MEDIUM))
        if verdict.outcome in (Outcome.FAILED, Outcome.UNPARSEABLE):
            assert verdict.reason


@SETTINGS
@given(st.text(max_size=300))
def test_judge_and_heuristic_on_arbitrary_prompts(prompt: str) -> None:
    text = heuristic_answer(prompt)
    assert isinstance(json.loads(text), dict)
    CONTRACT.judge(prompt, text, "end_turn")
    ORIGINAL.judge(prompt, text, None)


@SETTINGS
@given(answer_objects)
def test_candidate_round_trips(obj: dict[str, Any]) -> None:
    parsed = parse_answer(json.dumps(obj))
    if isinstance(parsed, Candidate):
        again = parse_answer(json.dumps(parsed.to_dict()))
        assert isinstance(again, Candidate)
        assert again.to_dict() == parsed.to_dict()
