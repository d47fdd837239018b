# ruff: noqa: E501  (a data file: long prompts stay on one line)
"""The labelled gold set: prompts, answers in the shapes a model gives, and the verdict expected
under `default` (labelled by hand) and under `original` (the published validator's verdict,
from the oracle in tests/prompts/published_oracle.py; schema failures carry a hand-given reason).

    .venv/bin/python -m tests.prompts.gold.build     # rewrites tests/prompts/gold/gold.jsonl

Labels: "high_confidence", "medium_confidence", "not_parallelizable", "failed:<reason>",
"unparseable:<reason>"; for `original` also "low_confidence" (no cue) and "schema:<reason>".
`grounded` says whether the answer's items and context are in the prompt (true: copied or
paraphrased; false: something invented; null: nothing to ground) -- the truth that
`python -m bench.grounding` measures the grounding decision against.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parallelprompt.prompts import lean as lean_pointers
from parallelprompt.prompts.published import published_shape
from tests.prompts.published_oracle import published

GOLD = Path(__file__).with_name("gold.jsonl")

RG = "Repeated Generation"
RC = "Reading Comprehension"
KE = "Keyword Extraction"
NER = "Named Entity Recognition"
TR = "Translation"
LC = "Language Correction"
SA = "Sentiment Analysis"
HIGH, MEDIUM = "high_confidence", "medium_confidence"
NO_CUE = "failed:no_structural_cue"
ITEMS, CONTEXT = "failed:items_not_in_prompt", "failed:context_not_in_prompt"

# One invented item per language: a sentence that is in no prompt of the set.
INVENTED = {
    "en": "The weather in Lisbon was lovely last spring.",
    "es": "El tren a Sevilla sale a las nueve de la noche.",
    "fr": "Le musée ferme ses portes le lundi matin.",
    "de": "Der Zug nach Hamburg hat heute wieder Verspätung.",
    "it": "Il traghetto per Capri parte ogni ora.",
    "pt": "O comboio para Braga parte às nove horas.",
    "ru": "Поезд в Казань отправляется в девять вечера.",
    "zh": "明天北京的天气晴朗。",
    "ja": "明日の札幌は雪が降ります。",
}
INVENTED_CONTEXT = {
    "en": "The museum opened in 1901 and holds over two million paintings from Europe.",
    "es": "El museo abrió en 1901 y guarda más de dos millones de pinturas europeas.",
    "fr": "Le musée a ouvert en 1901 et conserve plus de deux millions de tableaux.",
    "de": "Das Museum wurde 1901 eröffnet und besitzt über zwei Millionen Gemälde.",
    "it": "Il museo è stato aperto nel 1901 e conserva due milioni di dipinti.",
    "pt": "O museu abriu em 1901 e guarda mais de dois milhões de pinturas.",
    "ru": "Музей открылся в 1901 году и хранит более двух миллионов картин.",
    "zh": "这座博物馆建于1901年，收藏了两百多万幅欧洲绘画。",
    "ja": "その美術館は1901年に開館し、二百万点以上の絵画を所蔵している。",
}


@dataclass
class Case:
    id: str
    lang: str
    cls: str  # the paraphrase class or shape under test
    prompt: str
    answer: str
    default: str
    category: str | None
    grounded: bool | None
    schema_reason: str | None = None  # the reason when the published validator fails the schema
    stop: str = "end_turn"
    original: str = field(default="")

    def label_original(self) -> None:
        # A lean answer is judged as the published answer its pointers stand for.
        stage, tier, _passed = published(self.prompt, published_shape(self.prompt, self.answer))
        if stage == "fallback":
            self.original = self.original or "unparseable:?"  # must be given by hand
        elif stage == "crash":
            self.original = "schema:type_error"
        elif stage == "schema":
            assert self.schema_reason, f"{self.id}: give the schema failure's reason"
            self.original = f"schema:{self.schema_reason}"
        else:
            self.original = tier
        assert "?" not in self.original, f"{self.id}: give the unparseable reason"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "lang": self.lang,
            "class": self.cls,
            "category": self.category,
            "prompt": self.prompt,
            "answer": self.answer,
            "stop": self.stop,
            "expected": {"default": self.default, "original": self.original},
            "grounded": self.grounded,
        }


def body(
    category: Any,
    template: Any,
    *,
    data: Any = None,
    n: Any = None,
    context: Any = None,
    serial: Any = None,
    novel: Any = False,
    description: Any = None,
    parallelizable: Any = True,
    **extra: Any,
) -> dict[str, Any]:
    out = {
        "parallelizable": parallelizable,
        "category": category,
        "is_novel_category": novel,
        "category_description": description,
        "serial": serial,
        "template": template,
        "context": context,
        "data": data,
        "n": n,
    }
    out.update(extra)
    return out


def shape(obj: dict[str, Any], style: int) -> str:
    """The answer as a model writes it: bare JSON, fenced, or after a line of prose."""
    text = json.dumps(obj, ensure_ascii=False, indent=2 if style % 3 == 1 else None)
    if style % 3 == 1:
        return f"```json\n{text}\n```"
    if style % 3 == 2:
        return f"Here is my analysis of the prompt:\n\n{text}"
    return text


CASES: list[Case] = []


def add(
    id: str,
    lang: str,
    cls: str,
    prompt: str,
    obj: dict[str, Any],
    default: str,
    *,
    grounded: bool | None,
    schema: str | None = None,
    raw: str | None = None,
    original: str = "",
    stop: str = "end_turn",
) -> None:
    answer = raw if raw is not None else shape(obj, len(CASES))
    category = obj.get("category") if isinstance(obj.get("category"), str) else None
    case = Case(id, lang, cls, prompt, answer, default, category, grounded, schema, stop, original)
    case.label_original()
    CASES.append(case)


@dataclass
class Scenario:
    """A prompt with data (and maybe context) copied exactly, plus the paraphrases a model
    makes; variants are derived: exact, each paraphrase, an invented item, invented context."""

    id: str
    lang: str
    category: str
    prompt: str
    template: str
    data: list[str]
    tier: str  # the default tier of a grounded answer
    context: str | None = None
    paraphrases: dict[str, dict[str, Any]] = field(default_factory=dict)
    novel: bool = False
    invented_tier_items: str = ITEMS

    def emit(self) -> None:
        base: dict[str, Any] = {"data": self.data, "context": self.context, "novel": self.novel}
        add(
            f"{self.id}/exact",
            self.lang,
            "exact",
            self.prompt,
            self.obj(**base),
            self.tier,
            grounded=True,
        )
        for cls, change in self.paraphrases.items():
            add(
                f"{self.id}/{cls}",
                self.lang,
                cls,
                self.prompt,
                self.obj(**{**base, **change}),
                self.tier,
                grounded=True,
            )
        invented = [*self.data[:-1], INVENTED[self.lang]]
        add(
            f"{self.id}/invented-item",
            self.lang,
            "invented_item",
            self.prompt,
            self.obj(**{**base, "data": invented}),
            self.invented_tier_items,
            grounded=False,
        )
        if self.context is not None:
            add(
                f"{self.id}/invented-context",
                self.lang,
                "invented_context",
                self.prompt,
                self.obj(**{**base, "context": INVENTED_CONTEXT[self.lang]}),
                CONTEXT,
                grounded=False,
            )

    def obj(self, *, data: Any, context: Any, novel: bool, **extra: Any) -> dict[str, Any]:
        return body(
            self.category,
            self.template,
            data=data,
            context=context,
            novel=novel,
            description="A novel kind of task" if novel else None,
            **extra,
        )


FUND = (
    "The fund was created in 2010 to support long term research on rare diseases . It is "
    "managed by a board of five scientists and does n't accept private donations ."
)
BRIDGE = (
    r"The bridge opened in 1932.\nIt carries eight lanes of traffic.\nTolls were removed in 1990."
)
EIFFEL = (
    "La Tour Eiffel a été construite en 1889 pour l'Exposition universelle . Elle mesure 330 "
    "mètres et attire sept millions de visiteurs par an ."
)

SCENARIOS: list[Scenario] = [
    # ------------------------------------------------------------------ English
    Scenario(
        "en-rc-fund",
        "en",
        RC,
        f"Read the text and answer the questions.\n\n{FUND}\n\n1. What is a name of fund ?\n"
        "2. Who manages the fund ?\n3. What are the long term goals ?",
        "{context}\n\nAnswer the question: {data}",
        ["What is a name of fund ?", "Who manages the fund ?", "What are the long term goals ?"],
        HIGH,
        context=FUND,
        paraphrases={
            "grammar_fix": {
                "data": [
                    "What is the name of the fund?",
                    "Who manages the fund?",
                    "What are the long-term goals?",
                ]
            },
            "punct_spacing": {
                "context": FUND.replace(" .", ".").replace("does n't", "doesn't"),
                "data": [
                    "What is a name of fund?",
                    "Who manages the fund?",
                    "What are the long term goals?",
                ],
            },
            "hyphenation": {"context": FUND.replace("long term", "long-term")},
        },
    ),
    Scenario(
        "en-rc-bridge",
        "en",
        RC,
        f"Text: {BRIDGE}\n\nQuestions: When did the bridge open? How many lanes does it carry?",
        "Text: {context}\n\n{data}",
        ["When did the bridge open?", "How many lanes does it carry?"],
        HIGH,
        context=BRIDGE,
        paraphrases={
            "escaped_newlines": {"context": BRIDGE.replace("\\n", "\n")},
            "escaped_newlines_joined": {"context": BRIDGE.replace("\\n", " ")},
        },
    ),
    Scenario(
        "en-lc-contractions",
        "en",
        LC,
        "Correct the grammar in these sentences:\n- She do n't like apples .\n"
        "- They was going home .\n- He have two cat .",
        "Correct the grammar: {data}",
        ["She do n't like apples .", "They was going home .", "He have two cat ."],
        HIGH,
        paraphrases={
            "contractions": {
                "data": ["She don't like apples.", "They was going home.", "He have two cat."]
            },
            "quotes": {
                "data": [
                    '"She do n\'t like apples ."',
                    "“They was going home .”",
                    "'He have two cat .'",
                ]
            },
        },
    ),
    Scenario(
        "en-sa-html",
        "en",
        SA,
        "Classify the sentiment of each review:\nThe food was great &amp; cheap\n"
        "Terrible service, never again\nIt&#39;s okay I guess",
        "Classify the sentiment of this review: {data}",
        [
            "The food was great &amp; cheap",
            "Terrible service, never again",
            "It&#39;s okay I guess",
        ],
        HIGH,
        paraphrases={
            "html_entities": {
                "data": [
                    "The food was great & cheap",
                    "Terrible service, never again",
                    "It's okay I guess",
                ]
            },
            "case": {
                "data": [
                    "the food was great & cheap",
                    "terrible service, never again",
                    "it's okay i guess",
                ]
            },
        },
    ),
    Scenario(
        "en-ner-names",
        "en",
        NER,
        "Extract the person names and organisations from these sentences:\n"
        "1. NAME_1 joined Google in 2019.\n2. NAME_2 left Microsoft last year.",
        "Extract the person names and organisations: {data}",
        ["NAME_1 joined Google in 2019.", "NAME_2 left Microsoft last year."],
        HIGH,
        paraphrases={
            "names_for_placeholders": {
                "data": ["Alice joined Google in 2019.", "Bob left Microsoft last year."]
            },
            "names_partial_serial": {
                "data": ["Alice Chen joined Google in 2019.", "Bob left Microsoft last year."],
                "serial": "Extract people and organisations from two "
                "sentences about Alice Chen and Bob",
            },
        },
    ),
    Scenario(
        "en-ner-reverse",
        "en",
        NER,
        "Find the people and companies: 1. John Smith joined Google in 2019. "
        "2. Maria Lopez left Microsoft last year.",
        "Find the people and companies: {data}",
        ["John Smith joined Google in 2019.", "Maria Lopez left Microsoft last year."],
        HIGH,
        paraphrases={
            "placeholders_for_names": {
                "data": ["NAME_1 joined Google in 2019.", "NAME_2 left Microsoft last year."]
            },
        },
    ),
    Scenario(
        "en-ke-abstracts",
        "en",
        KE,
        "Extract keywords from each abstract:\nAbstract 1: Deep learning improves protein "
        "folding prediction.\nAbstract 2: Solar panels lose efficiency in hot climates.",
        "Extract keywords from this abstract: {data}",
        [
            "Deep learning improves protein folding prediction.",
            "Solar panels lose efficiency in hot climates.",
        ],
        HIGH,
        paraphrases={
            "hyphenation": {
                "data": [
                    "Abstract 1: Deep learning improves protein-folding prediction",
                    "Abstract 2: Solar panels lose efficiency in hot climates",
                ]
            },
        },
    ),
    Scenario(
        "en-tr-these",
        "en",
        TR,
        "Translate these into Spanish: good morning, thank you",
        "Translate into Spanish: {data}",
        ["good morning", "thank you"],
        MEDIUM,
        paraphrases={"case": {"data": ["Good morning", "Thank you"]}},
    ),
    Scenario(
        "en-lc-these-colon",
        "en",
        LC,
        "Correct these: teh cat, a dgo",
        "Correct this: {data}",
        ["teh cat", "a dgo"],
        MEDIUM,
    ),
    Scenario(
        "en-novel-explain",
        "en",
        "Concept Explanation",
        "Explain quicksort and mergesort",
        "Explain {data}",
        ["quicksort", "mergesort"],
        MEDIUM,
        novel=True,
        paraphrases={"case": {"data": ["Quicksort", "Mergesort"]}},
    ),
    Scenario(
        "en-novel-or",
        "en",
        "Definition",
        "What does latency or throughput mean in networking",
        "What does {data} mean in networking",
        ["latency", "throughput"],
        MEDIUM,
        novel=True,
    ),
    Scenario(
        "en-novel-brackets",
        "en",
        "Field Documentation",
        "Write a one-line docstring for the fields player (str), team (str), goals (int)",
        "Write a one-line docstring for the field {data}",
        ["player (str)", "team (str)", "goals (int)"],
        MEDIUM,
        novel=True,
        paraphrases={"notes_dropped": {"data": ["player", "team", "goals"]}},
    ),
    Scenario(
        "en-novel-summaries",
        "en",
        "Summarization",
        "Summarize each of the following emails in one sentence:\n\nEmail A: The meeting moved "
        "to Thursday at 3pm because the room is booked.\n\nEmail B: Please send the invoice "
        "for March before Friday so we can close the books.",
        "Summarize this email in one sentence: {data}",
        [
            "The meeting moved to Thursday at 3pm because the room is booked.",
            "Please send the invoice for March before Friday so we can close the books.",
        ],
        HIGH,
        novel=True,
        paraphrases={
            "labels_kept": {
                "data": [
                    "Email A: The meeting moved to Thursday at 3 pm because the room is booked.",
                    "Email B: Please send the invoice for March before Friday so we can close the books.",
                ]
            }
        },
    ),
    Scenario(
        "en-sa-two-comma",
        "en",
        SA,
        "Is the sentiment positive or negative: I love this phone, the battery died in a day",
        "Is the sentiment of this text positive or negative: {data}",
        ["I love this phone", "the battery died in a day"],
        MEDIUM,
    ),
    Scenario(
        "en-rc-whitespace",
        "en",
        RC,
        "Answer   both questions :\n\nWhere   Lima is ?   What is capital of Peru ?",
        "Answer the question: {data}",
        ["Where Lima is?", "What is capital of Peru?"],
        HIGH,
        paraphrases={"grammar_fix": {"data": ["Where is Lima?", "What is the capital of Peru?"]}},
    ),
    # ------------------------------------------------------------------ Spanish
    Scenario(
        "es-tr-frases",
        "es",
        TR,
        "Traduce al inglés las siguientes frases:\n1. Buenos días .\n2. ¿Dónde está la "
        "estación ?\n3. Muchas gracias .",
        "Traduce al inglés: {data}",
        ["Buenos días .", "¿Dónde está la estación ?", "Muchas gracias ."],
        HIGH,
        paraphrases={
            "punct_spacing": {
                "data": ["Buenos días.", "¿Dónde está la estación?", "Muchas gracias."]
            },
            "quotes": {"data": ["«Buenos días»", "«¿Dónde está la estación?»", "«Muchas gracias»"]},
        },
    ),
    Scenario(
        "es-lc-oraciones",
        "es",
        LC,
        "Corrige la ortografía de estas oraciones: 'Yo tengo un perro muy grande', "
        "'Ella no save nadar', 'Mañana bamos al cine'",
        "Corrige la ortografía: {data}",
        ["Yo tengo un perro muy grande", "Ella no save nadar", "Mañana bamos al cine"],
        HIGH,
    ),
    Scenario(
        "es-rc-texto",
        "es",
        RC,
        "Lee el texto y responde.\n\nMadrid es la capital de España y tiene más de tres "
        "millones de habitantes. Su museo más famoso es el Prado.\n\n¿Cuántos habitantes tiene "
        "Madrid? ¿Cuál es su museo más famoso?",
        "{context}\n\n{data}",
        ["¿Cuántos habitantes tiene Madrid?", "¿Cuál es su museo más famoso?"],
        HIGH,
        context="Madrid es la capital de España y tiene más de tres millones de habitantes. "
        "Su museo más famoso es el Prado.",
        paraphrases={
            "grammar_fix": {
                "data": [
                    "¿Cuántos habitantes tiene la ciudad de Madrid?",
                    "¿Cuál es su museo más famoso?",
                ]
            }
        },
    ),
    Scenario(
        "es-sa-resenas",
        "es",
        SA,
        "Clasifica el sentimiento de cada reseña:\n- Me encantó el hotel, muy limpio.\n"
        "- La comida llegó fría y tarde.",
        "Clasifica el sentimiento de esta reseña: {data}",
        ["Me encantó el hotel, muy limpio.", "La comida llegó fría y tarde."],
        HIGH,
    ),
    # ------------------------------------------------------------------ French
    Scenario(
        "fr-rc-eiffel",
        "fr",
        RC,
        f"Lis le texte et réponds aux questions.\n\n{EIFFEL}\n\nQuand a-t-elle été construite ? "
        "Combien de visiteurs attire-t-elle ?",
        "{context}\n\n{data}",
        ["Quand a-t-elle été construite ?", "Combien de visiteurs attire-t-elle ?"],
        HIGH,
        context=EIFFEL,
        paraphrases={
            "punct_spacing": {
                "data": ["Quand a-t-elle été construite?", "Combien de visiteurs attire-t-elle?"],
                "context": EIFFEL.replace(" .", "."),
            },
            "quotes": {"context": EIFFEL.replace("l'Exposition", "l’Exposition")},
        },
    ),
    Scenario(
        "fr-tr-phrases",
        "fr",
        TR,
        "Traduis en anglais les phrases suivantes : « Il fait beau », « J'ai faim », "
        "« Où est la gare ? »",
        "Traduis en anglais : {data}",
        ["Il fait beau", "J'ai faim", "Où est la gare ?"],
        HIGH,
        paraphrases={"quotes": {"data": ["« Il fait beau »", "J’ai faim", "Où est la gare?"]}},
    ),
    Scenario(
        "fr-ke-textes",
        "fr",
        KE,
        "Extrais les mots-clés de chaque texte :\n1. Le télétravail change la vie des "
        "employés.\n2. Les voitures électriques coûtent encore trop cher.",
        "Extrais les mots-clés de ce texte : {data}",
        [
            "Le télétravail change la vie des employés.",
            "Les voitures électriques coûtent encore trop cher.",
        ],
        HIGH,
        paraphrases={
            "hyphenation": {
                "data": [
                    "Le télé-travail change la vie des employés.",
                    "Les voitures électriques coûtent encore trop cher.",
                ]
            }
        },
    ),
    # ------------------------------------------------------------------ German
    Scenario(
        "de-sa-bewertungen",
        "de",
        SA,
        "Bestimme die Stimmung jeder Bewertung: „Tolles Produkt, sehr zufrieden“ und "
        "„Kam kaputt an, nie wieder“",
        "Bestimme die Stimmung dieser Bewertung: {data}",
        ["Tolles Produkt, sehr zufrieden", "Kam kaputt an, nie wieder"],
        HIGH,
        paraphrases={
            "quotes": {"data": ['"Tolles Produkt, sehr zufrieden"', '"Kam kaputt an, nie wieder"']}
        },
    ),
    Scenario(
        "de-lc-saetze",
        "de",
        LC,
        "Korrigiere die folgenden Sätze:\n1. Ich habe gestern ins Kino gegangen.\n"
        "2. Er hat keine Zeit nicht.",
        "Korrigiere diesen Satz: {data}",
        ["Ich habe gestern ins Kino gegangen.", "Er hat keine Zeit nicht."],
        HIGH,
        paraphrases={
            "grammar_fix": {
                "data": ["Ich habe gestern ins Kino gegangen", "Er hat keine Zeit nicht"]
            }
        },
    ),
    Scenario(
        "de-ner-texte",
        "de",
        NER,
        "Finde alle Personen und Orte in diesen Texten:\n- NAME_1 wohnt in München.\n"
        "- NAME_2 arbeitet in Hamburg.",
        "Finde alle Personen und Orte: {data}",
        ["NAME_1 wohnt in München.", "NAME_2 arbeitet in Hamburg."],
        HIGH,
        paraphrases={
            "names_for_placeholders": {
                "data": ["Anna wohnt in München.", "Jonas arbeitet in Hamburg."]
            }
        },
    ),
    # ------------------------------------------------------------------ Italian
    Scenario(
        "it-tr-frasi",
        "it",
        TR,
        "Traduci in inglese le seguenti frasi:\n1. Dov'è il bagno?\n2. Vorrei un caffè.",
        "Traduci in inglese: {data}",
        ["Dov'è il bagno?", "Vorrei un caffè."],
        HIGH,
        paraphrases={"contractions": {"data": ["Dov' è il bagno?", "Vorrei un caffè"]}},
    ),
    Scenario(
        "it-ke-testi",
        "it",
        KE,
        "Estrai le parole chiave da ogni testo: il turismo sostenibile cresce in Toscana; "
        "la moda italiana conquista il mercato asiatico",
        "Estrai le parole chiave da questo testo: {data}",
        [
            "il turismo sostenibile cresce in Toscana",
            "la moda italiana conquista il mercato asiatico",
        ],
        HIGH,
    ),
    # ------------------------------------------------------------------ Portuguese
    Scenario(
        "pt-lc-frases",
        "pt",
        LC,
        "Corrija os erros destas frases:\n- Nós vai ao mercado amanhã.\n- Eles gosta de futebol.",
        "Corrija os erros desta frase: {data}",
        ["Nós vai ao mercado amanhã.", "Eles gosta de futebol."],
        HIGH,
        paraphrases={"case": {"data": ["nós vai ao mercado amanhã.", "eles gosta de futebol."]}},
    ),
    Scenario(
        "pt-rc-texto",
        "pt",
        RC,
        "Leia o texto e responda.\n\nLisboa fica às margens do rio Tejo e é conhecida pelos "
        "seus elétricos amarelos.\n\nQual rio passa por Lisboa? Como são os elétricos?",
        "{context}\n\n{data}",
        ["Qual rio passa por Lisboa?", "Como são os elétricos?"],
        HIGH,
        context="Lisboa fica às margens do rio Tejo e é conhecida pelos seus elétricos amarelos.",
    ),
    # ------------------------------------------------------------------ Russian
    Scenario(
        "ru-tr-fraz",
        "ru",
        TR,
        "Переведи на английский следующие предложения:\n1. Я люблю читать книги.\n"
        "2. Завтра будет дождь.",
        "Переведи на английский: {data}",
        ["Я люблю читать книги.", "Завтра будет дождь."],
        HIGH,
        paraphrases={"quotes": {"data": ["«Я люблю читать книги.»", "«Завтра будет дождь.»"]}},
    ),
    Scenario(
        "ru-sa-otzyvy",
        "ru",
        SA,
        "Определи тональность каждого отзыва: отличный сервис и вкусная еда; ужасное "
        "обслуживание, больше не приду",
        "Определи тональность отзыва: {data}",
        ["отличный сервис и вкусная еда", "ужасное обслуживание, больше не приду"],
        HIGH,
        paraphrases={
            "case": {
                "data": ["Отличный сервис и вкусная еда", "Ужасное обслуживание, больше не приду"]
            }
        },
    ),
    # ------------------------------------------------------------------ Chinese
    Scenario(
        "zh-sa-pinglun",
        "zh",
        SA,
        "判断以下评论的情感：\n1. 这家餐厅的菜很好吃。\n2. 服务太差了，再也不来了。",
        "判断这条评论的情感：{data}",
        ["这家餐厅的菜很好吃。", "服务太差了，再也不来了。"],
        HIGH,
        paraphrases={"fullwidth": {"data": ["这家餐厅的菜很好吃", "服务太差了,再也不来了"]}},
    ),
    Scenario(
        "zh-tr-juzi",
        "zh",
        TR,
        "把下列句子翻译成英文：\n- 我今天很忙。\n- 明天见。",
        "把这个句子翻译成英文：{data}",
        ["我今天很忙。", "明天见。"],
        HIGH,
    ),
    # ------------------------------------------------------------------ Japanese
    Scenario(
        "ja-rc-bunsho",
        "ja",
        RC,
        "次の文章を読んで質問に答えてください。\n\n富士山は日本で一番高い山で、高さは3776メートルです。"
        "\n\n1. 富士山の高さは？\n2. 日本で一番高い山は？",
        "{context}\n\n{data}",
        ["富士山の高さは？", "日本で一番高い山は？"],
        HIGH,
        context="富士山は日本で一番高い山で、高さは3776メートルです。",
        paraphrases={
            "fullwidth": {"context": "富士山は日本で一番高い山で、高さは３７７６メートルです。"}
        },
    ),
    Scenario(
        "ja-tr-bun",
        "ja",
        TR,
        "次の文を英語に翻訳してください：\n1. おはようございます。\n2. ありがとうございます。",
        "この文を英語に翻訳してください：{data}",
        ["おはようございます。", "ありがとうございます。"],
        HIGH,
    ),
]

SCENARIOS += [
    Scenario(
        "en-tr-lines",
        "en",
        TR,
        "Translate to German:\nI am hungry\nWhere is the train station\nThe bill, please",
        "Translate to German: {data}",
        ["I am hungry", "Where is the train station", "The bill, please"],
        HIGH,
        paraphrases={
            "punct_added": {
                "data": ["I am hungry.", "Where is the train station?", "The bill, please."]
            }
        },
    ),
    Scenario(
        "en-sa-tweets",
        "en",
        SA,
        "What's the sentiment of these tweets?\n1. Loving the new update!!\n"
        "2. App keeps crashing , so annoying",
        "What's the sentiment of this tweet? {data}",
        ["Loving the new update!!", "App keeps crashing , so annoying"],
        HIGH,
        paraphrases={
            "punct_spacing": {"data": ["Loving the new update!", "App keeps crashing, so annoying"]}
        },
    ),
    Scenario(
        "es-ke-textos",
        "es",
        KE,
        "Extrae las palabras clave de los siguientes textos:\n1. La inflación sube en Europa "
        "por tercer mes consecutivo.\n2. El equipo local ganó el campeonato tras diez años.",
        "Extrae las palabras clave de este texto: {data}",
        [
            "La inflación sube en Europa por tercer mes consecutivo.",
            "El equipo local ganó el campeonato tras diez años.",
        ],
        HIGH,
        paraphrases={
            "numbering_kept": {
                "data": [
                    "1. La inflación sube en Europa por tercer mes consecutivo.",
                    "2. El equipo local ganó el campeonato tras diez años.",
                ]
            }
        },
    ),
    Scenario(
        "de-tr-gruesse",
        "de",
        TR,
        "Übersetze ins Englische: „Guten Morgen“, „Wie geht's?“, „Bis später“",
        "Übersetze ins Englische: {data}",
        ["Guten Morgen", "Wie geht's?", "Bis später"],
        MEDIUM,
        paraphrases={"quotes": {"data": ["„Guten Morgen“", "„Wie geht’s?“", "„Bis später“"]}},
    ),
    Scenario(
        "it-rc-roma",
        "it",
        RC,
        "Leggi il testo e rispondi alle domande.\n\nRoma è la capitale d'Italia e ha quasi tre "
        "milioni di abitanti.\n\nQuanti abitanti ha Roma? Qual è la capitale d'Italia?",
        "{context}\n\n{data}",
        ["Quanti abitanti ha Roma?", "Qual è la capitale d'Italia?"],
        HIGH,
        context="Roma è la capitale d'Italia e ha quasi tre milioni di abitanti.",
        paraphrases={
            "quotes": {"context": "Roma è la capitale d’Italia e ha quasi tre milioni di abitanti."}
        },
    ),
    Scenario(
        "pt-sa-comentarios",
        "pt",
        SA,
        "Classifique o sentimento de cada comentário: 'Adorei o produto', 'Chegou quebrado', "
        "'Entrega rápida'",
        "Classifique o sentimento deste comentário: {data}",
        ["Adorei o produto", "Chegou quebrado", "Entrega rápida"],
        HIGH,
    ),
    Scenario(
        "ru-lc-oshibki",
        "ru",
        LC,
        "Исправь ошибки в предложениях:\n1. Я идти в школу.\n2. Он любит читат книги.",
        "Исправь ошибки в предложении: {data}",
        ["Я идти в школу.", "Он любит читат книги."],
        HIGH,
        paraphrases={"case": {"data": ["я идти в школу", "он любит читат книги"]}},
    ),
    Scenario(
        "zh-ke-wenben",
        "zh",
        KE,
        "从下面的文本中提取关键词：\n1. 人工智能正在改变医疗行业。\n2. 新能源汽车销量持续增长。",
        "从这段文本中提取关键词：{data}",
        ["人工智能正在改变医疗行业。", "新能源汽车销量持续增长。"],
        HIGH,
        paraphrases={
            "punct_dropped": {"data": ["人工智能正在改变医疗行业", "新能源汽车销量持续增长"]}
        },
    ),
    Scenario(
        "ja-sa-rebyu",
        "ja",
        SA,
        "次のレビューの感情を判定してください：\n- とても美味しかったです。\n- 店員の態度が悪かった。",
        "このレビューの感情を判定してください：{data}",
        ["とても美味しかったです。", "店員の態度が悪かった。"],
        HIGH,
    ),
]


HOMEWORK = (
    "Please translate the following words to French. I need them for my homework which is due "
    "tomorrow and my teacher is strict: hello, goodbye, thank you"
)


def emit_self_contained() -> None:
    """Items made self-contained: the shared instruction repeated in each item."""
    add(
        "self/tr-instruction",
        "en",
        "self_contained",
        HOMEWORK,
        body(
            TR,
            "{data}",
            data=[
                "Translate to French: hello",
                "Translate to French: goodbye",
                "Translate to French: thank you",
            ],
        ),
        HIGH,
        grounded=True,
    )
    add(
        "self/tr-instruction-invented",
        "en",
        "invented_item",
        HOMEWORK,
        body(TR, "{data}", data=["Translate to French: hello", "Translate to French: good night"]),
        ITEMS,
        grounded=False,
    )
    add(
        "self/lc-instruction",
        "de",
        "self_contained",
        "Korrigiere bitte die Rechtschreibung. Mein Lehrer ist sehr streng: Ich habe keine Ahnug. "
        "Das ist ein schönes Hauss.",
        body(
            LC,
            "{data}",
            data=[
                "Korrigiere die Rechtschreibung: Ich habe keine Ahnug.",
                "Korrigiere die Rechtschreibung: Das ist ein schönes Hauss.",
            ],
        ),
        "failed:no_structural_cue",
        grounded=True,
    )


def emit_hard_negatives() -> None:
    """Invented items and context that reuse the prompt's own words."""
    add(
        "hard/rc-new-question",
        "en",
        "invented_similar",
        f"{FUND}\n\nWhat is the fund for?",
        body(
            RC,
            "{context}\n\n{data}",
            context=FUND,
            data=["What is the fund for?", "Who created the fund in 2010?"],
        ),
        ITEMS,
        grounded=False,
    )
    add(
        "hard/tr-swapped-word",
        "en",
        "invented_similar",
        "Translate into French: I like green apples and I like sweet pears",
        body(
            TR, "Translate into French: {data}", data=["I like green apples", "I like red apples"]
        ),
        ITEMS,
        grounded=False,
    )
    add(
        "hard/lc-new-sentence",
        "en",
        "invented_similar",
        "Fix the spelling: I recieved the pakage yesterday",
        body(
            LC,
            "Fix the spelling: {data}",
            data=["I recieved the pakage yesterday", "I recieved the letter today"],
        ),
        ITEMS,
        grounded=False,
    )
    add(
        "hard/context-elsewhere",
        "en",
        "invented_context",
        "Answer about the bridge: when did it open? how long is it?",
        body(
            RC,
            "{context}\n\n{data}",
            context="The bridge opened in 1937 and is 2.7 kilometres long.",
            data=["when did it open?", "how long is it?"],
        ),
        CONTEXT,
        grounded=False,
    )
    add(
        "hard/ner-new-name",
        "en",
        "invented_similar",
        "Find the people: 1. Maria Lopez lives in Quito. 2. John Smith works in Lima.",
        body(
            NER,
            "Find the people: {data}",
            data=["Maria Lopez lives in Quito.", "Peter Brown works in Lima."],
        ),
        ITEMS,
        grounded=False,
    )
    add(
        "hard/sa-extra-review",
        "es",
        "invented_similar",
        "Clasifica cada reseña: 'Muy buen hotel' y 'Habitación sucia'",
        body(
            SA,
            "Clasifica esta reseña: {data}",
            data=["Muy buen hotel", "Habitación sucia", "Muy mala comida"],
        ),
        ITEMS,
        grounded=False,
    )


