"""A deterministic, rule-based extractor that answers in the system prompt's lean JSON format.

It only claims parallelism for clear cases (a list of items under a recognisable task, a
passage with several questions, "N things" requests, quoted items under a task, a list under
"<verb> each of these") and says "not parallelizable" otherwise. It is the emulator's
responder, an offline baseline and a candidate pre-filter; its answers are heuristics, not a
model's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import cues, lean

_NAMES = ("Alice", "Bob", "Carmen", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas")
_PLACEHOLDER = re.compile(r"\bNAME_(\d+)\b")
_MARKER = lean.LIST_MARKER
_INLINE = re.compile(r"(?:^|(?<=\s))\(?(\d{1,2})[.)]\s+")
_QUOTED = re.compile(
    r"\"([^\"\n]{1,300})\"|“([^”\n]{1,300})”|«\s?([^»\n]{1,300}?)\s?»|"
    r"(?<!\w)'([^'\n]{1,120})'(?!\w)"
)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
# Entity types: two or more of them under an extraction verb ask for NER.
_ENTITY_TYPES = re.compile(
    r"\b(?:people|persons?|person names|companies|organi[sz]ations?|institutions|places|"
    r"locations|cities|countries|dates|brands|"
    r"personas|lugares|organizaciones|empresas|instituciones|ciudades|países|fechas|"
    r"personnes|lieux|entreprises|villes|pays|"
    r"personen|orte|organisationen|firmen|unternehmen|städte|länder|"
    r"pessoas|organizações|cidades|datas|persone|luoghi|organizzazioni|aziende|città|"
    r"люд\w*|персон\w*|мест\w*|организаци\w*|компани\w*|город\w*|стран\w*)\b"
    r"|人名|地名|机构名?|機構名?|组织名?|組織名?|公司|人物|地点|地點|日期"
)
_EXTRACT = re.compile(
    r"\b(?:find|identify|extract|list|tag|label|mark|highlight|detect|recogni[sz]e|spot|"
    r"pull out|encuentra|identifica|extrae|extraia|extrai|trouve|identifie|extrais|finde|"
    r"identifiziere|extrahiere|markiere|trova|estrai|найди|выдели|извлеки|определи)\b"
    r"|识别|識別|提取|找出|标注|標註|抽出|抽取"
)
_TASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "Translation",
        re.compile(r"translat|tradu[cizs]|übersetz|перевед|переве|翻译|翻譯|翻訳|번역"),
    ),
    (
        "Language Correction",
        re.compile(
            r"\bcorrect(?!ly|ness)|grammar|grammat|gram[aá]tic|proofread|spelling|typos|"
            r"fix (?:\w+ ){0,3}?(?:errors|mistakes|typos)|corrig|corrij|korrigier|исправ|"
            r"纠正|糾正|改正|病句|语法|語法|文法|校正|添削|교정|맞춤법"
        ),
    ),
    (
        "Sentiment Analysis",
        re.compile(
            r"sentiment|sentimiento|sentimento|positive or negative|"
            r"positi[vf]\w*[,/ ]+(?:\w+[,/ ]+){0,2}?n[eé]gati|"
            r"n[eé]gati[vf]\w*[,/ ]+(?:\w+[,/ ]+){0,2}?positi|"
            r"emotion|émotion|emoción|emoção|stimmung|polarit|тональн|情感|情绪|情緒|感情|감정"
        ),
    ),
    (
        "Keyword Extraction",
        re.compile(
            r"keyword|key ?phrase|key ?terms?\b|key ?words|key concepts|"
            r"palabras? clave|t[ée]rminos clave|mots?[- ]cl[ée]s?|termes? cl[ée]s?|"
            r"schlüssel(?:w|b)|schlagw|stichw|parole chiave|termini chiave|palavras?[- ]chave|"
            r"termos?[- ]chave|ключев|关键词|關鍵詞|关键字|キーワード|키워드|핵심어"
        ),
    ),
    (
        "Named Entity Recognition",
        re.compile(
            r"named entit|entities|\bner\b|entidades|entités|entitäten|entità|сущност|"
            r"实体|實體|固有表現|개체명"
        ),
    ),
)
_ANSWER = re.compile(
    r"answer|question|respond|responde|pregunta|réponds|répondez|question|beantworte|fragen|"
    r"rispondi|domande|ответь|ответьте|вопрос|回答|问题|問題|答え|質問"
)
_QUESTION_END = re.compile(r"[?？؟]\s*$")
# A passage's label line ("Passage:", "Text:", "文章："): the text under it is a context.
_LABEL = re.compile(r"^[ \t]*[^\W\d_][\w \t'’-]{0,24}[:：][ \t]*$")
_PASSAGE_LABEL = re.compile(
    r"passage|text|context|article|story|paragraph|excerpt|document|abstract|"
    r"texte|texto|testo|contexto|contesto|artículo|absatz|текст|文章|短文|本文|段落|지문"
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# A list under "<verb> each of these": independent subtasks of a task with no canonical
# category. (category, description, verb pattern); the verb must be the instruction's.
_EACH = re.compile(
    r"\b(?:each|every one|cada uno|cada una|cada|chacun|chacune|chaque|jeweils|jede[nrs]?|"
    r"ciascun[oa]?|ogni|кажд\w*)\b|每个|每個|每一|分别|分別|それぞれ|각각"
)
_START = r"(?:^|[.!?;:,]\s*|\b(?:please|kindly|can you|could you|would you|now)\s+)"
_NOVEL_TASKS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    (
        "Summarization",
        "Summarizing several independent texts, one summary per text.",
        re.compile(
            rf"{_START}(?:summari[sz]e|sum up|resume|resuma|résume|résumez|fasse|riassumi)\b|"
            r"概括|总结|總結|要約|요약"
        ),
    ),
    (
        "Explanation",
        "Explaining or defining several independent terms, idioms or concepts.",
        re.compile(
            rf"{_START}(?:explain|define|explica|explique|expliquez|erkläre|erklären|spiega|"
            r"объясни|объясните)\b|解释|解釋|意思|含义|含義|説明|意味|설명"
        ),
    ),
    (
        "Conversion",
        "Converting several independent values or expressions to another unit or format.",
        re.compile(rf"{_START}(?:convert|conviert[ae]|convertis|converta|converti|rechne)\b|换算"),
    ),
    (
        "Rating",
        "Rating or scoring several independent items on the same scale.",
        re.compile(rf"{_START}(?:rate|score|grade|califica|puntúa|notez|bewerte|valuta|оцени)\b"),
    ),
)
RG = "Repeated Generation"
_RG_NOUN_EXCLUDED = frozenset({"words", "lines", "sentences", "points", "bullet points", "слов"})
# "4 different opening lines": a length noun asked for in distinct versions is an output.
_DISTINCT = re.compile(
    r"\b(?:different|distinct|unique|alternative|separate|varied|diferentes|distint[oa]s|"
    r"différente?s|verschiedene|unterschiedliche|diverse|diversi|разных|разные|различные)\b"
)
_CONSTRAINT = re.compile(r"\b(?:in|into|of|with|within|using|under|than|max|maximum)\s*$")
_DISTINCT_EN = re.compile(r"\b(?:different|distinct|unique|separate|varied)\s+")
# An imperative asking for things + a count + a noun: "Schreibe 3 Werbesprüche ...".
_GEN_VERBS = (
    r"give|write|generate|create|list|suggest|propose|provide|brainstorm|draft|compose|"
    r"invent|name|recommend|come up with|think of|produce|craft|devise|"
    r"dame|danos|escribe|escriba|genera|crea|sugiere|sugiera|propón|propon|inventa|enumera|"
    r"nombra|menciona|redacta|donne|donnez|écris|écrivez|génère|générez|crée|créez|propose|"
    r"proposez|suggère|suggérez|invente|inventez|liste|listez|cite|citez|rédige|rédigez|"
    r"gib|geben sie|schreibe|schreib|schreiben sie|nenne|nennen sie|erstelle|erstellen sie|"
    r"generiere|erfinde|formuliere|dê|escreva|escreve|gere|crie|sugira|proponha|faça|"
    r"indique|dammi|scrivi|suggerisci|proponi|elenca|indica|дай|дайте|напиши|напишите|"
    r"придумай|придумайте|предложи|предложите|перечисли|назови|назовите|создай|сгенерируй|"
    r"составь"
)
_NUMBER_WORDS = "|".join(sorted(map(re.escape, cues.NUMBER_WORDS), key=len, reverse=True))
_GEN_COUNT = re.compile(
    rf"(?<![\w-])(?:{_GEN_VERBS})(?:-moi|-nous|\s+(?:me|us|mir|uns|moi|nous|nos|mi|ci|мне|нам))?"
    rf"\s+(?P<num>\d{{1,3}}|{_NUMBER_WORDS})\s+(?P<noun>[^\W\d_][\w'’-]*)"
    r"(?:\s+(?P<head>[^\W\d_][\w'’-]*s)\b)?"  # English compounds: "3 reminder texts"
)
# Length constraints, not outputs ("Escribe 3 párrafos"), besides cues.UNITS.
_LENGTH_WORDS = (
    "párrafos parágrafos paragraphes absätze paragrafi абзаца абзацев líneas linhas lignes "
    "zeilen righe строки строк palabras palavras mots wörter parole слов слова páginas seiten "
    "pagine страниц страницы minutos minuten minuti минут días dias jours tage giorni дней дня "
    "horas heures stunden ore часов часа pasos passos étapes schritte passi шагов шага"
)
_LENGTH_NOUNS = frozenset(_LENGTH_WORDS.split())
_ENGLISH = re.compile(r"\b(?:the|a|an|me|us|for|of|about|to|with|and|please|some|that|on)\b")
_MAX_N = 100
_PASSAGE_MIN_CHARS = 160
# A context or instruction longer than this is pointed to (anchors, a template edit), not copied.
_COPY_MAX_CHARS = 200
_ANCHOR_WORDS = 6
_KEYS: tuple[str, ...] = ("parallelizable", "category", "category_description", "names")
_KEYS += ("context", "template", "data", "n")
_FIRST_WORDS = re.compile(rf"\S+(?:\s+\S+){{0,{_ANCHOR_WORDS - 1}}}")
_LAST_WORDS = re.compile(rf"\S+(?:\s+\S+){{0,{_ANCHOR_WORDS - 1}}}$")


def heuristic_answer(prompt: str) -> str:
    """The JSON answer, exactly as the system prompt asks a model to give it: lean, pointing to
    the prompt's text rather than copying it (prompts/lean.py)."""
    serial = _deanonymise(prompt)
    answer = _list_answer(serial) or _quoted_answer(serial) or _count_answer(serial)
    if answer is None:
        return json.dumps({"parallelizable": False})
    numbers = sorted({int(m.group(1)) for m in _PLACEHOLDER.finditer(prompt)})
    if numbers:
        answer["names"] = {f"NAME_{k}": placeholder_name(k) for k in numbers}
        if isinstance(answer.get("context"), list):  # offsets into serial, not the prompt
            start, end = answer["context"]
            answer["context"] = serial[start:end]
    ordered = {key: answer[key] for key in _KEYS if key in answer}
    return json.dumps(ordered, ensure_ascii=False)


