"""`make run` (= `parallelprompt run`) on the bundled sample, against the emulator in its default,
realistic answer style: the statistics show failures, medium tiers and unparseable answers,
each with its reasons, and the README's "why prompts failed" query has rows to show."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from parallelprompt import main_job
from parallelprompt.cli import main
from parallelprompt.db import connect_sync
from parallelprompt.results.stats import compute_stats

WHY_FAILED = (  # README, example query 3
    "SELECT outcome, reason, count(*) AS prompts FROM failures "
    "GROUP BY outcome, reason ORDER BY prompts DESC"
)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS credentials, whatever the machine has: the main job starts the emulator."""
    monkeypatch.setattr(main_job, "aws_credentials_available", lambda: False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "emulator")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulator")
    for name in ("ANSWER_STYLE", "SEED", "FAULTS"):
        monkeypatch.delenv(f"PARALLELPROMPT_EMULATOR_{name}", raising=False)
    monkeypatch.delenv("PARALLELPROMPT_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", raising=False)


def run(db: Path, capsys: pytest.CaptureFixture[str], style: str) -> tuple[dict[str, Any], str]:
    assert main(["run", "--db", str(db), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert f"emulator answer style {style}" in err  # the run says how the emulator answers
    stats: dict[str, Any] = compute_stats(connect_sync(db))
    return stats, out


@pytest.mark.usefixtures("offline")
def test_make_run_shows_failures_medium_tiers_and_unparseable_answers_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stats, out = run(tmp_path / "run.db", capsys, "realistic")
    assert "failure reasons:" in out and "unparseable reasons:" in out
    outcomes = stats["outcomes"]
    assert outcomes["failed"] > 0 and outcomes["medium_confidence"] > 0, outcomes
    assert outcomes["unparseable"] > 0, outcomes
    assert sum(stats["failure_reasons"].values()) == outcomes["failed"]
    assert sum(stats["unparseable_reasons"].values()) == outcomes["unparseable"]
    # a pass has a reason too: the cue that earned its tier
    assert "medium tier earned by:" in out and "high tier earned by:" in out
    assert sum(stats["medium_cues"].values()) == outcomes["medium_confidence"]
    assert sum(stats["high_cues"].values()) == outcomes["high_confidence"]
    # invented items fail grounding; rambling is cut at max tokens; prose has no JSON
    assert stats["failure_reasons"].get("items_not_in_prompt", 0) > 0
    assert {"truncated", "no_json"} <= set(stats["unparseable_reasons"])
    conn = sqlite3.connect(tmp_path / "run.db")
    try:
        rows = conn.execute(WHY_FAILED).fetchall()
    finally:
        conn.close()
    assert {outcome for outcome, _reason, _n in rows} == {"failed", "unparseable"}
    assert all(reason for _outcome, reason, _n in rows)


@pytest.mark.usefixtures("offline")
def test_exact_answer_style_keeps_the_extractors_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARALLELPROMPT_EMULATOR_ANSWER_STYLE", "exact")
    stats, _out = run(tmp_path / "exact.db", capsys, "exact")
    outcomes = stats["outcomes"]
    assert outcomes["failed"] == 0 and outcomes["unparseable"] == 0, outcomes
    assert outcomes["high_confidence"] > 0


@pytest.mark.usefixtures("offline")
def test_the_emulator_run_needs_no_aws_keys_and_writes_none_into_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker signs the emulator's calls with explicit dummy keys (worker.llm)."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    stats, out = run(tmp_path / "keyless.db", capsys, "realistic")
    assert stats["outcomes"]["high_confidence"] > 0
    assert "answers from the local emulator are heuristics, not a model's" in out
    assert "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_SECRET_ACCESS_KEY" not in os.environ
