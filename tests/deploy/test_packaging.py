"""What `pip install parallelprompt` puts into site-packages: one top-level package."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_installs_everything_under_the_parallelprompt_namespace(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "parallelprompt",
        src / "parallelprompt",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("parallelprompt-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert top == {"parallelprompt", next(t for t in top if t.endswith(".dist-info"))}
    # the folders the design names are there, under the namespace, with their data files
    for package in ("worker", "producer", "prompts", "db", "emulator", "catalogue"):
        assert f"parallelprompt/{package}/__init__.py" in names
    assert "parallelprompt/db/queries.sql" in names
    assert "parallelprompt/catalogue/models.json" in names
    assert any(n.startswith("parallelprompt/db/migrations/") for n in names)
    assert any(n.startswith("parallelprompt/producer/sample/") for n in names)
