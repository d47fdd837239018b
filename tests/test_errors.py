"""One error root: the command line turns a ParallelPromptError into one line (exit 2) and
nothing else; an unexpected exception from deep inside keeps its traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from parallelprompt.cli import UserError, main
from parallelprompt.common.errors import ParallelPromptError
from parallelprompt.db import DatabaseError, NoSuchRun, QueryError
from parallelprompt.emulator.faults import FaultSpecError
from parallelprompt.producer import IngestError
from parallelprompt.prompts import ContractError
from parallelprompt.settings import SettingsError
from parallelprompt.worker.errors import CallError, FatalError
from parallelprompt.worker.runs import ConfigError
from tests.results.conftest import build_results_db

ROOT = Path(__file__).resolve().parents[1]

USER_ERRORS = (
    UserError,
    SettingsError,
    DatabaseError,
    QueryError,
    NoSuchRun,
    IngestError,
    ContractError,
    CallError,
    FatalError,
    ConfigError,
    FaultSpecError,
)


@pytest.mark.parametrize("error", USER_ERRORS, ids=lambda e: e.__name__)
def test_every_user_error_derives_from_the_root(error: type[Exception]) -> None:
    assert issubclass(error, ParallelPromptError)


@pytest.mark.parametrize("bug", [ValueError, LookupError, KeyError, RuntimeError])
def test_an_unexpected_error_from_deep_inside_keeps_its_traceback(
    bug: type[Exception], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ValueError (say, from inside pyarrow) is a bug, not a usage error: it propagates out
    of ``main`` instead of becoming one line and exit status 2."""

    def broken() -> str:
        raise bug("deep inside")

    monkeypatch.setattr("parallelprompt.catalogue.format_catalogue", broken)
    with pytest.raises(bug, match="deep inside"):
        main(["models"])


def test_a_value_error_inside_pyarrow_during_an_export_keeps_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export's filters used to turn every ValueError into one line, pyarrow's too."""
    import pyarrow.parquet

    class Broken:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise ValueError("deep inside pyarrow")

    db = build_results_db(tmp_path / "results.db")
    monkeypatch.setattr(pyarrow.parquet, "ParquetWriter", Broken)
    argv = ["export", "--db", str(db), "--format", "parquet", "--include-emulator"]
    with pytest.raises(ValueError, match="deep inside pyarrow"):
        main([*argv, "--out", str(tmp_path / "out.parquet")])
    assert not (tmp_path / "out.parquet").exists()


def test_a_user_error_from_the_same_place_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused() -> str:
        raise QueryError("no such thing in this database")

    monkeypatch.setattr("parallelprompt.catalogue.format_catalogue", refused)
    assert main(["models"]) == 2
    assert capsys.readouterr().err == "parallelprompt models: no such thing in this database\n"


def test_the_command_shows_the_traceback_of_a_bug() -> None:
    """The installed entry point (``python -m parallelprompt``) too: exit 1 and a traceback."""
    code = (
        "import runpy, sys\nimport parallelprompt.catalogue as catalogue\n"
        "def broken():\n"
        "    raise ValueError('deep inside')\n"
        "catalogue.format_catalogue = broken\n"
        "sys.argv = ['parallelprompt', 'models']\n"
        "runpy.run_module('parallelprompt', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.strip().endswith("ValueError: deep inside")
