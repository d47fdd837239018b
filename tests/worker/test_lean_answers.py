"""Issue 13.4: no prompt is unparseable merely because it is long. 20k-character prompts,
parallel and not (a passage with questions, a long brief, a list of 300 sentences, prose),
through the emulator (the heuristic's lean answers, exact style) with the default max_tokens
sizing: every one is answered in one call, judged, and stored with the published columns in
full."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

from tests.worker.conftest import work_on

from .conftest import FAST, fill, make_settings, quiet_display

WORDS = [
    "river",
    "valley",
    "stone",
    "harbour",
    "market",
    "winter",
    "garden",
    "letter",
    "bridge",
    "lantern",
]


def passage(chars: int, seed: int) -> str:
    """Prose without lists, counts or repeated phrases."""
    rng = random.Random(seed)
    out = ""
    while len(out) < chars:
        out += " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + ". "
    return out.strip()


async def test_twenty_thousand_character_prompts_parse_at_the_default_sizing(
    db: Path, emulator: Any
) -> None:
    text = passage(20_000, 1)
    questions = "\n\nAnswer the following questions:\n1. Where is the bridge?\n2. Why?"
    prompts = {
        "not parallel": passage(20_000, 2),
        "questions": text + questions,
        "slogans": passage(20_000, 3) + " Give me 5 slogans for the market.",
        "list": "Translate these sentences to French:\n"
        + "\n".join(f"{i + 1}. {passage(60, 100 + i)}" for i in range(300)),
    }
    assert all(len(p) >= 20_000 for p in prompts.values())
    emu = await emulator()
    await fill(db, list(prompts.values()))
    summary = await work_on(make_settings(db, emu.endpoint), tuning=FAST, display=quiet_display())
    assert summary.processed == 4
    assert emu.stats()["answered"] == 4  # one call each: no answer was cut and retried
    with sqlite3.connect(db) as conn:
        got = {
            prompt: row
            for prompt, *row in conn.execute(
                "SELECT w.prompt, r.stop_reason, r.output_tokens, v.outcome, t.serial, "
                "t.context, t.template FROM verdicts v JOIN results r ON r.id = v.result_id "
                "JOIN verdict_texts t ON t.result_id = v.result_id AND t.profile = v.profile "
                "JOIN work w ON w.id = r.work_id WHERE v.profile = 'default'"
            )
        }
    for name, prompt in prompts.items():
        stop, out, outcome, serial, _context, _template = got[prompt]
        assert stop == "end_turn" and out < 100, name  # the answer does not grow with the prompt
        assert serial == prompt, name  # expanded from the lean answer: the column in full
        assert outcome == ("not_parallelizable" if name == "not parallel" else "high_confidence")
    assert got[prompts["questions"]][4] == text
    assert got[prompts["slogans"]][5] == prompts["slogans"].replace("5 slogans", "a slogan")
