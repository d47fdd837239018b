"""The realistic answer style: a model's imperfections over the heuristic extractor's answers.

Each imperfection is checked at rate 1 through the real parser and the real rules, and the
whole style at its documented rates over many prompts; answers are deterministic per (seed,
prompt)."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from parallelprompt.emulator import answers, paraphrase
from parallelprompt.emulator.responders import StyledResponder, count_tokens
from parallelprompt.emulator.style import REALISTIC, StyleRates, restyle
from parallelprompt.prompts import (
    Candidate,
    Contract,
    Outcome,
    ParseFailure,
    heuristic_answer,
    parse_answer,
)
from parallelprompt.settings import EmulatorSettings
from tests.emulator.conftest import EmulatorFactory, bedrock, converse

NONE = StyleRates(
    paraphrase=0, invent=0, say_no=0, over_split=0, fence=0, prose=0, no_json=0, ramble=0
)
CONTRACT = Contract.load(rules="default")
LIST = "Translate these sentences into German:\n1. The weather is lovely today.\n2. I like tea."
QUESTIONS = (
    "Read the text and answer the questions.\n\nText:\nThe fund was created in 2001 by two "
    "brothers who wanted to invest in long term projects. It now manages four billion dollars "
    "for pension schemes in Europe and Asia, and its offices are in Zurich.\n\n"
    "1. what is a name of fund ?\n2. Why would NAME_1 've said it invests in long term goals ?"
)


def styled(prompt: str, rates: StyleRates, seed: int = 0, max_tokens: int = 1024) -> str:
    return restyle(heuristic_answer(prompt), prompt, max_tokens, seed, count_tokens, rates).text


def candidate(text: str) -> Candidate:
    parsed = parse_answer(text, "end_turn")
    assert isinstance(parsed, Candidate), (parsed, text)
    return parsed


@pytest.mark.parametrize(
    ("fn", "before", "after"),
    [
        (paraphrase.tighten_punctuation, "What are the procedures ?", "What are the procedures?"),
        (paraphrase.tighten_punctuation, "apples , pears ( ripe )", "apples, pears (ripe)"),
        (paraphrase.hyphenate, "our long term plan", "our long-term plan"),
        (paraphrase.hyphenate, "a State of the art tool", "a State-of-the-art tool"),
        (paraphrase.join_contractions, "I would 've gone", "I would've gone"),
        (paraphrase.join_contractions, "they do n't know", "they don't know"),
        (paraphrase.fix_grammar, "What is a name of fund?", "What is the name of the fund?"),
        (paraphrase.fix_grammar, "what is a apple", "What is an apple?"),
        (paraphrase.fix_grammar, "Wie heißt der Fonds?", "Wie heißt der Fonds?"),
        (paraphrase.unescape_newlines, "line one\\nline two", "line one\nline two"),
        (paraphrase.placeholders_to_names, "NAME_1 met NAME_2", "John met Maria"),
    ],
)
def test_each_paraphrase_class(fn: Any, before: str, after: str) -> None:
    assert fn(before) == after
    assert fn("Nothing to change in this sentence.") == "Nothing to change in this sentence."


def test_no_imperfection_at_rate_zero_is_the_exact_answer() -> None:
    for prompt in (LIST, QUESTIONS, "Give me 5 slogans for a bakery", "Hello there"):
        assert styled(prompt, NONE) == heuristic_answer(prompt)


def test_paraphrase_rewrites_the_copied_texts_with_the_classes_that_fit() -> None:
    answer = restyle(
        heuristic_answer(QUESTIONS),
        QUESTIONS,
        1024,
        0,
        count_tokens,
        replace(NONE, paraphrase=1.0),
    )
    data = json.loads(answer.text)["data"]
    assert data[0] == "What is the name of the fund?"
    assert "long-term goals?" in data[1] and "'ve" not in data[1].split()
    assert "NAME_1" in data[1] or "Alice" not in data[1]  # the names were swapped
    classes = {e.removeprefix("paraphrase:") for e in answer.effects}
    assert {"spacing", "hyphenation", "contractions", "grammar"} <= classes
    assert classes & {"names_to_placeholders", "placeholders_to_names"}
    # still a valid answer to the same prompt: same category, same number of items
    assert candidate(answer.text).category == "Reading Comprehension"
    assert len(data) == 2


def test_an_invented_item_is_not_in_the_prompt_and_fails_grounding() -> None:
    text = styled(LIST, replace(NONE, invent=1.0))
    data = json.loads(text)["data"]
    assert data[:2] == ["The weather is lovely today.", "I like tea."] and len(data) == 3
    assert data[2] not in LIST
    verdict = CONTRACT.judge(LIST, text, "end_turn")
    assert verdict.outcome is Outcome.FAILED and verdict.reason == "items_not_in_prompt"


def test_saying_no_to_a_parallel_prompt() -> None:
    verdict = CONTRACT.judge(LIST, styled(LIST, replace(NONE, say_no=1.0)), "end_turn")
    assert verdict.outcome is Outcome.NOT_PARALLELIZABLE


def test_over_splitting_an_inline_list_copies_its_items() -> None:
    prompt = "Compare the following phones on price and camera quality: Pixel 8, iPhone 15, S24."
    assert json.loads(heuristic_answer(prompt))["parallelizable"] is False
    text = styled(prompt, replace(NONE, over_split=1.0))
    obj = json.loads(text)
    assert obj["parallelizable"] is True and obj["category_description"]
    assert obj["data"] == ["Pixel 8", "iPhone 15", "S24"]
    assert obj["template"].endswith("camera quality: {data}.")
    verdict = CONTRACT.judge(prompt, text, "end_turn")
    assert verdict.outcome in (Outcome.HIGH, Outcome.MEDIUM), verdict
    assert verdict.is_novel_category


def test_over_splitting_a_long_prompt_writes_the_template_as_an_edit() -> None:
    prompt = "We sell phones online and our customers keep asking us about them. " * 4
    prompt += "Compare the following phones on price and camera quality: Pixel 8, iPhone 15, S24."
    text = styled(prompt, replace(NONE, over_split=1.0))
    assert json.loads(text)["template"] == {"replace": "Pixel 8, iPhone 15, S24", "with": "{data}"}
    verdict = CONTRACT.judge(prompt, text, "end_turn")
    assert verdict.candidate is not None and verdict.candidate.template == (
        prompt.replace("Pixel 8, iPhone 15, S24", "{data}")
    )
    assert verdict.outcome in (Outcome.HIGH, Outcome.MEDIUM), verdict


def test_saying_no_is_the_lean_negative() -> None:
    assert json.loads(styled(LIST, replace(NONE, say_no=1.0))) == {"parallelizable": False}


@pytest.mark.parametrize("wrap", ["fence", "prose"])
def test_wrapped_json_parses_to_the_same_answer(wrap: str) -> None:
    text = styled(LIST, replace(NONE, **{wrap: 1.0}))
    assert text != heuristic_answer(LIST) and not text.startswith("{")
    assert ("```json" in text) is (wrap == "fence")
    assert candidate(text) == candidate(heuristic_answer(LIST))


def test_prose_only_is_unparseable_no_json() -> None:
    parsed = parse_answer(styled(LIST, replace(NONE, no_json=1.0)), "end_turn")
    assert isinstance(parsed, ParseFailure) and parsed.reason == "no_json"


@pytest.mark.parametrize("max_tokens", [64, 300, 1024])
def test_rambling_runs_into_max_tokens_and_is_cut_there(max_tokens: int) -> None:
    text = styled(QUESTIONS, replace(NONE, ramble=1.0), max_tokens=max_tokens)
    assert count_tokens(text) > max_tokens
    answer = answers.compose(text, None, max_tokens, count_tokens)
    assert answer.stop_reason == "max_tokens" and answer.output_tokens == max_tokens
    assert answer.text is not None and text.startswith(answer.text)
    assert count_tokens(answer.text) <= max_tokens
    verdict = CONTRACT.judge(QUESTIONS, answer.text, answer.stop_reason)
    assert verdict.outcome is Outcome.UNPARSEABLE and verdict.reason == "truncated"


def test_deterministic_per_seed_and_prompt() -> None:
    prompts = [f"Translate these into French:\n1. cat {i}\n2. dog {i}\n3. bird" for i in range(60)]
    first = [styled(p, REALISTIC, seed=7) for p in prompts]
    assert first == [styled(p, REALISTIC, seed=7) for p in prompts]
    assert first != [styled(p, REALISTIC, seed=8) for p in prompts]
    responder = StyledResponder(seed=7)
    assert [responder(p, None, 1024) for p in prompts] == first
    assert [responder(p, None, 1024) for p in prompts] == first  # a retry: the same answer


def test_documented_rates_over_many_prompts() -> None:
    """Over 2,000 prompts the shares come out at the documented rates (draws are independent
    and seeded, so these counts are fixed for the seed)."""
    effects: Counter[str] = Counter()
    parallel = negative = 0
    for i in range(2000):
        prompt = f"Translate these sentences into German:\n1. Item {i} is here .\n2. Another one"
        if i % 4 == 0:
            prompt = f"Compare these options for case {i}: red, green and blue."
        answer = heuristic_answer(prompt)
        is_parallel = json.loads(answer)["parallelizable"]
        parallel += is_parallel
        negative += not is_parallel
        effects.update(restyle(answer, prompt, 1024, 3, count_tokens).effects)
    assert parallel == 1500 and negative == 500
    n = parallel + negative

    def near(count: int, rate: float, base: int) -> bool:
        return abs(count / base - rate) < 0.03 + 3 * (rate * (1 - rate) / base) ** 0.5

    assert near(effects["no_json"], REALISTIC.no_json, n)
    assert near(effects["ramble"], REALISTIC.ramble, n)
    assert near(effects["fence"], REALISTIC.fence, n)
    assert near(effects["prose"], REALISTIC.prose, n)
    kept = parallel - effects["say_no"]
    assert near(effects["say_no"], REALISTIC.say_no, parallel)
    assert near(effects["invent"], REALISTIC.invent, kept)
    assert near(effects["paraphrase:spacing"], REALISTIC.paraphrase, kept)
    assert near(effects["over_split"], REALISTIC.over_split, negative)


def test_rates_are_checked() -> None:
    with pytest.raises(ValueError, match="invent"):
        StyleRates(invent=1.5)
    with pytest.raises(ValueError, match="exclusive"):
        StyleRates(fence=0.6, prose=0.6)


# -- in the emulator -------------------------------------------------------------------------


def test_realistic_is_the_default_and_exact_a_flag_or_a_variable() -> None:
    from parallelprompt import settings as cfg
    from parallelprompt.cli import build_parser
    from parallelprompt.emulator.process import command

    def parse(*flags: str) -> argparse.Namespace:
        return build_parser().parse_args(["emulator", *flags])

    assert EmulatorSettings().answer_style == "realistic"
    assert cfg.build(parse(), {}).emulator.answer_style == "realistic"
    assert cfg.build(parse("--answer-style", "exact"), {}).emulator.answer_style == "exact"
    env = {"PARALLELPROMPT_EMULATOR_ANSWER_STYLE": "exact"}
    assert cfg.build(parse(), env).emulator.answer_style == "exact"
    with pytest.raises(SystemExit):
        parse("--answer-style", "sloppy")
    argv = command(EmulatorSettings(answer_style="exact"))
    assert argv[argv.index("--answer-style") + 1] == "exact"  # a spawned emulator keeps it


async def test_the_emulator_answers_in_the_style_and_counts_it(running: EmulatorFactory) -> None:
    prompts = [f"Translate these sentences into German:\n1. Cat {i} .\n2. Dog" for i in range(40)]
    async with (
        running(answer_style="realistic", seed=5) as emu,
        bedrock(emu.endpoint or "") as client,
    ):
        texts = [await _text(client, p) for p in prompts]
        again = [await _text(client, p) for p in prompts[:10]]  # retries: the same answers
        stats = emu.stats()
    assert again == texts[:10]
    expected = [answers.compose(styled(p, REALISTIC, 5), None, 1024, count_tokens) for p in prompts]
    assert texts == [a.text for a in expected]
    assert sum(t != heuristic_answer(p) for t, p in zip(texts, prompts, strict=True)) >= 10
    assert stats["answer_style"] == "realistic"
    assert stats["style_effects"]["paraphrase:spacing"] >= 10
    async with running(seed=5) as emu, bedrock(emu.endpoint or "") as client:  # exact
        assert [await _text(client, p) for p in prompts] == list(map(heuristic_answer, prompts))
        assert emu.stats()["answer_style"] == "exact" and emu.stats()["style_effects"] == {}


async def _text(client: Any, prompt: str) -> str:
    result = await converse(client, prompt, max_tokens=1024)
    text: str = result["output"]["message"]["content"][0]["text"]
    return text
