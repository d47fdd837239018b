"""Export in the published ParallelPrompt dataset's columns, to JSONL, Parquet or CSV.

Rows are streamed from one read snapshot in chunks, so a multi-million-row export holds one
chunk in memory at a time. By default every prompt with a verdict is exported (model
negatives, failures, unparseable answers and dead letters included, with
``validation_passed`` false), one row per source row; the filters narrow it.

Provenance: every row carries the ``backend`` that answered. A run answered by the local
emulator (heuristics, not a model) is refused unless ``include_emulator`` is given.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) get a leading ``'`` (OWASP's rule) unless ``csv_raw``.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from db.stats import (
    check_category,
    check_language,
    check_profile,
    check_source,
    check_tier,
    resolve_run,
    rq,
    snapshot,
)

COLUMNS = (
    "source",
    "source_index",
    "prompt",
    "parallelizable",
    "category",
    "is_novel_category",
    "category_description",
    "serial",
    "template",
    "context",
    "data",
    "n",
    "validation_passed",
    "validation_tier",
    "backend",
)
FORMATS = ("jsonl", "parquet", "csv")
PER = ("source", "prompt")
CHUNK_ROWS = 10_000

SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("source_index", pa.int64()),
        ("prompt", pa.string()),
        ("parallelizable", pa.bool_()),
        ("category", pa.string()),
        ("is_novel_category", pa.bool_()),
        ("category_description", pa.string()),
        ("serial", pa.string()),
        ("template", pa.string()),
        ("context", pa.string()),
        ("data", pa.list_(pa.string())),
        ("n", pa.int64()),
        ("validation_passed", pa.bool_()),
        ("validation_tier", pa.string()),
        ("backend", pa.string()),
    ]
)

Record = dict[str, Any]


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def to_record(row: Sequence[Any], backend: str) -> Record:
    """One query row (``export_by_source`` / ``export_by_prompt``) as a typed record."""
    (source, index, prompt, par, category, novel, desc, serial, template, context, data, n) = row[
        :12
    ]
    passed, tier = row[12], row[13]
    return {
        "source": source,
        "source_index": index,
        "prompt": prompt,
        "parallelizable": _bool(par),
        "category": category,
        "is_novel_category": _bool(novel),
        "category_description": desc,
        "serial": serial,
        "template": template,
        "context": context,
        "data": None if data is None else orjson.loads(data),
        "n": n,
        "validation_passed": bool(passed),
        "validation_tier": tier,
        "backend": backend,
    }


def _chunks(cursor: sqlite3.Cursor, backend: str) -> Iterator[list[Record]]:
    while True:
        rows = cursor.fetchmany(CHUNK_ROWS)
        if not rows:
            return
        yield [to_record(r, backend) for r in rows]


def _write_jsonl(out: Path, chunks: Iterator[list[Record]], csv_raw: bool) -> int:
    written = 0
    with out.open("wb") as fh:
        for chunk in chunks:
            fh.write(b"".join(orjson.dumps(r) + b"\n" for r in chunk))
            written += len(chunk)
    return written


def _write_parquet(out: Path, chunks: Iterator[list[Record]], csv_raw: bool) -> int:
    written = 0
    with pq.ParquetWriter(out, SCHEMA) as writer:
        for chunk in chunks:
            writer.write_table(pa.Table.from_pylist(chunk, schema=SCHEMA))
            written += len(chunk)
        if written == 0:
            writer.write_table(SCHEMA.empty_table())
    return written


#: What makes a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A cell that cannot run as a formula: a leading ``'`` where it could."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_cell(value: Any, raw: bool) -> Any:
    if isinstance(value, list):
        value = orjson.dumps(value).decode()
    if isinstance(value, str) and not raw:
        return neutralise(value)
    return value


def _write_csv(out: Path, chunks: Iterator[list[Record]], csv_raw: bool) -> int:
    written = 0
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for chunk in chunks:
            writer.writerows([[_csv_cell(r[c], csv_raw) for c in COLUMNS] for r in chunk])
            written += len(chunk)
    return written


WRITERS = {"jsonl": _write_jsonl, "parquet": _write_parquet, "csv": _write_csv}


def export(
    conn: sqlite3.Connection,
    out: Path,
    *,
    fmt: str,
    per: str = "source",
    run_id: int | None = None,
    profile: str | None = None,
    tier: str | None = None,
    category: str | None = None,
    source: str | None = None,
    language: str | None = None,
    include_emulator: bool = False,
    csv_raw: bool = False,
) -> int:
    """Write the run's verdicts (default: latest run, its own profile) to ``out``; returns the
    number of rows written. ``per="prompt"``: one row per unique prompt, with the source and
    row index of its first source row.

    ``category`` and ``language`` match in any case; ``language="unknown"`` matches rows
    without a language. Raises ValueError (one line, listing the known values) for an unknown
    ``tier``, a ``profile`` without verdicts, and when nothing was exported because a
    ``source``, ``language`` or ``category`` matches nothing in the database; LookupError for an
    unknown ``run_id``; ValueError for a run answered by the emulator unless
    ``include_emulator``. Zero rows from filters that each match something is not an error."""
    if fmt not in WRITERS:
        raise ValueError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})")
    if per not in PER:
        raise ValueError(f"per must be one of {', '.join(PER)}, got {per!r}")
    out = Path(out)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    tier = check_tier(tier)
    with snapshot(conn):
        run = resolve_run(conn, run_id)
        backend = run.backend if run else ""
        if backend == "emulator" and not include_emulator:
            raise ValueError(
                f"run {run.id if run else '?'} was answered by the local emulator (heuristics, "
                "not a model): pass --include-emulator to export it anyway"
            )
        check_profile(conn, profile, run)
        params = {
            "run_id": run.id if run else -1,
            "profile": profile or (run.rules if run else None),
            "tier": tier,
            "category": category,
            "source": source,
            "language": language,
        }
        cursor = conn.execute(rq(f"export_by_{per}"), params)
        written = WRITERS[fmt](out, _chunks(cursor, backend), csv_raw)
        if not written:  # a filter that matches nothing at all is a typo, not an empty result
            check_source(conn, source)
            check_language(conn, language)
            check_category(conn, category)
        return written
