"""``cues.requested_counts`` (tried only where a number starts) finds exactly what the three
patterns' plain ``finditer`` finds (``requested_counts_reference``)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.readside import prompt_pool
from parallelprompt.prompts import cues

PIECES = [
    *sorted(cues.NUMBER_WORDS)[::3],
    "2", "10", "12345", "٣", "３", "0.5", "1,5", "two.", ",three", "_4",
    "ideas", "names", "minutes", "things", "Names", "examples", "bullet points", "вопросов",
    "个", "條", "가지", "二十", "两", "五", "首",
    " ", "  ", "\n", "\t", "\x1f", "\x85", ",", ".", "(", "«", "'", "-", "a", "X", "é", "İ",
    "catchy",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=24).map("".join))
def test_same_counts_as_the_plain_patterns(prompt: str) -> None:
    assert cues.requested_counts(prompt) == cues.requested_counts_reference(prompt)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_same_counts_on_any_text(prompt: str) -> None:
    assert cues.requested_counts(prompt) == cues.requested_counts_reference(prompt)


def test_same_counts_on_the_bench_corpus() -> None:
    pool = prompt_pool("mixed")
    found = [cues.requested_counts_reference(p) for p in pool]
    assert any(found), "the corpus asks for counts somewhere"
    assert [cues.requested_counts(p) for p in pool] == found


def test_overlapping_candidates_follow_finditer() -> None:
    # "5 two ideas": the first match spans the second number, which finditer then skips.
    prompt = "Give me 5 two ideas and 3 names, then 4 minutes of 2 things; 写三个句子"
    assert cues.requested_counts(prompt) == cues.requested_counts_reference(prompt)
    # requests 5, 3, 2; plurals 2 ("two ideas"), 3, 2 ("4 minutes" is a unit); CJK 3
    assert cues.requested_counts(prompt) == [5, 3, 2, 2, 3, 2, 3]


_PLAIN_START = re.compile(
    rf"(?<![\w.,])(?:\d{{1,4}}|{'|'.join(map(re.escape, cues.NUMBER_WORDS))})(?=\s)"
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=24).map("".join))
def test_number_starts_are_the_lookbehind_patterns(prompt: str) -> None:
    """Where the number starts are, ASCII or not (the ASCII search has its own pattern):
    the non-overlapping matches of the common start written with its lookbehind."""
    lower = prompt.lower()
    assert cues.number_starts(lower) == [m.start() for m in _PLAIN_START.finditer(lower)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_number_starts_on_any_ascii_text(prompt: str) -> None:
    lower = prompt.lower()
    assert cues.number_starts(lower) == [m.start() for m in _PLAIN_START.finditer(lower)]
