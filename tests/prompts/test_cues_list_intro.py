"""``cues.list_intro`` (one pattern searched in " " + the text, its alternations as tries)
answers as ``LIST_INTRO.search`` does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.readside import prompt_pool
from parallelprompt.prompts import cues

PIECES = [
    "the following", "following", "these", "les", "ces", "die folgenden", "le seguenti",
    "следующие", "эти", "questions", "sentences", "texte", "textes", "reseñas", "sätze",
    "вопросы", "éléments", "suivants", "suivantes", "以下", "这些", "次の", "の", "的", "问题",
    "文章", "short", "two", " ", "  ", "\n", ".", "-", "a", "x", "questionsx", "İ", "_", "1", "(",
    "é", "ñ", "\u00a0", "\u2028",
]  # fmt: skip


def _plain(lower: str) -> bool:
    return bool(cues.LIST_INTRO.search(lower))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=16).map("".join))
def test_same_answer_as_the_pattern(text: str) -> None:
    assert cues.list_intro(text) == _plain(text)


def test_same_answer_on_the_bench_corpus() -> None:
    lowers = [p.lower() for p in prompt_pool("mixed")]
    found = [_plain(p) for p in lowers]
    assert any(found) and not all(found)
    assert [cues.list_intro(p) for p in lowers] == found


def test_each_branch_is_found() -> None:
    for text in (
        "translate the following short sentences:",
        "traduis les phrases suivantes",
        "翻译以下句子",
    ):
        assert cues.list_intro(text) and _plain(text)
    assert not cues.list_intro("write a poem about the sea")
