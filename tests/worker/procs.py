"""Helpers for tests and benchmarks that run ``parallelprompt work`` in separate processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def worker_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARALLELPROMPT_")}
    env.update(
        AWS_ACCESS_KEY_ID="AKIDEXAMPLEWORKER",
        AWS_SECRET_ACCESS_KEY="worker-test-secret-do-not-store",
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    env.pop("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", None)
    env.update(extra)
    return env


def start_worker(db: Path, endpoint: str, *flags: str, **popen: Any) -> subprocess.Popen[str]:
    argv = [
        sys.executable,
        "-m",
        "parallelprompt",
        "work",
        "--db",
        str(db),
        "--endpoint-url",
        endpoint,
        "--region",
        "us-east-1",
        "--quiet",
        *flags,
    ]
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(argv, env=worker_env(), cwd=ROOT, text=True, **popen)


def emulator_stats(endpoint: str) -> dict[str, Any]:
    with urllib.request.urlopen(endpoint + "/_emulator/stats", timeout=5) as resp:
        data: dict[str, Any] = json.loads(resp.read())
    return data


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
