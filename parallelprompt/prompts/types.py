"""The typed vocabulary of the classification contract: outcomes, reasons, answers, verdicts."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Outcome(enum.StrEnum):
    """Exactly one per prompt (see the design guide's outcome taxonomy)."""

    HIGH = "high_confidence"
    MEDIUM = "medium_confidence"
    NOT_PARALLELIZABLE = "not_parallelizable"
    FAILED = "failed"
    UNPARSEABLE = "unparseable"
    DEAD = "dead"  # set by the worker when transport kept failing; judge() never returns it


class FailureReason(enum.StrEnum):
    """Why a parallelizable answer failed validation. Values equal the lower snake names."""

    missing_category = "missing_category"
    both_data_and_n = "both_data_and_n"
    neither_data_nor_n = "neither_data_nor_n"
    data_not_a_list = "data_not_a_list"
    data_too_short = "data_too_short"
    data_not_strings = "data_not_strings"
    data_empty_item = "data_empty_item"
    data_duplicate_items = "data_duplicate_items"
    n_invalid = "n_invalid"
    n_wrong_category = "n_wrong_category"
    template_missing = "template_missing"
    template_missing_data = "template_missing_data"
    template_has_n = "template_has_n"
    template_unexpected_data = "template_unexpected_data"
    template_missing_context = "template_missing_context"
    template_unexpected_context = "template_unexpected_context"
    context_not_in_prompt = "context_not_in_prompt"
    items_not_in_prompt = "items_not_in_prompt"
    template_not_in_prompt = "template_not_in_prompt"  # a lean template edit that finds no text
    no_structural_cue = "no_structural_cue"
    type_error = "type_error"  # `original`: a value the published validator crashed on
    rule_error = "rule_error"  # a profile's rule raised (a bug in a user-added rule)


class ParseFailureReason(enum.StrEnum):
    """Why the model's text could not be turned into a Candidate."""

    empty = "empty"
    no_json = "no_json"
    truncated = "truncated"
    refusal = "refusal"
    broken_json = "broken_json"
    not_an_object = "not_an_object"
    missing_parallelizable = "missing_parallelizable"
    wrong_types = "wrong_types"


class Coercion(enum.StrEnum):
    """A type repair that parse_answer made. Profiles decide whether a repair is acceptable:
    the `original` profile fails the ones the published pipeline would have rejected."""

    parallelizable_from_string = "parallelizable_from_string"
    n_from_string = "n_from_string"
    n_from_float = "n_from_float"
    n_unusable = "n_unusable"  # bool, fractional, non-numeric, outside int64: n is None
    data_from_string = "data_from_string"  # a bare string (or a JSON list inside a string)
    data_not_a_list = "data_not_a_list"  # an object or number: data is None in the Candidate
    data_items_from_numbers = "data_items_from_numbers"
    data_items_not_strings = "data_items_not_strings"  # objects/lists/null/bool items
    invalid_unicode_replaced = "invalid_unicode_replaced"  # lone surrogates -> U+FFFD
    # Repairs of the decoded answer (recorded so that every repair is visible on the verdict):
    novel_from_string = "novel_from_string"  # "yes"/"no" for is_novel_category
    n_blank_as_null = "n_blank_as_null"  # "", "  ", "null", "None" read as no n
    data_blank_as_null = "data_blank_as_null"  # "", "  ", "null", "None" read as no data
    text_blank_as_null = "text_blank_as_null"  # a blank category / description / context
    keys_case_folded = "keys_case_folded"  # "Parallelizable", " data " matched as field names
    json_trailing_commas = "json_trailing_commas"  # [1, 2,] repaired
    json_python_literals = "json_python_literals"  # {'a': True, 'b': None} read as Python
    json_first_of_several = "json_first_of_several"  # more JSON objects followed; first taken
    # Under `original` (the published decoding): values it kept but we cannot store typed.
    text_not_a_string = "text_not_a_string"  # a non-string category/serial/... stored as null
    novel_not_a_boolean = "novel_not_a_boolean"  # a non-boolean is_novel_category
    parallelizable_by_truthiness = "parallelizable_by_truthiness"  # 1, "no", [], a missing key
    names_unusable = "names_unusable"  # a lean `names` that is not {"NAME_1": "Maria", ...}


@dataclass(frozen=True)
class Pointers:
    """What a lean answer points to instead of copying (see prompts/lean.py): the context as
    anchors (its first and last words) or as character offsets into the prompt, the template as
    an edit of the prompt, the items as the prompt's lines between two anchors, the names given
    for NAME_n placeholders, and whether `serial` was left out. `unresolved` names the pointers
    that prompts.lean.expand could not resolve."""

    serial_omitted: bool = False
    context_anchors: tuple[str, str] | None = None
    context_offsets: tuple[int, int] | None = None
    template_edit: tuple[str, str] | None = None  # (replace, with)
    data_anchors: tuple[str, str] | None = None  # the first and the last item's lines
    names: tuple[tuple[str, str], ...] = ()
    unresolved: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Candidate:
    """The model's answer, typed after safe coercion (see Coercion for what was repaired)."""

    parallelizable: bool
    category: str | None = None
    is_novel_category: bool | None = None
    category_description: str | None = None
    serial: str | None = None
    template: str | None = None
    context: str | None = None
    data: tuple[str, ...] | None = None
    n: int | None = None
    coercions: frozenset[Coercion] = field(default=frozenset())
    # A lean answer's pointers (None: the full published shape); prompts.lean.expand fills the
    # published fields from them.
    pointers: Pointers | None = None
    # The answer object as decoded, before any repair (the `original` profile judges it).
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict in the published column order (data as a list)."""
        return {
            "parallelizable": self.parallelizable,
            "category": self.category,
            "is_novel_category": self.is_novel_category,
            "category_description": self.category_description,
            "serial": self.serial,
            "template": self.template,
            "context": self.context,
            "data": list(self.data) if self.data is not None else None,
            "n": self.n,
        }


@dataclass(frozen=True)
class ParseFailure:
    reason: ParseFailureReason
    detail: str


@dataclass(frozen=True)
class Verdict:
    """The judgement of one model answer under one rule profile."""

    outcome: Outcome
    reason: str | None
    tier_label: str
    validation_passed: bool
    candidate: Candidate | None
    category: str | None
    is_novel_category: bool
    cue: str | None = None  # high/medium: the name of the first cue that earned the tier

    @property
    def repairs(self) -> tuple[str, ...]:
        """Every repair made to the answer before it was judged (sorted Coercion names)."""
        if self.candidate is None or not self.candidate.coercions:
            return ()
        return tuple(sorted(str(c) for c in self.candidate.coercions))
