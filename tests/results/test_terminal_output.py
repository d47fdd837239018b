"""Issue 11 §7: text from the data never drives the terminal, and a rehearsal says so."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from parallelprompt.cli import main
from parallelprompt.worker.progress import Display

HOSTILE = "Poetry\x1b]0;owned\x07\x1b[2J\x1b[31m\r\x08\u202e"


def test_stats_and_status_text_carry_no_escape_sequences(
    results_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = sqlite3.connect(results_db)
    conn.execute("UPDATE verdicts SET category = ? WHERE category IS NOT NULL", (HOSTILE,))
    conn.execute("UPDATE runs SET model_id = ?", ("model\x1b[8m",))
    conn.commit()
    conn.close()
    for command in ("stats", "status", "compare-rules"):
        assert main([command, "--db", str(results_db)]) == 0
        out = capsys.readouterr().out
        assert not any(c in out for c in "\x1b\x07\r\x08\u202e"), (command, out)
    assert main(["stats", "--db", str(results_db)]) == 0
    assert "Poetry" in capsys.readouterr().out


def test_stats_and_status_say_emulator(
    results_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("stats", "status"):
        assert main([command, "--db", str(results_db)]) == 0
        out = capsys.readouterr().out
        assert "emulator" in out.splitlines()[0] and "not a model" in out


def test_log_lines_carry_no_escape_sequences() -> None:
    stream = io.StringIO()
    Display(stream, "text", quiet=False).log("warning", f"category {HOSTILE} refused")
    assert stream.getvalue() == "warning: category Poetry refused\n"
