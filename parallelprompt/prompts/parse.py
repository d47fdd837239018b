"""From the model's text to a typed Candidate or a typed ParseFailure. Never raises."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from . import lean
from .types import Candidate, Coercion, ParseFailure, ParseFailureReason, Pointers

_TRUNCATION_STOPS = frozenset({"max_tokens", "length", "model_length"})
_REFUSAL_STOPS = frozenset({"content_filtered", "guardrail_intervened", "refusal"})
_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript)?[ \t]*\n?(.*?)```", re.DOTALL)
_STRUCTURAL = re.compile(r'[{}"\\]')
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_REFUSAL = re.compile(
    r"\b(?:I\s+can(?:'|’|no)?t|I\s+cannot|I'?m\s+sorry|I\s+am\s+sorry|I\s+apologi[sz]e|"
    r"I\s+won'?t|I\s+will\s+not|unable\s+to\s+(?:help|assist|comply))\b",
    re.IGNORECASE,
)
_MAX_OBJECT_STARTS = 64  # bound the work on adversarial text full of braces
_TRUE = frozenset({"true", "yes", "y"})
_FALSE = frozenset({"false", "no", "n"})
_TEXT_FIELDS = ("category", "category_description", "serial", "template", "context")
_BLANK_IS_NULL = frozenset({"category", "category_description", "context"})
_ALL_FIELDS = frozenset(
    {"parallelizable", "is_novel_category", "data", "n", "names", *_TEXT_FIELDS}
)
_INT64 = range(-(2**63), 2**63)  # what SQLite can store: a larger n is unusable, not stored


class _WrongType(Exception):
    pass


def parse_answer(text: str | None, stop_reason: str | None = None) -> Candidate | ParseFailure:
    """Parse one model answer: plain JSON, a fenced json block, JSON inside prose, or the first
    complete object of several. Type repairs are recorded in Candidate.coercions."""
    try:
        return _parse(text, stop_reason)
    except Exception as exc:  # the contract is "never raises"; a bug here must not kill a worker
        return ParseFailure(ParseFailureReason.broken_json, f"parser error: {exc!r}"[:200])


def _parse(text: str | None, stop_reason: str | None) -> Candidate | ParseFailure:
    if stop_reason in _REFUSAL_STOPS:
        return ParseFailure(ParseFailureReason.refusal, f"stop reason {stop_reason}")
    if text is None or not text.strip():
        return ParseFailure(ParseFailureReason.empty, "no text in the answer")
    repairs: set[Coercion] = set()
    found = _find_object(text, repairs)
    if isinstance(found, ParseFailure):
        # Truncated only when the stop reason says the model was cut off: a broken answer that
        # ended normally is the model's own malformed JSON (issue 12), not a max_tokens cut.
        if stop_reason in _TRUNCATION_STOPS and found.reason is not ParseFailureReason.refusal:
            return ParseFailure(ParseFailureReason.truncated, f"stop reason {stop_reason}")
        return found
    return candidate_from_object(found, repairs)


def _find_object(text: str, repairs: set[Coercion]) -> dict[str, Any] | ParseFailure:
    stripped = text.strip()
    whole = _loads(stripped, repairs)
    if isinstance(whole, dict):
        return whole
    if whole is not None and not stripped.startswith("{"):
        return ParseFailure(ParseFailureReason.not_an_object, f"top-level {type(whole).__name__}")
    for match in _FENCE.finditer(text):
        repairs.clear()
        fenced = _loads(match.group(1).strip(), repairs)
        if isinstance(fenced, dict):
            return fenced
    repairs.clear()
    return _scan_objects(text, repairs)


def _scan_objects(text: str, repairs: set[Coercion]) -> dict[str, Any] | ParseFailure:
    start = text.find("{")
    if start < 0:
        if _REFUSAL.search(text):
            return ParseFailure(ParseFailureReason.refusal, text.strip()[:120])
        return ParseFailure(ParseFailureReason.no_json, "no '{' in the answer")
    for _ in range(_MAX_OBJECT_STARTS):
        end = _balanced_end(text, start)
        if end is None:
            return ParseFailure(ParseFailureReason.broken_json, "JSON object never closes")
        repairs.clear()
        obj = _loads(text[start:end], repairs)
        if isinstance(obj, dict):
            if "{" in text[end:]:
                repairs.add(Coercion.json_first_of_several)
            return obj
        start = text.find("{", end)
        if start < 0:
            break
    return ParseFailure(ParseFailureReason.broken_json, "no parseable JSON object")


def _balanced_end(text: str, start: int) -> int | None:
    """Index just past the brace that closes the one at `start` (strings respected)."""
    depth, pos, in_string = 0, start, False
    while True:
        match = _STRUCTURAL.search(text, pos)
        if match is None:
            return None
        char, pos = match.group(), match.end()
        if in_string:
            if char == "\\":
                pos += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return pos


def _loads(text: str, repairs: set[Coercion] | None = None) -> Any:
    """json.loads with two repairs (trailing commas, Python literals, recorded in `repairs`);
    None when hopeless."""
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(_TRAILING_COMMA.sub(r"\1", text))
    except (ValueError, RecursionError):
        pass
    else:
        _note(repairs, Coercion.json_trailing_commas)
        return value
    try:
        value = ast.literal_eval(text)  # {'parallelizable': True, ...} from a chatty model
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    _note(repairs, Coercion.json_python_literals)
    return value


def _note(repairs: set[Coercion] | None, repair: Coercion) -> None:
    if repairs is not None:
        repairs.add(repair)


def candidate_from_object(
    obj: dict[str, Any], repairs: set[Coercion] | None = None, *, serial_given: bool | None = None
) -> Candidate | ParseFailure:
    """Type one decoded answer object (keys matched case-insensitively). `repairs` are the
    ones made while decoding; they join the Candidate's coercions. A lean answer's pointers
    (prompts/lean.py) are kept in `pointers`, their text fields left null until
    prompts.lean.expand resolves them; `serial_given` overrides whether `serial` is a key."""
    coercions: set[Coercion] = set(repairs or ())
    if _ALL_FIELDS.issuperset(obj):  # every key one of ours as written: nothing to fold
        fields = obj
    else:
        fields = {str(k).strip().lower(): v for k, v in obj.items()}
        if any(str(k).strip().lower() != k for k in obj if str(k).strip().lower() in _ALL_FIELDS):
            coercions.add(Coercion.keys_case_folded)
    if "parallelizable" not in fields:
        return ParseFailure(ParseFailureReason.missing_parallelizable, "no 'parallelizable' key")
    try:
        parallelizable = _boolean(fields["parallelizable"], coercions, required=True)
        novel = _boolean(fields.get("is_novel_category"), coercions, required=False)
        texts = {name: _text_field(name, fields.get(name), coercions) for name in _TEXT_FIELDS}
    except _WrongType as exc:
        return ParseFailure(ParseFailureReason.wrong_types, str(exc)[:200])
    pointers = _pointers(
        fields, coercions, "serial" in fields if serial_given is None else serial_given
    )
    return Candidate(
        parallelizable=bool(parallelizable),
        category=texts["category"],
        is_novel_category=novel,
        category_description=texts["category_description"],
        serial=texts["serial"],
        template=texts["template"],
        context=texts["context"],
        data=None if lean.anchors(fields.get("data")) else _data(fields.get("data"), coercions),
        n=_count(fields.get("n"), coercions),
        coercions=frozenset(coercions),
        pointers=pointers,
        raw=obj,
    )


_NOTHING = (None, None, None, None)


def _pointers(
    fields: dict[str, Any], coercions: set[Coercion], serial_given: bool
) -> Pointers | None:
    """The lean answer's pointers; None for an answer in the published shape."""
    names: tuple[tuple[str, str], ...] = ()
    if fields.get("names") is not None:
        given = lean.names(fields["names"])
        if given is None:
            coercions.add(Coercion.names_unusable)
        names = given or ()
    context = fields.get("context")
    context_anchors, context_offsets = lean.anchors(context), lean.offsets(context)
    template_edit = lean.edit(fields.get("template"))
    data_anchors = lean.anchors(fields.get("data"))
    pointed = (context_anchors, context_offsets, template_edit, data_anchors)
    if serial_given and not names and pointed == _NOTHING:  # the published shape
        return None
    return Pointers(
        serial_omitted=not serial_given,
        context_anchors=context_anchors,
        context_offsets=context_offsets,
        template_edit=template_edit,
        data_anchors=data_anchors,
        names=names,
    )


