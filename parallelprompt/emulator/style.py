"""The emulator's answer style: a model's imperfections over the heuristic extractor's answer.

``restyle(answer, prompt, max_tokens, seed, count)`` takes the extractor's JSON answer and, by
draws from a generator seeded with ``(seed, prompt)``, paraphrases the extraction, invents an
item, says "no" to a parallel prompt, wraps the JSON in a code fence or in prose, answers in
prose only, or reasons at length until ``max_tokens`` cuts the answer. The same seed and prompt
always give the same answer, so a run is reproducible and a retry gets the answer it got
before. Pure; the rates are :class:`StyleRates` (documented in docs/emulator.md).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from parallelprompt.emulator import paraphrase
from parallelprompt.prompts.heuristic import placeholder_name

_PLACEHOLDER = re.compile(r"\bNAME_(\d+)\b")
_SPACES = re.compile(r"\s+")
_COPY_MAX_CHARS = 200  # as the extractor: a longer template is written as an edit


class AnswerStyle(StrEnum):
    REALISTIC = "realistic"  # the heuristic's answer with a model's imperfections (default)
    EXACT = "exact"  # the heuristic's answer as is


@dataclass(frozen=True)
class StyleRates:
    """How often each imperfection happens, as a share of the answers it can apply to."""

    #: parallelizable answers whose copied texts (items, context or its anchors, template) are
    #: rewritten by every paraphrase class that fits them (:mod:`emulator.paraphrase`)
    paraphrase: float = 0.35
    #: parallelizable answers with data that get one more item, one the prompt does not have
    invent: float = 0.05
    #: parallelizable answers turned into "not parallelizable"
    say_no: float = 0.05
    #: "not parallelizable" answers to a prompt with an inline list ("Compare X, Y and Z",
    #: "...: a, b, c") that split the list anyway, as a novel category
    over_split: float = 0.6
    #: answers whose JSON comes in a ```json code fence (pretty-printed)
    fence: float = 0.10
    #: answers whose JSON comes between sentences of prose
    prose: float = 0.05
    #: answers in prose only, without JSON (unparseable: no_json)
    no_json: float = 0.01
    #: answers that reason at length first and are cut at max_tokens (unparseable: truncated)
    ramble: float = 0.02

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"style rate {f.name} must be in [0, 1], got {value}")
        if self.fence + self.prose > 1.0 or self.no_json + self.ramble > 1.0:
            raise ValueError("exclusive style rates (fence+prose, no_json+ramble) exceed 1")


REALISTIC = StyleRates()

_WORD = r"[^\W_][\w'’+#-]*(?:\.\w+)*"
_ITEM = rf"{_WORD}(?:[ \t]+{_WORD}){{0,3}}"
_AND = r"(?:and|or|y|o|et|ou|und|oder|e|и|или)"
# "...: a, b, c" on one line, or "X, Y and Z" (three or more items).
_COLON_LIST = re.compile(
    rf"[:：][ \t]*(?P<list>{_ITEM}(?:[ \t]*,[ \t]*{_ITEM})+(?:,?[ \t]+{_AND}[ \t]+{_ITEM})?)"
    rf"[ \t]*(?:[.!?。]|$)",
    re.MULTILINE,
)
_ENUMERATION = re.compile(rf"(?P<list>{_WORD}(?:,[ \t]*{_ITEM})+,?[ \t]+{_AND}[ \t]+{_ITEM})")
_LIST_SEPARATOR = re.compile(rf",[ \t]*(?:{_AND}[ \t]+)?|[ \t]+{_AND}[ \t]+(?=[^,]*$)")

_INVENTED_QUESTIONS = (
    "What is the main idea of the text?",
    "Who is the intended audience of this passage?",
    "Why does the author mention the final example?",
    "How would you summarise the second paragraph?",
)
_INVENTED_SENTENCES = (
    "The museum is closed on Mondays during the winter.",
    "Please send me the quarterly report by Friday.",
    "She has been learning the cello for three years.",
    "The new bridge will open to traffic next spring.",
)
_INVENTED_WORDS = ("photosynthesis", "inflation", "blockchain", "the Renaissance")
_PROSE_BEFORE = (
    "Here is my analysis of the prompt:\n\n",
    "I analysed the user's request. The classification:\n\n",
    "Sure. This is the JSON you asked for.\n\n",
)
_PROSE_AFTER = (
    "\n\nLet me know if you want me to explain the decision.",
    "\n\nThe fields follow the requested schema.",
    "",
)
_RAMBLE_OPEN = "Let me work through the prompt carefully before I answer.\n\n"


@dataclass
class Styled:
    """The styled text and the imperfections applied (for the emulator's counters)."""

    text: str
    effects: tuple[str, ...]


def restyle(
    answer: str,
    prompt: str,
    max_tokens: int,
    seed: int,
    count: Callable[[str], int],
    rates: StyleRates = REALISTIC,
) -> Styled:
    """The answer a model would have given where the extractor answered ``answer``."""
    try:
        obj = json.loads(answer)
    except ValueError:
        return Styled(answer, ())
    if not isinstance(obj, dict):
        return Styled(answer, ())
    rng = random.Random(f"{seed}\x00{prompt}")  # str seeds hash with SHA-512: stable everywhere
    # Every draw is made, in this order, whatever happens next: one rate's change never
    # shifts another imperfection onto different prompts.
    u_failure, u_no, u_paraphrase, u_invent, u_wrap, u_split = (rng.random() for _ in range(6))
    effects: list[str] = []
    if u_failure < rates.no_json:
        return Styled(_prose_only(obj), ("no_json",))
    if obj.get("parallelizable") is True:
        if u_no < rates.say_no:
            obj = {"parallelizable": False}
            effects.append("say_no")
        else:
            if u_paraphrase < rates.paraphrase:
                obj, classes = _paraphrased(obj, prompt, rng)
                effects += [f"paraphrase:{c}" for c in classes]
            if u_invent < rates.invent and isinstance(obj.get("data"), list):
                obj = _invented(obj, prompt, rng)
                effects.append("invent")
    elif obj.get("parallelizable") is False and u_split < rates.over_split:
        split = _over_split(_deanonymised(prompt))
        if split is not None:
            obj = split
            effects.append("over_split")
    body = json.dumps(obj, ensure_ascii=False)
    if u_wrap < rates.fence:
        body = "```json\n" + json.dumps(obj, ensure_ascii=False, indent=2) + "\n```"
        effects.append("fence")
    elif u_wrap < rates.fence + rates.prose:
        body = rng.choice(_PROSE_BEFORE) + body + rng.choice(_PROSE_AFTER)
        effects.append("prose")
    if rates.no_json <= u_failure < rates.no_json + rates.ramble:
        body = _ramble(prompt, max_tokens, count) + body
        effects.append("ramble")
    return Styled(body, tuple(effects))


def _deanonymised(prompt: str) -> str:
    return _PLACEHOLDER.sub(lambda m: placeholder_name(int(m.group(1))), prompt)


def _paraphrased(
    obj: dict[str, Any], prompt: str, rng: random.Random
) -> tuple[dict[str, Any], list[str]]:
    """Rewrite the copied texts with every class that changes one of them."""
    out = dict(obj)
    applied: list[str] = []

    def rewrite(
        name: str, fn: Callable[[str], str], keys: tuple[str, ...], anchors: bool = True
    ) -> None:
        changed = False
        for key in keys:
            value = out.get(key)
            if isinstance(value, str):
                new = fn(value)
                changed |= new != value
                out[key] = new
            elif isinstance(value, dict) and anchors:  # a lean pointer: anchors, a template edit
                new_pointer = {k: fn(v) if isinstance(v, str) else v for k, v in value.items()}
                changed |= new_pointer != value
                out[key] = new_pointer
            elif isinstance(value, list):
                new_items = [fn(v) if isinstance(v, str) else v for v in value]
                changed |= new_items != value
                out[key] = new_items
        if changed:
            applied.append(name)

    copied = ("data", "context", "template", "serial")
    for name, fn in paraphrase.TEXT_CLASSES:
        rewrite(name, fn, copied)
    for name, fn in paraphrase.ITEM_CLASSES:
        if name == "grammar" and out.get("category") == "Language Correction":
            continue  # its items are the errors to correct: a model copies them as they are
        rewrite(name, fn, ("data",), anchors=False)  # items, not the anchors of item lines
    if rng.random() < 0.5:
        rewrite("final_period", paraphrase.drop_final_period, ("data",), anchors=False)
    numbers = sorted({int(m[1]) for m in _PLACEHOLDER.finditer(prompt)})
    if numbers:
        applied += _swap_names(out, prompt, numbers, rng)
    return out, applied


def _swap_names(
    out: dict[str, Any], prompt: str, numbers: list[int], rng: random.Random
) -> list[str]:
    """Either the copied texts keep the placeholders while `names` gives names, or they get
    names of the model's own choosing while `names` gives those names, or is left out."""
    ours = {placeholder_name(k): k for k in numbers}
    if rng.random() < 0.5:
        mapping = {name: f"NAME_{k}" for name, k in ours.items()}
        label = "names_to_placeholders"
    else:
        shift = rng.randrange(len(paraphrase.MODEL_NAMES))
        mapping = {
            name: paraphrase.placeholders_to_names(f"NAME_{k}", shift) for name, k in ours.items()
        }
        if rng.random() < 0.5:
            out["names"] = {f"NAME_{k}": mapping[name] for name, k in ours.items()}
        else:
            out.pop("names", None)
        label = "placeholders_to_names"
    for key in ("data", "context", "template"):
        value = out.get(key)
        if isinstance(value, str):
            out[key] = paraphrase.swap_words(value, mapping)
        elif isinstance(value, dict):  # a lean pointer
            out[key] = {
                k: paraphrase.swap_words(v, mapping) if isinstance(v, str) else v
                for k, v in value.items()
            }
        elif isinstance(value, list):
            out[key] = [
                paraphrase.swap_words(v, mapping) if isinstance(v, str) else v for v in value
            ]
    return [label]


def _invented(obj: dict[str, Any], prompt: str, rng: random.Random) -> dict[str, Any]:
    """One more item, of the same kind as the others, that the prompt does not contain."""
    items = [v for v in obj["data"] if isinstance(v, str)]
    if items and sum(v.rstrip().endswith(("?", "？")) for v in items) * 2 >= len(items):
        pool = _INVENTED_QUESTIONS
    elif items and sum(map(len, items)) / len(items) < 24:
        pool = _INVENTED_WORDS
    else:
        pool = _INVENTED_SENTENCES
    haystack = _SPACES.sub(" ", prompt.casefold())
    fresh = [p for p in pool if p.casefold() not in haystack and p not in items]
    if not fresh:
        return obj
    return {**obj, "data": [*obj["data"], rng.choice(fresh)]}


def _over_split(prompt: str) -> dict[str, Any] | None:
    """The items of an inline list, split as if each were its own subtask (lean: the template
    is the prompt with the list replaced by ``{data}``, written as that edit when it is long)."""
    found = _COLON_LIST.search(prompt) or _ENUMERATION.search(prompt)
    if found is None:
        return None
    items = [i.strip() for i in _LIST_SEPARATOR.split(found.group("list")) if i.strip()]
    if len(items) < 2 or len(set(items)) != len(items):
        return None
    start, end = found.span("list")
    template: str | dict[str, str] = prompt[:start] + "{data}" + prompt[end:]
    if len(prompt) > _COPY_MAX_CHARS and prompt.find(found.group("list")) == start:
        template = {"replace": found.group("list"), "with": "{data}"}
    return {
        "parallelizable": True,
        "category": "List Processing",
        "category_description": "Doing the same thing for every item of a list.",
        "template": template,
        "data": items,
    }


def _prose_only(obj: dict[str, Any]) -> str:
    if obj.get("parallelizable") is True:
        category = obj.get("category") or "one task"
        return (
            f"This prompt asks for several independent pieces of the same task ({category}), "
            "so it is parallelizable: each piece could be answered on its own and the answers "
            "joined afterwards."
        )
    return (
        "This prompt is one request whose parts depend on each other, so it is not parallelizable."
    )


def _ramble(prompt: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """Reasoning long enough that the answer runs past ``max_tokens`` before its JSON ends."""
    source = prompt if prompt.strip() else "the request"
    words = source.split()
    chunks = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)] or [source]
    lines = [_RAMBLE_OPEN]
    total = count(_RAMBLE_OPEN)
    # Per-line counts round up, so their sum exceeds the whole text's by < 1 a line.
    while total <= max_tokens + len(lines):
        step = len(lines)
        chunk = chunks[(step - 1) % len(chunks)]
        lines.append(f"Step {step}: the prompt says \u201c{chunk}\u201d; considering it.\n")
        total += count(lines[-1])
    return "".join(lines) + "\n"