# Repeated Generation (n, nothing to ground), several languages: (id, lang, prompt, template,
# n, default tier).
GENERATIONS = [
    (
        "en-rg-breakfast",
        "en",
        "Give me 5 healthy breakfast ideas.",
        "Give me a healthy breakfast idea.",
        5,
        HIGH,
    ),
    (
        "en-rg-names",
        "en",
        "Suggest three names for a coffee shop",
        "Suggest a name for a coffee shop",
        3,
        HIGH,
    ),
    ("en-rg-jokes", "en", "Tell me 4 jokes about cats", "Tell me a joke about cats", 4, HIGH),
    ("en-rg-slogans", "en", "Write ten slogans for a gym", "Write a slogan for a gym", 10, HIGH),
    (
        "es-rg-ideas",
        "es",
        "Dame 5 ideas para una fiesta de cumpleaños",
        "Dame una idea para una fiesta de cumpleaños",
        5,
        HIGH,
    ),
    (
        "fr-rg-noms",
        "fr",
        "Propose cinq noms pour une boulangerie",
        "Propose un nom pour une boulangerie",
        5,
        HIGH,
    ),
    (
        "de-rg-titel",
        "de",
        "Schreibe 3 Titel für einen Blogartikel über Kaffee",
        "Schreibe einen Titel für einen Blogartikel über Kaffee",
        3,
        HIGH,
    ),
    (
        "it-rg-idee",
        "it",
        "Dammi 6 idee per una cena veloce",
        "Dammi un'idea per una cena veloce",
        6,
        HIGH,
    ),
    (
        "pt-rg-dicas",
        "pt",
        "Dê 4 dicas para dormir melhor",
        "Dê uma dica para dormir melhor",
        4,
        HIGH,
    ),
    (
        "ru-rg-idei",
        "ru",
        "Придумай 5 идей для подарка маме",
        "Придумай идею для подарка маме",
        5,
        HIGH,
    ),
    ("zh-rg-mingzi", "zh", "给我的猫起五个名字", "给我的猫起一个名字", 5, HIGH),
    (
        "ja-rg-aidea",
        "ja",
        "週末の過ごし方を3つ提案してください",
        "週末の過ごし方を1つ提案してください",
        3,
        HIGH,
    ),
    ("en-rg-no-cue", "en", "Write a haiku about autumn", "Write a haiku about autumn", 3, NO_CUE),
]


