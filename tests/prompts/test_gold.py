"""The labelled gold set (tests/prompts/gold/gold.jsonl, written by gold/build.py): every case
meets its expected verdict under both profiles, and the set covers what issue 10 asks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from parallelprompt.cli import main
from parallelprompt.prompts import CANONICAL_CATEGORIES, Contract
from parallelprompt.prompts.published import published_shape
from parallelprompt.results.gold import GoldCase, compare_gold, label, load_gold

from .gold.build import GOLD, build, render
from .published_oracle import published

CASES = load_gold(GOLD)
CONTRACTS = {p: Contract.load(rules=p) for p in ("default", "original")}


def test_gold_file_is_built_from_the_builder() -> None:
    assert GOLD.read_text(encoding="utf-8") == render(build()), (
        "run python -m tests.prompts.gold.build"
    )


def test_gold_set_coverage() -> None:
    assert len(CASES) >= 200
    assert len({c.id for c in CASES}) == len(CASES)
    assert len({c.lang for c in CASES}) >= 6
    categories = {c.category for c in CASES}
    assert set(CANONICAL_CATEGORIES) <= categories
    assert len(categories - set(CANONICAL_CATEGORIES) - {None}) >= 5  # novel ones
    classes = Counter(c.cls for c in CASES)
    for cls in (
        "invented_item",
        "invented_context",
        "grammar_fix",
        "punct_spacing",
        "hyphenation",
        "contractions",
        "names_for_placeholders",
        "placeholders_for_names",
        "escaped_newlines",
        "html_entities",
        "quotes",
        "lean",
        "lean_offsets",
        "lean_item_lines",
        "lean_invented_item",
        "lean_invented_context",
        "lean_template_edit",
        "lean_said_no",
    ):
        assert classes[cls] >= 1, cls
    assert sum(c.grounded is False for c in CASES) >= 40
    assert sum(c.grounded is True for c in CASES) >= 80


@pytest.mark.parametrize("profile", ["default", "original"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_gold_case(case: GoldCase, profile: str) -> None:
    verdict = CONTRACTS[profile].judge(case.prompt, case.answer, case.stop)
    assert label(verdict) == case.expected[profile]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_original_labels_are_the_published_validators(case: GoldCase) -> None:
    stage, tier, passed = published(case.prompt, published_shape(case.prompt, case.answer))
    want = case.expected["original"]
    assert passed == (want in ("high_confidence", "medium_confidence"))
    if stage == "cues":
        assert want == tier
    elif stage == "fallback":
        assert want.startswith("unparseable:")
    elif stage in ("schema", "crash"):
        assert want.startswith("schema:")
    else:
        assert want == "not_parallelizable"


def test_lean_answers_judge_as_their_published_shape() -> None:
    """Issue 13: each lean answer of a scenario gets the labels of the same answer copied out
    in full (the `/exact` case), under both profiles."""
    by_id = {c.id: c for c in CASES}
    pairs = [
        (c, by_id[c.id.removeprefix("lean/") + "/exact"])
        for c in CASES
        if c.cls == "lean" and c.id.removeprefix("lean/") + "/exact" in by_id
    ]
    assert len(pairs) >= 30
    for lean, full in pairs:
        assert lean.expected == full.expected, lean.id
        assert len(lean.answer) < len(full.answer), lean.id


def test_invented_items_and_context_fail_under_default() -> None:
    for case in CASES:
        if case.grounded is False:
            assert case.expected["default"] in (
                "failed:items_not_in_prompt",
                "failed:context_not_in_prompt",
            ), case.id


def test_compare_gold_shows_where_and_why_profiles_differ() -> None:
    cmp = compare_gold(CASES)
    assert cmp["mismatches"] == []
    diffs = {d["id"]: d for d in cmp["differences"]}
    assert diffs["shape/n-fractional"]["passes_under"] == "original"
    assert diffs["shape/n-fractional"]["default"] == "failed:n_invalid"
    assert diffs["shape/trailing-comma"]["passes_under"] == "default"
    assert diffs["shape/trailing-comma"]["original"] == "unparseable:broken_json"
    assert "json_trailing_commas" in diffs["shape/trailing-comma"]["repairs"]


def test_default_keeps_paraphrases_the_published_validator_passes() -> None:
    """Of the grounded answers that the published validator passes, default keeps >= 85 %."""
    kept = total = 0
    for case in CASES:
        if case.grounded and case.expected["original"] in ("high_confidence", "medium_confidence"):
            total += 1
            kept += case.expected["default"] in ("high_confidence", "medium_confidence")
    assert total >= 80
    assert kept / total >= 0.85


def test_compare_rules_reads_a_gold_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare-rules", "--gold", str(GOLD)]) == 0
    out = capsys.readouterr().out
    assert "pass only under original; under default: failed:items_not_in_prompt" in out
    assert "every verdict matches its gold label" in out
    relabelled = tmp_path / "gold.jsonl"
    first = json.loads(GOLD.read_text(encoding="utf-8").splitlines()[0])
    first["expected"]["default"] = "not_parallelizable"
    relabelled.write_text(json.dumps(first) + "\n", encoding="utf-8")
    assert main(["compare-rules", "--gold", str(relabelled)]) == 1
    assert "expected not_parallelizable" in capsys.readouterr().out
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n", encoding="utf-8")
    assert main(["compare-rules", "--gold", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "broken.jsonl:1" in err and "Traceback" not in err
