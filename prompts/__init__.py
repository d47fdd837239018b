"""The classification contract: system prompt, request bodies, parsing, validation, tiers,
category normalisation and the heuristic extractor. Pure code; the only I/O is reading the
package's own (or a user's) prompt and categories files in Contract.load / CategorySet.load."""

from .categories import CANONICAL_CATEGORIES, CategoryDef, CategorySet, normalise_category
from .contract import Contract
from .heuristic import heuristic_answer
from .parse import parse_answer
from .profiles import DEFAULT, ORIGINAL, PROFILES, Case, Cue, RuleProfile, SchemaRule, TierLabels
from .requests import estimate_tokens
from .types import (
    Candidate,
    Coercion,
    FailureReason,
    Outcome,
    ParseFailure,
    ParseFailureReason,
    Verdict,
)
from .validate import validate

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
