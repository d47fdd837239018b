"""Precision and recall of the `default` profile's grounding decision across thresholds, on the
labelled gold set (tests/prompts/gold/gold.jsonl), and its cost per fragment.

    .venv/bin/python -m bench.grounding [--gold PATH]

A case's answer is grounded at threshold t when every fragment the rules check (the context,
and the items unless the category has grounded_data false) scores >= t. The truth is the gold
case's `grounded` label (copied or paraphrased: true; something invented: false). "Positive"
is "grounded": precision is the share of accepted answers that really are grounded, recall the
share of grounded answers accepted. The chosen threshold is RuleProfile.grounding_threshold;
the table is recorded in docs/rules.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from parallelprompt.prompts import DEFAULT, Candidate, CategorySet, normalise_category, parse_answer
from parallelprompt.prompts.grounding import Grounder
from parallelprompt.results.gold import GoldCase, load_gold

GOLD = Path(__file__).resolve().parent.parent / "tests" / "prompts" / "gold" / "gold.jsonl"
THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)


def fragments(candidate: Candidate, categories: CategorySet) -> list[str]:
    category, _novel = normalise_category(candidate.category, categories)
    definition = categories.get(category)
    out = [candidate.context] if candidate.context is not None else []
    if definition is None or definition.grounded_data:
        out.extend(candidate.data or ())
    return out


def scored(cases: list[GoldCase]) -> tuple[list[tuple[float, bool]], int, float]:
    """(lowest fragment score, truly grounded) per case, fragments scored, seconds spent."""
    categories = CategorySet.load()
    rows: list[tuple[float, bool]] = []
    count, spent = 0, 0.0
    for case in cases:
        if case.grounded is None:
            continue
        parsed = parse_answer(case.answer, case.stop)
        if not isinstance(parsed, Candidate) or parsed.pointers is not None:
            continue  # a lean answer's pointers resolve or not: no threshold decides them
        frags = fragments(parsed, categories)
        if not frags:
            continue
        c = parsed
        texts = (c.serial or "", c.context or "", c.template or "", *(c.data or ()))
        started = time.perf_counter()
        grounder = Grounder(case.prompt, texts, threshold=0.0)  # exact scores, no shortcut
        low = min(grounder.score(f) for f in frags)
        spent += time.perf_counter() - started
        count += len(frags)
        rows.append((low, bool(case.grounded)))
    return rows, count, spent


def table(rows: list[tuple[float, bool]]) -> list[tuple[float, float, float, int, int]]:
    out = []
    for t in THRESHOLDS:
        tp = sum(1 for s, g in rows if s >= t and g)
        fp = sum(1 for s, g in rows if s >= t and not g)
        fn = sum(1 for s, g in rows if s < t and g)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        out.append((t, precision, recall, fp, fn))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    args = parser.parse_args()
    rows, count, spent = scored(load_gold(args.gold))
    positives = sum(g for _, g in rows)
    print(
        f"{len(rows)} answers with fragments to ground ({positives} grounded, "
        f"{len(rows) - positives} invented); {count} fragments, "
        f"{1000 * spent / max(count, 1):.3f} ms per fragment"
    )
    print(f"current threshold (DEFAULT.grounding_threshold): {DEFAULT.grounding_threshold}")
    print("| threshold | precision | recall | invented accepted | grounded rejected |")
    print("|---:|---:|---:|---:|---:|")
    for t, p, r, fp, fn in table(rows):
        print(f"| {t:.2f} | {p:.3f} | {r:.3f} | {fp} | {fn} |")


if __name__ == "__main__":
    main()
