"""The read commands close the connection they open, whether they succeed or fail."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar

import pytest

from parallelprompt import cli
from parallelprompt.cli import main
from parallelprompt.settings import Settings


class Tracked(sqlite3.Connection):
    """A connection that remembers whether it was closed."""

    opened: ClassVar[list[Tracked]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.closed = False
        Tracked.opened.append(self)

    def close(self) -> None:
        self.closed = True
        super().close()


@pytest.fixture
def tracked(monkeypatch: pytest.MonkeyPatch) -> list[Tracked]:
    original = sqlite3.connect

    def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        return original(*args, factory=Tracked, **kwargs)  # type: ignore[call-overload, no-any-return]

    Tracked.opened = []
    monkeypatch.setattr(sqlite3, "connect", connect)
    real = cli._existing_db

    def existing(s: Settings) -> sqlite3.Connection:
        conn = real(s)
        assert isinstance(conn, Tracked)
        return conn

    monkeypatch.setattr(cli, "_existing_db", existing)
    return Tracked.opened


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["stats", "--json"],
        ["report", "--out", "{tmp}/report.html"],
        ["status"],
        ["estimate"],
        ["compare-rules"],
        ["export", "--format", "jsonl", "--include-emulator", "--out", "{tmp}/out.jsonl"],
        ["stats", "--source", "no/such-dataset"],  # a user error: closed all the same
    ],
)
def test_read_commands_close_their_connection(
    results_db: Path, tmp_path: Path, tracked: list[Tracked], command: list[str]
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    status = main([*args, "--db", str(results_db)])
    assert status == (2 if "no/such-dataset" in command else 0)
    assert tracked and all(c.closed for c in tracked)
