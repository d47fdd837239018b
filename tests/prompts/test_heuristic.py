from __future__ import annotations

import json

import pytest

from parallelprompt.prompts import Contract, Outcome, heuristic_answer

CONTRACT = Contract.load()
PASSAGE = (
    "The Amazon rainforest covers much of the Amazon basin of South America. It is home to "
    "millions of species and plays a major role in regulating the global climate."
)
LABELLED = (
    f"Text:\n{PASSAGE}\n\nBased on the text above, answer:\nQ1: Where is the Amazon?\n"
    "Q2: Why does it matter?"
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
    # an imperative + a count + any noun, in several languages
    ("Schreibe 4 Gedichte über den Herbst.", "Repeated Generation"),
    ("Escreva 3 legendas para fotos de montanha.", "Repeated Generation"),
    ("Generate 3 different closing lines for a horror story.", "Repeated Generation"),
    # a labelled passage with Q1/Q2 questions
    (LABELLED, "Reading Comprehension"),
    # task vocabulary: key terms, entity types, grammatical errors, polarity labels
    (
        "Hi NAME_1! List the key terms in each of these texts:\n1. Bees pollinate crops.\n"
        "2. Qubits hold several states.",
        "Keyword Extraction",
    ),
    (
        "Identify the people and places in these sentences:\n1. NAME_1 flew to Oslo.\n"
        "2. Ada Lovelace lived in London.",
        "Named Entity Recognition",
    ),
    (
        "找出下列句子中的人名和地名：\n1. 李白住在长安。\n2. 杜甫去了成都。",
        "Named Entity Recognition",
    ),
    (
        "Fix the spelling mistakes in these lines:\n1. I recieved it.\n2. Definately not.",
        "Language Correction",
    ),
    ("Corrija estas frases:\n1. Eles vai embora.\n2. Nós gosta de chá.", "Language Correction"),
    (
        "Mark each comment below as positive, negative or mixed.\n1. Love it.\n2. Meh, broke.",
        "Sentiment Analysis",
    ),
    ("Analiza el sentimiento de cada frase:\n1. Qué bonito.\n2. Qué horror.", "Sentiment Analysis"),
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
    # length constraints and vague counts are not "N things"
    "Summarize this article in 3 different sentences.",
    "Escribe 3 párrafos sobre la historia de España.",
    "Write a poem with 4 lines about spring.",
    "Make me 3 copies of this file.",
    # a list without a recognisable per-item task
    "Note: each of these requirements must be met:\n1. Fast\n2. Cheap",
    "Compare these laptops:\n1. MacBook Air\n2. Dell XPS 13",
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
    assert json.loads(heuristic_answer(prompt)) == {"parallelizable": False}  # lean: nothing else
    assert CONTRACT.judge(prompt, heuristic_answer(prompt), "end_turn").outcome is (
        Outcome.NOT_PARALLELIZABLE
    )


def test_answer_is_lean_with_its_keys_in_order() -> None:
    assert list(json.loads(heuristic_answer("Give me 5 ideas"))) == [
        "parallelizable",
        "category",
        "template",
        "n",
    ]
    body = json.loads(heuristic_answer("Translate these sentences:\n1. NAME_1 likes tea.\n2. Hi."))
    assert list(body) == ["parallelizable", "category", "names", "template", "data"]


def test_repeated_generation_template_is_singular() -> None:
    body = json.loads(heuristic_answer("Give me 5 healthy breakfast ideas"))
    assert body["template"] == "Give me a healthy breakfast idea"
    assert body["n"] == 5 and "data" not in body


def test_names_are_replaced_consistently() -> None:
    prompt = "Translate these sentences:\n1. NAME_1 likes tea.\n2. NAME_2 and NAME_1 met."
    body = json.loads(heuristic_answer(prompt))
    assert body["names"] == {"NAME_1": "Alice", "NAME_2": "Bob"}
    assert body["data"] == ["Alice likes tea.", "Bob and Alice met."]
    verdict = CONTRACT.judge(prompt, heuristic_answer(prompt), "end_turn")
    assert verdict.validation_passed and verdict.candidate is not None
    assert verdict.candidate.serial == (
        "Translate these sentences:\n1. Alice likes tea.\n2. Bob and Alice met."
    )


def test_count_templates_are_singular_and_keep_the_case() -> None:
    body = json.loads(heuristic_answer("Write 3 reminder texts for NAME_1."))
    assert body["template"] == "Write a reminder text for Alice."
    body = json.loads(heuristic_answer("Generate 4 different opening lines for a novel."))
    assert body["template"] == "Generate an opening line for a novel." and body["n"] == 4
    body = json.loads(heuristic_answer("Schreibe 3 Werbesprüche für ein Café."))
    assert body["template"] == "Schreibe 1 Werbesprüche für ein Café." and body["n"] == 3


def test_labelled_passage_is_the_context_without_its_label() -> None:
    body = json.loads(heuristic_answer(LABELLED))
    assert _context(LABELLED) == PASSAGE
    assert body["data"] == ["Where is the Amazon?", "Why does it matter?"]
    assert body["template"] == "Text:\n{context}\n\nBased on the text above, answer:\n{data}"


@pytest.mark.parametrize(
    ("prompt", "category"),
    [
        ("Summarize each of these paragraphs:\n1. Rates rose.\n2. Bees vanished.", "Summarization"),
        ("Explain each of these idioms:\n1. Break the ice\n2. Hit the sack", "Explanation"),
        ("Convert each of these to metres:\n1. 5 feet\n2. 3 yards", "Conversion"),
        ("Rate each of these titles from 1 to 5:\n1. Big news\n2. Small news", "Rating"),
        ("分别解释下面每个成语：\n1. 画蛇添足\n2. 守株待兔", "Explanation"),
    ],
)
def test_each_of_these_lists_get_a_novel_category(prompt: str, category: str) -> None:
    answer = heuristic_answer(prompt)
    body = json.loads(answer)
    assert body["category"] == category
    assert body["category_description"]
    verdict = CONTRACT.judge(prompt, answer, "end_turn")
    assert verdict.outcome in (Outcome.HIGH, Outcome.MEDIUM), verdict
    assert verdict.is_novel_category and verdict.category == category


def test_passage_becomes_context() -> None:
    prompt = CLEAR[9][0]
    body = json.loads(heuristic_answer(prompt))
    assert _context(prompt) == PASSAGE  # the text only: the instruction goes in the template
    assert body["template"] == "{context}\n\nAnswer the following questions:\n{data}"


def test_deterministic() -> None:
    for prompt, _ in CLEAR:
        assert heuristic_answer(prompt) == heuristic_answer(prompt)


def _context(prompt: str) -> str | None:
    """The context the heuristic's answer stands for (copied, or pointed to and expanded)."""
    verdict = CONTRACT.judge(prompt, heuristic_answer(prompt), "end_turn")
    assert verdict.candidate is not None
    return verdict.candidate.context
