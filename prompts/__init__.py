"""The classification contract: system prompt, request bodies, parsing, validation, tiers,
category normalisation and the heuristic extractor. Pure code; the only I/O is reading the
package's own (or a user's) prompt and categories files in Contract.load / CategorySet.load."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prompts.categories import (
        CANONICAL_CATEGORIES,
        CategoryDef,
        CategorySet,
        normalise_category,
    )
    from prompts.contract import Contract
    from prompts.errors import ContractError
    from prompts.heuristic import heuristic_answer
    from prompts.parse import parse_answer
    from prompts.profiles import (
        DEFAULT,
        ORIGINAL,
        PROFILES,
        Case,
        Cue,
        RuleProfile,
        SchemaRule,
        TierLabels,
    )
    from prompts.requests import estimate_tokens
    from prompts.types import (
        Candidate,
        Coercion,
        FailureReason,
        Outcome,
        ParseFailure,
        ParseFailureReason,
        Verdict,
    )
    from prompts.validation import validate

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
    "CANONICAL_CATEGORIES": "prompts.categories",
    "DEFAULT": "prompts.profiles",
    "ORIGINAL": "prompts.profiles",
    "PROFILES": "prompts.profiles",
    "Candidate": "prompts.types",
    "Case": "prompts.profiles",
    "CategoryDef": "prompts.categories",
    "CategorySet": "prompts.categories",
    "Coercion": "prompts.types",
    "Contract": "prompts.contract",
    "ContractError": "prompts.errors",
    "Cue": "prompts.profiles",
    "FailureReason": "prompts.types",
    "Outcome": "prompts.types",
    "ParseFailure": "prompts.types",
    "ParseFailureReason": "prompts.types",
    "RuleProfile": "prompts.profiles",
    "SchemaRule": "prompts.profiles",
    "TierLabels": "prompts.profiles",
    "Verdict": "prompts.types",
    "estimate_tokens": "prompts.requests",
    "heuristic_answer": "prompts.heuristic",
    "normalise_category": "prompts.categories",
    "parse_answer": "prompts.parse",
    "validate": "prompts.validation",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
