"""A deterministic, rule-based extractor that answers in the system prompt's JSON format.

It only claims parallelism for clear cases (a list of items under a recognisable task, a
passage with several questions, "N things" requests, quoted items under a task) and says
"not parallelizable" otherwise. It is the emulator's responder, an offline baseline and a
candidate pre-filter; its answers are heuristics, not a model's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import cues

_NAMES = ("Alice", "Bob", "Carmen", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas")
_PLACEHOLDER = re.compile(r"\bNAME_(\d+)\b")
_MARKER = re.compile(
    r"^[ \t]*(?:\(?\d{1,3}\s*[.)．、:：）]|\(?[a-hA-H][.)]\s|[①-⑳]|"
    r"[一二三四五六七八九十]{1,3}[、.．]|[-•*·◦▪–—]\s)[ \t]*"
)
_INLINE = re.compile(r"(?:^|(?<=\s))\(?(\d{1,2})[.)]\s+")
_QUOTED = re.compile(
    r"\"([^\"\n]{1,300})\"|“([^”\n]{1,300})”|«\s?([^»\n]{1,300}?)\s?»|"
    r"(?<!\w)'([^'\n]{1,120})'(?!\w)"
)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_TASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "Translation",
        re.compile(r"translat|tradu[cizs]|übersetz|перевед|переве|翻译|翻譯|翻訳|번역"),
    ),
    (
        "Language Correction",
        re.compile(
            r"\bcorrect|grammar|proofread|spelling|fix (?:the )?(?:errors|mistakes)|corrig|"
            r"korrigier|исправ|纠正|改正|语法|校正|添削"
        ),
    ),
    (
        "Sentiment Analysis",
        re.compile(r"sentiment|positive or negative|emotion|stimmung|тональн|情感|情绪|感情"),
    ),
    (
        "Keyword Extraction",
        re.compile(
            r"keyword|key phrase|keyphrase|palabras clave|mots[- ]cl[ée]s|schlüsselw|"
            r"ключев|关键词|キーワード"
        ),
    ),
    (
        "Named Entity Recognition",
        re.compile(
            r"named entit|entities|\bner\b|entidades|entités|entitäten|сущност|实体|固有表現"
        ),
    ),
)
_ANSWER = re.compile(
    r"answer|question|respond|responde|pregunta|réponds|répondez|question|beantworte|fragen|"
    r"rispondi|domande|ответь|ответьте|вопрос|回答|问题|問題|答え|質問"
)
_QUESTION_END = re.compile(r"[?？؟]\s*$")
_RG_NOUN_EXCLUDED = frozenset({"words", "lines", "sentences", "points", "bullet points", "слов"})
_MAX_N = 100
_PASSAGE_MIN_CHARS = 160


def heuristic_answer(prompt: str) -> str:
    """The JSON answer, exactly as the system prompt asks a model to give it."""
    serial = _deanonymise(prompt)
    answer = _list_answer(serial) or _quoted_answer(serial) or _count_answer(serial)
    return json.dumps(answer or _negative(serial), ensure_ascii=False)


def _deanonymise(prompt: str) -> str:
    return _PLACEHOLDER.sub(lambda m: _NAMES[(int(m.group(1)) - 1) % len(_NAMES)], prompt)


def _answer(
    serial: str,
    category: str,
    template: str,
    *,
    context: str | None = None,
    data: list[str] | None = None,
    n: int | None = None,
) -> dict[str, Any]:
    return {
        "parallelizable": True,
        "category": category,
        "is_novel_category": False,
        "category_description": None,
        "serial": serial,
        "template": template,
        "context": context,
        "data": data,
        "n": n,
    }


def _negative(serial: str) -> dict[str, Any]:
    return {
        "parallelizable": False,
        "category": None,
        "is_novel_category": False,
        "category_description": None,
        "serial": serial,
        "template": None,
        "context": None,
        "data": None,
        "n": None,
    }


def _task(instruction: str) -> str | None:
    lower = instruction.lower()
    for name, pattern in _TASKS:
        if pattern.search(lower):
            return name
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


def _list_answer(serial: str) -> dict[str, Any] | None:
    split = _split_list(serial)
    if split is None:
        return None
    intro, items, outro = split
    if len(set(items)) != len(items):
        return None
    instruction = f"{intro}\n{outro}".strip()
    category = _task(instruction)
    questions = sum(1 for item in items if _QUESTION_END.search(item))
    if category is None and (questions == len(items) or _ANSWER.search(instruction.lower())):
        category = "Reading Comprehension"
    if category is None:
        return None  # numbered steps, options, requirements...: not clearly independent
    if category == "Reading Comprehension" and _is_passage(intro):
        template = "{context}\n\nAnswer this question about the text above: {data}"
        return _answer(serial, category, template, context=intro, data=items)
    if not instruction:
        return None
    return _answer(serial, category, f"{instruction}\n\n{{data}}", data=items)


def _is_passage(intro: str) -> bool:
    return len(intro) >= _PASSAGE_MIN_CHARS or intro.count("\n") >= 2


def _quoted_answer(serial: str) -> dict[str, Any] | None:
    """A task over quoted items, or over several sentences after a colon."""
    head, colon, tail = serial.partition(":")
    instruction = head if colon else serial
    category = _task(instruction)
    if category is None:
        return None
    items = [next(g for g in m.groups() if g is not None).strip() for m in _QUOTED.finditer(serial)]
    if len(items) < 2 and colon and "\n" not in tail.strip():
        items = [s.strip() for s in _SENTENCE_END.split(tail.strip()) if s.strip()]
    if len(items) < 2 or len(set(items)) != len(items):
        return None
    return _answer(serial, category, f"{instruction.strip()}: {{data}}", data=items)


def _count_answer(serial: str) -> dict[str, Any] | None:
    lower = serial.lower()
    found = [
        m for m in cues.COUNT_REQUEST.finditer(lower) if m.group("noun") not in _RG_NOUN_EXCLUDED
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
        noun = match.group("noun")
        middle = serial[match.end("num") : match.start("noun")]
        singular = f"{_article(middle.strip() or noun)}{middle}{_singular(noun)}"
        template = serial[: match.start()] + singular.lstrip() + serial[match.end() :]
    else:
        match = cjk[0]
        template = serial[: match.start("num")] + "一" + serial[match.end("num") :]
    return _answer(serial, "Repeated Generation", template, n=n)


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
