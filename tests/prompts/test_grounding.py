"""Grounding judges as a careful reader: paraphrases a model makes are found in the prompt,
invented items and context are not (prompts/grounding.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.grounding import GOLD, scored, table
from parallelprompt.prompts import DEFAULT, Contract, FailureReason
from parallelprompt.prompts.grounding import Grounder, key, resolve_placeholders
from parallelprompt.results.gold import load_gold

PROMPT = (
    r"Read this: What is a name of fund ? The long term plan is n't clear .\nIt's &quot;new&quot;."
    " NAME_1 met NAME_2 at the park."
)


@pytest.mark.parametrize(
    "fragment",
    [
        "What is the name of the fund?",  # small grammar fix
        "What is a name of fund?",  # spacing around punctuation
        "The long-term plan isn't clear.",  # hyphen, contraction
        'It\'s "new".',  # HTML entities, literal \n vs none, quotes
        "The long term plan is n't clear .\nIt's \"new\".",  # literal \n in the prompt
        "Alice met Bob at the park.",  # names for placeholders, no serial
        "ＷＨＡＴ ＩＳ Ａ ＮＡＭＥ ＯＦ ＦＵＮＤ",  # NFKC, case
    ],
)
def test_paraphrases_are_grounded(fragment: str) -> None:
    grounder = Grounder(PROMPT, ["Alice met Bob at the park."], threshold=0.75)
    assert grounder.grounded(fragment), grounder.score(fragment)


@pytest.mark.parametrize(
    "fragment",
    [
        "What is the capital of France?",
        "Tell me about tigers",
        "Bob wants a short holiday in France",
        "???",  # only punctuation, symbols or emoji: nothing to match a word against
        "🚀🚀",
        "\ufffd",  # what a lone surrogate in an answer becomes
    ],
)
def test_invented_fragments_are_not(fragment: str) -> None:
    grounder = Grounder(PROMPT, [], threshold=0.75)
    assert not grounder.grounded(fragment), grounder.score(fragment)


def test_symbols_the_prompt_holds_are_grounded() -> None:
    grounder = Grounder("Rate these emoji: 🚀, 🎉 and ???", [], threshold=0.75)
    assert grounder.grounded("🚀")
    assert grounder.grounded("???")
    assert not grounder.grounded("🙂")


def test_an_invented_symbol_item_fails_default() -> None:
    prompt = "Translate these sentences into French: 1. Good morning. 2. Thank you."
    answer = (
        '{"parallelizable": true, "category": "Translation", "template": "Translate: {data}", '
        '"data": ["Good morning.", "\\ud800", "🚀"]}'
    )
    verdict = Contract.load(rules="default").judge(prompt, answer, "end_turn")
    assert verdict.reason is FailureReason.items_not_in_prompt


def test_placeholders_resolve_in_both_directions() -> None:
    prompt = key("1. John Smith joined Google. 2. Maria Lopez left Microsoft.")
    assert "john smith joined" in resolve_placeholders(key("NAME_1 joined Google."), prompt)
    assert resolve_placeholders(
        key("NAME_1 met NAME_2 at the park"), key("Ann met Bo at the park")
    ) == key("ann met bo at the park")


def test_canonical_form() -> None:
    assert key("procedures ?") == key("procedures?")
    assert key("long term") == key("long-term") == key("long – term")
    assert key("would 've") == key("would've") == key("would’ve")
    assert key("do n't") == key("don't")
    assert key("a &amp; b") == key("a & b")
    assert key(r"a\nb") == key("a\nb")


def test_chosen_threshold_separates_the_gold_set() -> None:
    rows, _count, _spent = scored(load_gold(GOLD))
    row = next(r for r in table(rows) if r[0] == DEFAULT.grounding_threshold)
    _t, precision, recall, invented_accepted, grounded_rejected = row
    assert invented_accepted == 0 and precision == 1.0
    assert recall >= 0.97, grounded_rejected


@settings(max_examples=300, deadline=None)
@given(
    prompt=st.text(max_size=300),
    fragment=st.text(max_size=80),
    names=st.lists(st.sampled_from(["NAME_1", "NAME_2", "Alice", "\\n", "&amp;", "-", "'"])),
)
def test_scores_are_bounded_and_never_raise(prompt: str, fragment: str, names: list[str]) -> None:
    prompt = " ".join([prompt, *names])
    grounder = Grounder(prompt, [fragment, *names])
    score = grounder.score(fragment)
    assert 0.0 <= score <= 1.0
    assert grounder.grounded(fragment) == (score >= grounder.threshold)
    assert grounder.score(prompt) == 1.0  # the prompt is in itself
