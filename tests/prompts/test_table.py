from __future__ import annotations

import pytest

from parallelprompt.prompts import Contract, FailureReason, Outcome, ParseFailureReason, Verdict

from .table import ROWS, Row

DEFAULT = Contract.load(rules="default")
ORIGINAL = DEFAULT.with_profile("original")
# Reasons that need a purpose-built profile rather than a model answer.
COVERED_ELSEWHERE = {FailureReason.rule_error: "test_validate.py::test_a_raising_rule_is_contained"}


def default_label(v: Verdict) -> str:
    if v.outcome in (Outcome.FAILED, Outcome.UNPARSEABLE):
        return f"{v.outcome}:{v.reason}"
    return str(v.outcome)


def original_label(v: Verdict) -> str:
    if v.outcome is Outcome.UNPARSEABLE:
        return f"unparseable:{v.reason}"
    if v.outcome is Outcome.FAILED and v.reason != FailureReason.no_structural_cue:
        assert v.tier_label == "not_parallelizable"  # the original's label for schema failures
        return f"schema:{v.reason}"
    return v.tier_label


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_default_profile(row: Row) -> None:
    verdict = DEFAULT.judge(row.prompt, row.answer, row.stop)
    assert default_label(verdict) == row.default
    assert verdict.validation_passed == (verdict.outcome in (Outcome.HIGH, Outcome.MEDIUM))


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_original_profile(row: Row) -> None:
    verdict = ORIGINAL.judge(row.prompt, row.answer, row.stop)
    assert original_label(verdict) == row.original


def test_table_size_and_languages() -> None:
    assert len(ROWS) >= 60
    assert len({r.lang for r in ROWS}) >= 5
    assert len({r.id for r in ROWS}) == len(ROWS)


def _reasons(label: str) -> str | None:
    return label.split(":", 1)[1] if ":" in label else None


def test_every_failure_reason_is_reached() -> None:
    reached = {_reasons(r.default) for r in ROWS} | {_reasons(r.original) for r in ROWS}
    missing = {str(r) for r in FailureReason} - reached - set(COVERED_ELSEWHERE)
    assert not missing


def test_every_parse_failure_reason_is_reached() -> None:
    reached = {_reasons(r.default) for r in ROWS}
    assert not {str(r) for r in ParseFailureReason} - reached


def test_no_structural_cue_is_low_confidence_in_original() -> None:
    row = next(r for r in ROWS if r.id == "rg-en-adjectives")
    verdict = ORIGINAL.judge(row.prompt, row.answer, row.stop)
    assert verdict.outcome is Outcome.FAILED
    assert verdict.reason == FailureReason.no_structural_cue
    assert verdict.tier_label == "low_confidence"
