"""Issue 11 §4, §7, §8: the command line never spends by accident, never clobbers what is not a
file, and turns every bad flag into one line."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from parallelprompt.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("guards") / "campaign.db"
    assert main(["ingest", "--db", str(db), "--quiet"]) == 0
    return db


def one_line_error(err: str, *needles: str) -> None:
    err = err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_no_arguments_prints_help_and_does_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([]) == 2
    assert "usage: parallelprompt" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # no database, no run


def test_the_demo_runs_on_the_emulator_even_with_aws_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIDLAPTOPCREDENTIALS",
        "AWS_SECRET_ACCESS_KEY": "laptop-secret",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", raising=False)
    db = tmp_path / "demo.db"
    assert main(["run", "--db", str(db), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "emulator" in out
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT backend FROM runs").fetchall() == [("emulator",)]
    assert conn.execute("SELECT count(*) FROM results").fetchone() == (290,)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["work", "--rpm", "nan"], "--rpm must be a finite number"),
        (["work", "--tpm", "nan"], "--tpm must be a finite number"),
        (["work", "--tpm", "inf"], "--tpm must be a finite number"),
        (["work", "--lease-seconds", "nan"], "--lease-seconds must be a finite number"),
        (["work", "--max-cost-usd", "nan"], "--max-cost-usd"),
        (["work", "--max-cost-usd", "inf"], "--max-cost-usd"),
        (["estimate", "--price-in", "nan"], "--price-in must be a finite number"),
        (["emulator", "--latency-ms", "nan"], "emulator --latency-ms must be a finite number"),
        (["work", "--region", "us east 1"], "not an AWS region name"),
        (["work", "--region", "US-EAST-1;rm"], "not an AWS region name"),
        (["work", "--rpm", "lots"], "--rpm"),
    ],
)
def test_bad_numbers_and_regions_are_one_line_errors(
    ingested: Path, argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = [] if argv[0] == "emulator" else ["--db", str(ingested)]
    assert main([*argv, *db]) == 2
    one_line_error(capsys.readouterr().err, needle)


def test_bad_numbers_in_the_environment_are_one_line_errors(ingested: Path) -> None:
    env = dict(os.environ, PARALLELPROMPT_RPM="nan", PARALLELPROMPT_DB=str(ingested))
    done = subprocess.run(
        [sys.executable, "-m", "parallelprompt", "work"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    one_line_error(done.stderr, "--rpm must be a finite number")


def test_an_emulator_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["emulator", "--port", str(port)]) == 2
        one_line_error(capsys.readouterr().err, f"cannot listen on 127.0.0.1:{port}")
        done = subprocess.run(
            [sys.executable, "-m", "parallelprompt", "emulator", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        one_line_error(done.stderr)


def test_outputs_that_are_not_regular_files_are_refused(
    ingested: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FIFO, and links to a device or a FIFO (as /dev/stdout is): refused, left as they are.
    (Only paths under tmp_path: on an unfixed build this test must not clobber /dev.)"""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    to_device, to_fifo = tmp_path / "null", tmp_path / "stdout"
    to_device.symlink_to("/dev/null")
    to_fifo.symlink_to(fifo)
    for target in (fifo, to_device, to_fifo):
        for command in (["report"], ["stats", "--json"], ["export"]):
            assert main([*command, "--db", str(ingested), "--out", str(target)]) == 2
            one_line_error(capsys.readouterr().err, "not a regular file")
    assert fifo.is_fifo() and to_device.is_symlink() and to_fifo.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null", "pipe", "stdout"]


def test_dash_writes_to_stdout(ingested: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "parallelprompt", "report", "--db", str(ingested), "--out", "-"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.lstrip().lower().startswith("<!doctype html")
    assert "report written to -" in done.stderr


def test_temporary_files_are_not_predictable_and_never_follow_links(
    ingested: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "report.html"
    # the names the old code would have used, planted as links to the victim
    for pid in range(os.getpid() - 50, os.getpid() + 50):
        (tmp_path / f".report.html.{pid}.tmp").symlink_to(victim)
    assert main(["report", "--db", str(ingested), "--out", str(out)]) == 0
    assert victim.read_text() == "precious"
    assert out.is_file() and not out.is_symlink()
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # the umask's mode, as open() gives
    left = {p.name for p in tmp_path.iterdir() if not p.is_symlink()}
    assert left == {"victim.txt", "report.html"}
