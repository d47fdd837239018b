"""An export split across processes by id range writes the same bytes as one process: JSONL
and CSV in place by chunks of ids (here 3 ids each, so that every process has several), Parquet
and ``hf`` through part files."""

from __future__ import annotations

import filecmp
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import parallelprompt.results.export as export_module
from parallelprompt.db import connect_sync
from parallelprompt.results.export import FORMATS, export
from parallelprompt.results.export_parts import ALL_IDS, later_parts, spans, write_pieces
from tests.results.conftest import LMSYS


def _export(db: Path, out: Path, jobs: int, **kw: Any) -> int:
    conn = connect_sync(db, existing=True)
    try:
        return export(conn, out, include_emulator=True, jobs=jobs, parallel_min=1, **kw)
    finally:
        conn.close()


def _same(a: Path, b: Path) -> bool:
    if a.is_dir():
        files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
        return all(filecmp.cmp(a / f, b / f, shallow=False) for f in files)
    return filecmp.cmp(a, b, shallow=False)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"per": "prompt"},
        {"schema": "published", "shard_rows": 4},
        {"per": "prompt", "source": LMSYS, "tier": ["high_confidence", "not_parallelizable"]},
        {"category": "no-such-category-in-this-part", "source": LMSYS},
    ],
    ids=["source", "prompt", "published", "filtered", "empty"],
)
def test_parallel_export_is_byte_identical(
    fmt: str,
    kw: dict[str, Any],
    results_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export_module, "CHUNK_IDS", 3)
    one, three = tmp_path / f"one.{fmt}", tmp_path / f"three.{fmt}"
    if kw.get("category"):
        with pytest.raises(ValueError):  # a category that matches nothing is an error either way
            _export(results_db, one, 1, fmt=fmt, **kw)
        with pytest.raises(ValueError):
            _export(results_db, three, 3, fmt=fmt, **kw)
        assert not [p for p in tmp_path.rglob(".export-part-*")]
        return
    rows = _export(results_db, one, 1, fmt=fmt, **kw)
    assert _export(results_db, three, 3, fmt=fmt, **kw) == rows
    assert rows > 0
    assert _same(one, three)
    assert not [p for p in tmp_path.rglob(".export-part-*")], "part files are removed"


@pytest.mark.parametrize("fmt", ["parquet", "hf"])
def test_parts_recut_into_the_same_row_groups(
    fmt: str, results_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables of 4 rows: the spans' tables end mid-group and are re-cut across the boundary."""
    monkeypatch.setattr(export_module, "CHUNK_ROWS", 4)
    one, three = tmp_path / f"one.{fmt}", tmp_path / f"three.{fmt}"
    assert _export(results_db, one, 1, fmt=fmt) == _export(results_db, three, 3, fmt=fmt) > 8
    assert _same(one, three)


def test_spans_cover_the_ids_in_order() -> None:
    assert spans(1, 10, jobs=3, parallel_min=1) == [(ALL_IDS[0], 3), (4, 6), (7, 10)]
    # the first span smaller (this process also encodes the Parquet), each at least one id
    assert spans(1, 10, jobs=2, parallel_min=1, first_share=0.5) == [(ALL_IDS[0], 3), (4, 10)]
    assert spans(5, 7, jobs=3, parallel_min=1, first_share=0.5) == [(ALL_IDS[0], 5), (6, 6), (7, 7)]
    assert spans(1, 10, jobs=3, parallel_min=11) == [ALL_IDS]  # too few to split
    assert spans(None, None, jobs=3, parallel_min=1) == [ALL_IDS]  # nothing to walk
    assert spans(1, 10, jobs=1, parallel_min=1) == [ALL_IDS]


def test_texts_rebuilt_in_python_match_the_view(results_db: Path, tmp_path: Path) -> None:
    """The export rebuilds serial/template/context from their pointers as verdict_texts does."""
    import json
    import sqlite3

    conn = sqlite3.connect(results_db)
    pointed = conn.execute(
        "SELECT count(*) FROM verdicts WHERE serial_at IS NOT NULL OR template_at IS NOT NULL"
        " OR context_at IS NOT NULL"
    ).fetchone()[0]
    assert pointed > 0, "the fixture has verdicts stored as pointers"
    view = {
        prompt: (serial, template, context)
        for prompt, serial, template, context in conn.execute(
            "SELECT w.prompt, t.serial, t.template, t.context FROM verdict_texts AS t"
            " JOIN results AS r ON r.id = t.result_id JOIN work AS w ON w.id = r.work_id"
            " WHERE t.profile = 'default'"
        )
    }
    out = tmp_path / "p.jsonl"
    _export(results_db, out, 1, fmt="jsonl", per="prompt")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == len(view)
    for r in rows:
        assert (r["serial"], r["template"], r["context"]) == view[r["prompt"]]


def _pieces_then_fail(path: Path, db_file: str, per: str, params: Any, span: Any) -> int:
    """A part's process that writes two pieces of one row each, then fails."""
    schema = pa.schema([("x", pa.int64())])
    rows = write_pieces(path, (pa.table({"x": [k]}, schema=schema) for k in (1, 2)), schema)
    raise LookupError(f"failed after {rows} rows")


def test_a_part_is_read_piece_by_piece_and_its_failure_raised(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    db.touch()
    seen: list[int] = []
    failing = later_parts(_pieces_then_fail, str(db), "source", {}, [(1, 2)], tmp_path)
    with pytest.raises(LookupError, match="failed after 2 rows"), failing as parts:
        for table in parts[0].tables():
            seen += table.column("x").to_pylist()
    assert seen == [1, 2]
    assert not list(tmp_path.glob(".export-part-*")), "its pieces are removed"
