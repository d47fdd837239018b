"""A CLI without traps: each command takes only its own flags, choices are shown, --version,
and the mistakes a new user makes end in one line that names what was used."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from parallelprompt.cli import main
from parallelprompt.worker.llm.bedrock import profile_region_mismatch
from tests.other_user import run_locked_out

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("traps") / "campaign.db"
    assert main(["ingest", "--db", str(db), "--quiet"]) == 0
    return db


def one_line(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--tier", "high_confidence"],
        ["stats", "--format", "csv"],
        ["status", "--tier", "high_confidence"],
        ["status", "--quiet"],
        ["estimate", "--concurrency", "8"],
        ["compare-rules", "--out", "x.html"],
    ],
)
def test_each_command_takes_only_its_own_flags(
    ingested: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--db", str(ingested)]) == 2
    one_line(capsys, f"parallelprompt {argv[0]}: {argv[1]}", f"parallelprompt {argv[0]} --help")


def test_choices_are_shown_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["work", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--api {converse,invoke}" in out
    assert "--backend {auto,bedrock,emulator}" in out
    assert main(["export", "--help"]) == 0
    assert "--format {" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("parallelprompt ") and out.split()[1][0].isdigit()


def test_a_bad_choice_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["work", "--api", "grpc"]) == 2
    one_line(capsys, "--api", "grpc", "converse", "parallelprompt work --help")


def test_work_on_a_mistyped_db_is_an_error_not_a_new_db(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "typo.db"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    proc = subprocess.run(
        [sys.executable, "-m", "parallelprompt", "work", "--db", str(typo)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: no database at {typo}: run `parallelprompt ingest --db {typo}` first (a worker "
        "started with --no-exit-when-empty waits for the producer instead)"
    ]
    assert not typo.exists()


def test_ingest_filter_that_matches_nothing_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "k.db"
    assert main(["ingest", "--db", str(db), "--quiet", "--languages", "Klingon"]) == 2
    one_line(capsys, "--languages Klingon matched none of the 438 rows read")


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temporary folder another user can reach (pytest's own are private to this user)."""
    folder = Path(tempfile.mkdtemp(prefix="pp-traps-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_unwritable_out_folder_is_one_line(ingested: Path, shared_tmp: Path) -> None:
    db = shared_tmp / "campaign.db"
    db.write_bytes(ingested.read_bytes())
    db.chmod(0o666)
    locked = shared_tmp / "locked"
    locked.mkdir()
    code, err, exc = run_locked_out(
        locked, lambda: main(["stats", "--db", str(db), "--json", "--out", str(locked / "s")])
    )
    assert exc is None and code == 2, (code, err, exc)
    assert len(err.strip().splitlines()) == 1, err
    assert "is not writable by this process (uid" in err


def test_a_database_folder_of_another_owner_names_the_uids_and_the_fix(shared_tmp: Path) -> None:
    """A bind mount owned by the host user: not "unable to open database file"."""
    from parallelprompt.db import connect_sync

    mount = shared_tmp / "mount"
    mount.mkdir()
    _, _, exc = run_locked_out(mount, lambda: connect_sync(mount / "parallelprompt.db").close())
    assert exc is not None
    assert f"cannot write {mount}: it belongs to uid {os.getuid()}" in exc
    assert "sudo chown -R" in exc and "named volume" in exc


@pytest.mark.parametrize(
    ("model", "region", "warns"),
    [
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "us-west-2", False),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "eu-west-1", True),
        ("eu.anthropic.claude-haiku-4-5-20251001-v1:0", "eu-central-1", False),
        ("eu.anthropic.claude-haiku-4-5-20251001-v1:0", "us-east-1", True),
        ("apac.anthropic.claude-3-5-haiku-20241022-v1:0", "ap-south-1", False),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "eu-west-1", False),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "eu-west-1", False),
    ],
)
def test_profile_prefix_and_region(model: str, region: str, warns: bool) -> None:
    warning = profile_region_mismatch(model, region)
    assert (warning is not None) == warns
    if warning:
        assert model in warning and region in warning


def test_work_warns_about_a_profile_of_another_region_and_names_the_endpoint(
    ingested: Path, tmp_path: Path
) -> None:
    """An unreachable endpoint: the one-line error shows the URL and region actually used."""
    db = tmp_path / "copy.db"
    db.write_bytes(ingested.read_bytes())
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    env.pop("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "parallelprompt",
            "work",
            "--db",
            str(db),
            "--model",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "--region",
            "eu-west-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--connect-timeout",
            "1",
            "--max-attempts",
            "1",
            "--log-format",
            "text",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "is a us. cross-region inference profile" in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert "http://127.0.0.1:9 (region eu-west-1)" in errors[0]
