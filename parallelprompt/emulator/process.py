"""The emulator in a separate OS process, for tests and benchmarks that need one.

``with spawn(EmulatorSettings(port=0, rpm=600)) as endpoint: ...`` starts
``python -m parallelprompt emulator`` (the one command line: this module only spells its
arguments and imports nothing above the emulator), reads the endpoint from its first line of
output and stops it (SIGTERM, then SIGKILL) on exit.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from parallelprompt.common.options import options_of
from parallelprompt.emulator.server import EmulatorOptions
from parallelprompt.emulator.settings import EmulatorSettings

_ENDPOINT = re.compile(r"listening on (http://\S+)")
_ROOT = Path(__file__).resolve().parents[2]


def command(
    settings: EmulatorSettings, extra: EmulatorOptions | None = None, python: str | None = None
) -> list[str]:
    """The ``python -m parallelprompt emulator ...`` command line that reproduces ``settings``."""
    argv = [python or sys.executable, "-m", "parallelprompt", "emulator"]
    for opt in options_of(EmulatorSettings, "emulator"):
        value = getattr(settings, opt.name)
        if opt.kind == "list":
            if value:
                argv += [opt.flag, *value]
        else:
            argv += [opt.flag, str(value)]
    if extra is not None:
        argv += ["--slow-seconds", str(extra.slow_seconds)]
        argv += ["--initial-fill", str(extra.initial_fill)]
    return argv


def _read_line(stream: IO[bytes], deadline: float) -> str:
    fd = stream.fileno()
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the emulator did not print its endpoint in time")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("the emulator exited before printing its endpoint")
            data += chunk
    return data.split(b"\n", 1)[0].decode()


@contextmanager
def spawn(
    settings: EmulatorSettings | None = None,
    extra: EmulatorOptions | None = None,
    *,
    start_timeout: float = 30.0,
    stderr: int | IO[bytes] | None = subprocess.DEVNULL,
) -> Iterator[str]:
    """Run the emulator in its own process; yields its endpoint URL.

    Without ``settings`` it binds a free loopback port (give ``port=0`` for the same effect).
    """
    settings = settings or EmulatorSettings(port=0)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONUNBUFFERED", "1")
    proc = subprocess.Popen(
        command(settings, extra), stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=_ROOT
    )
    try:
        assert proc.stdout is not None
        line = _read_line(proc.stdout, time.monotonic() + start_timeout)
        found = _ENDPOINT.search(line)
        if found is None:
            raise RuntimeError(f"unexpected first line from the emulator: {line!r}")
        yield found.group(1)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