def emit_generations() -> None:
    for gid, lang, prompt, template, n, tier in GENERATIONS:
        add(f"{gid}/exact", lang, "exact", prompt, body(RG, template, n=n), tier, grounded=None)
        add(
            f"{gid}/n-string",
            lang,
            "n_string",
            prompt,
            body(RG, template, n=str(n)),
            tier,
            grounded=None,
            schema="n_invalid",
        )


def emit_shapes() -> None:
    """Answer shapes on which the two profiles part: the published validator's quirks."""
    p = "Translate these sentences into French: 1. Good morning. 2. Thank you."
    data = ["Good morning.", "Thank you."]
    t = "Translate into French: {data}"
    rg = ("Give me 5 ideas for a party", "Give me an idea for a party")
    add(
        "shape/n-fractional",
        "en",
        "n_fractional",
        rg[0],
        body(RG, rg[1], n=2.5),
        "failed:n_invalid",
        grounded=None,
    )
    add(
        "shape/n-float-integral",
        "en",
        "n_float",
        rg[0],
        body(RG, rg[1], n=5.0),
        HIGH,
        grounded=None,
    )
    for i, blank in enumerate(["", "  ", "null", "None"]):
        add(
            f"shape/n-blank-{i}",
            "en",
            "n_blank",
            rg[0],
            body(RG, rg[1], n=blank),
            "failed:neither_data_nor_n",
            grounded=None,
            schema="n_invalid",
        )
        add(
            f"shape/data-blank-{i}",
            "en",
            "data_blank",
            p,
            body(TR, t, data=blank),
            "failed:neither_data_nor_n",
            grounded=None,
            schema="data_not_a_list",
        )
    for i, flag in enumerate([1, "yes", "no", None]):
        add(
            f"shape/parallelizable-{i}",
            "en",
            "parallelizable_not_bool",
            p,
            body(TR, t, data=data, parallelizable=flag),
            HIGH
            if flag == "yes"
            else "not_parallelizable"
            if flag == "no"
            else "unparseable:wrong_types",
            grounded=True,
        )
    missing = body(TR, t, data=data)
    del missing["parallelizable"]
    add(
        "shape/parallelizable-missing",
        "en",
        "parallelizable_missing",
        p,
        missing,
        "unparseable:missing_parallelizable",
        grounded=True,
    )
    cased = body(TR, t, data=data)
    cased["Parallelizable"] = cased.pop("parallelizable")
    add("shape/key-case", "en", "key_case", p, cased, HIGH, grounded=True)
    add(
        "shape/context-number",
        "en",
        "wrong_type_unchecked",
        p,
        body(TR, t, data=data, context=5),
        "unparseable:wrong_types",
        grounded=True,
    )
    add(
        "shape/serial-object",
        "en",
        "wrong_type_unchecked",
        p,
        body(TR, t, data=data, serial={"text": p}),
        "unparseable:wrong_types",
        grounded=True,
    )
    add(
        "shape/category-number",
        "en",
        "wrong_type_unchecked",
        p,
        body(7, t, data=data),
        "unparseable:wrong_types",
        grounded=True,
    )
    add(
        "shape/template-list",
        "en",
        "wrong_type_unchecked",
        p,
        body(TR, ["{data}"], data=data),
        "unparseable:wrong_types",
        grounded=True,
    )
    add(
        "shape/template-number",
        "en",
        "wrong_type_unchecked",
        p,
        body(TR, 3, data=data),
        "unparseable:wrong_types",
        grounded=True,
    )
    add(
        "shape/category-list",
        "en",
        "wrong_type_unchecked",
        p,
        body([TR], t, data=data),
        "unparseable:wrong_types",
        grounded=True,
    )
    add(
        "shape/novel-string",
        "en",
        "wrong_type_unchecked",
        p,
        body(TR, t, data=data, novel="no"),
        HIGH,
        grounded=True,
    )
    add(
        "shape/novel-number",
        "en",
        "wrong_type_unchecked",
        p,
        body(TR, t, data=data, novel=0),
        "unparseable:wrong_types",
        grounded=True,
    )
    good = json.dumps(body(TR, t, data=data))
    add(
        "shape/trailing-comma",
        "en",
        "json_repair",
        p,
        {},
        HIGH,
        grounded=True,
        raw=good.replace("]", ",]"),
        original="unparseable:broken_json",
    )
    add(
        "shape/python-literals",
        "en",
        "json_repair",
        p,
        {},
        HIGH,
        grounded=True,
        raw=repr(body(TR, t, data=data)),
        original="unparseable:broken_json",
    )
    add(
        "shape/two-objects",
        "en",
        "json_repair",
        p,
        {},
        HIGH,
        grounded=True,
        raw=good + "\n" + json.dumps(body(None, None, parallelizable=False)),
        original="unparseable:broken_json",
    )
    add(
        "shape/broken-end-turn",
        "en",
        "broken_json",
        p,
        {},
        "unparseable:broken_json",
        grounded=None,
        raw=good[:60],
        original="unparseable:broken_json",
    )
    add(
        "shape/broken-max-tokens",
        "en",
        "truncated",
        p,
        {},
        "unparseable:truncated",
        grounded=None,
        raw=good[:60],
        original="unparseable:truncated",
        stop="max_tokens",
    )
    add(
        "shape/no-json",
        "en",
        "no_json",
        p,
        {},
        "unparseable:no_json",
        grounded=None,
        raw="This prompt has two sentences to translate.",
        original="unparseable:no_json",
    )


