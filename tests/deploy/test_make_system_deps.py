"""`make test` on a fresh machine: what it needs outside the virtualenv is installed, or it
stops at once with one line saying what is missing (never after minutes of tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _shim_path(tmp_path: Path, uid: str) -> str:
    """A PATH with make's tools but no chromium, where ``id -u`` answers ``uid``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "sh", "echo", "cat"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    fake_id = bin_dir / "id"
    fake_id.write_text(f"#!/bin/sh\necho {uid}\n")
    fake_id.chmod(0o755)
    return str(bin_dir)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_missing_chromium_without_root_is_one_line_at_once(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": _shim_path(tmp_path, "1000")}
    proc = subprocess.run(
        ["make", "-s", "--no-print-directory", "system-deps"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    # make's own "make: *** [system-deps] Error 1" aside
    lines = [line for line in proc.stderr.splitlines() if not line.startswith(("make:", "make["))]
    assert lines == [
        "make test: chromium is missing; install it first (sudo apt-get install -y chromium)"
    ]


def test_test_target_checks_system_deps_first() -> None:
    makefile = (ROOT / "Makefile").read_text()
    test_rule = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert test_rule.split(":", 1)[1].split()[0] == "system-deps"
    assert "make test" in (ROOT / ".ci" / "run").read_text()
