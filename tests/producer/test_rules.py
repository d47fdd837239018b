"""The pure rules: first user turn, text rules, normalisation, layout detection."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parallelprompt.db import FLAG_OVERSIZED
from parallelprompt.producer.batches import first_turns_arrow
from parallelprompt.producer.extract import Flag, Kept, SkipReason, TextRules, first_user_content
from parallelprompt.producer.layouts import SPECS, Layout, detect
from parallelprompt.producer.normalise import normalise, text_hash

USER = frozenset({"user"})


def first(conv: object) -> object:
    return first_user_content(conv, "role", "content", USER)


@pytest.mark.parametrize(
    ("conversation", "expected"),
    [
        (None, SkipReason.NO_CONVERSATION),
        ([], SkipReason.NO_CONVERSATION),
        ("hello there", SkipReason.NOT_A_LIST),
        ({"role": "user", "content": "x"}, SkipReason.NOT_A_LIST),
        ([{"role": "assistant", "content": "hi"}], SkipReason.NO_USER_TURN),
        (["just a string"], SkipReason.NO_USER_TURN),
        ([{"role": "user", "content": "first"}, {"role": "user", "content": "2nd"}], "first"),
        ([{"role": "assistant", "content": "hi"}, {"role": "user", "content": "q"}], "q"),
        ([{"role": "user", "content": None}, {"role": "user", "content": "later"}], None),
        ([{"role": "user"}], None),
        ([{"role": "user", "content": 42}], 42),
    ],
)
def test_first_user_turn(conversation: object, expected: object) -> None:
    assert first(conversation) == expected


def test_sharegpt_roles() -> None:
    spec = SPECS[Layout.SHAREGPT]
    conv = [{"from": "system", "value": "be nice"}, {"from": "human", "value": "hello world!"}]
    got = first_user_content(conv, spec.role_key, spec.content_key, spec.user_roles)
    assert got == "hello world!"


RULES = TextRules(min_chars=10, max_chars=50)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, SkipReason.NULL_CONTENT),
        (12345678901, SkipReason.NON_STRING_CONTENT),
        (["a list"], SkipReason.NON_STRING_CONTENT),
        ("", SkipReason.WHITESPACE_ONLY),
        ("  \n\t\u3000 ", SkipReason.WHITESPACE_ONLY),
        ("\x00\x00 ", SkipReason.WHITESPACE_ONLY),
        ("  short  ", SkipReason.TOO_SHORT),
        ("123456789", SkipReason.TOO_SHORT),
    ],
)
def test_text_rules_skip(content: object, reason: SkipReason) -> None:
    assert RULES.check(content) is reason


def test_text_rules_keep_strips_and_keeps_case() -> None:
    kept = RULES.check("  Give Me 5 Ideas  \n")
    assert isinstance(kept, Kept)
    assert kept.prompt == "Give Me 5 Ideas"
    assert kept.flags == 0 and kept.touched == ()
    assert kept.text_hash == text_hash("Give Me 5 Ideas")
    assert len(kept.text_hash) == 16


def test_exactly_min_chars_is_kept() -> None:
    assert isinstance(RULES.check("1234567890"), Kept)


def test_oversized_is_kept_and_flagged() -> None:
    kept = RULES.check("x" * 51)
    assert isinstance(kept, Kept)
    assert kept.flags == FLAG_OVERSIZED and kept.touched == (Flag.OVERSIZED,)
    assert isinstance(TextRules(10, 0).check("x" * 10**6), Kept)  # 0: never flagged
    assert TextRules(10, 0).check("x" * 10**6).flags == 0  # type: ignore[union-attr]


def test_nul_bytes_removed_and_counted() -> None:
    kept = RULES.check("Translate\x00 these words")
    assert isinstance(kept, Kept)
    assert kept.prompt == "Translate these words"
    assert kept.touched == (Flag.NUL_REMOVED,)


def test_lone_surrogates_replaced() -> None:
    kept = RULES.check("broken \ud800 text here")
    assert isinstance(kept, Kept)
    assert kept.prompt == "broken \ufffd text here"
    assert kept.touched == (Flag.UNICODE_REPLACED,)
    kept.prompt.encode("utf-8")  # storable


def test_normalise_collapses_whitespace_and_nfc() -> None:
    assert normalise("  a \t b\n\nc\u3000d ") == "a b c d"
    assert normalise("Cafe\u0301") == normalise("Café")
    assert text_hash("Give me  5 ideas") == text_hash(" Give me 5\nideas ")
    assert text_hash("give me 5 ideas") != text_hash("Give me 5 ideas")  # case kept


@pytest.mark.parametrize(
    ("columns", "layout"),
    [
        (["conversation_id", "model", "conversation", "turn", "language"], Layout.LMSYS),
        (["conversation_hash", "model", "timestamp", "conversation", "toxic"], Layout.WILDCHAT),
        (["conversation", "timestamp", "toxic"], Layout.WILDCHAT),
        (["id", "conversations"], Layout.SHAREGPT),
        (["text", "label"], None),
        (["conversation"], None),
    ],
)
def test_detect(columns: list[str], layout: Layout | None) -> None:
    assert detect(columns) == layout


def test_every_layout_has_its_spec_and_its_choice() -> None:
    """A new layout is one enum member and one spec in producer/layouts.py: `--layout` offers it."""
    from parallelprompt.producer.settings import IngestSettings

    assert set(SPECS) == set(Layout)
    choices = IngestSettings.__dataclass_fields__["layout"].metadata["choices"]
    assert tuple(choices) == ("auto", *(layout.value for layout in Layout))


messages = st.lists(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["user", "assistant", "system", None]),
            "content": st.one_of(st.none(), st.text(max_size=30)),
        }
    ),
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), messages), min_size=1, max_size=8))
def test_arrow_path_agrees_with_python_rules(convs: list[object]) -> None:
    msg = pa.struct([("content", pa.string()), ("role", pa.string())])
    arr = pa.array(convs, type=pa.list_(msg))
    spec = SPECS[Layout.LMSYS]
    assert first_turns_arrow(arr, spec) == [first(c) for c in convs]
