"""The emulator as its own OS process: ``parallelprompt emulator`` and
``emulator.process.spawn``."""

from __future__ import annotations

import subprocess
import sys

import aiohttp

from parallelprompt.emulator.process import command, spawn
from tests.emulator.conftest import bedrock, converse, settings


async def test_spawned_emulator_serves_the_real_client() -> None:
    with spawn(settings(rpm=120, faults="empty=0.5", seed=3)) as endpoint:
        assert endpoint.startswith("http://127.0.0.1:")
        async with bedrock(endpoint) as client:
            for i in range(4):
                await converse(client, f"Give me {i + 2} slogans")
        async with aiohttp.ClientSession() as http, http.get(f"{endpoint}/_emulator/stats") as r:
            stats = await r.json()
    assert stats["requests"] == 4
    assert stats["quota"]["rpm"] == 120
    assert sum(stats["faults"].values()) >= 1  # seed 3 draws at least one 'empty'


def test_command_reproduces_the_settings() -> None:
    argv = command(settings(models=("a", "b"), faults="server=0.1", latency_ms=5))
    assert argv[1:4] == ["-m", "parallelprompt", "emulator"]
    assert argv[argv.index("--models") + 1 : argv.index("--models") + 3] == ["a", "b"]
    assert argv[argv.index("--faults") + 1] == "server=0.1"
    assert "--retired-models" not in argv


def test_bad_fault_name_exits_with_one_clear_line() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "parallelprompt",
            "emulator",
            "--port",
            "0",
            "--faults",
            "thrtl=0.1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("parallelprompt emulator: unknown fault 'thrtl'")
