"""Structural cues in a prompt: the evidence that a "parallelizable" answer is believable.

Two families: ORIGINAL_* reproduce the published pipeline's regular expressions exactly
(quirks included); the others are ours, multilingual, used by the `default` profile and by
the heuristic extractor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from .grounding import key, trim

# --- the published pipeline's patterns (applied to the lower-cased prompt unless noted) ---

_ORIGINAL_VERBS = (
    "generate|create|write|make|give|provide|list|show|tell|name|identify|find|spot|translate|"
    "correct|develop|produce|craft|prepare|construct|compile|analyze|evaluate|compare|contrast|"
    "offer|suggest|need|want|require|discuss"
)
# 26 nouns; note `stories?` matches "storie(s)", never "story" (a quirk kept on purpose).
_ORIGINAL_NOUNS = (
    "examples?|stories?|variations?|ideas?|options?|questions?|sentences?|paragraphs?|items?|"
    "tasks?|entities?|keywords?|words?|phrases?|translations?|summaries?|reports?|reviews?|"
    "analyses?|cases?|scenarios?|characters?|profiles?|descriptions?|suggestions?|"
    "recommendations?"
)
ORIGINAL_NUMERIC_REQUEST = re.compile(rf"\b({_ORIGINAL_VERBS})?\s*\d+\s*({_ORIGINAL_NOUNS})\b")
ORIGINAL_LIST_MARKERS = re.compile(
    r"\b(following|these|each of|all of|todos?|las?s?|die|der|das|les?|la|il|и)\s+"
    r"(questions?|items?|prompts?|sentences?|paragraphs?|tasks?|texts?|statements?|passages?|"
    r"preguntas?|frases?|fragen|sätze|questions|phrases|вопросы|предложения)\b"
)
ORIGINAL_NUMBERED_ITEMS = re.compile(r"(?:\d+[\.\)\:]|(?:\n[-•*]\s+))")  # original case, > 1
ORIGINAL_MULTIPLE_QUESTIONS = re.compile(r"\?[\s\n]+")  # original case, > 1
ORIGINAL_BULLET_LIST = re.compile(r"(\n\s*[-•*]\s+|\n\s*\d+[\.\)]\s+)")  # original case, > 1
ORIGINAL_MULTIPLICITY = re.compile(
    r"\b(multiple|several|each|all|every|various|respectively|varios?s?|plusieurs|mehrere|"
    r"多个|многие)\b"
)
ORIGINAL_COMMA_LIST = re.compile(r"\b\w+\b\s*,\s*\b\w+\b\s*(?:,\s*(?:and\s+)?\b\w+\b)+")
ORIGINAL_FOR_EACH = re.compile(r"\bfor\s+(every|each)\b")
ORIGINAL_PLURAL_LIST = re.compile(r"\b\w+s\b\s*[:;]\s*\b")
ORIGINAL_TIER_CATEGORIES = ("Reading Comprehension", "Named Entity Recognition", "Translation")

# --- ours ---

NUMBER_WORDS: dict[str, int] = {}
for _words in (
    "two three four five six seven eight nine ten eleven twelve",  # en
    "deux trois quatre cinq six sept huit neuf dix onze douze",  # fr
    "dos tres cuatro cinco seis siete ocho nueve diez once doce",  # es
    "zwei drei vier fünf sechs sieben acht neun zehn elf zwölf",  # de
    "_ tre quattro cinque _ sette otto nove dieci undici dodici",  # it ("due", "sei" clash)
    "dois três quatro cinco seis sete oito nove dez onze doze",  # pt
    "два три четыре пять шесть семь восемь девять десять",  # ru
):
    for _value, _word in enumerate(_words.split(), start=2):
        if _word != "_":
            NUMBER_WORDS.setdefault(_word, _value)
NUMBER_WORDS.update({"duas": 2, "две": 2, "fifteen": 15, "twenty": 20, "quinze": 15})
NUMBER_WORDS.update({"veinte": 20, "vingt": 20, "zwanzig": 20, "thirty": 30, "fifty": 50})
CJK_NUMBERS = {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CJK_NUMBERS.update({"十": 10, "二十": 20})

_NUMBER = (
    r"(?P<num>\d{1,4}|"
    + "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True))
    + r")"
)
# Countable output nouns, plural forms, several languages (prefix stems for ru).
_OUTPUT_NOUNS = (
    r"ideas|names|examples|stories|questions|sentences|titles|slogans|taglines|jokes|tips|facts|"
    r"options|suggestions|variations|versions|alternatives|ways|reasons|words|phrases|synonyms|"
    r"antonyms|poems|haikus|limericks|tweets|posts|headlines|captions|descriptions|summaries|"
    r"items|points|products|recipes|quotes|songs|characters|scenarios|prompts|emails|messages|"
    r"responses|answers|replies|keywords|hashtags|topics|dialogues|riddles|puzzles|problems|"
    r"exercises|quizzes|lines|bullet points|taglines|things|activities|places|books|movies|"
    r"recommendations|translations|paraphrases|rewrites|outlines|lists|examples|"
    r"ideas|nombres|ejemplos|preguntas|frases|oraciones|títulos|historias|chistes|consejos|"
    r"opciones|eslóganes|palabras|respuestas|"
    r"idées|noms|exemples|phrases|titres|histoires|blagues|conseils|mots|propositions|"
    r"ideen|namen|beispiele|fragen|sätze|titel|geschichten|witze|tipps|optionen|wörter|"
    r"vorschläge|slogans|"
    r"ideias|nomes|exemplos|perguntas|histórias|piadas|dicas|opções|palavras|"
    r"idee|nomi|esempi|domande|frasi|titoli|storie|barzellette|consigli|opzioni|parole|"
    r"иде\w*|имен\w*|пример\w*|вопрос\w*|предложени\w*|назван\w*|истори\w*|шут\w*|"
    r"совет\w*|вариант\w*|слоган\w*|заголов\w*|слов\w*"
)
UNITS = frozenset(
    [
        "minutes",
        "hours",
        "days",
        "weeks",
        "months",
        "years",
        "seconds",
        "times",
        "percent",
        "dollars",
        "euros",
        "pounds",
        "people",
        "persons",
        "kg",
        "km",
        "miles",
        "meters",
        "metres",
        "degrees",
        "pages",
        "paragraphs",
        "steps",
        "cups",
        "grams",
    ]
)
COUNT_REQUEST = re.compile(
    rf"(?<![\w.,]){_NUMBER}\s+(?:[^\W\d_][\w'’-]*\s+){{0,3}}?(?P<noun>{_OUTPUT_NOUNS})\b"
)
COUNT_PLURAL = re.compile(rf"(?<![\w.,]){_NUMBER}\s+(?P<noun>[^\W\d_]{{2,}}s)\b")
CJK_COUNT = re.compile(
    r"(?P<num>\d{1,3}|二十|[两二三四五六七八九十])\s*"
    r"(?:个|個|条|條|篇|首|句|道|种|種|则|則|项|項|点|點|つ|件|問|题|題|개|가지)"
)


def _trie(words: Iterable[str]) -> str:
    """An alternation of ``words`` grouped by first letter: ``re`` rejects a position on one
    character compare per group instead of one per word. Longest first within a group, as
    in ``_NUMBER`` (a failed lookahead backtracks into the others anyway)."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(word[1:])
    alternatives = []
    for first, rests in sorted(groups.items()):
        tails = sorted(set(rests), key=lambda r: (-len(r), r))
        inner = "|".join(re.escape(t) for t in tails)
        alternatives.append(re.escape(first) + (f"(?:{inner})" if inner else ""))
    return "|".join(alternatives)


