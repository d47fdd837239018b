"""Is this item / context really in the prompt? Judged as a careful reader would.

Both sides go through one canonical form (`key`): HTML entities and literal escape sequences
decoded, NFKC, case-folded, quotes dropped, dashes and hyphens read as spaces, contractions
joined, every punctuation mark and CJK character a token of its own, whitespace collapsed. A
fragment found whole in the prompt (at token boundaries) is grounded at once. Otherwise it gets
a score in [0, 1]: the smaller of
- its *coverage*: the share of its words (weighted by length, punctuation weightless, short
  function words light) found among the prompt's words, a word within edit ratio 0.8 of one of
  them counting for that ratio; and
- its *alignment*: rapidfuzz's `partial_ratio` against the prompt (the best-matching window of
  the prompt, Indel similarity), or `ratio` when the fragment is the longer one.
It is grounded when the score reaches the profile's threshold (chosen on the gold set; see
docs/rules.md and `python -m bench.grounding`). Grammar fixes, re-spacing and re-hyphenation
score high; an invented item or context shares few words with the prompt and scores low.

LMSYS anonymises names as NAME_1, NAME_2...: a model may write a name for a placeholder, or a
placeholder for a name. Placeholders are resolved by their neighbours, not by `serial`: the
words on either side of NAME_1 in the prompt are looked up in the answer's texts, and what
stands between them is the name (and the other way round for placeholders in the fragment).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from functools import cached_property

from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

_DROP = '"“”„‟«»″〝〞＂`´'
_APOSTROPHES = "‘’‚‛‹›′＇"
_DASHES = "-‐‑‒–—―−﹘﹣－~"
_TABLE = str.maketrans(
    {**{c: None for c in _DROP}, **{c: "'" for c in _APOSTROPHES}, **{c: " " for c in _DASHES}}
)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[ntr\"'\\/])")
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "/": "/"}
_NOT = re.compile(r"(?<=\w) +n't\b")
_SPLIT = re.compile(r"([^\w\s]|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")
_SPACES = re.compile(r"\s+")
_EDGE = " \t\r\n.,;:!?\"'“”‘’«»。、，！？"
_PIECES = re.compile(r" [:.;?!。：；？！] ")
_PLACEHOLDER = re.compile(r"\bname_\d+\b")
_PUNCT_TOKEN = re.compile(r"[^\w]")
_MAX_NAME_TOKENS = 4
_MIN_WORD_RATIO = 80.0  # a paraphrased word ("fund"/"funds") counts as found at this ratio


def key(text: str) -> str:
    """The canonical form compared by grounding (see the module docstring)."""
    if "&" in text:
        text = html.unescape(text)
    if "\\" in text:
        text = _ESCAPE.sub(_unescape, text)
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TABLE)
    text = _NOT.sub("n't", text)
    text = _SPLIT.sub(r" \1 ", text)
    return _SPACES.sub(" ", text).strip()


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code.startswith("u"):
        return chr(int(code[1:], 16))
    return _ESCAPED[code]


def trim(fragment_key: str) -> str:
    """Leading/trailing punctuation tokens are not held against a fragment."""
    tokens = fragment_key.split(" ")
    while tokens and _PUNCT_TOKEN.fullmatch(tokens[0]):
        tokens.pop(0)
    while tokens and _PUNCT_TOKEN.fullmatch(tokens[-1]):
        tokens.pop()
    return " ".join(tokens)


# Short function words that grammar fixes add, drop or swap ("a name of fund" -> "the name
# of the fund"): they weigh 1, like any word of one or two letters; other words weigh their
# length, so that a changed content word ("red" for "green") counts.
_LIGHT = frozenset(
    {
        "the",
        "and",
        "but",
        "for",
        "nor",
        "are",
        "was",
        "its",
        "has",
        "had",
        "did",
        "not",
        "can",
        "may",
        "our",
        "you",
        "she",
        "him",
        "her",
        "his",
        "they",
        "them",
        "this",
        "that",
        "than",
        "then",
        "with",
        "from",
        "into",
        "onto",
        "also",
        "very",
        "los",
        "las",
        "les",
        "des",
        "une",
        "una",
        "uno",
        "del",
        "dal",
        "der",
        "die",
        "das",
        "den",
        "dem",
        "ein",
        "und",
        "aux",
        "sur",
        "par",
        "pour",
        "con",
        "por",
        "para",
        "que",
        "qui",
        "ist",
        "sind",
        "war",
        "mit",
        "von",
        "zum",
        "zur",
        "est",
        "ont",
        "ces",
        "nel",
        "che",
        "per",
        "non",
        "dos",
        "nos",
        "nas",
        "com",
        "uma",
        "ele",
        "ela",
        # The scaffolding of a question that a model writes around a bare item of the prompt
        # ("capital of japan" -> "What is the capital of Japan?"): light, like "the".
        "what",
        "who",
        "whom",
        "whose",
        "which",
        "where",
        "when",
        "why",
        "how",
        "does",
        "were",
        "will",
        "would",
        "could",
        "should",
    }
)


def _weight(token: str) -> int:
    if _PUNCT_TOKEN.fullmatch(token):
        return 0
    return 1 if len(token) <= 2 or token in _LIGHT else len(token)


def resolve_placeholders(text: str, reference: str) -> str:
    """`text` (a key) with each NAME_n replaced by what stands between the same neighbours in
    `reference` (a key); placeholders that cannot be resolved stay as they are."""
    tokens = text.split(" ")
    mapping: dict[str, str] = {}
    for i, token in enumerate(tokens):
        if not _PLACEHOLDER.fullmatch(token) or token in mapping:
            continue
        left = _anchor(tokens[max(0, i - 2) : i], keep_end=True)
        right = _anchor(tokens[i + 1 : i + 3], keep_end=False)
        for lft, rgt in ((left, right), (left[-1:], right[:1]), ([], right[:1]), (left[-1:], [])):
            name = _between(reference, " ".join(lft), " ".join(rgt))
            if name is not None:
                if name != token:
                    mapping[token] = name
                break
    if not mapping:
        return text
    return " ".join(mapping.get(t, t) for t in tokens)


def _anchor(tokens: list[str], *, keep_end: bool) -> list[str]:
    """The neighbouring tokens up to (not across) another placeholder."""
    out: list[str] = []
    for token in reversed(tokens) if keep_end else tokens:
        if _PLACEHOLDER.fullmatch(token):
            break
        out.append(token)
    return out[::-1] if keep_end else out


def _between(reference: str, left: str, right: str) -> str | None:
    """What stands between `left` and `right` in `reference`: up to four words between two
    anchors, up to two words next to a single anchor."""
    if left and right:
        name = rf"((?:[^\s]+ ){{0,{_MAX_NAME_TOKENS - 1}}}[^\s]+?)"
        pattern = rf"(?:^| ){re.escape(left)} {name} {re.escape(right)}(?: |$)"
    elif left:
        pattern = rf"(?:^| ){re.escape(left)} (\w+(?: \w+)?)"
    elif right:
        pattern = rf"(?:^| )(\w+(?: \w+)?) {re.escape(right)}(?: |$)"
    else:
        return None
    match = re.search(pattern, reference)
    if match is None or _PUNCT_TOKEN.fullmatch(match.group(1)):
        return None
    return match.group(1)


class Grounder:
    """The prompt's canonical forms (with placeholders resolved from the answer's texts) and
    the scoring of fragments against them. One per judged answer; the canonical forms are
    computed only when a fragment is not found verbatim."""

    def __init__(self, prompt: str, answer_texts: Iterable[str] = (), threshold: float = 0.75):
        self.prompt = prompt
        self.answer_texts = tuple(answer_texts)
        self.threshold = threshold

    @cached_property
    def _texts(self) -> tuple[str, ...]:
        prompt_key = key(self.prompt)
        texts = [prompt_key]
        if "name_" in prompt_key:
            answer = " ¦ ".join(key(t) for t in self.answer_texts if t)
            named = resolve_placeholders(prompt_key, answer) if answer else prompt_key
            if named != prompt_key:
                texts.append(named)
        return tuple(texts)

    @cached_property
    def _vocab(self) -> set[str]:
        return {t for text in self._texts for t in text.split(" ")}

    def _verbatim(self, fragment: str) -> bool:
        """The fast path: the fragment (edge spaces and punctuation aside) copied as is, not
        inside a longer word."""
        frag = fragment.strip(_EDGE)
        if not frag:
            return False
        start = self.prompt.find(frag)
        while start >= 0:
            end = start + len(frag)
            before = self.prompt[start - 1] if start else " "
            after = self.prompt[end] if end < len(self.prompt) else " "
            if not (before.isalnum() and frag[0].isalnum()) and not (
                after.isalnum() and frag[-1].isalnum()
            ):
                return True
            start = self.prompt.find(frag, start + 1)
        return False

    def score(self, fragment: str) -> float:
        """1.0 for a fragment found whole; else the larger of min(coverage, alignment) of the
        whole fragment and the smallest such score of its pieces."""
        return self._scored(fragment, cutoff=0.0)

    def grounded(self, fragment: str) -> bool:
        """score(fragment) >= threshold, with the shortcuts that the threshold allows."""
        return self._scored(fragment, cutoff=self.threshold) >= self.threshold

    def _scored(self, fragment: str, cutoff: float) -> float:
        if self._verbatim(fragment):
            return 1.0
        whole_key = key(fragment)
        frag = trim(whole_key)
        if not frag:
            # Nothing but punctuation, symbols or emoji ("???", "🚀"): grounded only when the
            # prompt holds it.
            return 1.0 if not whole_key or self._found(whole_key) else 0.0
        if "name_" in frag:
            frag = resolve_placeholders(frag, self._texts[0])
        if self._found(frag):
            return 1.0
        whole = self._score(frag, cutoff)
        if cutoff and whole >= cutoff:
            return whole
        # An item made self-contained ("Translate to French: hello") joins pieces that stand
        # apart in the prompt: then every piece must be grounded on its own.
        pieces = [p for p in (trim(p) for p in _PIECES.split(frag)) if p]
        if len(pieces) < 2:
            return whole
        return max(whole, min(self._piece_score(p, cutoff) for p in pieces))

    def _found(self, frag: str) -> bool:
        padded = f" {frag} "
        return any(padded in f" {text} " for text in self._texts)

    def _piece_score(self, piece: str, cutoff: float) -> float:
        return 1.0 if self._found(piece) else self._score(piece, cutoff)

    def _score(self, frag: str, cutoff: float) -> float:
        coverage, mapped = self._coverage(frag)
        if coverage < cutoff:
            return coverage  # cheap rejection: most of its words are not in the prompt
        return min(coverage, max(_alignment(frag, mapped, text) for text in self._texts))

    def _coverage(self, frag: str) -> tuple[float, list[str]]:
        """The weighted share of the fragment's words found in the prompt, and its content
        words with each near miss replaced by the prompt's word. Two words that the prompt
        writes as one ("télé-travail" / "télétravail") count as that word."""
        total = found = 0.0
        content: list[str] = []
        tokens = [t for t in frag.split(" ") if _weight(t)]
        i = 0
        while i < len(tokens):
            token = tokens[i]
            weight = _weight(token)
            i += 1
            if token not in self._vocab and i < len(tokens):
                joined = token + tokens[i]
                if joined in self._vocab:
                    weight += _weight(tokens[i])
                    token, i = joined, i + 1
            total += weight
            if token in self._vocab:
                found += weight
            elif weight > 1:
                best = process.extractOne(
                    token, self._vocab, scorer=fuzz.ratio, score_cutoff=_MIN_WORD_RATIO
                )
                if best is not None:
                    found += weight * best[1] / 100.0
                    token = best[0]
            if weight > 1:
                content.append(token)
        return (1.0 if total == 0 else found / total), content


def _content(text: str) -> list[str]:
    return [t for t in text.split(" ") if _weight(t) > 1]


def _alignment(frag: str, content: list[str], text: str) -> float:
    """How much of the fragment's content words appear, in order, in the stretch of the
    prompt that best matches it (located by rapidfuzz's partial_ratio_alignment)."""
    if not content:  # only short words: the character alignment decides
        return (
            fuzz.partial_ratio(frag, text) if len(frag) <= len(text) else fuzz.ratio(frag, text)
        ) / 100.0
    if len(frag) < len(text):
        where = fuzz.partial_ratio_alignment(frag, text)
        if where is None:
            return 0.0
        margin = len(frag) + 8
        text = text[max(0, where.dest_start - margin) : where.dest_end + margin]
    return LCSseq.similarity(content, _content(text)) / len(content)