SAID_NO = [
    ("en", "Write a cover letter for a data analyst job"),
    ("es", "Escribe un poema sobre el mar"),
    ("fr", "Explique-moi la photosynthèse"),
    ("de", "Wie funktioniert ein Verbrennungsmotor?"),
    ("zh", "请写一篇关于春天的作文"),
    ("ja", "東京のおすすめの観光地を教えてください"),
    ("ru", "Напиши рассказ о собаке"),
    ("it", "Spiegami la teoria della relatività"),
]


def emit_said_no_and_schema() -> None:
    for i, (lang, prompt) in enumerate(SAID_NO):
        add(
            f"no/{lang}-{i}",
            lang,
            "said_no",
            prompt,
            body(None, None, parallelizable=False, serial=prompt),
            "not_parallelizable",
            grounded=None,
        )
    p = "Translate into German: cat, dog, bird"
    add(
        "schema/one-item",
        "en",
        "schema",
        p,
        body(TR, "Translate: {data}", data=["cat"]),
        "failed:data_too_short",
        grounded=True,
        schema="data_too_short",
    )
    add(
        "schema/both",
        "en",
        "schema",
        p,
        body(TR, "Translate: {data}", data=["cat", "dog"], n=2),
        "failed:both_data_and_n",
        grounded=True,
        schema="both_data_and_n",
    )
    add(
        "schema/no-placeholder",
        "en",
        "schema",
        p,
        body(TR, "Translate into German", data=["cat", "dog", "bird"]),
        "failed:template_missing_data",
        grounded=True,
        schema="template_missing_data",
    )
    add(
        "schema/rg-template-n",
        "en",
        "schema",
        "Give me 5 ideas for a party",
        body(RG, "Give me {n} ideas for a party", n=5),
        "failed:template_has_n",
        grounded=None,
        schema="template_has_n",
    )
    add(
        "schema/no-category",
        "en",
        "schema",
        p,
        body(None, "Translate: {data}", data=["cat", "dog", "bird"]),
        "failed:missing_category",
        grounded=True,
    )
    add(
        "schema/duplicates",
        "en",
        "schema",
        p,
        body(TR, "Translate: {data}", data=["cat", "Cat", "dog"]),
        "failed:data_duplicate_items",
        grounded=True,
    )
    add(
        "schema/n-for-translation",
        "en",
        "schema",
        "Translate 3 words into German",
        body(TR, "Translate a word into German", n=3),
        "failed:n_wrong_category",
        grounded=None,
        schema="template_missing_data",
    )
    add(
        "novel/summaries-invented",
        "en",
        "invented_item",
        "Summaries: write them for these texts",
        body("Summaries", "Summarize: {data}", data=["t1", "t2"], novel=True),
        ITEMS,
        grounded=False,
    )
    add(
        "novel/invented-ideas",
        "en",
        "invented_item",
        "Compare Python and Java for beginners",
        body("Comparison", "Compare {data} for beginners", data=["Rust", "Go"], novel=True),
        ITEMS,
        grounded=False,
    )
    add(
        "rc/invented-questions",
        "en",
        "invented_item",
        f"Here is a text:\n\n{FUND}\n\nWhat do you think about it?",
        body(
            RC,
            "{context}\n\n{data}",
            context=FUND,
            data=["When was the fund created?", "Who manages the fund?"],
        ),
        ITEMS,
        grounded=False,
    )
    add(
        "rc/one-sentence-split",
        "en",
        "split_sentence",
        "Translate 'Good morning, how are you?' into Spanish",
        body(TR, "Translate into Spanish: {data}", data=["Good morning", "how are you?"]),
        NO_CUE,
        grounded=True,
    )
    add(
        "novel/one-poem",
        "en",
        "one_output",
        "Write a short poem about the sun and the moon",
        body("Poetry", "Write a short poem about {data}", data=["the sun", "the moon"], novel=True),
        NO_CUE,
        grounded=True,
    )
    add(
        "novel/difference",
        "en",
        "one_output",
        "What is the difference between TCP and UDP",
        body("Comparison", "What is {data}", data=["TCP", "UDP"], novel=True),
        NO_CUE,
        grounded=True,
    )