_LIST_DETERMINERS = (
    "the following", "following", "these", "those", "the below", "below", "each of the",
    "all of the", "las siguientes", "los siguientes", "estas", "estos", "les", "ces",
    "die folgenden", "folgende", "folgenden", "diese", "le seguenti", "i seguenti", "queste",
    "questi", "as seguintes", "os seguintes", "следующие", "эти",
)  # fmt: skip
_LIST_NOUNS = (
    "questions", "sentences", "items", "words", "phrases", "texts", "reviews", "statements",
    "paragraphs", "passages", "names", "tasks", "prompts", "terms", "lines", "comments",
    "tweets", "titles", "sentences", "examples", "preguntas", "frases", "oraciones", "palabras",
    "textos", "reseñas", "phrases", "questions", "mots", "textes", "avis", "fragen", "sätze",
    "wörter", "texte", "begriffe", "bewertungen", "domande", "frasi", "parole", "testi",
    "recensioni", "perguntas", "palavras", "вопросы", "предложения", "слова", "тексты", "отзывы",
)  # fmt: skip
_SUIVANT_NOUNS = ("phrases", "questions", "mots", "textes", "avis", "éléments")
# The three branches of LIST_INTRO: a determiner + up to two words + a list noun; a French
# noun + "suivant(e)s"; a CJK demonstrative + a noun.
_INTRO_DETERMINER = (
    rf"(?:{'|'.join(_LIST_DETERMINERS)})\s+(?:[^\W\d_]+\s+){{0,2}}?(?:{'|'.join(_LIST_NOUNS)})\b"
)
_INTRO_SUIVANT = rf"(?:{'|'.join(_SUIVANT_NOUNS)})\s+suivant(?:e)?s\b"
_INTRO_CJK = (
    r"(?:以下|下面|下列|这些|這些|次の)の?的?"
    r"(?:问题|問題|句子|单词|單詞|词语|文本|评论|質問|文|単語|文章)"
)
LIST_INTRO = re.compile(rf"\b{_INTRO_DETERMINER}|\b{_INTRO_SUIVANT}|{_INTRO_CJK}")
# ``list_intro``'s form of the first two branches, searched in " " + the text: the character
# before the match stands for the leading \b (both branches open with a letter), so the
# pattern opens with a character class and ``re`` skips in C to the next non-word character
# instead of trying the alternations at every one; the alternations are tries (one character
# compare per first letter). Whether a match exists does not depend on the order of the
# alternatives. The CJK branch has no \b and cannot match ASCII text.
_WORD_INTRO = re.compile(
    rf"[^\w](?:{_trie(_LIST_DETERMINERS)})\s+(?:[^\W\d_]+\s+){{0,2}}?(?:{_trie(_LIST_NOUNS)})\b"
    rf"|[^\w](?:{_trie(_SUIVANT_NOUNS)})\s+suivant(?:e)?s\b"
)
_CJK_INTRO = re.compile(_INTRO_CJK)


