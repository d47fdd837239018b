"""Fixtures for the worker tests: a real SQLite file, the real emulator on a loopback port and
the real aioboto3 client pointed at it. No mocks of our own code."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from parallelprompt.db import SourceRow, SqliteQueue
from parallelprompt.emulator import Emulator
from parallelprompt.emulator.responders import Responder
from parallelprompt.emulator.server import EmulatorOptions
from parallelprompt.settings import (
    CommonSettings,
    ContractSettings,
    EmulatorSettings,
    Settings,
    WorkerSettings,
)
from parallelprompt.worker import Tuning, WorkSummary, work
from parallelprompt.worker.progress import Display

#: Fast retries and backoffs so the suite stays quick; the arithmetic is the production one.
FAST = Tuning(
    retry_base_s=0.005,
    retry_cap_s=0.02,
    db_backoff_base_s=0.005,
    db_backoff_cap_s=0.02,
    heartbeat_s=0.2,
    idle_poll_s=0.02,
)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials (any work against a local endpoint), nothing from this machine."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLEWORKER")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "worker-test-secret-do-not-store")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"):
        monkeypatch.delenv(name, raising=False)


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


async def fill(db: Path, prompts: Sequence[str]) -> None:
    queue = await SqliteQueue.open(db)
    try:
        rows = [
            SourceRow(prompt=p, text_hash=text_hash(p), source="test", split="train", row_index=i)
            for i, p in enumerate(prompts)
        ]
        await queue.enqueue_many(rows)
    finally:
        await queue.close()


def make_settings(db: Path, endpoint: str | None, **worker: Any) -> Settings:
    defaults: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region": "us-east-1",
        "rpm": 1e6,
        "tpm": 1e9,
        "concurrency": 16,
        "max_attempts": 4,
        "read_timeout": 5.0,
        "connect_timeout": 2.0,
        "grace_seconds": 2.0,
    }
    defaults.update(worker)
    return Settings(
        common=CommonSettings(db=db, log_format="text", quiet=True),
        contract=ContractSettings(),
        worker=WorkerSettings(**defaults),
    )


def work_on(s: Settings, **kwargs: Any) -> Coroutine[Any, Any, WorkSummary]:
    """``worker.work`` with the sections of ``s`` (the tests build one whole Settings)."""
    c = s.common
    return work(s.worker, s.contract, db=c.db, log_format=c.log_format, quiet=c.quiet, **kwargs)


def quiet_display() -> Display:
    return Display(io.StringIO(), "text", quiet=True)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "work.db"


EmulatorFactory = Callable[..., Any]


@pytest.fixture
async def emulator() -> AsyncIterator[Callable[..., Any]]:
    """``emu = await emulator(responder=None, **EmulatorSettings fields)``; stopped at the end.
    Its answers are the heuristic extractor's, exact, unless ``answer_style="realistic"``.
    ``announce=False``: the emulator stands in for real Bedrock (no emulator header)."""
    started: list[Emulator] = []

    async def start(
        responder: Responder | None = None, *, announce: bool = True, **fields: Any
    ) -> Emulator:
        settings = dataclasses.replace(EmulatorSettings(port=0, answer_style="exact"), **fields)
        options = dataclasses.replace(EmulatorOptions.from_settings(settings), announce=announce)
        emu = Emulator(settings, responder, options=options)
        await emu.start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        await emu.stop()


@pytest.fixture
def worker_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a ``parallelprompt work`` subprocess (dummy credentials only)."""
    import os

    env = dict(os.environ)
    yield env
