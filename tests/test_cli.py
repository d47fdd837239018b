"""The command line: user mistakes end in one line on stderr and exit 2, never a traceback,
and never touch the user's data."""

from __future__ import annotations

from pathlib import Path

import pytest

from parallelprompt.cli import main


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "campaign.db"
    assert main(["ingest", "--db", str(db), "--quiet"]) == 0
    return db


def one_line_error(capsys: pytest.CaptureFixture[str], *needles: str) -> None:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_read_commands_do_not_create_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo" / "campagin.db"
    for command in (["stats"], ["status"], ["report"], ["compare-rules"], ["estimate"]):
        assert main([*command, "--db", str(missing)]) == 2
        one_line_error(capsys, "no database at")
    assert not missing.parent.exists()


def test_a_directory_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--db", str(tmp_path)]) == 2
    one_line_error(capsys, "is a directory")


def test_output_onto_the_database_is_refused(
    ingested: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = ingested.read_bytes()
    for command in (["export", "--format", "jsonl"], ["report"], ["stats", "--json"]):
        assert main([*command, "--db", str(ingested), "--out", str(ingested)]) == 2
        one_line_error(capsys, "is the database itself")
    wal = Path(f"{ingested}-wal")
    assert main(["report", "--db", str(ingested), "--out", str(wal)]) == 2
    one_line_error(capsys, "is the database itself")
    assert ingested.read_bytes() == before
    assert main(["export", "--db", str(ingested), "--out", str(tmp_path)]) == 2
    one_line_error(capsys, "is a directory")
    assert main(["export", "--db", str(ingested)]) == 2
    one_line_error(capsys, "--out")


def test_outputs_are_written_whole_and_nothing_else_is_left(ingested: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "--db", str(ingested), "--out", str(out)]) == 0
    assert out.read_text().lstrip().lower().startswith("<!doctype html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["revalidate", "--rules", "nonsense"], "nonsense"),
        (["stats", "--run", "99"], "99"),
        (["work", "--read-timeout", "0"], "--read-timeout must be positive"),
        (["work", "--metrics-port", "99999"], "TCP port"),
        (["work", "--price-in", "-3"], "--price-in must be >= 0"),
        (["work", "--temperature", "7"], "--temperature"),
        (["emulator", "--rpm", "-5"], "emulator --rpm must be >= 0"),
        (["emulator", "--faults", "nonsense=1"], "nonsense"),
    ],
)
def test_user_mistakes_are_one_line_errors(
    ingested: Path, argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = [] if argv[0] == "emulator" else ["--db", str(ingested)]  # the emulator has no DB
    assert main([*argv, *db]) == 2
    one_line_error(capsys, needle)


def test_estimate_warns_about_a_model_without_a_price(
    ingested: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["estimate", "--db", str(ingested), "--model", "acme.unknown-model"]) == 0
    captured = capsys.readouterr()
    assert "no price known for acme.unknown-model" in captured.err
    assert "pending: 290 prompts" in captured.out


def test_missing_ingest_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.db"
    assert main(["ingest", "--db", str(db), "--data-files", str(tmp_path / "none.parquet")]) == 2
    one_line_error(capsys)