def placeholder_name(number: int) -> str:
    """The name the extractor puts for the LMSYS placeholder ``NAME_<number>``."""
    return _NAMES[(number - 1) % len(_NAMES)]


def _deanonymise(prompt: str) -> str:
    return _PLACEHOLDER.sub(lambda m: placeholder_name(int(m.group(1))), prompt)


def _answer(
    serial: str,
    category: str,
    template: str | dict[str, str],
    *,
    context: str | None = None,
    data: list[str] | None = None,
    n: int | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """A lean positive answer: no serial, no null fields, a long context as anchors."""
    answer: dict[str, Any] = {"parallelizable": True, "category": category}
    if description is not None:
        answer["category_description"] = description
    if context is not None:
        answer["context"] = _pointer(serial, context)
    answer["template"] = template
    if data is not None:
        answer["data"] = _items_pointer(serial, data)
    if n is not None:
        answer["n"] = n
    return answer


def _pointer(serial: str, context: str) -> str | dict[str, str] | list[int]:
    """A long context as its first and last words when those find exactly it again, else as
    its character offsets (in ``serial``: heuristic_answer copies the text instead when the
    prompt had placeholders, as offsets count in the prompt as given)."""
    if len(context) <= _COPY_MAX_CHARS:
        return context
    first, last = _FIRST_WORDS.match(context), _LAST_WORDS.search(context)
    if first is not None and last is not None:
        span = lean.between(serial, first.group(), last.group())
        if span is not None and serial[span[0] : span[1]] == context:
            return {"from": first.group(), "to": last.group()}
    start = serial.find(context)
    return context if start < 0 else [start, start + len(context)]


def _items_pointer(serial: str, items: list[str]) -> list[str] | dict[str, str]:
    """Many items that are the prompt's lines as anchors on the first and the last, when those
    give exactly these items back; else the items copied."""
    if sum(map(len, items)) <= _COPY_MAX_CHARS:
        return items
    first, last = _FIRST_WORDS.match(items[0]), _LAST_WORDS.search(items[-1])
    if first is None or last is None:
        return items
    span = lean.between(serial, first.group(), last.group())
    if span is None or lean.line_items(serial, span) != items:
        return items
    return {"from": first.group(), "to": last.group()}


def _instruction(
    serial: str, instruction: str, suffix: str, outro: str = ""
) -> tuple[str, str | None]:
    """(template, context) for an instruction followed by ``suffix`` (and ``outro``): a long
    instruction becomes the context, pointed to, and the template says ``{context}``."""
    tail = f"\n{outro}" if outro else ""
    if len(instruction) <= _COPY_MAX_CHARS or instruction not in serial:
        return f"{instruction}{suffix}{tail}", None
    return f"{{context}}{suffix}{tail}", instruction


def _task(instruction: str) -> str | None:
    lower = instruction.lower()
    for name, pattern in _TASKS:
        if pattern.search(lower):
            return name
    if _EXTRACT.search(lower) and len({m.group() for m in _ENTITY_TYPES.finditer(lower)}) >= 2:
        return "Named Entity Recognition"
    return None


def _novel_task(instruction: str) -> tuple[str, str] | None:
    """(category, description) for a list under "<verb> each of these" with a known verb."""
    lower = instruction.lower()
    if not _EACH.search(lower):
        return None
    for name, description, pattern in _NOVEL_TASKS:
        if pattern.search(lower):
            return name, description
    return None


def _split_list(text: str) -> tuple[str, list[str], str] | None:
    """(intro, items, outro) for a marked list of >= 2 items: numbered/bulleted lines, inline
    "1. a 2. b", or plain lines after a line ending in ':'."""
    lines = text.splitlines()
    marked = [i for i, line in enumerate(lines) if _MARKER.match(line) and _MARKER.sub("", line)]
    if len(marked) >= 2:
        items: list[str] = []
        for i in range(marked[0], marked[-1] + 1):
            line = lines[i].strip()
            if i in marked:
                items.append(_MARKER.sub("", lines[i]).strip())
            elif line:
                items[-1] = f"{items[-1]}\n{line}"
        intro = "\n".join(lines[: marked[0]]).strip()
        return intro, items, "\n".join(lines[marked[-1] + 1 :]).strip()
    inline = _inline_list(text)
    if inline is not None:
        return inline
    for i, line in enumerate(lines):
        if line.rstrip().endswith((":", "：")):
            rest = [x.strip() for x in lines[i + 1 :] if x.strip()]
            if len(rest) >= 2 and all(len(x) <= 300 for x in rest):
                return "\n".join(lines[: i + 1]).strip(), rest, ""
            break
    return None


def _inline_list(text: str) -> tuple[str, list[str], str] | None:
    matches = [m for m in _INLINE.finditer(text) if m.group(1).isascii()]
    run = [m for k, m in enumerate(matches) if int(m.group(1)) == k + 1]
    if len(run) < 2:
        return None
    bounds = [m.start() for m in run] + [len(text)]
    items = [text[run[k].end() : bounds[k + 1]].strip() for k in range(len(run))]
    if not all(items):
        return None
    return text[: run[0].start()].strip(), items, ""


def _split_intro(intro: str) -> tuple[str, str, str]:
    """(label, body, ask) of the text before a list: the last paragraph is the ask; what comes
    before it is a body, without its label line ("Passage:", "Text:") if it has one."""
    parts = _PARAGRAPH_BREAK.split(intro)
    if len(parts) < 2:
        return "", "", intro
    body, ask = "\n\n".join(parts[:-1]).strip(), parts[-1].strip()
    first, newline, rest = body.partition("\n")
    if newline and rest.strip() and _LABEL.match(first):
        return first.strip(), rest.strip(), ask
    return "", body, ask


def _list_answer(serial: str) -> dict[str, Any] | None:
    split = _split_list(serial)
    if split is None:
        return None
    intro, items, outro = split
    if len(set(items)) != len(items):
        return None
    instruction = f"{intro}\n{outro}".strip()
    label, body, ask = _split_intro(intro)
    local = f"{ask}\n{outro}".strip()  # the instruction without the text it is about
    category = _task(local) or _questions_category(local, items)
    if category is None and body:
        category = _task(instruction) or _questions_category(instruction, items)
    if category is None:
        return _novel_answer(serial, local, instruction, items)
    if category == "Reading Comprehension":
        if body and (_is_passage(body) or _PASSAGE_LABEL.search(label.lower())):
            head = f"{label}\n" if label else ""
            tail = f"\n{outro}" if outro else ""
            template = f"{head}{{context}}\n\n{ask}\n{{data}}{tail}"
            return _answer(serial, category, template, context=body, data=items)
        if _is_passage(intro):
            template = "{context}\n\nAnswer this question about the text above: {data}"
            return _answer(serial, category, template, context=intro, data=items)
    if not instruction:
        return None
    if len(instruction) <= _COPY_MAX_CHARS or not intro:
        return _answer(serial, category, f"{instruction}\n\n{{data}}", data=items)
    template, context = _instruction(serial, intro, "\n\n{data}", outro)
    return _answer(serial, category, template, context=context, data=items)


def _questions_category(instruction: str, items: list[str]) -> str | None:
    questions = sum(1 for item in items if _QUESTION_END.search(item))
    if questions == len(items) or _ANSWER.search(instruction.lower()):
        return "Reading Comprehension"
    return None


def _novel_answer(
    serial: str, local: str, instruction: str, items: list[str]
) -> dict[str, Any] | None:
    """Numbered steps, options, requirements... are not clearly independent; a list under
    "<summarize / explain / convert / rate> each of these" is."""
    novel = _novel_task(local)
    if novel is None:
        return None
    category, description = novel
    template, context = _instruction(serial, instruction, "\n\n{data}")
    return _answer(serial, category, template, context=context, data=items, description=description)


def _is_passage(intro: str) -> bool:
    return len(intro) >= _PASSAGE_MIN_CHARS or intro.count("\n") >= 2


def _quoted_answer(serial: str) -> dict[str, Any] | None:
    """A task over quoted items, or over several sentences after a colon."""
    head, colon, tail = serial.partition(":")
    instruction = head if colon else serial
    items = [next(g for g in m.groups() if g is not None).strip() for m in _QUOTED.finditer(serial)]
    if len(items) < 2 and colon and "\n" not in tail.strip():
        items = [s.strip() for s in _SENTENCE_END.split(tail.strip()) if s.strip()]
    if len(items) < 2 or len(set(items)) != len(items):
        return None
    category = _task(instruction)
    if category is None:
        return None
    template, context = _instruction(serial, instruction.strip(), ": {data}")
    return _answer(serial, category, template, context=context, data=items)


def _count_answer(serial: str) -> dict[str, Any] | None:
    """ "N things": an output noun counted (`5 healthy breakfast ideas`), or any countable noun
    right after an imperative asking for things (`Schreibe 3 Werbesprüche`)."""
    lower = _lower(serial)
    found = [m for m in cues.COUNT_REQUEST.finditer(lower) if _counts_output(m)]
    if not found:
        found = [
            m
            for m in _GEN_COUNT.finditer(lower)
            if m.group("noun") not in cues.UNITS | _RG_NOUN_EXCLUDED | _LENGTH_NOUNS
        ]
    cjk = list(cues.CJK_COUNT.finditer(serial))
    counts = {_value(m.group("num")) for m in found} | {_value(m.group("num")) for m in cjk}
    if len(counts) != 1:
        return None
    n = counts.pop()
    if not 2 <= n <= _MAX_N:
        return None
    if found:
        match = found[0]
        noun, end = serial[match.start("noun") : match.end("noun")], match.end("noun")
        middle = serial[match.end("num") : match.start("noun")]
        english = _ENGLISH.search(lower) is not None
        if english and "head" in match.re.groupindex and match.group("head") and noun[-1] != "s":
            noun, end = serial[match.start("head") : match.end("head")], match.end("head")
            middle = serial[match.end("num") : match.start("head")]
        if english:
            middle = _DISTINCT_EN.sub("", middle)
            singular = f"{_article(middle.strip() or noun)}{middle}{_singular(noun)}"
        else:
            singular = f"1{middle}{_singular(noun)}"
        return _answer(serial, RG, _edit(serial, match.start("num"), end, singular.lstrip()), n=n)
    match = cjk[0]
    return _answer(serial, RG, _edit(serial, match.start("num"), match.end("num"), "一"), n=n)


def _edit(serial: str, start: int, end: int, new: str) -> str | dict[str, str]:
    """The template: ``serial`` with ``serial[start:end]`` replaced by ``new``; for a long
    prompt, only the change (when the replaced text first occurs where it is replaced)."""
    if len(serial) <= _COPY_MAX_CHARS or serial.find(serial[start:end]) != start:
        return serial[:start] + new + serial[end:]
    return {"replace": serial[start:end], "with": new}


def _lower(text: str) -> str:
    """Lower case, keeping every character's index (match spans apply to the original)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _counts_output(match: re.Match[str]) -> bool:
    """A length noun ("in 3 sentences", "4 lines") is a constraint, not the outputs, unless
    distinct versions are asked for ("4 different opening lines")."""
    if match.group("noun") not in _RG_NOUN_EXCLUDED:
        return True
    before = match.string[max(0, match.start() - 20) : match.start()]
    return bool(_DISTINCT.search(match.group())) and not _CONSTRAINT.search(before)


def _value(token: str) -> int:
    if token.isdigit():
        return int(token)
    return cues.NUMBER_WORDS.get(token, cues.CJK_NUMBERS.get(token, 0))


def _article(next_word: str) -> str:
    if not next_word.isascii():
        return "1"
    return "an" if next_word[:1].lower() in "aeiou" else "a"


def _singular(noun: str) -> str:
    if not noun.isascii():
        return noun
    if noun.endswith("ies"):
        return noun[:-3] + "y"
    if noun.endswith(("ches", "shes", "xes", "sses")):
        return noun[:-2]
    return noun[:-1] if noun.endswith("s") else noun
