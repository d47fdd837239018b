"""The ways a model rewrites text it was asked to copy, one function per class. Pure.

Real answers (schemas Claude wrote for LMSYS prompts) copy the prompt's items and passages
*almost* word for word: they tighten spacing around punctuation, hyphenate compounds, join
split contractions, fix small grammar, swap ``NAME_n`` placeholders and names, turn a literal
backslash-n into a newline, straighten typographic quotes and dashes, decode HTML entities,
collapse runs of whitespace and drop an item's final period. Each function below does one of
these and returns its input unchanged when the class does not fit the text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

# "procedures ?" -> "procedures?", "word , word" -> "word, word", "( x )" -> "(x)".
_SPACE_BEFORE = re.compile(r"(?<=\w)[ \t]+([?!.,;:%])(?=\s|$|[\"')\]])")
_SPACE_INSIDE_OPEN = re.compile(r"([(\[])[ \t]+(?=\w)")
_SPACE_INSIDE_CLOSE = re.compile(r"(?<=\w)[ \t]+([)\]])")

_COMPOUNDS = (
    "long term",
    "short term",
    "real time",
    "well known",
    "high quality",
    "full time",
    "part time",
    "open source",
    "state of the art",
    "up to date",
    "step by step",
    "end to end",
    "follow up",
    "e mail",
    "self driving",
    "decision making",
    "problem solving",
    "user friendly",
    "cost effective",
    "data driven",
    "high level",
    "low level",
    "one time",
    "world class",
    "long lasting",
    "time consuming",
    "eco friendly",
    "non profit",
    "co founder",
    "old fashioned",
    "middle aged",
    "twenty one",
)
_COMPOUND = re.compile(
    r"\b(?:" + "|".join(c.replace(" ", r"[ \t]+") for c in _COMPOUNDS) + r")\b", re.IGNORECASE
)
# Tokenised text ("would 've", "do n't", "it 's"): the clitic joins its word.
_CONTRACTION = re.compile(r"(?<=\w)[ \t]+(n['’]t|['’](?:ve|s|re|ll|d|m|t))\b", re.IGNORECASE)
_CAN_NOT = re.compile(r"\b([Cc])an not\b")

_ENGLISH = re.compile(r"\b(?:the|is|are|was|what|how|why|who|you|and|of|to|this)\b", re.I)
_DETERMINER = r"(?:the|a|an|this|that|these|those|his|her|its|their|my|your|our)"
# "What is a name of fund?" -> "What is the name of the fund?"
_DEFINITE = re.compile(
    rf"\b(what|which|who|where) (is|was|are) (?:a|an) (\w+) of (?!{_DETERMINER}\b)(\w+)",
    re.IGNORECASE,
)
_A_VOWEL = re.compile(r"\b([Aa]) (?=[aeioAEIO][a-z])")
_LONE_I = re.compile(r"(?<![\w'’-])i(?=[ \t]+[a-z]|['’](?:m|ve|ll|d)\b)")
_WH_START = re.compile(r"^(?:what|which|who|whom|whose|where|when|why|how)\b", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\bNAME_(\d+)\b")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})
_DASH = re.compile(r"[ \t]*[—–][ \t]*")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_RUNS = re.compile(r"[ \t]{2,}|[ \t]*\n[ \t]*\n[ \t\n]*")
_FINAL_PERIOD = re.compile(r"(?<=[^\W\d_]{3})\.$")

#: Names a model puts for ``NAME_n`` (a different set from the heuristic extractor's).
MODEL_NAMES = ("John", "Maria", "Ahmed", "Sofia", "Liam", "Yuki", "Priya", "Lucas", "Emma", "Omar")


def tighten_punctuation(text: str) -> str:
    """No space before ? ! . , ; : % and none inside brackets."""
    text = _SPACE_BEFORE.sub(r"\1", text)
    text = _SPACE_INSIDE_OPEN.sub(r"\1", text)
    return _SPACE_INSIDE_CLOSE.sub(r"\1", text)


def hyphenate(text: str) -> str:
    """Common compound modifiers hyphenated: "long term" -> "long-term"."""
    return _COMPOUND.sub(lambda m: re.sub(r"[ \t]+", "-", m.group()), text)


def join_contractions(text: str) -> str:
    """Split clitics joined: "would 've" -> "would've", "do n't" -> "don't"."""
    return _CAN_NOT.sub(r"\1annot", _CONTRACTION.sub(r"\1", text))


def fix_grammar(text: str) -> str:
    """Small fixes a careful writer makes to English: definite articles ("What is a name of
    fund?" -> "What is the name of the fund?"), "a" before a vowel, a lone "i", a capital
    first letter, a question mark after a wh-question. Other languages are left alone."""
    if not _ENGLISH.search(text) or not text.isascii():
        return text
    text = _DEFINITE.sub(lambda m: f"{m[1]} {m[2]} the {m[3]} of the {m[4]}", text)
    text = _A_VOWEL.sub(r"\1n ", text)
    text = _LONE_I.sub("I", text)
    stripped = text.strip()
    if stripped and stripped[0].islower():
        start = text.index(stripped[0])
        text = text[:start] + stripped[0].upper() + text[start + 1 :]
    if _WH_START.match(stripped) and "\n" not in stripped and stripped[-1].isalnum():
        text = text.rstrip() + "?"
    return text


def unescape_newlines(text: str) -> str:
    """A literal backslash-n (two characters, as LMSYS stores some prompts) becomes a newline."""
    return text.replace("\\n", "\n")


def straighten(text: str) -> str:
    """Typographic quotes and dashes as a keyboard types them: “x” -> "x", a — b -> a - b."""
    return _DASH.sub(" - ", text.translate(_QUOTES))


def decode_entities(text: str) -> str:
    """HTML entities decoded: "&amp;" -> "&", "&quot;" -> '"'."""
    return html.unescape(text) if _ENTITY.search(text) else text


def collapse_whitespace(text: str) -> str:
    """Runs of spaces become one, blank-line runs one newline; the ends are trimmed."""
    return _RUNS.sub(lambda m: "\n" if "\n" in m.group() else " ", text).strip()


def drop_final_period(text: str) -> str:
    """An item's final period dropped ("It rains." -> "It rains"), as list items often are."""
    return _FINAL_PERIOD.sub("", text.rstrip())


def placeholders_to_names(text: str, shift: int = 0) -> str:
    """``NAME_n`` -> a name (the model de-anonymises the text it copies)."""
    return _PLACEHOLDER.sub(lambda m: MODEL_NAMES[(int(m[1]) - 1 + shift) % len(MODEL_NAMES)], text)


def swap_words(text: str, mapping: dict[str, str]) -> str:
    """Replace whole words by ``mapping`` (names for placeholders or the other way round)."""
    if not mapping:
        return text
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, mapping)) + r")\b")
    return pattern.sub(lambda m: mapping[m.group()], text)


#: The classes applied to every copied text (items, context, template, serial), in order.
TEXT_CLASSES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("backslash_n", unescape_newlines),
    ("entities", decode_entities),
    ("quotes_dashes", straighten),
    ("spacing", tighten_punctuation),
    ("hyphenation", hyphenate),
    ("contractions", join_contractions),
)
#: Applied to the items only.
ITEM_CLASSES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("whitespace", collapse_whitespace),
    ("grammar", fix_grammar),
)
