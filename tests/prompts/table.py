"""Hand-written prompts, model answers and the expected outcome under both rule profiles.

Expected strings: "high_confidence", "medium_confidence", "not_parallelizable",
"failed:<FailureReason>", "unparseable:<ParseFailureReason>"; for the original profile
"low_confidence" (no cue) and "schema:<FailureReason>" (its schema failures, which it labelled
"not_parallelizable").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    id: str
    lang: str
    prompt: str
    answer: str
    default: str
    original: str
    stop: str | None = "end_turn"


def ans(
    category: str | None,
    template: str | None,
    *,
    data: Any = None,
    n: Any = None,
    context: str | None = None,
    serial: str | None = None,
    parallelizable: Any = True,
    **extra: Any,
) -> str:
    body: dict[str, Any] = {
        "parallelizable": parallelizable,
        "category": category,
        "is_novel_category": False,
        "category_description": None,
        "serial": serial,
        "template": template,
        "context": context,
        "data": data,
        "n": n,
    }
    body.update(extra)
    return json.dumps(body, ensure_ascii=False)


def _lean(category: str, template: Any, **fields: Any) -> str:
    """A lean answer (prompts/lean.py): only the keys it needs."""
    return json.dumps(
        {"parallelizable": True, "category": category, "template": template, **fields}
    )


BAKERY = (
    "We are a family bakery in Porto, open since 1998 and known for sourdough. "
    "Give me 5 slogans for our new shop."
)
AMAZON = (
    "The Amazon river flows through Brazil, Peru and Colombia. It carries more water than any "
    "other river and feeds the largest rainforest on Earth."
)
AMAZON_QA = AMAZON + "\n\nAnswer the following questions:\n1. Which countries does it cross?\n"
AMAZON_QA += "2. What does it feed?"
AMAZON_T = "{context}\n\nAnswer the following questions:\n{data}"
AMAZON_QS = ["Which countries does it cross?", "What does it feed?"]


def no(serial: str) -> str:
    return ans(None, None, parallelizable=False, serial=serial)


RG = "Repeated Generation"
RC = "Reading Comprehension"
TR = "Translation"
NER = "Named Entity Recognition"
LC = "Language Correction"
SA = "Sentiment Analysis"
KE = "Keyword Extraction"

PASSAGE = (
    "Climate change is the long-term alteration of temperature and typical weather patterns. "
    "It primarily occurs due to the burning of fossil fuels, which releases carbon dioxide."
)
EIFFEL = (
    "La Tour Eiffel a été construite en 1889 pour l'Exposition universelle. Elle mesure 330 mètres."
)
BERLIN = "Berlin ist die Hauptstadt Deutschlands. Die Stadt hat etwa 3,7 Millionen Einwohner."

ROWS: tuple[Row, ...] = (
    # --- Repeated Generation, many languages: the original's "number directly + 26 nouns" miss
    Row(
        "rg-en-adjectives",
        "en",
        "Give me 5 healthy breakfast ideas.",
        ans(RG, "Give me a healthy breakfast idea.", n=5),
        "high_confidence",
        "low_confidence",
    ),
    Row(
        "rg-en-slogans",
        "en",
        "Generate 10 slogans for a coffee shop",
        ans(RG, "Generate a slogan for a coffee shop", n=10),
        "high_confidence",
        "low_confidence",
    ),
    Row(
        "rg-en-stories",
        "en",
        "Write 3 stories about dragons",
        ans(RG, "Write a story about dragons", n=3),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "rg-en-examples",
        "en",
        "Give me 5 examples of metaphors.",
        ans(RG, "Give me an example of a metaphor.", n=5),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "rg-es-words",
        "es",
        "Dame cinco ideas para una fiesta de cumpleaños",
        ans(RG, "Dame una idea para una fiesta de cumpleaños", n=5),
        "high_confidence",
        "low_confidence",
    ),
    Row(
        "rg-fr",
        "fr",
        "Propose-moi 3 titres pour mon article de blog",
        ans(RG, "Propose-moi un titre pour mon article de blog", n=3),
        "high_confidence",
        "low_confidence",
    ),
    Row(
        "rg-de-words",
        "de",
        "Nenne mir drei Beispiele für erneuerbare Energien",
        ans(RG, "Nenne mir ein Beispiel für erneuerbare Energien", n=3),
        "high_confidence",
        "low_confidence",
    ),
    Row(
        "rg-zh",
        "zh",
        "写五个关于猫的笑话",
        ans(RG, "写一个关于猫的笑话", n=5),
        "high_confidence",
        "low_confidence",
    ),
    Row(
        "rg-ja",
        "ja",
        "猫の名前を3つ考えてください",
        ans(RG, "猫の名前を1つ考えてください", n=3),
        "high_confidence",
        "low_confidence",
    ),
    Row(
        "rg-ru",
        "ru",
        "Придумай 5 названий для кофейни",
        ans(RG, "Придумай название для кофейни", n=5),
        "high_confidence",
        "low_confidence",
    ),
    Row(
        "rg-n-string",
        "en",
        "Give me 5 examples of similes",
        ans(RG, "Give me an example of a simile", n="5"),
        "high_confidence",
        "schema:n_invalid",
    ),
    Row(
        "rg-n-float",
        "en",
        "Write 4 jokes about cats",
        ans(RG, "Write a joke about cats", n=4.0),
        "high_confidence",
        "low_confidence",
    ),
    Row(
        "rg-yes-string",
        "en",
        "Write 3 stories about pirates",
        ans(RG, "Write a story about pirates", n=3, parallelizable="yes"),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "rg-n-mentioned",
        "en",
        "I need 6 for my party, things to bring, please",
        ans(RG, "Suggest a thing to bring to my party", n=6),
        "medium_confidence",
        "low_confidence",
    ),
    # --- Translation
    Row(
        "tr-en-numbered",
        "en",
        "Translate the following sentences into French:\n1. Good morning\n2. Where is the "
        "station?\n3. Thank you",
        ans(
            TR,
            "Translate into French: {data}",
            data=["Good morning", "Where is the station?", "Thank you"],
        ),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "tr-es-numbered",
        "es",
        "Traduce al inglés las siguientes frases:\n1. Buenos días\n2. ¿Dónde está la estación?"
        "\n3. Muchas gracias",
        ans(
            TR,
            "Traduce al inglés: {data}",
            data=["Buenos días", "¿Dónde está la estación?", "Muchas gracias"],
        ),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "tr-it-quoted",
        "it",
        "Traduci queste frasi in inglese: 'Buongiorno', 'Buonanotte', 'Grazie'.",
        ans(
            TR,
            "Traduci questa frase in inglese: {data}",
            data=["Buongiorno", "Buonanotte", "Grazie"],
        ),
        "high_confidence",
        "medium_confidence",
    ),
    Row(
        "tr-en-and-list",
        "en",
        "Translate 'cat', 'dog' and 'bird' into German",
        ans(TR, "Translate into German: {data}", data=["cat", "dog", "bird"]),
        "medium_confidence",
        "medium_confidence",
    ),
    Row(
        "tr-pt-bullets",
        "pt",
        "Traduza para o inglês as seguintes frases:\n- Bom dia\n- Obrigado",
        ans(TR, "Traduza para o inglês: {data}", data=["Bom dia", "Obrigado"]),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "tr-zh-ordinals",
        "zh",
        "把下面的句子翻译成英文：\n一、我喜欢猫。\n二、今天天气很好。",
        ans(TR, "把这个句子翻译成英文：{data}", data=["我喜欢猫。", "今天天气很好。"]),
        "high_confidence",
        "medium_confidence",
    ),
    Row(
        "tr-ko-numbered",
        "ko",
        "다음 문장을 영어로 번역해 주세요:\n1. 안녕하세요\n2. 감사합니다",
        ans(TR, "이 문장을 영어로 번역해 주세요: {data}", data=["안녕하세요", "감사합니다"]),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "tr-one-sentence-split",
        "en",
        "Translate 'Good morning, how are you?' into Spanish",
        ans(TR, "Translate into Spanish: {data}", data=["Good morning", "how are you?"]),
        "failed:no_structural_cue",
        "medium_confidence",
    ),
    Row(
        "tr-invented-context",
        "en",
        "Translate these phrases to Spanish: Good morning, Good night, Thank you.",
        ans(
            TR,
            "{context}\nTranslate: {data}",
            context="Common English phrases.",
            data=["Good morning", "Good night", "Thank you"],
        ),
        "failed:context_not_in_prompt",
        "high_confidence",
    ),
    Row(
        "tr-data-string",
        "en",
        "Translate these phrases to Spanish: apples, oranges",
        ans(TR, "Translate: {data}", data="apples, oranges"),
        "failed:data_too_short",
        "schema:data_not_a_list",
    ),
    Row(
        "tr-data-object",
        "en",
        "Translate to Spanish: apples, oranges, pears",
        ans(TR, "Translate: {data}", data={"a": "apples", "b": "oranges"}),
        "failed:data_not_a_list",
        "schema:data_not_a_list",
    ),
    Row(
        "tr-data-one",
        "en",
        "Translate these sentences: Hello.",
        ans(TR, "Translate: {data}", data=["Hello."]),
        "failed:data_too_short",
        "schema:data_too_short",
    ),
    Row(
        "tr-empty-item",
        "en",
        "Translate the following words: Hello, Goodbye",
        ans(TR, "Translate: {data}", data=["Hello", " "]),
        "failed:data_empty_item",
        "medium_confidence",
    ),
    Row(
        "tr-duplicates",
        "en",
        "Translate: Hello, hello, goodbye",
        ans(TR, "Translate: {data}", data=["Hello", "hello", "goodbye"]),
        "failed:data_duplicate_items",
        "medium_confidence",
    ),
    Row(
        "tr-missing-data-placeholder",
        "en",
        "Translate the following sentences to French:\n1. Hi\n2. Bye",
        ans(TR, "Translate to French", data=["Hi", "Bye"]),
        "failed:template_missing_data",
        "schema:template_missing_data",
    ),
    Row(
        "tr-no-template",
        "en",
        "Translate these sentences:\n1. Hi there\n2. Bye now",
        ans(TR, None, data=["Hi there", "Bye now"]),
        "failed:template_missing",
        "high_confidence",
    ),
    Row(
        "tr-unexpected-context",
        "en",
        "Translate these sentences:\n1. Hi there\n2. Bye now",
        ans(TR, "{context} Translate {data}", data=["Hi there", "Bye now"]),
        "failed:template_unexpected_context",
        "high_confidence",
    ),
    Row(
        "tr-missing-category",
        "en",
        "Translate these sentences:\n1. Hi there\n2. Bye now",
        ans(None, "Translate {data}", data=["Hi there", "Bye now"]),
        "failed:missing_category",
        "high_confidence",
    ),
    # --- Reading Comprehension
    Row(
        "rc-en-passage",
        "en",
        f"{PASSAGE}\nAnswer these questions:\n1. What causes global warming?\n"
        "2. What are its effects?",
        ans(
            RC,
            "{context}\n\nAnswer this question: {data}",
            context=PASSAGE,
            data=["What causes global warming?", "What are its effects?"],
        ),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "rc-fr-final-question",
        "fr",
        f"{EIFFEL} Quand a-t-elle été construite ? Combien mesure-t-elle ?",
        ans(
            RC,
            "{context}\n\nRéponds : {data}",
            context=EIFFEL,
            data=["Quand a-t-elle été construite ?", "Combien mesure-t-elle ?"],
        ),
        "high_confidence",
        "medium_confidence",
    ),
    Row(
        "rc-en-two-questions",
        "en",
        "Who wrote Hamlet? When was it written?",
        ans(RC, "{data}", data=["Who wrote Hamlet?", "When was it written?"]),
        "high_confidence",
        "medium_confidence",
    ),
    Row(
        "rc-de-numbered",
        "de",
        f"{BERLIN} Beantworte die Fragen: 1. Was ist die Hauptstadt? 2. Wie viele Einwohner?",
        ans(
            RC,
            "{context}\n\nBeantworte: {data}",
            context=BERLIN,
            data=["Was ist die Hauptstadt?", "Wie viele Einwohner?"],
        ),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "rc-missing-context-placeholder",
        "en",
        f"{PASSAGE}\nAnswer these questions:\n1. What causes it?\n2. What are its effects?",
        ans(
            RC, "Answer: {data}", context=PASSAGE, data=["What causes it?", "What are its effects?"]
        ),
        "failed:template_missing_context",
        "high_confidence",
    ),
    Row(
        "rc-paraphrased-questions",
        "en",
        f"{PASSAGE}\nAnswer these questions:\n1. What causes it?\n2. What are its effects?",
        ans(
            RC,
            "{context}\n{data}",
            context=PASSAGE,
            data=["What is the cause of climate change?", "What are the effects?"],
        ),
        "failed:items_not_in_prompt",
        "high_confidence",
    ),
    # --- Named Entity Recognition, Keyword Extraction, Language Correction, Sentiment
    Row(
        "ner-names",
        "en",
        "Extract the named entities from these sentences: NAME_1 works at Siemens. NAME_2 "
        "moved to Lyon.",
        ans(
            NER,
            "Extract the named entities: {data}",
            data=["Anna works at Siemens.", "Ben moved to Lyon."],
            serial="Extract the named entities from these sentences: Anna works at Siemens. "
            "Ben moved to Lyon.",
        ),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "ner-invented-items",
        "en",
        "Identify all entities in the following text: Apple opened a store in Tokyo.",
        ans(NER, "Find {data} in the text", data=["Apple Inc. (ORG)", "Tokyo (LOC)"]),
        "failed:items_not_in_prompt",
        "high_confidence",
    ),
    Row(
        "ner-types-no-cue",
        "en",
        "Find the people and places in this text: NAME_1 flew from Paris to Rome with NAME_2.",
        ans(
            NER,
            "Find all {data} in: {context}",
            context="Anna flew from Paris to Rome with Ben.",
            data=["people", "places"],
            serial="Find the people and places in this text: Anna flew from Paris to Rome "
            "with Ben.",
        ),
        "medium_confidence",  # issue 10.2: two items joined by "and" are a cue
        "medium_confidence",
    ),
    Row(
        "ke-en",
        "en",
        "Extract keywords from each of these abstracts:\n1. Deep learning improves protein "
        "folding.\n2. Solar panels lose efficiency in heat.",
        ans(
            KE,
            "Extract keywords from this abstract: {data}",
            data=[
                "Deep learning improves protein folding.",
                "Solar panels lose efficiency in heat.",
            ],
        ),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "lc-fr-chaque",
        "fr",
        "Corrige les fautes dans chaque phrase : « Je suis aller au marché. » « Ils mangeait "
        "une pomme. »",
        ans(
            LC,
            "Corrige les fautes dans cette phrase : {data}",
            data=["Je suis aller au marché.", "Ils mangeait une pomme."],
        ),
        "high_confidence",
        "low_confidence",
    ),
    Row(
        "lc-en-inline",
        "en",
        "Fix the grammar: 1. He go to school. 2. They was happy.",
        ans(LC, "Fix the grammar: {data}", data=["He go to school.", "They was happy."]),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "sa-zh-bullets",
        "zh",
        "请判断以下评论的情感（正面或负面）：\n- 这家餐厅太好吃了\n- 服务很差，不会再来",
        ans(SA, "请判断这条评论的情感：{data}", data=["这家餐厅太好吃了", "服务很差，不会再来"]),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "sa-en-each",
        "en",
        "Is each review positive or negative? Great phone. Broke in a week. Love it.",
        ans(
            SA,
            "Is this review positive or negative? {data}",
            data=["Great phone.", "Broke in a week.", "Love it."],
        ),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "sa-ru-each",
        "ru",
        "Определи тональность каждого отзыва: «Отличный телефон», «Сломался через неделю»",
        ans(
            SA,
            "Определи тональность отзыва: {data}",
            data=["Отличный телефон", "Сломался через неделю"],
        ),
        "high_confidence",
        "low_confidence",
    ),
    # --- novel categories
    Row(
        "novel-haiku-each",
        "en",
        "Write a haiku about each season: spring, summer, autumn, winter.",
        ans(
            "Poetry Generation",
            "Write a haiku about {data}.",
            data=["spring", "summer", "autumn", "winter"],
        ),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "novel-capitals",
        "en",
        "What are the capitals of France, Germany, Italy and Spain?",
        ans(
            "Factual Question Answering",
            "What is the capital of {data}?",
            data=["France", "Germany", "Italy", "Spain"],
        ),
        "medium_confidence",
        "medium_confidence",
    ),
    Row(
        "novel-bio-sections",
        "en",
        "Write a short bio of Marie Curie covering her childhood, research and legacy.",
        ans(
            "Biography Sections",
            "Write about Marie Curie's {data}.",
            data=["childhood", "research", "legacy"],
        ),
        "medium_confidence",
        "medium_confidence",
    ),
    Row(
        "novel-squares",
        "en",
        "Compute the square of 4, 9 and 16",
        ans("Math Computation", "Compute the square of {data}", data=[4, 9, 16]),
        "medium_confidence",
        "schema:data_not_strings",
    ),
    Row(
        "novel-sun-moon",
        "en",
        "Write a short poem about the sun and the moon",
        ans("Poetry Generation", "Write a short poem about {data}", data=["the sun", "the moon"]),
        "failed:no_structural_cue",
        "low_confidence",
    ),
    Row(
        "novel-n-sql",
        "en",
        "Generate 4 SQL queries for a users table",
        ans("SQL Generation", "Write a SQL query for a users table", n=4),
        "failed:n_wrong_category",
        "schema:template_missing_data",
    ),
    # --- the model says no
    Row(
        "no-essay",
        "en",
        "Write an essay about climate change.",
        no("Write an essay about climate change."),
        "not_parallelizable",
        "not_parallelizable",
    ),
    Row(
        "no-bio-es",
        "es",
        "Escribe una biografía de Frida Kahlo.",
        no("Escribe una biografía de Frida Kahlo."),
        "not_parallelizable",
        "not_parallelizable",
    ),
    Row(
        "no-calc-de",
        "de",
        "Berechne den Umsatz für 2023 und dann das Wachstum gegenüber 2022.",
        no("Berechne den Umsatz für 2023 und dann das Wachstum gegenüber 2022."),
        "not_parallelizable",
        "not_parallelizable",
    ),
    Row(
        "no-ja",
        "ja",
        "東京でおすすめのレストランを教えてください。",
        no("東京でおすすめのレストランを教えてください。"),
        "not_parallelizable",
        "not_parallelizable",
    ),
    Row(
        "no-ru",
        "ru",
        "Объясни, как работает блокчейн.",
        no("Объясни, как работает блокчейн."),
        "not_parallelizable",
        "not_parallelizable",
    ),
    Row(
        "no-string-false",
        "en",
        "Design a database schema for a library",
        ans(None, None, parallelizable="false"),
        "not_parallelizable",
        "low_confidence",  # issue 10: the published code reads a non-empty string as true
    ),
    # --- the model says yes without evidence, or breaks the schema
    Row(
        "yes-design-api",
        "en",
        "Design a REST API for a todo app",
        ans(RG, "Design a REST API for a todo app", n=3),
        "failed:no_structural_cue",
        "low_confidence",
    ),
    Row(
        "both-data-and-n",
        "en",
        "Write 3 short stories about these animals: dogs, cats, and birds.",
        ans(RG, "Write a short story about {data}.", data=["dogs", "cats", "birds"], n=3),
        "failed:both_data_and_n",
        "schema:both_data_and_n",
    ),
    Row(
        "neither-data-nor-n",
        "en",
        "Name 3 examples of fruits",
        ans(RG, "Name an example of a fruit"),
        "failed:neither_data_nor_n",
        "high_confidence",
    ),
    Row(
        "n-one",
        "en",
        "Give me 1 idea for dinner",
        ans(RG, "Give me an idea for dinner", n=1),
        "failed:n_invalid",
        "schema:n_invalid",
    ),
    Row(
        "n-huge",
        "en",
        "Generate 5000 names for a startup",
        ans(RG, "Generate a name for a startup", n=5000),
        "failed:n_invalid",
        "low_confidence",
    ),
    Row(
        "n-words",
        "en",
        "Give me five names for a dog",
        ans(RG, "Give me a name for a dog", n="five"),
        "failed:n_invalid",
        "schema:n_invalid",
    ),
    Row(
        "template-has-n",
        "en",
        "Tell me 3 jokes",
        ans(RG, "Tell me {n} jokes", n=3),
        "failed:template_has_n",
        "schema:template_has_n",
    ),
    Row(
        "template-unexpected-data",
        "en",
        "Tell me 3 jokes",
        ans(RG, "Tell me a joke about {data}", n=3),
        "failed:template_unexpected_data",
        "low_confidence",
    ),
    Row(
        "data-not-strings",
        "en",
        "Translate the following sentences:\n1. Hi\n2. Bye",
        ans(TR, "Translate: {data}", data=[{"text": "Hi"}, {"text": "Bye"}]),
        "failed:data_not_strings",
        "schema:data_not_strings",
    ),
    # --- parsing
    Row(
        "parse-fenced",
        "en",
        "Give me 5 examples of metaphors.",
        "Here is my analysis:\n```json\n"
        + ans(RG, "Give me an example of a metaphor.", n=5)
        + "\n```\nHope this helps.",
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "parse-prose-two-objects",
        "en",
        "Give me 5 examples of metaphors.",
        "Answer: " + ans(RG, "Give me an example of a metaphor.", n=5) + " or maybe " + no("x"),
        "high_confidence",
        "unparseable:broken_json",  # issue 10: the published greedy {.*} spans both objects
    ),
    Row("parse-empty", "en", "Hi", "", "unparseable:empty", "unparseable:empty"),
    Row(
        "parse-no-json",
        "en",
        "Hi",
        "This prompt is not parallelizable.",
        "unparseable:no_json",
        "unparseable:no_json",
    ),
    Row(
        "parse-truncated-stop",
        "en",
        "Hi",
        '{"parallelizable": true, "category": "Transl',
        "unparseable:truncated",
        "unparseable:truncated",
        stop="max_tokens",
    ),
    Row(
        "parse-truncated-open",
        "en",
        "Hi",
        '{"parallelizable": true, "data": ["a", "b"',
        # issue 12: a broken object that ended normally is broken JSON, not a max_tokens cut
        "unparseable:broken_json",
        "unparseable:broken_json",
    ),
    Row(
        "parse-refusal-text",
        "en",
        "Hi",
        "I'm sorry, but I can't help with that request.",
        "unparseable:refusal",
        "unparseable:refusal",
    ),
    Row(
        "parse-refusal-stop",
        "en",
        "Hi",
        "",
        "unparseable:refusal",
        "unparseable:refusal",
        stop="content_filtered",
    ),
    Row(
        "parse-broken",
        "en",
        "Hi",
        '{"parallelizable": true "category": "x"}',
        "unparseable:broken_json",
        "unparseable:broken_json",
    ),
    Row(
        "parse-not-object",
        "en",
        "Hi",
        '["a", "b"]',
        "unparseable:not_an_object",
        "unparseable:not_an_object",
    ),
    Row(
        "parse-missing-key",
        "en",
        "Hi",
        '{"category": "Translation"}',
        "unparseable:missing_parallelizable",
        "not_parallelizable",  # issue 10: published result.get("parallelizable", False)
    ),
    Row(
        "parse-wrong-bool",
        "en",
        "Hi",
        '{"parallelizable": "maybe"}',
        "unparseable:wrong_types",
        "low_confidence",  # issue 10: truthiness, as published
    ),
    Row(
        "parse-wrong-category",
        "en",
        "Hi",
        '{"parallelizable": true, "category": 5}',
        "unparseable:wrong_types",
        "low_confidence",  # issue 10: the published code never checks the category's type
    ),
    Row(
        "parse-list-category",
        "en",
        "Translate: 1. hi 2. bye",
        '{"parallelizable": true, "category": ["Translation"], "data": ["hi", "bye"]}',
        "unparseable:wrong_types",
        "schema:type_error",  # the published statistics dict raised on an unhashable category
    ),
    # Lean answers (issue 13): pointers instead of copies, expanded by prompts/lean.py.
    Row(
        "lean-negative",
        "en",
        "Write a poem about the sea.",
        '{"parallelizable": false}',
        "not_parallelizable",
        "not_parallelizable",
    ),
    Row(
        "lean-rg-edit",
        "en",
        BAKERY,
        _lean(RG, {"replace": "5 slogans", "with": "a slogan"}, n=5),
        "high_confidence",
        "low_confidence",
    ),
    Row(
        "lean-rg-edit-missing",
        "en",
        BAKERY,
        _lean(RG, {"replace": "5 taglines", "with": "a tagline"}, n=5),
        "failed:template_not_in_prompt",
        "low_confidence",
    ),
    Row(
        "lean-rc-anchors",
        "en",
        AMAZON_QA,
        _lean(
            RC,
            AMAZON_T,
            context={"from": "The Amazon river flows", "to": "rainforest on Earth."},
            data=AMAZON_QS,
        ),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "lean-rc-anchors-invented",
        "en",
        AMAZON_QA,
        _lean(
            RC,
            AMAZON_T,
            context={"from": "The museum opened in 1901", "to": "from Europe."},
            data=AMAZON_QS,
        ),
        "failed:context_not_in_prompt",
        "high_confidence",
    ),
    Row(
        "lean-rc-offsets",
        "en",
        AMAZON_QA,
        _lean(RC, AMAZON_T, context=[0, len(AMAZON)], data=AMAZON_QS),
        "high_confidence",
        "high_confidence",
    ),
    Row(
        "lean-rc-offsets-out-of-range",
        "en",
        AMAZON_QA,
        _lean(RC, AMAZON_T, context=[0, 5000], data=AMAZON_QS),
        "failed:context_not_in_prompt",
        "high_confidence",
    ),
    Row(
        "lean-names",
        "en",
        "Translate to French:\n1. NAME_1 likes tea.\n2. NAME_2 plays chess.",
        _lean(
            TR,
            "Translate to French: {data}",
            names={"NAME_1": "Maria", "NAME_2": "Tom"},
            data=["Maria likes tea.", "Tom plays chess."],
        ),
        "high_confidence",
        "high_confidence",
    ),
)