def lean(obj: dict[str, Any], prompt: str, *, offsets: bool = False) -> dict[str, Any]:
    """An answer in the lean shape (prompts/lean.py): no serial, no null fields, no
    is_novel_category, the context pointed to by its first and last words (or offsets)."""
    if obj.get("parallelizable") is not True:
        return {"parallelizable": False}
    out = {"parallelizable": True, "category": obj["category"]}
    if obj.get("category_description"):
        out["category_description"] = obj["category_description"]
    context = obj.get("context")
    if isinstance(context, str):
        start = prompt.find(context)
        if offsets and start >= 0:
            out["context"] = [start, start + len(context)]
        else:
            words = context.split()
            out["context"] = {"from": " ".join(words[:4]), "to": " ".join(words[-4:])}
    out["template"] = obj["template"]
    for key in ("data", "n"):
        if obj.get(key) is not None:
            out[key] = obj[key]
    return out


def item_lines(prompt: str, data: list[str]) -> dict[str, str] | None:
    """Anchors on the first and last item when the items are exactly the prompt's lines
    between them (prompts.lean.line_items), else None."""
    first, last = " ".join(data[0].split()[:3]), " ".join(data[-1].split()[-3:])
    span = lean_pointers.between(prompt, first, last)
    if span is None or lean_pointers.line_items(prompt, span) != data:
        return None
    return {"from": first, "to": last}


