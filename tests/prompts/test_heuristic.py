from __future__ import annotations

import json

import pytest

from prompts import Contract, Outcome, heuristic_answer

CONTRACT = Contract.load()
PASSAGE = (
    "The Amazon rainforest covers much of the Amazon basin of South America. It is home to "
    "millions of species and plays a major role in regulating the global climate."
)

CLEAR = [
    ("Give me 5 healthy breakfast ideas", "Repeated Generation"),
    ("Generate 10 catchy slogans for a bakery.", "Repeated Generation"),
    ("Write three short jokes about programmers", "Repeated Generation"),
    ("写五个关于猫的笑话", "Repeated Generation"),
    ("Dame cinco ideas para una cena romántica", "Repeated Generation"),
    (
        "Translate the following sentences into French:\n1. Good morning\n2. Where is the "
        "station?\n3. Thank you very much",
        "Translation",
    ),
    ("Traduce al inglés estas frases:\n- Buenos días\n- Muchas gracias", "Translation"),
    ("Übersetze ins Englische:\nGuten Morgen\nVielen Dank\nBis bald", "Translation"),
    ("Translate 'cat', 'dog' and 'bird' into German", "Translation"),
    (
        f"{PASSAGE}\n\nAnswer the following questions:\n1. Where is the Amazon?\n"
        "2. Why does it matter for the climate?",
        "Reading Comprehension",
    ),
    (
        "Answer these questions:\n1. What is the capital of France?\n2. Who painted the Mona Lisa?",
        "Reading Comprehension",
    ),
    (
        "Extract the named entities from these sentences: NAME_1 works at Siemens in Munich. "
        "NAME_2 moved to Lyon last year.",
        "Named Entity Recognition",
    ),
    (
        "Extract the keywords from each abstract:\n1. Deep learning improves protein folding.\n"
        "2. Solar panels lose efficiency in heat.",
        "Keyword Extraction",
    ),
    (
        "Fix the grammar: 1. He go to school every day. 2. They was happy yesterday.",
        "Language Correction",
    ),
    (
        "Corrige les fautes dans chaque phrase : « Je suis aller au marché. » « Ils mangeait une "
        "pomme. »",
        "Language Correction",
    ),
    (
        "请判断以下评论的情感（正面或负面）：\n- 这家餐厅太好吃了\n- 服务很差，不会再来",
        "Sentiment Analysis",
    ),
    (
        "Classify the sentiment of these reviews:\n* Great phone, love it\n* Broke after a week",
        "Sentiment Analysis",
    ),
]

NEGATIVE = [
    "Write an essay about climate change.",
    "What is the capital of France?",
    "Explain step by step how to solve 3x + 5 = 20.",
    "Design a scalable architecture for a chat application.",
    "How do I install Python?\n1. Download the installer\n2. Run it",
    "Write a 500 word story about a dragon.",
    "Compare Python, Java and Go and recommend one for my startup.",
    "Escribe una biografía de Frida Kahlo.",
    "Hallo, wie geht es dir?",
    "Give me 1 idea for dinner",
    "I have 3 kids and 2 dogs. Plan a weekend trip for us.",
    "",
    "NAME_1: hi there",
]


@pytest.mark.parametrize(("prompt", "category"), CLEAR, ids=[c[:30] for c, _ in CLEAR])
def test_clear_cases_pass_default_validation(prompt: str, category: str) -> None:
    answer = heuristic_answer(prompt)
    body = json.loads(answer)
    assert body["parallelizable"] is True
    assert body["category"] == category
    verdict = CONTRACT.judge(prompt, answer, "end_turn")
    assert verdict.outcome in (Outcome.HIGH, Outcome.MEDIUM), verdict


@pytest.mark.parametrize("prompt", NEGATIVE)
def test_negatives_are_not_parallelizable(prompt: str) -> None:
    body = json.loads(heuristic_answer(prompt))
    assert body["parallelizable"] is False
    assert body["data"] is None and body["n"] is None and body["template"] is None
    assert CONTRACT.judge(prompt, heuristic_answer(prompt), "end_turn").outcome is (
        Outcome.NOT_PARALLELIZABLE
    )


def test_answer_has_the_schema_keys_in_order() -> None:
    assert list(json.loads(heuristic_answer("Give me 5 ideas"))) == [
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


def test_repeated_generation_template_is_singular() -> None:
    body = json.loads(heuristic_answer("Give me 5 healthy breakfast ideas"))
    assert body["template"] == "Give me a healthy breakfast idea"
    assert body["n"] == 5 and body["data"] is None


def test_names_are_replaced_consistently() -> None:
    prompt = "Translate these sentences:\n1. NAME_1 likes tea.\n2. NAME_2 and NAME_1 met."
    body = json.loads(heuristic_answer(prompt))
    assert "NAME_" not in heuristic_answer(prompt)
    assert body["data"] == ["Alice likes tea.", "Bob and Alice met."]
    assert CONTRACT.judge(prompt, heuristic_answer(prompt), "end_turn").validation_passed


def test_passage_becomes_context() -> None:
    prompt = CLEAR[9][0]
    body = json.loads(heuristic_answer(prompt))
    assert body["context"] == f"{PASSAGE}\n\nAnswer the following questions:"
    assert "{context}" in body["template"] and "{data}" in body["template"]


def test_deterministic() -> None:
    for prompt, _ in CLEAR:
        assert heuristic_answer(prompt) == heuristic_answer(prompt)
