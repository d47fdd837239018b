"""Hostile answers (issue 11): numbers SQLite cannot hold, lone surrogates. The parser turns
them into storable values and says what it repaired; it never passes them on."""

from __future__ import annotations

import pytest

from parallelprompt.prompts import Candidate, Coercion, Contract, Outcome, parse_answer

INT64_MAX = 2**63 - 1


def candidate(text: str) -> Candidate:
    parsed = parse_answer(text)
    assert isinstance(parsed, Candidate), parsed
    return parsed


def storable(value: object) -> bool:
    """What SQLite's binding accepts: int64 and valid UTF-8."""
    if isinstance(value, int):
        return -(2**63) <= value <= INT64_MAX
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


@pytest.mark.parametrize(
    "n", ["100000000000000000000", "1e20", str(2**63), str(-(2**63) - 1), "1e308"]
)
def test_an_n_outside_int64_is_unusable(n: str) -> None:
    parsed = candidate(
        '{"parallelizable": true, "category": "Repeated Generation", "n": ' + n + "}"
    )
    assert parsed.n is None
    assert Coercion.n_unusable in parsed.coercions


def test_an_n_at_the_int64_edge_is_kept() -> None:
    parsed = candidate('{"parallelizable": true, "n": ' + str(INT64_MAX) + "}")
    assert parsed.n == INT64_MAX


@pytest.mark.parametrize("field", ["template", "category_description", "serial", "context"])
def test_lone_surrogates_in_text_are_replaced_and_flagged(field: str) -> None:
    parsed = candidate('{"parallelizable": true, "' + field + '": "bad \\ud800 here \\udfff"}')
    value = getattr(parsed, field)
    assert value == "bad \ufffd here \ufffd"
    assert Coercion.invalid_unicode_replaced in parsed.coercions


def test_lone_surrogates_in_data_and_category_are_replaced() -> None:
    parsed = candidate(
        '{"parallelizable": true, "category": "Tr\\udc80", '
        '"data": ["a\\ud800", {"k": "\\udbff"}, "ok"]}'
    )
    assert parsed.category == "Tr\ufffd"
    assert parsed.data is not None and all(storable(item) for item in parsed.data)
    assert parsed.data[0] == "a\ufffd"
    assert Coercion.invalid_unicode_replaced in parsed.coercions


def test_a_valid_surrogate_pair_is_one_character_and_not_flagged() -> None:
    parsed = candidate('{"parallelizable": true, "template": "smile \\ud83d\\ude00"}')
    assert parsed.template == "smile \U0001f600"
    assert Coercion.invalid_unicode_replaced not in parsed.coercions


def test_a_hostile_answer_is_judged_with_storable_values() -> None:
    contract = Contract.load()
    prompt = "Write 10^20 poems about the sea"
    text = (
        '{"parallelizable": true, "category": "Repeated Generation", "serial": "x\\ud800", '
        '"template": "Write a poem about the sea \\udfff", "n": 100000000000000000000}'
    )
    verdict = contract.judge(prompt, text, "end_turn")
    assert verdict.outcome is Outcome.FAILED
    assert verdict.reason == "n_invalid"
    cand = verdict.candidate
    assert cand is not None
    assert all(storable(v) for v in cand.to_dict().values() if not isinstance(v, list))
