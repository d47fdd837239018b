"""One mapping from a judgement (``prompts.Verdict``) to the row the database stores
(``db.VerdictRow``): used by the worker when it writes results and by ``revalidate``."""

from __future__ import annotations

from parallelprompt.db.models import VerdictRow
from parallelprompt.prompts import Contract, Verdict


def verdict_row(verdict: Verdict, contract: Contract) -> VerdictRow:
    """A judgement as stored, under the contract's profile and version."""
    cand = verdict.candidate
    return VerdictRow(
        profile=contract.profile.name,
        contract_version=contract.version,
        outcome=str(verdict.outcome),
        # a failure's reason, or for a pass the cue that earned its tier
        reason=verdict.cue if verdict.reason is None else str(verdict.reason),
        tier_label=verdict.tier_label,
        validation_passed=verdict.validation_passed,
        parallelizable=None if cand is None else cand.parallelizable,
        category=verdict.category,
        is_novel_category=verdict.is_novel_category if cand is not None else None,
        category_description=None if cand is None else cand.category_description,
        serial=None if cand is None else cand.serial,
        template=None if cand is None else cand.template,
        context=None if cand is None else cand.context,
        data=None if cand is None else cand.data,
        n=None if cand is None else cand.n,
        repairs=verdict.repairs,
    )
