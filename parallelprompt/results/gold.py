"""A labelled gold set (JSON Lines: prompt, model answer, expected verdict per profile) judged
under two rule profiles: where each profile meets its expectation, and where and why the two
profiles differ. Used by ``parallelprompt compare-rules --gold PATH`` and by the tests; the
bundled set is tests/prompts/gold/gold.jsonl (see docs/rules.md)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parallelprompt.prompts import Contract, FailureReason, Outcome, Verdict


@dataclass(frozen=True)
class GoldCase:
    id: str
    lang: str
    cls: str
    category: str | None
    prompt: str
    answer: str
    stop: str | None
    expected: Mapping[str, str]
    grounded: bool | None


def load_gold(path: Path | str) -> list[GoldCase]:
    """Read a gold file; ValueError (with the line number) on a malformed line."""
    cases: list[GoldCase] = []
    with Path(path).open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                cases.append(
                    GoldCase(
                        id=str(obj["id"]),
                        lang=str(obj.get("lang", "")),
                        cls=str(obj.get("class", "")),
                        category=obj.get("category"),
                        prompt=str(obj["prompt"]),
                        answer=str(obj["answer"]),
                        stop=obj.get("stop"),
                        expected=dict(obj.get("expected") or {}),
                        grounded=obj.get("grounded"),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a gold case ({exc})") from exc
    return cases


def label(verdict: Verdict) -> str:
    """The gold set's label of a verdict: the outcome, with the reason when it failed;
    schema failures of a profile that labels them "not_parallelizable" (original) are
    "schema:<reason>", its no-cue failures "low_confidence"."""
    if verdict.outcome is Outcome.UNPARSEABLE:
        return f"unparseable:{verdict.reason}"
    if verdict.outcome is Outcome.FAILED:
        if verdict.reason == FailureReason.no_structural_cue and verdict.tier_label != "failed":
            return verdict.tier_label
        if verdict.tier_label == "not_parallelizable":
            return f"schema:{verdict.reason}"
        return f"failed:{verdict.reason}"
    return str(verdict.outcome)


def compare_gold(
    cases: Sequence[GoldCase], profiles: tuple[str, str] = ("original", "default")
) -> dict[str, Any]:
    """Judge every case under both profiles: passes per profile, cases that miss their
    expected label, and cases that pass under one profile only (with both labels)."""
    contracts = {p: Contract.load(rules=p) for p in profiles}
    passed: Counter[str] = Counter()
    by_category: dict[str, Counter[str]] = {}
    mismatches: list[dict[str, Any]] = []
    differences: list[dict[str, Any]] = []
    for case in cases:
        verdicts = {p: c.judge(case.prompt, case.answer, case.stop) for p, c in contracts.items()}
        labels = {p: label(v) for p, v in verdicts.items()}
        cat = by_category.setdefault(case.category or "(none)", Counter())
        for p, v in verdicts.items():
            passed[p] += v.validation_passed
            cat[p] += v.validation_passed
            want = case.expected.get(p)
            if want is not None and want != labels[p]:
                mismatches.append({"id": case.id, "profile": p, "expected": want, "got": labels[p]})
        a, b = profiles
        if verdicts[a].validation_passed != verdicts[b].validation_passed:
            differences.append(
                {
                    "id": case.id,
                    "class": case.cls,
                    "passes_under": a if verdicts[a].validation_passed else b,
                    a: labels[a],
                    b: labels[b],
                    "repairs": list(verdicts[b].repairs or verdicts[a].repairs),
                }
            )
    return {
        "cases": len(cases),
        "profiles": list(profiles),
        "passed": dict(passed),
        "categories": {k: dict(v) for k, v in sorted(by_category.items())},
        "mismatches": mismatches,
        "differences": differences,
    }


def format_gold(cmp: Mapping[str, Any]) -> str:
    a, b = cmp["profiles"]
    lines = [
        f"gold set: {cmp['cases']:,} cases; passed under {a} {cmp['passed'].get(a, 0):,}, "
        f"under {b} {cmp['passed'].get(b, 0):,}",
        f"  {'category':<34} {a:>10} {b:>10}",
    ]
    for category, counts in cmp["categories"].items():
        lines.append(f"  {category[:34]:<34} {counts.get(a, 0):>10,} {counts.get(b, 0):>10,}")
    why: Counter[str] = Counter()
    for d in cmp["differences"]:
        other = b if d["passes_under"] == a else a
        why[f"pass only under {d['passes_under']}; under {other}: {d[other]}"] += 1
    if why:
        lines.append(f"{len(cmp['differences'])} cases pass under one profile only:")
        lines.extend(f"  {n:>5} {reason}" for reason, n in why.most_common())
        for d in cmp["differences"]:
            lines.append(f"    {d['id']} ({d['class']}): {a} {d[a]}, {b} {d[b]}")
    if cmp["mismatches"]:
        lines.append(f"{len(cmp['mismatches'])} verdicts differ from the gold labels:")
        for m in cmp["mismatches"]:
            lines.append(f"  {m['id']} [{m['profile']}]: expected {m['expected']}, got {m['got']}")
    else:
        lines.append("every verdict matches its gold label")
    return "\n".join(lines)
