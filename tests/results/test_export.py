"""Exports in the published columns load back with ``datasets`` with the right types."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import Dataset, Value, load_dataset

from parallelprompt.db import connect_sync
from parallelprompt.results.export import COLUMNS
from parallelprompt.results.export import export as export_any
from tests.results.conftest import CASES, LMSYS, PHONES, SLOGANS

LOADERS = {"jsonl": "json", "parquet": "parquet", "csv": "csv"}


def export(conn: sqlite3.Connection, out: Path, **kw: Any) -> int:
    """The fixture's run was answered by the emulator: exported knowingly."""
    return export_any(conn, out, include_emulator=True, **kw)


def _load(path: Path, fmt: str, cache: Path) -> Dataset:
    ds = load_dataset(LOADERS[fmt], data_files=str(path), split="train", cache_dir=str(cache))
    assert isinstance(ds, Dataset)
    return ds


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
def test_export_loads_back_with_datasets(fmt: str, results_db: Path, tmp_path: Path) -> None:
    out = tmp_path / f"export.{fmt}"
    written = export(connect_sync(results_db), out, fmt=fmt)
    assert written == 14  # one row per processed source row, nothing silently dropped
    ds = _load(out, fmt, tmp_path / "cache")
    assert ds.num_rows == written
    assert tuple(ds.column_names) == COLUMNS
    assert ds.features["source_index"] == Value("int64")
    assert ds.features["validation_passed"] == Value("bool")
    assert ds.features["prompt"].dtype in ("string", "large_string")
    rows = list(ds)
    assert sum(r["prompt"] == SLOGANS for r in rows) == 3  # duplicates fan out
    assert {(r["source"], r["source_index"]) for r in rows if r["prompt"] == SLOGANS} == {
        (LMSYS, 0),
        (LMSYS, 5),
        ("allenai/WildChat-1M", 0),
    }
    phones = next(r for r in rows if r["prompt"] == PHONES)
    data = phones["data"] if fmt != "csv" else json.loads(phones["data"])
    assert data == ["Pixel 8", "iPhone 15", "Galaxy S24"]
    assert phones["validation_tier"] == "medium_confidence"
    assert phones["is_novel_category"] is True
    slogans = next(r for r in rows if r["prompt"] == SLOGANS)
    assert slogans["n"] == 5 and slogans["validation_passed"] is True
    if fmt != "csv":
        assert ds.features["n"] == Value("int64")
        assert ds.features["parallelizable"] == Value("bool")
    if fmt == "parquet":
        assert ds.features["data"].feature == Value("string")


