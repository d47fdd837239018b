"""Category definitions (canonical names, definitions, synonyms) and label normalisation.

One CategorySet feeds both the system prompt (render) and the normaliser, so a user's
categories file changes what the model is told and how its labels are counted.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ContractError

CANONICAL_CATEGORIES: tuple[str, ...] = (
    "Repeated Generation",
    "Reading Comprehension",
    "Keyword Extraction",
    "Named Entity Recognition",
    "Translation",
    "Language Correction",
    "Sentiment Analysis",
)

REPEATED_GENERATION = "Repeated Generation"

# Labels a model uses to mean "no category".
_EMPTY_LABELS = frozenset({"", "none", "null", "n a", "na", "unknown", "other", "not applicable"})
_PARENTHESIS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SEPARATORS = re.compile(r"[\s_\-/.,:;|&+]+")
_DROP = re.compile(r"[^\w ]+")


@lru_cache(maxsize=4096)  # pure; answers repeat a few hundred labels
def label_key(label: str) -> str:
    """Case-, spacing- and punctuation-insensitive key of a label ("Comparative_analysis" ->
    "comparative analysis"). Parenthesised asides ("(NER)") are dropped."""
    text = unicodedata.normalize("NFKC", label)
    stripped = _PARENTHESIS.sub(" ", text)
    text = stripped if stripped.strip() else text
    text = _SEPARATORS.sub(" ", text.casefold())
    return " ".join(_DROP.sub("", text).split())


def _singular_key(key: str) -> str:
    if key.endswith("ies"):
        return key[:-3] + "y"
    if key.endswith("s") and not key.endswith("ss") and not key.endswith("sis"):
        return key[:-1]
    return key


def novel_form(key: str) -> str:
    """Stable display form of a novel label's key: each word capitalised."""
    return " ".join(word[:1].upper() + word[1:] for word in key.split())


@dataclass(frozen=True)
class CategoryDef:
    name: str
    definition: str
    example: str = ""
    synonyms: tuple[str, ...] = ()
    uses_n: bool = False  # the category's subtasks are repetitions (n), not items (data)
    grounded_data: bool = False  # data items must be copied from the prompt

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "definition": self.definition,
            "example": self.example,
            "synonyms": list(self.synonyms),
            "uses_n": self.uses_n,
            "grounded_data": self.grounded_data,
        }


@dataclass(frozen=True)
class CategorySet:
    """The known categories. Build with CategorySet.load() or CategorySet.from_json()."""

    categories: tuple[CategoryDef, ...]
    _index: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for cat in self.categories:
            for label in (cat.name, *cat.synonyms):
                key = label_key(label)
                index.setdefault(key, cat.name)
                index.setdefault(_singular_key(key), cat.name)
        self._index.clear()
        self._index.update(index)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(cat.name for cat in self.categories)

    def get(self, name: str | None) -> CategoryDef | None:
        for cat in self.categories:
            if cat.name == name:
                return cat
        return None

    def lookup(self, label: str) -> str | None:
        """The canonical name a label maps to, or None when it is not a known one."""
        key = label_key(label)
        return self._index.get(key) or self._index.get(_singular_key(key))

    def render(self) -> str:
        """The category section of the system prompt."""
        lines = []
        for cat in self.categories:
            lines.append(f"- **{cat.name}**: {cat.definition}")
            if cat.example:
                lines.append(f"  Example: {cat.example}")
        return "\n".join(lines)

    def fingerprint(self) -> str:
        """Canonical JSON of the set (for the contract's version id)."""
        payload = [cat.to_json() for cat in self.categories]
        return json.dumps(payload, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, obj: object) -> CategorySet:
        """Build from the categories file's JSON; a clear ContractError if malformed."""
        items = obj.get("categories") if isinstance(obj, dict) else obj
        if not isinstance(items, list) or not items:
            raise ContractError("categories file: expected a non-empty list under 'categories'")
        return cls(tuple(_category_from_json(i, item) for i, item in enumerate(items)))

    @classmethod
    def load(cls, path: Path | None = None) -> CategorySet:
        """The bundled categories.json, or a user's file."""
        try:
            if path is None:
                path = Path(__file__).with_name("categories.json")
            text = Path(path).read_text(encoding="utf-8")
            obj = json.loads(text)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ContractError(f"cannot read categories file {path}: {exc}") from exc
        return cls.from_json(obj)


def _category_from_json(i: int, item: object) -> CategoryDef:
    if not isinstance(item, dict):
        raise ContractError(f"categories file: entry {i} is not an object")
    name, definition = item.get("name"), item.get("definition")
    if not isinstance(name, str) or not name.strip():
        raise ContractError(f"categories file: entry {i} needs a non-empty 'name'")
    if not isinstance(definition, str) or not definition.strip():
        raise ContractError(f"categories file: '{name}' needs a non-empty 'definition'")
    synonyms = item.get("synonyms", [])
    if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
        raise ContractError(f"categories file: '{name}' synonyms must be a list of strings")
    example = item.get("example", "")
    if not isinstance(example, str):
        raise ContractError(f"categories file: '{name}' example must be a string")
    flags = {key: item.get(key, False) for key in ("uses_n", "grounded_data")}
    if not all(isinstance(v, bool) for v in flags.values()):
        raise ContractError(f"categories file: '{name}' uses_n/grounded_data must be booleans")
    return CategoryDef(
        name=name.strip(),
        definition=definition.strip(),
        example=example,
        synonyms=tuple(synonyms),
        uses_n=flags["uses_n"],
        grounded_data=flags["grounded_data"],
    )


def normalise_category(label: str | None, categories: CategorySet) -> tuple[str | None, bool]:
    """(canonical form, is_novel): a known name or synonym maps to its canonical name (not
    novel); any other label gets a stable title-cased form of its key (novel)."""
    if label is None:
        return None, False
    key = label_key(label)
    if key in _EMPTY_LABELS:
        return None, False
    known = categories.lookup(label)
    if known is not None:
        return known, False
    return novel_form(key), True
