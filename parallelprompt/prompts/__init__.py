"""The classification contract: system prompt, request bodies, parsing, validation, tiers,
category normalisation and the heuristic extractor. Pure code; the only I/O is reading the
package's own (or a user's) prompt and categories files in Contract.load / CategorySet.load."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parallelprompt.prompts.categories import (
        CANONICAL_CATEGORIES,
        CategoryDef,
        CategorySet,
        normalise_category,
    )
    from parallelprompt.prompts.contract import Contract
    from parallelprompt.prompts.errors import ContractError
    from parallelprompt.prompts.heuristic import heuristic_answer
    from parallelprompt.prompts.parse import parse_answer
    from parallelprompt.prompts.profiles import (
        DEFAULT,
        ORIGINAL,
        PROFILES,
        Case,
        Cue,
        RuleProfile,
        SchemaRule,
        TierLabels,
    )
    from parallelprompt.prompts.requests import estimate_tokens
    from parallelprompt.prompts.types import (
        Candidate,
        Coercion,
        FailureReason,
        Outcome,
        ParseFailure,
        ParseFailureReason,
        Verdict,
    )
    from parallelprompt.prompts.validation import validate

__all__ = [
    "CANONICAL_CATEGORIES",
    "DEFAULT",
    "ORIGINAL",
    "PROFILES",
    "Candidate",
    "Case",
    "CategoryDef",
    "CategorySet",
    "Coercion",
    "Contract",
    "ContractError",
    "Cue",
    "FailureReason",
    "Outcome",
    "ParseFailure",
    "ParseFailureReason",
    "RuleProfile",
    "SchemaRule",
    "TierLabels",
    "Verdict",
    "estimate_tokens",
    "heuristic_answer",
    "normalise_category",
    "parse_answer",
    "validate",
]

#: Imported on first use, so that importing a light module of the package (its settings
#: section, its errors) does not load the rest.
_HOME = {
    "CANONICAL_CATEGORIES": "parallelprompt.prompts.categories",
    "DEFAULT": "parallelprompt.prompts.profiles",
    "ORIGINAL": "parallelprompt.prompts.profiles",
    "PROFILES": "parallelprompt.prompts.profiles",
    "Candidate": "parallelprompt.prompts.types",
    "Case": "parallelprompt.prompts.profiles",
    "CategoryDef": "parallelprompt.prompts.categories",
    "CategorySet": "parallelprompt.prompts.categories",
    "Coercion": "parallelprompt.prompts.types",
    "Contract": "parallelprompt.prompts.contract",
    "ContractError": "parallelprompt.prompts.errors",
    "Cue": "parallelprompt.prompts.profiles",
    "FailureReason": "parallelprompt.prompts.types",
    "Outcome": "parallelprompt.prompts.types",
    "ParseFailure": "parallelprompt.prompts.types",
    "ParseFailureReason": "parallelprompt.prompts.types",
    "RuleProfile": "parallelprompt.prompts.profiles",
    "SchemaRule": "parallelprompt.prompts.profiles",
    "TierLabels": "parallelprompt.prompts.profiles",
    "Verdict": "parallelprompt.prompts.types",
    "estimate_tokens": "parallelprompt.prompts.requests",
    "heuristic_answer": "parallelprompt.prompts.heuristic",
    "normalise_category": "parallelprompt.prompts.categories",
    "parse_answer": "parallelprompt.prompts.parse",
    "validate": "parallelprompt.prompts.validation",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