def _boolean(value: object, coercions: set[Coercion], *, required: bool) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None and not required:
        return None
    if isinstance(value, str):
        word = value.strip().casefold()
        if word in _TRUE or word in _FALSE:
            coercions.add(
                Coercion.parallelizable_from_string if required else Coercion.novel_from_string
            )
            return word in _TRUE
    raise _WrongType(f"expected a boolean, got {value!r}")


def _text_field(name: str, value: object, coercions: set[Coercion]) -> str | None:
    """A text field's value; None for a lean pointer (``prompts.lean`` resolves it)."""
    if value is None or isinstance(value, str):  # never a pointer
        return _text(name, value, coercions)
    return None if lean.is_pointer(name, value) else _text(name, value, coercions)


def _text(name: str, value: object, coercions: set[Coercion]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _WrongType(f"'{name}' must be a string or null, got {type(value).__name__}")
    if name in _BLANK_IS_NULL and not value.strip():
        coercions.add(Coercion.text_blank_as_null)
        return None
    return _valid(value, coercions)


def _valid(text: str, coercions: set[Coercion]) -> str:
    """Lone surrogates (a JSON escape like \\ud800) cannot be stored as UTF-8: U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        coercions.add(Coercion.invalid_unicode_replaced)
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _data(value: object, coercions: set[Coercion]) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip() or value.strip().casefold() in ("null", "none"):
            coercions.add(Coercion.data_blank_as_null)
            return None
        coercions.add(Coercion.data_from_string)
        inner = _loads(value.strip()) if value.strip().startswith("[") else None
        return _items(inner, coercions) if isinstance(inner, list) else (_valid(value, coercions),)
    if isinstance(value, list):
        return _items(value, coercions)
    coercions.add(Coercion.data_not_a_list)
    return None


def _items(values: list[Any], coercions: set[Coercion]) -> tuple[str, ...]:
    items: list[str] = []
    for item in values:
        if isinstance(item, str):
            items.append(item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            coercions.add(Coercion.data_items_from_numbers)
            items.append(str(item))
        else:
            coercions.add(Coercion.data_items_not_strings)
            items.append(json.dumps(item, ensure_ascii=False, default=str))
    return tuple(_valid(item, coercions) for item in items)


def _count(value: object, coercions: set[Coercion]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        coercions.add(Coercion.n_unusable)
        return None
    if isinstance(value, int):
        if value in _INT64:
            return value
    elif isinstance(value, float):
        if value.is_integer() and int(value) in _INT64:
            coercions.add(Coercion.n_from_float)
            return int(value)
    elif isinstance(value, str):
        word = value.strip()
        if word.casefold() in ("", "null", "none"):
            coercions.add(Coercion.n_blank_as_null)
            return None
        if word.isascii() and word.isdigit() and len(word) <= 18:
            coercions.add(Coercion.n_from_string)
            return int(word)
    coercions.add(Coercion.n_unusable)
    return None
