"""Rule profiles: named, ordered lists of schema rules and tier cues.

A profile is data: a user adds one by building a RuleProfile from SchemaRule and Cue objects
(reusing ours or writing new ones) and registering it in PROFILES. See docs/rules.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from . import cues
from .categories import REPEATED_GENERATION, CategorySet
from .grounding import Grounder
from .text import normalise
from .types import Candidate, Coercion, FailureReason


@dataclass(frozen=True)
class Case:
    """One answer under judgement, with the derived views the rules share (computed lazily)."""

    prompt: str
    candidate: Candidate
    categories: CategorySet
    category: str | None  # normalised
    profile: RuleProfile

    @cached_property
    def lower(self) -> str:
        return self.prompt.lower()

    @cached_property
    def grounder(self) -> Grounder:
        c = self.candidate
        # A lean answer's serial is the prompt itself unless names were given: as a source of
        # names for NAME_n placeholders it would only echo the placeholders back.
        serial = "" if c.serial == self.prompt else c.serial or ""
        texts = (serial, c.context or "", c.template or "", *(c.data or ()))
        return Grounder(self.prompt, texts, self.profile.grounding_threshold)

    @property
    def raw(self) -> Mapping[str, Any]:
        """The answer object as decoded (the typed candidate's fields when there is none)."""
        raw = self.candidate.raw
        return self.candidate.to_dict() if raw is None else raw

    @property
    def data(self) -> tuple[str, ...]:
        return self.candidate.data or ()

    def coerced(self, *kinds: Coercion) -> bool:
        return any(kind in self.candidate.coercions for kind in kinds)


@dataclass(frozen=True)
class SchemaRule:
    name: str
    doc: str
    check: Callable[[Case], FailureReason | None]


@dataclass(frozen=True)
class Cue:
    name: str
    doc: str
    test: Callable[[Case], bool]


@dataclass(frozen=True)
class TierLabels:
    high: str = "high_confidence"
    medium: str = "medium_confidence"
    no_cue: str = "failed"  # the model said yes, the schema is valid, but no cue was found
    schema_failure: str = "failed"
    not_parallelizable: str = "not_parallelizable"


@dataclass(frozen=True)
class RuleProfile:
    """Schema rules run in order (the first failure is the reason); then the prompt is HIGH if
    any high cue holds, MEDIUM if any medium cue holds, else FAILED/no_structural_cue."""

    name: str
    description: str
    schema: tuple[SchemaRule, ...]
    high: tuple[Cue, ...]
    medium: tuple[Cue, ...]
    labels: TierLabels = TierLabels()
    max_n: int = 1000
    revision: str = "1"  # bump when a rule's behaviour changes without a name change
    # "repairing": our parser (repairs recorded as coercions); "published": the published
    # pipeline's decoding, rules judging the raw decoded object (see prompts/published.py).
    decoding: str = "repairing"
    # A fragment is "in the prompt" when its grounding score reaches this (prompts/grounding.py;
    # chosen on the gold set, see docs/rules.md).
    grounding_threshold: float = 0.75

    def fingerprint(self) -> str:
        """Canonical text of the profile (for the contract's version id)."""
        return json.dumps(
            {
                "name": self.name,
                "revision": self.revision,
                "schema": [r.name for r in self.schema],
                "high": [c.name for c in self.high],
                "medium": [c.name for c in self.medium],
                "labels": vars(self.labels),
                "max_n": self.max_n,
                "decoding": self.decoding,
                "grounding_threshold": self.grounding_threshold,
            },
            sort_keys=True,
        )


# ----------------------------------------------------------------- original (published) rules


# The published validator reads the decoded object: exact keys, no repairs, Python semantics
# (a bool is an int; `in` on a list or dict is membership; 2.5 and NaN are numbers).


def _o_types(case: Case) -> FailureReason | None:
    """Values on which the published code raised TypeError, caught upstream as "not
    parallelizable": a number/boolean template (`"{n}" in 5`), an unhashable category (its
    statistics dict), once the answer says parallelizable."""
    raw = case.raw
    template = raw.get("template")
    if template is not None and not isinstance(template, str | list | dict):
        return FailureReason.type_error
    if isinstance(raw.get("category", "Unknown"), list | dict):
        return FailureReason.type_error
    return None


def _o_both(case: Case) -> FailureReason | None:
    raw = case.raw
    both = raw.get("data") is not None and raw.get("n") is not None
    return FailureReason.both_data_and_n if both else None


def _o_data(case: Case) -> FailureReason | None:
    data = case.raw.get("data")
    if data is None:
        return None
    if not isinstance(data, list):
        return FailureReason.data_not_a_list
    if len(data) < 2:
        return FailureReason.data_too_short
    if any(not isinstance(item, str) for item in data):
        return FailureReason.data_not_strings
    return None


def _o_n(case: Case) -> FailureReason | None:
    n = case.raw.get("n")
    if n is None:
        return None
    return None if isinstance(n, int | float) and not n < 2 else FailureReason.n_invalid


def _o_template(case: Case) -> FailureReason | None:
    template, label = case.raw.get("template"), case.raw.get("category", "Unknown")
    if template is None:
        return None
    if label == REPEATED_GENERATION:  # the raw label, compared exactly
        return FailureReason.template_has_n if "{n}" in template else None
    if "{data}" not in template and "{context}" not in template:
        return FailureReason.template_missing_data
    return None


def _o_items(case: Case) -> int:
    data = case.raw.get("data", [])
    return len(data) if isinstance(data, list) and len(data) > 1 else 0


def _o_many(case: Case) -> bool:
    n = case.raw.get("n")
    return _o_items(case) > 1 or (isinstance(n, int | float) and n > 1)


ORIGINAL = RuleProfile(
    name="original",
    description="The published ParallelPrompt pipeline's rules and labels, quirks included.",
    schema=(
        SchemaRule("published_types", "values the published code crashed on", _o_types),
        SchemaRule("data_n_exclusive", "data and n not both present", _o_both),
        SchemaRule("data_list", "data, if present, a list of >= 2 strings", _o_data),
        SchemaRule("n_number", "n, if present, a number >= 2", _o_n),
        SchemaRule("template_placeholders", "RG: no {n}; others: {data} or {context}", _o_template),
    ),
    high=(
        Cue(
            "numeric_request",
            "a number directly followed by one of 26 nouns",
            lambda k: bool(cues.ORIGINAL_NUMERIC_REQUEST.search(k.lower)),
        ),
        Cue(
            "list_markers",
            "a determiner + list noun",
            lambda k: bool(cues.ORIGINAL_LIST_MARKERS.search(k.lower)),
        ),
        Cue(
            "numbered_items",
            "2+ 'N.'/'N)'/'N:' or '- ' items anywhere",
            lambda k: cues.count_original(cues.ORIGINAL_NUMBERED_ITEMS, k.prompt) > 1,
        ),
        Cue(
            "bullet_list",
            "2+ bulleted or numbered lines",
            lambda k: cues.count_original(cues.ORIGINAL_BULLET_LIST, k.prompt) > 1,
        ),
        Cue(
            "multiple_questions",
            "2+ '?' followed by whitespace",
            lambda k: cues.count_original(cues.ORIGINAL_MULTIPLE_QUESTIONS, k.prompt) > 1,
        ),
        Cue(
            "multiplicity_with_items",
            "a multiplicity word with >= 2 data items or n > 1",
            lambda k: bool(cues.ORIGINAL_MULTIPLICITY.search(k.lower)) and _o_many(k),
        ),
    ),
    medium=(
        Cue(
            "comma_list",
            "a, b, c",
            lambda k: bool(cues.ORIGINAL_COMMA_LIST.search(k.lower)),
        ),
        Cue(
            "for_each",
            "'for each' / 'for every'",
            lambda k: bool(cues.ORIGINAL_FOR_EACH.search(k.lower)),
        ),
        Cue(
            "plural_list",
            "a word ending in s followed by ':' or ';'",
            lambda k: bool(cues.ORIGINAL_PLURAL_LIST.search(k.lower)),
        ),
        Cue(
            "category_tier",
            "raw category RC / NER / Translation",
            lambda k: k.raw.get("category", "Unknown") in cues.ORIGINAL_TIER_CATEGORIES,
        ),
        Cue("three_items", ">= 3 data items", lambda k: _o_items(k) >= 3),
    ),
    labels=TierLabels(no_cue="low_confidence", schema_failure="not_parallelizable"),
    decoding="published",
    revision="2",
)


# ----------------------------------------------------------------- default (ours) rules


def _d_types(case: Case) -> FailureReason | None:
    if case.coerced(Coercion.data_not_a_list):
        return FailureReason.data_not_a_list
    if case.coerced(Coercion.data_items_not_strings):
        return FailureReason.data_not_strings
    if case.coerced(Coercion.n_unusable):
        return FailureReason.n_invalid
    return None


def _d_category(case: Case) -> FailureReason | None:
    return FailureReason.missing_category if case.category is None else None


def _d_exclusive(case: Case) -> FailureReason | None:
    c = case.candidate
    if c.data is not None and c.n is not None:
        return FailureReason.both_data_and_n
    if c.data is None and c.n is None:
        return FailureReason.neither_data_nor_n
    return None


def _d_data(case: Case) -> FailureReason | None:
    data = case.candidate.data
    if data is None:
        return None
    if len(data) < 2:
        return FailureReason.data_too_short
    keys = [normalise(item) for item in data]
    if any(not key for key in keys):
        return FailureReason.data_empty_item
    if len(set(keys)) != len(keys):
        return FailureReason.data_duplicate_items
    return None


def _d_n(case: Case) -> FailureReason | None:
    n = case.candidate.n
    if n is None:
        return None
    if not 2 <= n <= case.profile.max_n:
        return FailureReason.n_invalid
    definition = case.categories.get(case.category)
    if definition is None or not definition.uses_n:
        return FailureReason.n_wrong_category
    return None


def _d_template(case: Case) -> FailureReason | None:
    c = case.candidate
    template = c.template
    if template is None or not template.strip():
        return FailureReason.template_missing
    if "{n}" in template:
        return FailureReason.template_has_n
    if c.data is not None and "{data}" not in template:
        return FailureReason.template_missing_data
    if c.data is None and "{data}" in template:
        return FailureReason.template_unexpected_data
    if c.context is not None and "{context}" not in template and _passage(c.context):
        return FailureReason.template_missing_context
    if c.context is None and "{context}" in template:
        return FailureReason.template_unexpected_context
    return None


# A context of at most this many words that the template leaves out is a shared instruction
# ("Translate the following sentences into German") that the template restates: harmless. A
# longer one is a passage the subtasks need, so leaving it out fails.
SHORT_CONTEXT_WORDS = 12


def _passage(context: str) -> bool:
    return len(context.split()) > SHORT_CONTEXT_WORDS


def _d_pointers(case: Case) -> FailureReason | None:
    pointers = case.candidate.pointers
    if pointers is None:
        return None
    if "context" in pointers.unresolved:
        return FailureReason.context_not_in_prompt
    if "template" in pointers.unresolved:
        return FailureReason.template_not_in_prompt
    if "data" in pointers.unresolved:
        return FailureReason.items_not_in_prompt
    return None


def _d_context(case: Case) -> FailureReason | None:
    context = case.candidate.context
    if context is not None and not case.grounder.grounded(context):
        return FailureReason.context_not_in_prompt
    return None


def _d_items(case: Case) -> FailureReason | None:
    definition = case.categories.get(case.category)
    if definition is not None and not definition.grounded_data:
        return None  # e.g. Repeated Generation; a novel category is grounded like the others
    if all(case.grounder.grounded(item) for item in case.data):
        return None
    return FailureReason.items_not_in_prompt


def _d_count(case: Case) -> bool:
    return any(2 <= n <= case.profile.max_n for n in cues.requested_counts(case.prompt))


def _d_many(case: Case) -> bool:
    n = case.candidate.n
    return len(case.data) >= 2 or (n is not None and n > 1)


def _d_grounded_three(case: Case) -> bool:
    return len(case.data) >= 3 and all(case.grounder.grounded(item) for item in case.data)


DEFAULT = RuleProfile(
    name="default",
    description="Stricter schema, grounding checks and multilingual cues that fix the "
    "original's misses.",
    revision="4",
    schema=(
        SchemaRule("types", "no unusable types (non-string items, non-list data, bad n)", _d_types),
        SchemaRule("category", "a category is given", _d_category),
        SchemaRule(
            "pointers_resolve",
            "a lean answer's context, template edit and item lines find their text",
            _d_pointers,
        ),
        SchemaRule("data_n_exclusive", "exactly one of data / n", _d_exclusive),
        SchemaRule("data_items", ">= 2 non-empty, distinct items", _d_data),
        SchemaRule("n_range", "n an integer in [2, max_n], only for n-categories", _d_n),
        SchemaRule(
            "template_placeholders", "{data} iff data, {context} iff context, no {n}", _d_template
        ),
        SchemaRule("context_grounded", "context copied from the prompt", _d_context),
        SchemaRule(
            "items_grounded",
            "items copied from the prompt (all categories but those without grounded_data)",
            _d_items,
        ),
    ),
    high=(
        Cue("count_request", "a number (digits or words) + up to 3 words + output noun", _d_count),
        Cue(
            "list_intro",
            "a determiner + list noun ('the following questions', 'les phrases suivantes')",
            lambda k: cues.list_intro(k.lower),
        ),
        Cue(
            "numbered_list",
            "2+ numbered/bulleted items, any script",
            lambda k: cues.has_numbered_list(k.prompt),
        ),
        Cue(
            "questions",
            "2+ questions (a final '?' counts)",
            lambda k: cues.question_count(k.prompt) >= 2,
        ),
        Cue(
            "multiplicity_with_items",
            "a multiplicity word (each, cada, tous, alle, 每个...) with >= 2 items or n > 1",
            lambda k: bool(cues.MULTIPLICITY.search(k.lower)) and _d_many(k),
        ),
        Cue(
            "items_on_lines",
            ">= 2 data items each filling a whole line of the prompt",
            lambda k: cues.items_on_lines(k.prompt, k.data) >= 2,
        ),
    ),
    medium=(
        Cue(
            "enumeration",
            "'a, b, c' / 'a, b and c' / 'a、b、c'",
            lambda k: bool(cues.ENUMERATION.search(k.lower)),
        ),
        Cue(
            "for_each",
            "'for each', 'para cada', 'für jede'...",
            lambda k: bool(cues.FOR_EACH.search(k.lower)),
        ),
        Cue(
            "plural_colon",
            "a plural word followed by ':' and >= 2 data items",
            lambda k: bool(cues.PLURAL_COLON.search(k.lower)) and len(k.data) >= 2,
        ),
        Cue(
            "these_colon",
            "'these:' / 'the following:' introducing >= 2 data items",
            lambda k: bool(cues.THESE_COLON.search(k.lower)) and len(k.data) >= 2,
        ),
        Cue(
            "joined_items",
            "the data items side by side in the prompt, joined by commas or 'and'/'or'",
            lambda k: cues.items_joined(k.prompt, k.data),
        ),
        Cue(
            "n_mentioned",
            "n appears in the prompt as a number or number word",
            lambda k: k.candidate.n is not None and cues.mentions_number(k.prompt, k.candidate.n),
        ),
        Cue("grounded_items", ">= 3 data items, all copied from the prompt", _d_grounded_three),
    ),
)

PROFILES: dict[str, RuleProfile] = {ORIGINAL.name: ORIGINAL, DEFAULT.name: DEFAULT}