def list_intro(lower: str) -> bool:
    """``LIST_INTRO.search(lower)``, faster (about 2x on a 500-character prompt): see
    ``_WORD_INTRO``."""
    if _WORD_INTRO.search(" " + lower):
        return True
    return not lower.isascii() and bool(_CJK_INTRO.search(lower))


LINE_ITEM = re.compile(
    r"(?m)^[ \t]*(?:\(?\d{1,3}\s*[.)．、:：）]|\(?[a-hA-H][.)]\s|[①-⑳]|"
    r"[一二三四五六七八九十]{1,3}[、.．]|[-•*·◦▪–—]\s)"
)
INLINE_NUMBER = re.compile(r"(?:^|(?<=\s))\(?(\d{1,2})[.)]\s+\S")
QUESTION_MARK = re.compile(r"[?](?=\s|$|[\"'”’)\]*])|[？؟]")
MULTIPLICITY = re.compile(
    r"\b(?:multiple|several|each|every|all|various|respectively|"
    r"varios|varias|cada|todos|todas|diversos|diversas|"
    r"plusieurs|chaque|chacun|chacune|tous|toutes|divers|"
    r"mehrere|jede|jeden|jeder|jedes|alle|verschiedene|"
    r"diversi|ogni|ognuno|ognuna|ciascuno|ciascuna|tutti|tutte|vari|alcuni|"
    r"vários|várias|"
    r"несколько|каждый|каждого|каждое|каждую|все|различные)\b"
    r"|每个|每一|各个|多个|几个|所有|分别|それぞれ|各々|複数|いくつか"
)
_CONJ = r"(?:and|or|y|e|et|ou|und|oder|o|и|или)"
_WORD = r"[\"'«“‘]?[^\W_][\w'’-]*[\"'»”’]?"
# An item may carry a bracketed note: "player (str), team (str), position (str)".
_ITEM = rf"{_WORD}(?:[ \t]+{_WORD}){{0,3}}(?:[ \t]*[(\[][^()\[\]\n]{{0,40}}[)\]])?"
ENUMERATION = re.compile(
    rf"{_ITEM}[ \t]*,[ \t]*{_ITEM}(?:[ \t]*,[ \t]*(?:{_CONJ}[ \t]+)?|[ \t]+{_CONJ}[ \t]+){_WORD}"
    r"|[^\s、]+、[^\s、]+(?:、|和|及|与|與|と|や)[^\s、]+"
)
FOR_EACH = re.compile(
    r"\b(?:for (?:each|every)|pour chaque|para cada|für jede[nrsm]?|per ogni|per ciascun[oa]?|"
    r"для кажд\w*|по кажд\w*)\b|对每|對每|针对每|各自"
)
PLURAL_COLON = re.compile(r"\b\w+s\s*[:;]")
# "Correct these: teh cat, a dgo" -- a demonstrative + colon introduces the list.
THESE_COLON = re.compile(
    r"\b(?:these|those|the following|following|below|estas|estos|estes|essas|esses|ces|"
    r"suivante?s?|diese|folgende|folgenden|queste|questi|seguenti|эти|следующие)\s*[:：]"
    r"|(?:以下|下面|下列|这些|這些|次の)[^\n:：]{0,6}[:：]"
)
_PUNCT_JOINER = re.compile(r" [,;/、，] ")
_ONE_OUTPUT = re.compile(
    r"\b(?:a|an|one|single|between|both|un|una|une|uno|ein|eine|einen|entre|zwischen|tra|между)\b"
)
_QUOTED = re.compile(r"\"([^\"\n]+)\"|“([^”\n]+)”|(?<!\w)'([^'\n]+)'(?!\w)|«([^»\n]+)»|‘([^’\n]+)’")
# What may stand between two consecutive items in the prompt (canonical grounding form).
_JOINER = re.compile(
    r" (?:[,;/、，]|and|or|y|o|e|et|ou|und|oder|и|или|和|与|與|或|と|や|vs|versus)"
    r"(?: (?:and|or|y|e|et|ou|und|oder|и|или))? "
)