def _common(a: str, b: str) -> int:
    """The length of the common prefix of two strings."""
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def emit_lean() -> None:
    """Issue 13: the same answers in the lean shape judge as their published shape does; a
    pointer that finds no text fails `default`; negatives are one key."""
    for scenario in SCENARIOS:
        base = scenario.obj(data=scenario.data, context=scenario.context, novel=scenario.novel)
        add(
            f"lean/{scenario.id}",
            scenario.lang,
            "lean",
            scenario.prompt,
            lean(base, scenario.prompt),
            scenario.tier,
            grounded=True,
        )
        lines = item_lines(scenario.prompt, scenario.data)
        if lines is not None:
            add(
                f"lean/{scenario.id}/item-lines",
                scenario.lang,
                "lean_item_lines",
                scenario.prompt,
                {**lean(base, scenario.prompt), "data": lines},
                scenario.tier,
                grounded=True,
            )
            foreign = {"from": INVENTED[scenario.lang][:24], "to": INVENTED[scenario.lang][-12:]}
            add(
                f"lean/{scenario.id}/item-lines-invented",
                scenario.lang,
                "lean_invented_item",
                scenario.prompt,
                {**lean(base, scenario.prompt), "data": foreign},
                ITEMS,
                grounded=False,
            )
        invented = {**base, "data": [*scenario.data[:-1], INVENTED[scenario.lang]]}
        add(
            f"lean/{scenario.id}/invented-item",
            scenario.lang,
            "lean_invented_item",
            scenario.prompt,
            lean(invented, scenario.prompt),
            scenario.invented_tier_items,
            grounded=False,
        )
        if scenario.context is None:
            continue
        if scenario.context in scenario.prompt:
            add(
                f"lean/{scenario.id}/offsets",
                scenario.lang,
                "lean_offsets",
                scenario.prompt,
                lean(base, scenario.prompt, offsets=True),
                scenario.tier,
                grounded=True,
            )
        add(
            f"lean/{scenario.id}/invented-context",
            scenario.lang,
            "lean_invented_context",
            scenario.prompt,
            lean({**base, "context": INVENTED_CONTEXT[scenario.lang]}, scenario.prompt),
            CONTEXT,
            grounded=False,
        )
        out_of_range = {**lean(base, scenario.prompt), "context": [0, len(scenario.prompt) + 50]}
        add(
            f"lean/{scenario.id}/offsets-out-of-range",
            scenario.lang,
            "lean_invented_context",
            scenario.prompt,
            out_of_range,
            CONTEXT,
            grounded=False,
        )
    for gid, lang, prompt, template, n, tier in GENERATIONS:
        add(
            f"lean/{gid}",
            lang,
            "lean",
            prompt,
            lean(body(RG, template, n=n), prompt),
            tier,
            grounded=None,
        )
        head = _common(prompt, template)
        tail = _common(prompt[head:][::-1], template[head:][::-1])
        edit = {
            "replace": prompt[head : len(prompt) - tail],
            "with": template[head : len(template) - tail],
        }
        if edit["replace"].strip() and prompt.find(edit["replace"]) == head:
            add(
                f"lean/{gid}/edit",
                lang,
                "lean_template_edit",
                prompt,
                lean(body(RG, edit, n=n), prompt),
                tier,
                grounded=None,
            )
            missing = {**edit, "replace": "twelve zebra crossings"}
            add(
                f"lean/{gid}/edit-missing",
                lang,
                "lean_template_edit",
                prompt,
                lean(body(RG, missing, n=n), prompt),
                "failed:template_not_in_prompt",
                grounded=None,
            )
    for i, (lang, prompt) in enumerate(SAID_NO):
        add(
            f"lean/no/{lang}-{i}",
            lang,
            "lean_said_no",
            prompt,
            {"parallelizable": False},
            "not_parallelizable",
            grounded=None,
        )


