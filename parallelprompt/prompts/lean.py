"""Lean answers: pointers into the prompt instead of copies of it, and their expansion. Pure.

A lean answer leaves out what the prompt already holds (docs/rules.md, "The answer shape"):

* `serial`: the prompt itself, with the `names` the answer gives for NAME_n placeholders;
* a context that is a span of the prompt: anchors ``{"from": "its first words", "to": "its
  last words"}``, or character offsets ``[start, end]`` into the prompt as given;
* a template that is the prompt with one change: ``{"replace": "5 slogans", "with": "a slogan"}``;
* items that are the prompt's lines: ``{"from": "first item", "to": "last item"}``, one item per
  non-blank line from the line of the one anchor to the line of the other, list markers
  (``1.``, ``-``, ``•``, ``a)``, ``Q1:``...) removed.

:func:`expand` fills the published fields (serial, context, template) in full from these, so
that storage, export and both rule profiles see the published shape; a pointer that resolves to
no text of the prompt is named in ``Pointers.unresolved`` (the `default` profile fails it).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, TypeVar

from rapidfuzz import fuzz

from .text import QUOTES
from .types import Candidate, Pointers

PLACEHOLDER = re.compile(r"\bNAME_\d+\b")
#: An anchor not found as written (after normalising case, quotes and spaces) is still found
#: where some stretch of the prompt matches it this well (rapidfuzz partial ratio, 0-100).
ANCHOR_MIN_RATIO = 85.0
_FUZZY_MIN_CHARS = 8  # shorter anchors must be found as written
#: A list marker at the start of a line: what a "data" line pointer strips from each item.
LIST_MARKER = re.compile(
    r"^[ \t]*(?:\(?\d{1,3}\s*[.)．、:：）]|\(?[a-hA-H][.)]\s|[①-⑳]|"
    r"[一二三四五六七八九十]{1,3}[、.．]|[-•*·◦▪–—]\s|"
    r"(?:Q|Question|Frage|Pregunta|Pergunta|Domanda|Вопрос|问题|問題)\s?\d{1,2}\s*[.):：])[ \t]*"
)


def _keys(value: dict[Any, Any]) -> dict[str, Any]:
    return {str(k).strip().casefold(): v for k, v in value.items()}


def anchors(value: object) -> tuple[str, str] | None:
    """``{"from": ..., "to": ...}`` with two non-blank strings, else None."""
    if not isinstance(value, dict):
        return None
    fields = _keys(value)
    start, end = fields.get("from"), fields.get("to")
    if set(fields) != {"from", "to"} or not isinstance(start, str) or not isinstance(end, str):
        return None
    return (start, end) if start.strip() and end.strip() else None


def offsets(value: object) -> tuple[int, int] | None:
    """``[start, end]``: two integers (not booleans), else None. Range is checked by expand."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return None
    return int(value[0]), int(value[1])


def edit(value: object) -> tuple[str, str] | None:
    """``{"replace": ..., "with": ...}`` with two strings (the first non-blank), else None."""
    if not isinstance(value, dict):
        return None
    fields = _keys(value)
    old, new = fields.get("replace"), fields.get("with")
    if set(fields) != {"replace", "with"} or not isinstance(old, str) or not isinstance(new, str):
        return None
    return (old, new) if old.strip() else None


def names(value: object) -> tuple[tuple[str, str], ...] | None:
    """``{"NAME_1": "Maria", ...}`` as sorted pairs; None when it is not such a mapping."""
    if not isinstance(value, dict):
        return None
    pairs: list[tuple[str, str]] = []
    for key, name in value.items():
        if not isinstance(key, str) or not isinstance(name, str):
            return None
        if not PLACEHOLDER.fullmatch(key.strip()) or not name.strip():
            return None
        pairs.append((key.strip(), name.strip()))
    return tuple(sorted(pairs))


def is_pointer(field: str, value: object) -> bool:
    """Whether ``value`` is a lean pointer for the published field ``field``."""
    if field in ("context", "data") and anchors(value) is not None:
        return True
    if field == "context":
        return anchors(value) is not None or offsets(value) is not None
    if field == "template":
        return edit(value) is not None
    return False