def count_original(pattern: re.Pattern[str], text: str) -> int:
    return sum(1 for _ in pattern.finditer(text))


def requested_counts(prompt: str) -> list[int]:
    """The numbers n for which the prompt asks for "n <output things>" (any language).

    The same matches as ``COUNT_REQUEST.finditer`` and ``COUNT_PLURAL.finditer`` on the
    lower-cased prompt and ``CJK_COUNT.finditer`` on the prompt (``requested_counts_reference``),
    found faster: those patterns open with a lookbehind and a long alternation, which ``re``
    retries at every character (about 70 µs on a 500-character prompt). A match can only
    start at a number (see ``number_starts``) and a CJK count needs a counter character, so
    the patterns are tried only there."""
    lower = prompt.lower()
    counts: list[int] = []
    starts = number_starts(lower)
    if starts:
        for match in _matches_from(COUNT_REQUEST, lower, starts):
            counts.append(_number_value(match.group("num")))
        for match in _matches_from(COUNT_PLURAL, lower, starts):
            if match.group("noun") not in UNITS:
                counts.append(_number_value(match.group("num")))
    if _CJK_COUNTER.search(prompt):
        for match in CJK_COUNT.finditer(prompt):
            counts.append(_number_value(match.group("num")))
    return counts


def requested_counts_reference(prompt: str) -> list[int]:
    """``requested_counts`` as the three patterns' plain ``finditer`` (the test's reference)."""
    lower = prompt.lower()
    counts = [_number_value(m.group("num")) for m in COUNT_REQUEST.finditer(lower)]
    counts += [
        _number_value(m.group("num"))
        for m in COUNT_PLURAL.finditer(lower)
        if m.group("noun") not in UNITS
    ]
    counts += [_number_value(m.group("num")) for m in CJK_COUNT.finditer(prompt)]
    return counts


# Where COUNT_REQUEST and COUNT_PLURAL can match: their common start (the lookbehind, a
# number, whitespace), the number words as a trie. ``number_starts`` searches the text after a
# space for the character before the number instead of the lookbehind: a pattern that opens
# with a character class lets ``re`` skip to the next candidate in C (about 40 % faster), and
# the lookahead for a digit or a number word's first letter drops most words at once.
_NUMBER_FIRST = "".join(sorted({re.escape(word[0]) for word in NUMBER_WORDS}))
_NUMBER_START = re.compile(
    rf"[^\w.,](?=[\d{_NUMBER_FIRST}])(?:\d{{1,4}}|{_trie(NUMBER_WORDS)})(?=\s)"
)
# The same for an ASCII text, with re.ASCII (its classes test a table, not Unicode
# properties: about 25 % faster) and the ASCII number words: on ASCII text, \w and \d match
# what the Unicode classes match; \s does too once \x1c-\x1f (str.isspace) are added.
_ASCII_WORDS = [word for word in NUMBER_WORDS if word.isascii()]
_ASCII_FIRST = "".join(sorted({re.escape(word[0]) for word in _ASCII_WORDS}))
_ASCII_NUMBER_START = re.compile(
    rf"[^\w.,](?=[\d{_ASCII_FIRST}])(?:\d{{1,4}}|{_trie(_ASCII_WORDS)})(?=[\s\x1c-\x1f])",
    re.ASCII,
)
# Every CJK_COUNT match ends with one of these (가 for 가지).
_CJK_COUNTER = re.compile(r"[个個条條篇首句道种種则則项項点點つ件問题題개가]")