ACME = (
    "NAME_1 NAME_2, the CEO of Acme Corp., announced on Monday that the company will open a new "
    "factory in Ohio. The factory is expected to create 1,200 jobs by 2025. NAME_2 said the "
    'decision was driven by "strong demand" for the company\'s electric bikes.\n\nNAME_3, a '
    "spokesperson for the governor, welcomed the news."
)
ACME_PROMPT = (
    f"Read the following article and answer the questions.\n\n{ACME}\n\nQuestions:\n"
    "1) Who is the CEO of Acme Corp.?\n2) How many jobs will the factory create?\n"
    "3) What did NAME_3 do?"
)
ACME_NAMED = " ".join(
    ACME.replace("NAME_1 NAME_2", "Alice Johnson")
    .replace("NAME_2", "Johnson")
    .replace("NAME_3", "Bob")
    .split()
)
ACME_QUESTIONS = [
    "Who is the CEO of Acme Corp.?",
    "How many jobs will the factory create?",
    "What did Bob do?",
]
QUIZ = "Give a one-word answer for each question:\nq1. capital of japan\nq2. largest ocean\nq3. fastest land animal"
GERMAN = (
    "Translate the following sentences into German:\n- Good morning\n- How much does this "
    "cost?\n- Thank you very much"
)
NER_VISIT = (
    "Identify all people, places, and organizations in this article about NAME_1's visit to London."
)