def test_parquet_schema_is_typed(results_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    export(connect_sync(results_db), out, fmt="parquet", per="prompt")
    schema = pq.read_schema(out)
    assert pa.types.is_list(schema.field("data").type)
    assert schema.field("data").type.value_type == pa.string()
    assert str(schema.field("n").type) == "int64"
    assert str(schema.field("validation_passed").type) == "bool"
    table = pq.read_table(out)
    assert table.num_rows == len(CASES)


def test_per_prompt_and_filters(results_db: Path, tmp_path: Path) -> None:
    conn = connect_sync(results_db)
    out = tmp_path / "p.jsonl"

    def rows(**kw: object) -> list[dict[str, object]]:
        n = export(conn, out, fmt="jsonl", **kw)
        lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert len(lines) == n
        return lines

    per_prompt = rows(per="prompt")
    assert len(per_prompt) == len(CASES)
    slogans = next(r for r in per_prompt if r["prompt"] == SLOGANS)
    assert (slogans["source"], slogans["source_index"]) == (LMSYS, 0)  # its first source row
    assert len(rows(tier="high_confidence")) == 3 + 2 + 1  # slogans x3, translate x2, german
    assert len(rows(tier="high_confidence", per="prompt")) == 3
    assert {r["category"] for r in rows(category="comparative analysis")} == {
        "Comparative Analysis"
    }
    assert len(rows(source=LMSYS)) == 8
    assert len(rows(source=LMSYS, per="prompt")) == 7
    assert [r["source_index"] for r in rows(language="German")] == [8]
    assert [r["source_index"] for r in rows(language="german", per="prompt")] == [8]
    assert len(rows(language="ENGLISH")) == len(rows(language="English")) > 0
    assert rows(language="German", tier="failed") == []  # each filter matches something
    dead = next(r for r in rows() if r["validation_tier"] == "dead")
    assert dead["parallelizable"] is None and dead["validation_passed"] is False


def test_empty_export_still_writes_a_file(tmp_path: Path) -> None:
    conn = connect_sync(tmp_path / "empty.db")
    for fmt in ("jsonl", "parquet", "csv"):
        out = tmp_path / f"e.{fmt}"
        assert export(conn, out, fmt=fmt) == 0
        assert out.exists()
    with pytest.raises(ValueError, match="unknown export format"):
        export(conn, tmp_path / "x", fmt="xml")


def test_filters_that_match_nothing_are_errors(results_db: Path, tmp_path: Path) -> None:
    """A typo in a filter is a one-line error listing the known values, not an empty file."""
    conn = connect_sync(results_db)
    out = tmp_path / "x.jsonl"
    with pytest.raises(ValueError, match=r"no source row in language 'Klingon' \(languages: "):
        export(conn, out, fmt="jsonl", language="Klingon")
    with pytest.raises(ValueError, match=r"no source 'lmsys' in this database \(sources: "):
        export(conn, out, fmt="jsonl", source="lmsys")
    with pytest.raises(ValueError, match=r"no verdict in category .Poetry.*Translation"):
        export(conn, out, fmt="csv", category="Poetry")
    with pytest.raises(ValueError, match=r"unknown tier 'high' \(tier labels: high_confidence, "):
        export(conn, out, fmt="jsonl", tier="high")
    with pytest.raises(ValueError, match=r"no verdicts under profile 'orignal' .*: default\)"):
        export(conn, out, fmt="jsonl", profile="orignal")
    assert export(conn, out, fmt="jsonl", tier="HIGH_CONFIDENCE") == 6  # any case
    for message in _messages(conn, out):
        assert "\n" not in message
    assert export(conn, out, fmt="jsonl", source=LMSYS, language="German") == 1


def _messages(conn: object, out: Path) -> list[str]:
    found = []
    for kw in ({"language": "x"}, {"source": "x"}, {"category": "x"}, {"tier": "x"}):
        with pytest.raises(ValueError) as exc:
            export(conn, out, fmt="jsonl", **kw)
        found.append(str(exc.value))
    return found


def test_an_emulator_run_is_refused_unless_asked_for(results_db: Path, tmp_path: Path) -> None:
    """Issue 11 §3: heuristics never leave as a model's answers; every row names its backend."""
    conn = connect_sync(results_db)
    out = tmp_path / "x.jsonl"
    with pytest.raises(ValueError, match=r"local emulator.*--include-emulator"):
        export_any(conn, out, fmt="jsonl")
    assert not out.exists()
    assert export_any(conn, out, fmt="jsonl", include_emulator=True) == 14
    backends = {json.loads(line)["backend"] for line in out.read_text().splitlines()}
    assert backends == {"emulator"}
    conn.execute("UPDATE runs SET backend = 'bedrock'")
    conn.commit()
    assert export_any(conn, out, fmt="jsonl") == 14
    assert {json.loads(line)["backend"] for line in out.read_text().splitlines()} == {"bedrock"}


def test_csv_cells_cannot_run_as_formulas(results_db: Path, tmp_path: Path) -> None:
    """Issue 11 §7: OWASP's leading quote by default; raw on request; other formats untouched."""
    import csv

    conn = connect_sync(results_db)
    hostile = ['=HYPERLINK("http://x","y")', "+1+2", "-3+4", "@SUM(A1)", "\tx", "\rx"]
    ids = [r[0] for r in conn.execute("SELECT id FROM work ORDER BY id LIMIT 6")]
    for work_id, text in zip(ids, hostile, strict=True):
        conn.execute("UPDATE work SET prompt = ? WHERE id = ?", (text, work_id))
    conn.commit()
    out = tmp_path / "x.csv"
    export(conn, out, fmt="csv")
    with out.open(newline="", encoding="utf-8") as fh:
        prompts = {r["prompt"] for r in csv.DictReader(fh)}
    for text in hostile:
        assert "'" + text in prompts and text not in prompts
    export(conn, out, fmt="csv", csv_raw=True)
    with out.open(newline="", encoding="utf-8") as fh:
        raw = {r["prompt"] for r in csv.DictReader(fh)}
    assert set(hostile) <= raw
    jsonl = tmp_path / "x.jsonl"
    export(conn, jsonl, fmt="jsonl")
    assert set(hostile) <= {json.loads(line)["prompt"] for line in jsonl.read_text().splitlines()}
