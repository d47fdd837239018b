from __future__ import annotations

import pytest

from parallelprompt.prompts import (
    Candidate,
    Coercion,
    ParseFailure,
    ParseFailureReason,
    parse_answer,
)

GOOD = '{"parallelizable": true, "category": "Translation", "data": ["a", "b"], "n": null}'


def candidate(text: str, stop: str | None = None) -> Candidate:
    parsed = parse_answer(text, stop)
    assert isinstance(parsed, Candidate), parsed
    return parsed


def failure(text: str | None, stop: str | None = None) -> ParseFailureReason:
    parsed = parse_answer(text, stop)
    assert isinstance(parsed, ParseFailure), parsed
    return parsed.reason


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        f"  {GOOD}\n",
        f"```json\n{GOOD}\n```",
        f"```\n{GOOD}\n```",
        f"Sure! Here is the analysis:\n{GOOD}\nLet me know.",
        f"Note {{not json}} then {GOOD}",
        f"{GOOD}\n{GOOD.replace('true', 'false')}",
        GOOD.replace("]", ",]"),  # trailing comma
        "{'parallelizable': True, 'category': 'Translation', 'data': ['a', 'b'], 'n': None}",
    ],
)
def test_finds_the_answer(text: str) -> None:
    parsed = candidate(text)
    assert parsed.parallelizable is True
    assert parsed.data == ("a", "b")


def test_first_complete_object_wins() -> None:
    text = GOOD + ' {"parallelizable": false}'
    assert candidate(text).parallelizable is True


def test_complete_object_accepted_despite_max_tokens() -> None:
    assert candidate(GOOD + " and then some rambling", "max_tokens").parallelizable


@pytest.mark.parametrize(
    ("text", "stop", "reason"),
    [
        (None, None, ParseFailureReason.empty),
        ("   ", "end_turn", ParseFailureReason.empty),
        ("no braces at all", None, ParseFailureReason.no_json),
        ("no braces at all", "max_tokens", ParseFailureReason.truncated),
        # An object that never closes is truncated only when the stop reason says so (issue 12).
        ('{"parallelizable": true, "template": "a {data', None, ParseFailureReason.broken_json),
        ('{"parallelizable": true, "template": "a {', "end_turn", ParseFailureReason.broken_json),
        ('{"parallelizable": true, "template": "a {', "max_tokens", ParseFailureReason.truncated),
        ('{"parallelizable": true, "data": ["x"] "n": 2}', None, ParseFailureReason.broken_json),
        ("I cannot help with that.", None, ParseFailureReason.refusal),
        (GOOD, "guardrail_intervened", ParseFailureReason.refusal),
        ("[1, 2]", None, ParseFailureReason.not_an_object),
        ('"just a string"', None, ParseFailureReason.not_an_object),
        ('{"category": "x"}', None, ParseFailureReason.missing_parallelizable),
        ('{"parallelizable": null}', None, ParseFailureReason.wrong_types),
        ('{"parallelizable": true, "template": ["x"]}', None, ParseFailureReason.wrong_types),
        (
            '{"parallelizable": true, "is_novel_category": "perhaps"}',
            None,
            ParseFailureReason.wrong_types,
        ),
    ],
)
def test_named_failures(text: str | None, stop: str | None, reason: ParseFailureReason) -> None:
    assert failure(text, stop) is reason


@pytest.mark.parametrize(
    ("field", "value", "expected", "coercion"),
    [
        ("parallelizable", '"yes"', True, Coercion.parallelizable_from_string),
        ("parallelizable", '"False"', False, Coercion.parallelizable_from_string),
        ("n", '"5"', 5, Coercion.n_from_string),
        ("n", "5.0", 5, Coercion.n_from_float),
        ("n", "2.5", None, Coercion.n_unusable),
        ("n", "true", None, Coercion.n_unusable),
        ("n", '"five"', None, Coercion.n_unusable),
        ("data", '"[\\"a\\", \\"b\\"]"', ("a", "b"), Coercion.data_from_string),
        ("data", '"a, b"', ("a, b",), Coercion.data_from_string),
        ("data", "[1, 2.5]", ("1", "2.5"), Coercion.data_items_from_numbers),
        ("data", '[{"x": 1}, null]', ('{"x": 1}', "null"), Coercion.data_items_not_strings),
        ("data", '{"x": "a"}', None, Coercion.data_not_a_list),
    ],
)
def test_coercions_are_recorded(
    field: str, value: str, expected: object, coercion: Coercion
) -> None:
    extra = "" if field == "parallelizable" else '"parallelizable": true, '
    parsed = candidate(f'{{{extra}"{field}": {value}}}')
    assert getattr(parsed, field) == expected
    assert coercion in parsed.coercions


def test_blank_optional_text_is_null_and_keys_are_case_insensitive() -> None:
    parsed = candidate('{"Parallelizable": true, "Context": "  ", "Category": ""}')
    assert parsed.context is None and parsed.category is None


def test_to_dict_has_the_published_columns() -> None:
    assert list(candidate(GOOD).to_dict()) == [
        "parallelizable",
        "category",
        "is_novel_category",
        "category_description",
        "serial",
        "template",
        "context",
        "data",
        "n",
    ]
    assert candidate(GOOD).to_dict()["data"] == ["a", "b"]


def test_adversarial_braces_stay_cheap() -> None:
    assert isinstance(parse_answer("{" * 5000 + "}" * 10), ParseFailure)
    assert isinstance(parse_answer("{}" * 5000), ParseFailure)
