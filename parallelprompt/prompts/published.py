"""The published pipeline's way of reading an answer, for the `original` profile.

The ParallelPrompt code (data_curation/find_parallelprompts.py) decodes the model's text with
`json.loads` on the whole text, then on a ```json fenced block, then on the greedy span from
the first `{` to the last `}`, and hands the decoded object to its validator as is: keys
matched exactly, `parallelizable` by truthiness, no type repairs. This module reproduces that
reading (not the code). The rules of the `original` profile judge the raw object
(`Candidate.raw`); the typed Candidate built here is only what gets stored.

What the published code did with an answer it could not decode (a silent "not
parallelizable") is the one deviation: we count it as `unparseable`, with its cause.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from . import lean
from .parse import candidate_from_object, parse_answer
from .types import Candidate, Coercion, ParseFailure, ParseFailureReason

_FENCE = re.compile(r"```json\s*(.*?)\s*```", re.DOTALL)
#: The published dataset's nine answer fields, in its column order, each with its kind of
#: value: the one declaration that the parser, the exports and the dataset card derive from.
FIELD_TYPES: dict[str, str] = {
    "parallelizable": "bool",
    "category": "text",
    "is_novel_category": "bool",
    "category_description": "text",
    "serial": "text",
    "template": "text",
    "context": "text",
    "data": "list",
    "n": "int",
}
FIELDS = tuple(FIELD_TYPES)
_TEXT_FIELDS = tuple(k for k, kind in FIELD_TYPES.items() if kind == "text")


def decode_published(text: str | None) -> Any:
    """The decoded value the published code would have validated, or None where it fell back
    to "not parallelizable" (nothing decodable)."""
    if text is None:
        return None
    for attempt in (text, *_fenced(text), *_greedy(text)):
        try:
            return json.loads(attempt)
        except RecursionError:
            # Only JSONDecodeError sent the published code on to its next attempt: a nesting
            # too deep for json raised out of it, and the answer became "not parallelizable".
            return None
        except ValueError:
            continue
    return None


def _fenced(text: str) -> list[str]:
    match = _FENCE.search(text)
    return [match.group(1)] if match else []


def _greedy(text: str) -> list[str]:
    """What `re.search(r"\\{.*\\}", text, re.DOTALL)` matches — the first `{` to the last `}`
    after it — found in linear time (the regex retries every `{` when no `}` follows: minutes
    on an answer of a few hundred thousand braces)."""
    start = text.find("{")
    end = text.rfind("}")
    return [text[start : end + 1]] if 0 <= start < end else []


def parse_published(text: str | None, stop_reason: str | None) -> Candidate | ParseFailure:
    """A Candidate whose `raw` is the object exactly as the published code decoded it, or the
    ParseFailure that names why it could not (the cause taken from our own parser)."""
    try:
        obj = decode_published(text)
    except Exception:  # "never raises", like parse_answer
        obj = None
    if not isinstance(obj, dict):
        ours = parse_answer(text, stop_reason)
        if isinstance(ours, ParseFailure):
            return ours
        # We read it (after a repair, or as the first of several objects); the published code
        # could not, or decoded a list/string (which crashed it into "not parallelizable").
        if obj is None:
            return ParseFailure(ParseFailureReason.broken_json, "not JSON without a repair")
        return ParseFailure(ParseFailureReason.not_an_object, f"decoded {type(obj).__name__}")
    return stored_candidate(obj)


def published_shape(prompt: str, text: str) -> str:
    """A lean answer (prompts/lean.py) rewritten in the published shape, its pointers expanded
    against ``prompt``: the text the published validator would have judged, had the model
    copied what it pointed to. Any other text is returned as is."""
    parsed = parse_published(text, None)
    if isinstance(parsed, ParseFailure) or parsed.pointers is None or parsed.raw is None:
        return text
    return json.dumps(lean.expand(prompt, parsed).raw, ensure_ascii=False)


def stored_candidate(obj: dict[str, Any]) -> Candidate:
    """Type the published object for storage: exact keys; values it never checked but we
    cannot store (a non-string context, a non-boolean is_novel_category) become null, flagged;
    `parallelizable` is the object's truthiness, as the published validator read it."""
    flags: set[Coercion] = set()
    typed: dict[str, Any] = {key: obj.get(key) for key in FIELDS}
    raw_flag = obj.get("parallelizable", False)
    truthy = bool(raw_flag)
    if not isinstance(raw_flag, bool):
        flags.add(Coercion.parallelizable_by_truthiness)
    typed["parallelizable"] = truthy
    if "names" in obj:
        typed["names"] = obj["names"]  # a lean answer's names (prompts/lean.py)
    for key in _TEXT_FIELDS:
        if lean.is_pointer(key, typed[key]):
            continue  # a lean pointer: prompts.lean.expand resolves it against the prompt
        if typed[key] is not None and not isinstance(typed[key], str):
            typed[key] = None
            flags.add(Coercion.text_not_a_string)
    if typed["is_novel_category"] is not None and not isinstance(typed["is_novel_category"], bool):
        typed["is_novel_category"] = None
        flags.add(Coercion.novel_not_a_boolean)
    parsed = candidate_from_object(typed, flags, serial_given="serial" in obj)
    if isinstance(parsed, ParseFailure):  # cannot happen: every field was made typeable above
        parsed = Candidate(parallelizable=truthy, coercions=frozenset(flags))
    return replace(parsed, raw=obj)