def emit_realistic() -> None:
    """Answers in the shape Claude gives to the published system prompt, for the kinds of
    prompts LMSYS/WildChat hold: names written for placeholders in a re-spaced passage, a
    question written around a bare item, a short shared instruction that the template restates
    instead of using {context}, the published prompt's own invented-article example."""
    add(
        "real/rc-acme-names",
        "en",
        "placeholder",
        ACME_PROMPT,
        body(
            RC,
            "{context}\n\nBased on the above article, answer this question: {data}",
            context=ACME_NAMED,
            data=ACME_QUESTIONS,
        ),
        HIGH,
        grounded=True,
    )
    add(
        "real/rc-acme-invented-question",
        "en",
        "invented_item",
        ACME_PROMPT,
        body(
            RC,
            "{context}\n\nAnswer this question: {data}",
            context=ACME_NAMED,
            data=[*ACME_QUESTIONS[:2], "Why did the governor resign?"],
        ),
        ITEMS,
        grounded=False,
    )
    add(
        "real/quiz-bare-items",
        "en",
        "exact",
        QUIZ,
        body(
            RC,
            "Give a one-word answer for this question: {data}",
            data=["capital of Japan", "largest ocean", "fastest land animal"],
        ),
        HIGH,
        grounded=True,
    )
    add(
        "real/quiz-questions-written-out",
        "en",
        "question_written_out",
        QUIZ,
        body(
            "Question Answering",
            "Give a one-word answer: {data}",
            novel=True,
            description="Answering short factual questions",
            data=[
                "What is the capital of Japan?",
                "What is the largest ocean?",
                "What is the fastest land animal?",
            ],
        ),
        HIGH,
        grounded=True,
    )
    add(
        "real/quiz-invented-question",
        "en",
        "invented_item",
        QUIZ,
        body(
            "Question Answering",
            "Give a one-word answer: {data}",
            novel=True,
            description="Answering short factual questions",
            data=[
                "What is the capital of Japan?",
                "What is the largest ocean?",
                "What is the tallest mountain?",
            ],
        ),
        ITEMS,
        grounded=False,
    )
    add(
        "real/tr-instruction-as-context",
        "en",
        "short_context_unused",
        GERMAN,
        body(
            TR,
            "Translate into German: {data}",
            context="Translate the following sentences into German",
            data=["Good morning", "How much does this cost?", "Thank you very much"],
        ),
        HIGH,
        grounded=True,
    )
    add(
        "real/tr-invented-instruction-as-context",
        "en",
        "invented_context",
        GERMAN,
        body(
            TR,
            "Translate into German: {data}",
            context="Use a formal register suitable for business letters",
            data=["Good morning", "How much does this cost?", "Thank you very much"],
        ),
        CONTEXT,
        grounded=False,
    )
    add(
        "real/explain-tcp-udp",
        "en",
        "short_context_unused",
        "Explain the difference between TCP and UDP, and give an example use case for each.",
        body(
            "Explanation",
            "Give an example use case for {data}",
            novel=True,
            description="Explaining several concepts",
            context="Explain the difference between TCP and UDP",
            data=["TCP", "UDP"],
        ),
        HIGH,
        grounded=True,
    )
    add(
        "real/ner-invented-article",
        "en",
        "invented_context",
        NER_VISIT,
        body(
            NER,
            "Identify all instances of {data} in the following article.\n\n{context}",
            context="Alice visited London last week where she met with the CEO of Microsoft. "
            "During her stay, she also toured the British Museum and had dinner with her "
            "friend Bob at The Ritz.",
            data=["people", "places", "organizations"],
        ),
        CONTEXT,
        grounded=False,
    )
    add(
        "real/fr-chacun",
        "fr",
        "exact",
        "Résume chacun de ces paragraphes en une phrase :\n\nParagraphe 1 : La pollution de "
        "l'air est un problème majeur dans les grandes villes.\n\nParagraphe 2 : Le télétravail "
        "s'est généralisé depuis la pandémie.",
        body(
            "Summarization",
            "Résume ce paragraphe en une phrase : {data}",
            novel=True,
            description="Résumer plusieurs textes",
            data=[
                "La pollution de l'air est un problème majeur dans les grandes villes.",
                "Le télétravail s'est généralisé depuis la pandémie.",
            ],
        ),
        HIGH,
        grounded=True,
    )
    add(
        "real/it-translated-items",
        "it",
        "invented_item",
        'Traduci in inglese queste frasi: "Ciao, come stai?", "Dov\'è il bagno?"',
        body(
            TR,
            "Translate to English: {data}",
            data=["Hello, how are you?", "Where is the bathroom?"],
        ),
        ITEMS,
        grounded=False,
    )


def build() -> list[Case]:
    CASES.clear()
    for scenario in SCENARIOS:
        scenario.emit()
    emit_generations()
    emit_shapes()
    emit_said_no_and_schema()
    emit_hard_negatives()
    emit_self_contained()
    emit_lean()
    emit_realistic()
    return list(CASES)


def render(cases: list[Case]) -> str:
    return "".join(json.dumps(c.to_json(), ensure_ascii=False) + "\n" for c in cases)


def main() -> None:
    cases = build()
    GOLD.write_text(render(cases), encoding="utf-8")
    print(f"{len(cases)} cases written to {GOLD}")


if __name__ == "__main__":
    main()