def number_starts(lower: str) -> list[int]:
    r"""Every offset where COUNT_REQUEST or COUNT_PLURAL can match, in order: where both
    patterns' common start (``(?<![\w.,])``, ``_NUMBER``, whitespace) matches."""
    # a match's start in " " + lower (the character before the number) is the number's in lower
    pattern = _ASCII_NUMBER_START if lower.isascii() else _NUMBER_START
    return [m.start() for m in pattern.finditer(" " + lower)]


def _matches_from(
    pattern: re.Pattern[str], text: str, starts: list[int]
) -> Iterator[re.Match[str]]:
    """What ``pattern.finditer(text)`` yields when it can only match at ``starts``: the first
    match at or after the end of the previous one (matches are never empty here)."""
    end = 0
    for start in starts:
        if start < end:
            continue
        match = pattern.match(text, start)
        if match is not None:
            yield match
            end = match.end()


def _number_value(token: str) -> int:
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(token, CJK_NUMBERS.get(token, 0))


def has_numbered_list(prompt: str) -> bool:
    """Two or more list items: numbered or bulleted lines (any script's digits, circled
    numbers, CJK ordinals), or inline "1. ... 2. ..." with consecutive numbers."""
    if count_original(LINE_ITEM, prompt) >= 2:
        return True
    numbers = {int(m.group(1)) for m in INLINE_NUMBER.finditer(prompt) if m.group(1).isascii()}
    return any(k + 1 in numbers for k in numbers)


def question_count(prompt: str) -> int:
    """Question marks that end a question (a final one counts; "??" counts once)."""
    return count_original(QUESTION_MARK, re.sub(r"[?？؟]{2,}", "?", prompt))


def mentions_number(prompt: str, n: int) -> bool:
    """Whether n appears in the prompt as a number or a number word."""
    if re.search(rf"(?<![\d.,]){n}(?![\d.,]\d)", prompt):
        return True
    lower = prompt.lower()
    words = [w for w, v in NUMBER_WORDS.items() if v == n]
    words += [w for w, v in CJK_NUMBERS.items() if v == n]
    return any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", lower) for w in words) or any(
        w in prompt for w, v in CJK_NUMBERS.items() if v == n
    )


def items_on_lines(prompt: str, items: Iterable[str]) -> int:
    """How many items fill a whole line of the prompt (a list without markers)."""
    lines = {trim(key(line)) for line in prompt.splitlines()}
    lines.discard("")
    return sum(1 for item in items if trim(key(item)) in lines)


def items_joined(prompt: str, items: Sequence[str]) -> bool:
    """Two or more items standing side by side in the prompt, joined only by commas or a
    conjunction: "Explain quicksort and mergesort", "Translate hello, goodbye". Not when the
    items are pieces of one quoted text ("Translate 'Good morning, how are you?'"), nor two
    things joined by "and" under one singular output ("Write a poem about the sun and the
    moon", "the difference between X and Y")."""
    if len(items) < 2:
        return False
    text = f" {key(prompt)} "
    keys = [key(item).strip(" .,;:!?") for item in items]
    if any(not k for k in keys):
        return False
    start = text.find(f" {keys[0]} ")
    if start < 0:
        return False
    pos, conjunction = start + len(keys[0]) + 1, False
    for nxt in keys[1:]:
        joiner = _JOINER.match(text, pos)
        if joiner is None or not text.startswith(f"{nxt} ", joiner.end()):
            return False
        conjunction = conjunction or not _PUNCT_JOINER.fullmatch(joiner.group())
        pos = joiner.end() + len(nxt)
    if conjunction and len(keys) == 2 and _ONE_OUTPUT.search(" ".join(text[:start].split()[-8:])):
        return False
    return not any(sum(k in quoted for k in keys) >= 2 for quoted in _quoted(prompt))


def _quoted(prompt: str) -> list[str]:
    return [key(next(g for g in m.groups() if g)) for m in _QUOTED.finditer(prompt)]
