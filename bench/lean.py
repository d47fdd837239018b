"""Lean answers against the published answer shape, on the same answers (issue 13).

    .venv/bin/python -m bench.lean        # a few seconds

For each prompt, the emulator's exact-style answer (the heuristic extractor's, lean) and the same
answer in the published shape (its pointers expanded, the nine keys written out: what the old
system prompt asked for) are counted with the emulator's tokenizer. Two sets: the bundled
sample's first user turns, and synthetic long prompts (a passage with questions, a long brief
asking for 5 slogans, a numbered list of sentences to translate, prose that is not
parallelizable) of 1k to 20k characters, where the
published shape is cut at the default ``max_tokens`` sizing (``worker.sizing``, ceiling 1,024).
"""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path

import pyarrow.parquet as pq

from bench.worker import report
from parallelprompt.catalogue import DEFAULT_MODEL, pricing
from parallelprompt.emulator.responders import count_tokens
from parallelprompt.prompts import Candidate, heuristic_answer, parse_answer
from parallelprompt.prompts.lean import expand
from parallelprompt.prompts.requests import estimate_tokens
from parallelprompt.worker.sizing import TokenPlan

SAMPLE = Path(__file__).resolve().parents[1] / "parallelprompt" / "producer" / "sample"
WORDS = ("river", "valley", "stone", "harbour", "market", "winter", "garden", "letter", "bridge")


def published_answer(prompt: str, lean: str) -> str:
    """The lean answer written out in the published shape (nine keys, serial included)."""
    parsed = parse_answer(lean)
    assert isinstance(parsed, Candidate), lean
    return json.dumps(expand(prompt, parsed).to_dict(), ensure_ascii=False)


def sample_prompts() -> list[str]:
    seen: dict[str, None] = {}
    for name in ("lmsys", "wildchat"):
        table = pq.read_table(SAMPLE / f"{name}_sample.parquet", columns=["conversation"])
        for turns in table.column("conversation").to_pylist():
            for turn in turns or ():
                content = turn.get("content")
                if turn.get("role") == "user" and isinstance(content, str) and content.strip():
                    seen[content.replace("\x00", "").strip()] = None
                    break
    return list(seen)


def passage(chars: int, seed: int) -> str:
    rng = random.Random(seed)
    out = ""
    while len(out) < chars:
        out += " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + ". "
    return out.strip()


def long_prompts(chars: int) -> dict[str, str]:
    return {
        "questions": passage(chars, 1)
        + "\n\nAnswer the following questions:\n1. Where is the bridge?\n2. Why?",
        "slogans": passage(chars, 2) + " Give me 5 slogans for the market.",
        "list": "Translate these sentences to French:\n"
        + "\n".join(f"{i + 1}. {passage(60, 10 + i)}" for i in range(chars // 70)),
        "not parallel": passage(chars, 3),
    }


def main() -> None:
    prompts = sample_prompts()
    lean = [count_tokens(heuristic_answer(p)) for p in prompts]
    full = [count_tokens(published_answer(p, heuristic_answer(p))) for p in prompts]
    said_no = [json.loads(heuristic_answer(p)) == {"parallelizable": False} for p in prompts]
    print(f"bundled sample: {len(prompts)} unique first user turns, exact style")
    for name, pick in (("all", None), ("parallelizable", False), ("not parallelizable", True)):
        keep = [i for i in range(len(prompts)) if pick is None or said_no[i] is pick]
        a = statistics.fmean(full[i] for i in keep)
        b = statistics.fmean(lean[i] for i in keep)
        print(
            f"  {name:>18}: {len(keep):>4} answers, output tokens per answer {a:6.1f} -> {b:5.1f}"
        )
    out_price = pricing(DEFAULT_MODEL).price_out
    a, b = statistics.fmean(full), statistics.fmean(lean)
    print(
        f"  output cost per million prompts at {DEFAULT_MODEL} prices: "
        f"${a * out_price:,.0f} -> ${b * out_price:,.0f}"
    )
    report("lean", f"output tokens per answer {a:.1f} -> {b:.1f}", b / a, "fewer", b < a)
    plan = TokenPlan(ceiling=1024, retry_ceiling=4096, sized=True)
    cut = 0
    cases = 0
    for chars in (1_000, 4_000, 20_000):
        for name, prompt in long_prompts(chars).items():
            answer = heuristic_answer(prompt)
            first = plan.first(estimate_tokens(prompt))
            old, new = count_tokens(published_answer(prompt, answer)), count_tokens(answer)
            cases += 1
            cut += new > first
            print(
                f"  {len(prompt):>6,} chars, {name:>12}: published shape {old:>6,} tokens "
                f"({'cut' if old > first else 'fits'} at max_tokens {first:,}), lean {new} "
                f"({'cut' if new > first else 'fits'})"
            )
    report("long prompts", f"{cut} of {cases} lean answers cut", cut / cases, "none", cut == 0)


if __name__ == "__main__":
    main()
