from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from parallelprompt.producer.ingest import IngestSummary, ingest, run_ingest
from parallelprompt.settings import CommonSettings, IngestSettings, Settings


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "pp.db"


@pytest.fixture
def make_settings(db_path: Path) -> Callable[..., Settings]:
    def make(**ingest: Any) -> Settings:
        if "data_files" in ingest:
            ingest["data_files"] = tuple(str(p) for p in ingest["data_files"])
        if "languages" in ingest:
            ingest["languages"] = tuple(ingest["languages"])
        return Settings(
            common=CommonSettings(db=db_path, quiet=True), ingest=IngestSettings(**ingest)
        )

    return make


def ingest_sync(s: Settings, *, progress: bool) -> IngestSummary:
    """``producer.run_ingest`` with the sections of ``s`` (the tests build one whole Settings)."""
    return run_ingest(s.ingest, db=s.common.db, progress=progress and not s.common.quiet)


async def ingest_on(s: Settings, *, progress: bool) -> IngestSummary:
    """``producer.ingest`` with the sections of ``s``."""
    return await ingest(s.ingest, db=s.common.db, progress=progress and not s.common.quiet)


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
