from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from parallelprompt.db import SourceRow


def source_row(text: str, index: int, source: str = "lmsys/lmsys-chat-1m") -> SourceRow:
    return SourceRow(
        prompt=text,
        text_hash=hashlib.blake2b(text.encode(), digest_size=16).digest(),
        source=source,
        split="train",
        row_index=index,
        conversation_id=f"c{index}",
        language="English",
        model="vicuna-13b",
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "work.db"


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Callable[[], float]:
    return FakeClock()
