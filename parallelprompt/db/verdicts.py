"""One mapping from a judgement (``prompts.Verdict``) to the row the database stores
(``db.VerdictRow``): used by the worker when it writes results and by ``revalidate``."""

from __future__ import annotations

from typing import Any

import orjson

from parallelprompt.db.models import VerdictRow
from parallelprompt.db.texts import compact
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


#: ``upsert_verdict``'s parameters in the statement's order (``db.revalidation`` binds them by
#: position and checks this order against the statement).
UPSERT_NAMES = (
    "result_id", "profile", "contract_version", "outcome", "reason", "tier_label",
    "validation_passed", "parallelizable", "category", "is_novel_category",
    "category_description", "serial", "template", "context", "data_json", "n",
    "repairs_json", "now", "serial_at", "serial_to", "template_at", "template_to",
    "context_at", "context_to",
)  # fmt: skip


def upsert_values(
    result_id: int, verdict: Verdict, contract: Contract, now: float, prompt: str | None
) -> tuple[Any, ...]:
    """``verdict_params(result_id, verdict_row(verdict, contract), now, prompt)`` as a tuple in
    ``UPSERT_NAMES`` order, without the row and the dict in between (``revalidate`` stores a
    million of them; a test compares the two on a corpus)."""
    cand = verdict.candidate
    if cand is None:
        return (
            result_id, contract.profile.name, contract.version, str(verdict.outcome),
            verdict.cue if verdict.reason is None else str(verdict.reason), verdict.tier_label,
            int(verdict.validation_passed), None, verdict.category, None, None, None, None,
            None, None, None, _repairs_json(verdict.repairs), now,
            None, None, None, None, None, None,
        )  # fmt: skip
    t = compact(prompt, cand.serial, cand.template, cand.context)
    return (
        result_id, contract.profile.name, contract.version, str(verdict.outcome),
        verdict.cue if verdict.reason is None else str(verdict.reason), verdict.tier_label,
        int(verdict.validation_passed), cand.parallelizable, verdict.category,
        verdict.is_novel_category, cand.category_description,
        t["serial"], t["template"], t["context"],
        None if cand.data is None else orjson.dumps(list(cand.data)).decode(), cand.n,
        _repairs_json(verdict.repairs), now, t["serial_at"], t["serial_to"],
        t["template_at"], t["template_to"], t["context_at"], t["context_to"],
    )  # fmt: skip


def _repairs_json(repairs: tuple[str, ...]) -> str | None:
    return orjson.dumps(list(repairs)).decode() if repairs else None
