"""What docker-compose runs, as plain OS processes on one host: each process's stdout and
stderr go to files (kept for inspection), and every process is stopped when the fleet closes.

Used by ``test_multiprocess.py``; build ``env`` with ``tests.worker.procs.worker_env`` (no
``PARALLELPROMPT_*`` from this machine, the repository on ``PYTHONPATH``, unbuffered output)
plus the credentials and settings that compose's ``.env`` would give.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from tests.worker.procs import ROOT

T = TypeVar("T")

_ENDPOINT = re.compile(r"listening on (http://\S+)")
_METRICS = re.compile(r"metrics: (http://\S+/metrics)")


@dataclass
class Proc:
    """One child process with its output in ``<logs>/<name>.out`` and ``<name>.err``."""

    name: str
    popen: subprocess.Popen[bytes]
    out: Path
    err: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.name} still running after {timeout:g} s; stderr tail:\n"
                + self.stderr()[-2000:]
            ) from None

    def find(self, pattern: re.Pattern[str], timeout: float) -> str:
        """Wait for ``pattern`` in the process's stdout or stderr; return its first group."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for text in (self.stdout(), self.stderr()):
                found = pattern.search(text)
                if found:
                    return found.group(1)
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(
            f"{self.name}: no {pattern.pattern!r} (exit {self.popen.poll()}); stderr:\n"
            + self.stderr()[-2000:]
        )


@dataclass
class Fleet:
    """Starts processes (``python -m ...``) with their logs in ``logs``; ``close`` stops them:
    SIGTERM, then SIGKILL after ``grace`` seconds."""

    logs: Path
    env: dict[str, str]
    grace: float = 10.0
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, module: str, *args: str, cwd: Path | None = None) -> Proc:
        self.logs.mkdir(parents=True, exist_ok=True)
        out, err = self.logs / f"{name}.out", self.logs / f"{name}.err"
        argv = [sys.executable, "-m", module, *args]
        with out.open("wb") as fo, err.open("wb") as fe:
            popen = subprocess.Popen(argv, stdout=fo, stderr=fe, env=self.env, cwd=cwd or ROOT)
        proc = Proc(name, popen, out, err)
        self.procs.append(proc)
        return proc

    def run(self, name: str, module: str, *args: str, timeout: float = 60.0) -> Proc:
        """Start a one-shot process and wait for it to exit 0."""
        proc = self.start(name, module, *args)
        rc = proc.wait(timeout)
        assert rc == 0, f"{name} exited {rc}:\n{proc.stderr()[-2000:]}"
        return proc

    def emulator(self, *args: str, timeout: float = 30.0) -> tuple[Proc, str]:
        """``python -m parallelprompt emulator ...``; returns the process and its endpoint URL."""
        proc = self.start("emulator", "parallelprompt", "emulator", *args)
        return proc, proc.find(_ENDPOINT, timeout)

    def close(self) -> None:
        running = [p for p in self.procs if p.popen.poll() is None]
        for p in running:
            p.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for p in running:
            try:
                p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.popen.kill()
                p.popen.wait()

    def __enter__(self) -> Fleet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def metrics_url(proc: Proc, timeout: float) -> str:
    """The ``/metrics`` URL a worker logs at start (``metrics: http://.../metrics and ...``)."""
    return proc.find(_METRICS, timeout)


def http_get(url: str, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        body: bytes = resp.read()
    return body.decode()


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """A short read-only query against a DB that other processes are writing."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def poll(predicate: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1) -> T:
    """Call ``predicate`` until it returns something truthy (returned) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
