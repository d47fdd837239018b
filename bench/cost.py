"""Cost and speed of the default configuration against the paper's method and today's default.

    .venv/bin/python -m bench.cost            # about 1.5 minutes
    .venv/bin/python -m bench.cost --quick    # smaller runs, rougher figures

Three runs of ``parallelprompt work`` against ``parallelprompt emulator`` on the same synthetic
prompts (dummy credentials, loopback only); every token figure is what the emulator counted.

A. The paper's method: Claude 3.5 Haiku on demand ($0.80 / $4.00 per million tokens), a system
   prompt of the paper's length (12,366 characters: its ``data_curation/system_prompt.txt``;
   the emulator's token count depends only on the length, so ours padded to that length
   stands in for its text), ``max_tokens`` 1,024, temperature 0.2, no caching. 3.5 Haiku is end
   of life, so the run calls a stand-in id the emulator is told to accept, and prices its
   tokens at 3.5 Haiku's catalogue prices.
B. Today's default before this change: Claude Haiku 4.5 (``us.``), ``max_tokens`` 1,024 on
   every call, no caching (its minimum cacheable prefix, 4,096 tokens, is above our prompt).
C. The default configuration: Claude Haiku 5.5 (``global.``), thinking off, the system prompt
   cached, ``max_tokens`` sized per call.

Targets: cost per million prompts of C <= 10 % of A's; prompts per minute of C >= 3x B's under
a 2M tokens-per-minute quota (the emulator meters it as Bedrock does: input + cache writes +
output x burndown, cache reads left out; requests per minute set out of the way).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.worker import report, scratch, start_worker, stats, wait_first_request
from parallelprompt.catalogue import DEFAULT_MODEL, PAPER_MODEL, pricing
from parallelprompt.emulator.process import spawn
from parallelprompt.emulator.settings import EmulatorSettings
from parallelprompt.prompts import Contract

PAPER_PROMPT_CHARS = 12_366
STAND_IN = "bench.paper-claude-3-5-haiku-stand-in"
TODAY = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
TPM = 2_000_000


@dataclass(frozen=True)
class Measured:
    name: str
    answered: int
    input_tokens: int
    output_tokens: int
    cache_read: int
    cache_write: int
    minutes: float

    @property
    def per_minute(self) -> float:
        return self.answered / self.minutes

    def cost_per_million(self, model: str, **prices: float) -> float:
        p = pricing(model, **prices)
        cost = p.cost(self.input_tokens, self.output_tokens, self.cache_read, self.cache_write)
        return cost / self.answered * 1e6

    def line(self) -> str:
        n = self.answered
        return (
            f"{self.name}: {n:,} answers, per answer {self.input_tokens / n:,.0f} "
            f"in + {self.cache_read / n:,.0f} cache read + "
            f"{self.cache_write / self.answered:,.0f} cache write + "
            f"{self.output_tokens / self.answered:,.0f} out tokens; "
            f"{self.per_minute:,.0f} prompts/min"
        )


def paper_prompt(folder: Path) -> Path:
    """Our bundled prompt, padded with its own text to the paper's length."""
    text = Contract.load().system_prompt
    while len(text) < PAPER_PROMPT_CHARS:
        text += "\n" + text
    path = folder / "paper_length_prompt.md"
    path.write_text(text[:PAPER_PROMPT_CHARS], encoding="utf-8")
    return path


def measure(name: str, n: int, emulator: EmulatorSettings, *flags: str) -> Measured:
    with scratch(n) as db, spawn(emulator) as endpoint:
        proc = start_worker(db, endpoint, "--concurrency", "64", "--rpm", "1e7", *flags)
        first = wait_first_request(endpoint, timeout=60)
        _out, err = proc.communicate(timeout=900)
        ended = time.monotonic()
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: worker exited {proc.returncode}: {err.strip()[-500:]}")
        s: dict[str, Any] = stats(endpoint)
    return Measured(
        name,
        int(s["answered"]),
        int(s["input_tokens"]),
        int(s["output_tokens"]),
        int(s["cache_read_tokens"]),
        int(s["cache_write_tokens"]),
        (ended - first) / 60.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    scale = 0.4 if args.quick else 1.0
    quota = EmulatorSettings(port=0, tpm=TPM, burst_seconds=5, initial_fill=0.0, latency_ms=200)
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as tmp:
        paper = measure(
            "A paper's method",
            int(400 * scale),
            EmulatorSettings(port=0, models=(STAND_IN,)),
            "--model",
            STAND_IN,
            "--system-prompt",
            str(paper_prompt(Path(tmp))),
            "--max-tokens",
            "1024",
            "--no-size-max-tokens",
            "--max-tokens-retry",
            "0",
            "--no-prompt-cache",
            "--tpm",
            "1e10",
        )
    today = measure(
        "B today's default",
        int(400 * scale),
        quota,
        "--model",
        TODAY,
        "--no-size-max-tokens",
        "--max-tokens-retry",
        "0",
        "--tpm",
        str(TPM),
    )
    new = measure("C default", int(2400 * scale), quota, "--tpm", str(TPM))
    for m in (paper, today, new):
        print(m.line())
    a = paper.cost_per_million(PAPER_MODEL)
    b = today.cost_per_million(TODAY)
    c = new.cost_per_million(DEFAULT_MODEL)
    print(
        f"cost per million prompts: A ${a:,.0f} (3.5 Haiku prices), B ${b:,.0f} (Haiku 4.5 us.), "
        f"C ${c:,.0f} (Haiku 5.5 global.)"
    )
    report("cost", f"C/A = {c / a:.3f}", (c / a) / 0.10, "C <= 10 % of A", c / a <= 0.10)
    speed = new.per_minute / today.per_minute
    report(
        "speed",
        f"C {new.per_minute:,.0f} vs B {today.per_minute:,.0f} prompts/min at 2M TPM: {speed:.2f}x",
        speed / 3.0,
        "C >= 3x B",
        speed >= 3.0,
    )


if __name__ == "__main__":
    main()
