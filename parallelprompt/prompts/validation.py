"""Validation and tiering of a parsed answer under a rule profile."""

from __future__ import annotations

from .categories import CategorySet, normalise_category
from .profiles import Case, RuleProfile
from .types import Candidate, FailureReason, Outcome, Verdict


def validate(
    prompt: str, candidate: Candidate, profile: RuleProfile, categories: CategorySet
) -> Verdict:
    """Judge one parsed answer: NOT_PARALLELIZABLE if the model said no; FAILED with the first
    failing schema rule's reason; else HIGH / MEDIUM by the profile's cues, or FAILED with
    no_structural_cue. A rule that raises yields FAILED/rule_error (never propagates)."""
    category, novel = normalise_category(candidate.category, categories)

    def verdict(
        outcome: Outcome, reason: FailureReason | None, label: str, cue: str | None = None
    ) -> Verdict:
        passed = outcome in (Outcome.HIGH, Outcome.MEDIUM)
        return Verdict(outcome, reason, label, passed, candidate, category, novel, cue)

    labels = profile.labels
    if not candidate.parallelizable:
        return verdict(Outcome.NOT_PARALLELIZABLE, None, labels.not_parallelizable)
    case = Case(prompt, candidate, categories, category, profile)
    try:
        for rule in profile.schema:
            reason = rule.check(case)
            if reason is not None:
                return verdict(Outcome.FAILED, reason, labels.schema_failure)
        for outcome, cues, label in (
            (Outcome.HIGH, profile.high, labels.high),
            (Outcome.MEDIUM, profile.medium, labels.medium),
        ):
            earned = next((cue.name for cue in cues if cue.test(case)), None)
            if earned is not None:
                return verdict(outcome, None, label, earned)
    except Exception:  # a user's rule must not take down a worker: count it, visibly
        return verdict(Outcome.FAILED, FailureReason.rule_error, labels.schema_failure)
    return verdict(Outcome.FAILED, FailureReason.no_structural_cue, labels.no_cue)