def apply_names(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return text
    mapping = dict(pairs)
    return PLACEHOLDER.sub(lambda m: mapping.get(m.group(), m.group()), text)


_Frozen = TypeVar("_Frozen", Candidate, Pointers)


def evolve(obj: _Frozen, **changes: Any) -> _Frozen:
    """``dataclasses.replace`` for Candidate and Pointers (frozen, no ``__post_init__``, every
    field set by ``__init__``): the same object, built by copying the fields instead of
    calling ``__init__`` again (a fifth of the cost)."""
    new = object.__new__(type(obj))
    fields = {**obj.__dict__, **changes}
    if fields.keys() != obj.__dict__.keys():
        raise TypeError(f"unknown fields {sorted(set(changes) - set(obj.__dict__))}")
    object.__setattr__(new, "__dict__", fields)
    return new


def expand(prompt: str, candidate: Candidate) -> Candidate:
    """The candidate with its pointers resolved against ``prompt``: serial, context and
    template in full (an answer in the published shape is returned as is). The `original`
    profile judges ``raw``; its pointed-to fields are replaced by the expanded text, so the
    published validator's checks apply to the answer the pointers stand for."""
    p = candidate.pointers
    if p is None:
        return candidate
    named = apply_names(prompt, p.names)
    serial = named if p.serial_omitted else candidate.serial
    unresolved: set[str] = set()
    expanded: dict[str, Any] = {}
    if p.serial_omitted:
        expanded["serial"] = serial
    context = candidate.context
    if p.context_anchors is not None or p.context_offsets is not None:
        context = _context(prompt, named, p)
        if context is None:
            unresolved.add("context")
        expanded["context"] = context
    template = candidate.template
    if p.template_edit is not None:
        old, new = p.template_edit
        template = new  # what the answer meant for one subtask, kept when the edit misses
        unresolved.add("template")
        for source in dict.fromkeys((serial if serial is not None else named, prompt)):
            span = find(source, old)
            if span is not None:
                template = apply_names(source[: span[0]] + new + source[span[1] :], p.names)
                unresolved.discard("template")
                break
        expanded["template"] = template
    data = candidate.data
    if p.data_anchors is not None:
        data = _items(prompt, named, p)
        if data is None:
            unresolved.add("data")
        expanded["data"] = None if data is None else list(data)
    raw = None if candidate.raw is None else {**candidate.raw, **expanded}
    novel = candidate.is_novel_category
    if novel is None:  # a lean answer says novel by giving a description
        novel = candidate.parallelizable and candidate.category_description is not None
    return evolve(
        candidate,
        is_novel_category=novel,
        serial=serial,
        context=context,
        template=template,
        data=data,
        pointers=evolve(p, unresolved=frozenset(unresolved)),
        raw=raw,
    )


def _context(prompt: str, named: str, p: Pointers) -> str | None:
    """The context text: offsets into the prompt as given, anchors in the prompt with names
    (then as given); names are applied to the span. None when nothing resolves."""
    if p.context_offsets is not None:
        start, end = p.context_offsets
        if not 0 <= start < end <= len(prompt):
            return None
        text = apply_names(prompt[start:end], p.names)
        return text if text.strip() else None
    assert p.context_anchors is not None
    first, last = p.context_anchors
    for source in (named, prompt) if named != prompt else (prompt,):
        span = between(source, first, last)
        if span is not None:
            text = apply_names(source[span[0] : span[1]], p.names)
            return text if text.strip() else None
    return None


def _items(prompt: str, named: str, p: Pointers) -> tuple[str, ...] | None:
    """The items: the non-blank lines from the first anchor's line to the last anchor's, each
    without its list marker (names applied). None when the anchors find nothing."""
    assert p.data_anchors is not None
    first, last = p.data_anchors
    for source in (named, prompt) if named != prompt else (prompt,):
        span = between(source, first, last)
        if span is not None:
            return tuple(apply_names(item, p.names) for item in line_items(source, span))
    return None


def line_items(text: str, span: tuple[int, int]) -> list[str]:
    """The non-blank lines of ``text`` that ``span`` touches, without their list markers."""
    start = text.rfind("\n", 0, span[0]) + 1
    end = text.find("\n", span[1])
    lines = text[start : len(text) if end < 0 else end].splitlines()
    return [item for item in (LIST_MARKER.sub("", line).strip() for line in lines) if item]


# ------------------------------------------------------------------ finding text in the prompt


def _folded(text: str) -> tuple[str, list[int]]:
    """``text`` case-folded, NFKC, quotes unified, whitespace runs as one space; and for every
    character of the result, the index of the character of ``text`` it comes from."""
    out: list[str] = []
    where: list[int] = []
    space = False
    for i, char in enumerate(text):
        if char.isspace():
            if not space and out:
                out.append(" ")
                where.append(i)
            space = True
            continue
        space = False
        for c in unicodedata.normalize("NFKC", char).translate(QUOTES).casefold():
            out.append(c)
            where.append(i)
    return "".join(out), where


def _fold(text: str) -> str:
    return _folded(text)[0].strip()


def find(text: str, fragment: str, start: int = 0) -> tuple[int, int] | None:
    """The span of ``text`` (from index ``start`` on) that ``fragment`` stands for: as written,
    then with case, quotes and spaces normalised, then (for 8+ characters) the best fuzzy
    match at ANCHOR_MIN_RATIO or above."""
    frag = fragment.strip()
    if not frag:
        return None
    at = text.find(frag, start)
    if at >= 0:
        return at, at + len(frag)
    folded, where = _folded(text)
    offset = next((k for k, i in enumerate(where) if i >= start), len(folded))
    key = _fold(frag)
    if not key:
        return None
    at = folded.find(key, offset)
    if at < 0:
        if len(key) < _FUZZY_MIN_CHARS or len(key) > len(folded) - offset:
            return None
        hit = fuzz.partial_ratio_alignment(key, folded[offset:], score_cutoff=ANCHOR_MIN_RATIO)
        if hit is None or hit.dest_end <= hit.dest_start:
            return None
        at, end = offset + hit.dest_start, offset + hit.dest_end
    else:
        end = at + len(key)
    return where[at], where[end - 1] + 1


def between(text: str, first: str, last: str) -> tuple[int, int] | None:
    """The span of ``text`` from the anchor ``first`` to the end of the anchor ``last`` (found
    at or after the start of ``first``, ending no earlier than ``first`` does)."""
    head = find(text, first)
    if head is None:
        return None
    tail = find(text, last, head[0])
    if tail is None or tail[1] < head[1]:
        later = find(text, last, head[1]) if tail is not None else None
        if later is None:
            return None
        tail = later
    return head[0], tail[1]
