"""Export in the published ParallelPrompt dataset's columns, to JSONL, Parquet, CSV or a
dataset folder in the Hugging Face Hub's layout (``hf``).

Rows are streamed from one read snapshot in chunks, so a multi-million-row export holds one
chunk in memory at a time. By default every prompt with a verdict is exported (model
negatives, failures, unparseable answers and dead letters included, with
``validation_passed`` false), one row per source row; the filters narrow it.

Two schemas: ``ours`` types ``data`` as list<string> and ``n`` as int64; ``published`` uses the
published dataset card's types (``data`` a JSON string, ``n`` float64), so that
``datasets.concatenate_datasets`` with the published dataset works.

Provenance: every row carries the ``backend`` that answered. A run answered by the local
emulator (heuristics, not a model) is refused unless ``include_emulator`` is given.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) get a leading ``'`` (OWASP's rule) unless ``csv_raw``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from db.errors import QueryError
from results.stats import (
    check_category,
    check_language,
    check_profile,
    check_source,
    check_tiers,
    resolve_run,
    rq,
    run_info,
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
FORMATS = ("jsonl", "parquet", "csv", "hf")
SCHEMA_NAMES = ("ours", "published")
SHARD_ROWS = 500_000  # rows per data/train-*.parquet shard of an hf export
PER = ("source", "prompt")
CHUNK_ROWS = 20_000

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

#: The published dataset card's dtypes where they differ from ours.
#: ``backend`` is ours: the published columns stay exactly the card's, so they concatenate.
_PUBLISHED_BASE = SCHEMA.remove(SCHEMA.get_field_index("backend"))
PUBLISHED_SCHEMA = _PUBLISHED_BASE.set(
    SCHEMA.get_field_index("data"), pa.field("data", pa.string())
).set(SCHEMA.get_field_index("n"), pa.field("n", pa.float64()))
SCHEMAS = {"ours": SCHEMA, "published": PUBLISHED_SCHEMA}
PUBLISHED_COLUMNS = tuple(c for c in COLUMNS if c != "backend")

Record = dict[str, Any]
Row = tuple[Any, ...]


def to_published(record: Record) -> Record:
    """A record in the published dtypes: ``data`` as JSON text, ``n`` as a float."""
    data, n = record["data"], record["n"]
    return {
        **{k: v for k, v in record.items() if k != "backend"},
        "data": None if data is None else orjson.dumps(data).decode(),
        "n": None if n is None else float(n),
    }


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


def _row_chunks(cursor: sqlite3.Cursor) -> Iterator[list[Row]]:
    while True:
        rows = cursor.fetchmany(CHUNK_ROWS)
        if not rows:
            return
        yield rows


def _chunks(cursor: sqlite3.Cursor, backend: str, schema: str = "ours") -> Iterator[list[Record]]:
    convert = to_published if schema == "published" else None
    for rows in _row_chunks(cursor):
        records = [to_record(r, backend) for r in rows]
        yield [convert(r) for r in records] if convert else records


def _bools(values: Sequence[Any]) -> pa.Array:
    return pa.array(values, pa.int64()).cast(pa.bool_())


def to_table(rows: Sequence[Row], backend: str, schema: str = "ours") -> pa.Table:
    """Query rows as one typed Arrow table, column by column (no per-row dicts)."""
    if not rows:
        return SCHEMAS[schema].empty_table()
    cols = [list(c) for c in zip(*rows, strict=True)]
    (source, index, prompt, par, category, novel, desc, serial, template, context, data, n) = cols[
        :12
    ]
    passed, tier = cols[12], cols[13]
    if schema == "published":
        data_array = pa.array(data, pa.string())  # stored as orjson's text of the list
        n_array = pa.array(n, pa.int64()).cast(pa.float64())
    else:
        data_array = pa.array(
            [None if d is None else orjson.loads(d) for d in data], pa.list_(pa.string())
        )
        n_array = pa.array(n, pa.int64())
    columns = [
        pa.array(source, pa.string()),
        pa.array(index, pa.int64()),
        pa.array(prompt, pa.string()),
        _bools(par),
        pa.array(category, pa.string()),
        _bools(novel),
        pa.array(desc, pa.string()),
        pa.array(serial, pa.string()),
        pa.array(template, pa.string()),
        pa.array(context, pa.string()),
        data_array,
        n_array,
        _bools(passed),
        pa.array(tier, pa.string()),
    ]
    if schema == "ours":
        columns.append(pa.array([backend] * len(rows), pa.string()))
    return pa.Table.from_arrays(columns, schema=SCHEMAS[schema])


def _tables(cursor: sqlite3.Cursor, backend: str, schema: str = "ours") -> Iterator[pa.Table]:
    for rows in _row_chunks(cursor):
        yield to_table(rows, backend, schema)


def _write_jsonl(
    out: Path, cursor: sqlite3.Cursor, schema: str, backend: str, csv_raw: bool
) -> int:
    written = 0
    with out.open("wb") as fh:
        for chunk in _chunks(cursor, backend, schema):
            fh.write(b"".join(orjson.dumps(r) + b"\n" for r in chunk))
            written += len(chunk)
    return written


def _write_parquet(
    out: Path, cursor: sqlite3.Cursor, schema: str, backend: str, csv_raw: bool
) -> int:
    written = 0
    with pq.ParquetWriter(out, SCHEMAS[schema]) as writer:
        for table in _tables(cursor, backend, schema):
            writer.write_table(table)
            written += table.num_rows
        if written == 0:
            writer.write_table(SCHEMAS[schema].empty_table())
    return written


#: What makes a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = "^[=+\\-@\t\r]"


def neutralise(text: str) -> str:
    """A cell that cannot run as a formula: a leading ``'`` where it could."""
    return "'" + text if text.startswith(FORMULA_START) else text


def neutralise_column(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """``neutralise`` on every cell of a string column, as one Arrow compute step."""
    risky = pc.fill_null(pc.match_substring_regex(column, _FORMULA_RE), False)
    return pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)


def csv_table(table: pa.Table, raw: bool = False) -> pa.Table:
    """A typed export table as CSV cells, as Python's ``csv`` wrote them before: lists as JSON
    text, booleans as ``True``/``False``, nulls as empty cells; unless ``raw``, text cells that
    a spreadsheet would run as a formula get a leading ``'``."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_list(field.type):
            texts = [None if v is None else orjson.dumps(v).decode() for v in column.to_pylist()]
            column = pa.chunked_array([pa.array(texts, pa.string())])
        elif pa.types.is_boolean(field.type):
            column = pc.if_else(column, "True", "False")
        if pa.types.is_string(column.type) and not raw:
            column = neutralise_column(column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _write_csv(out: Path, cursor: sqlite3.Cursor, schema: str, backend: str, csv_raw: bool) -> int:
    written = 0
    header = pa.schema([pa.field(name, pa.string()) for name in SCHEMAS[schema].names])
    options = pacsv.WriteOptions(include_header=True)
    writer: pacsv.CSVWriter | None = None
    try:
        for table in _tables(cursor, backend, schema):
            cells = csv_table(table, csv_raw)
            if writer is None:
                writer = pacsv.CSVWriter(out, cells.schema, write_options=options)
            writer.write_table(cells)
            written += table.num_rows
        if writer is None:  # no rows: the header alone
            pacsv.write_csv(header.empty_table(), out, write_options=options)
    finally:
        if writer is not None:
            writer.close()
    return written


WRITERS = {"jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}


def export(
    conn: sqlite3.Connection,
    out: Path,
    *,
    fmt: str,
    per: str = "source",
    run_id: int | None = None,
    profile: str | None = None,
    tier: str | Sequence[str] | None = None,
    category: str | None = None,
    source: str | None = None,
    language: str | None = None,
    schema: str = "ours",
    shard_rows: int = SHARD_ROWS,
    include_emulator: bool = False,
    csv_raw: bool = False,
) -> int:
    """Write the run's verdicts (default: latest run, its own profile) to ``out``; returns the
    number of rows written. ``per="prompt"``: one row per unique prompt, with the source and
    row index of its first source row. ``tier``: one tier label or several. ``fmt="hf"``:
    ``out`` is a folder (see :mod:`db.hf`). ``schema``: ``ours`` or ``published`` dtypes.

    ``category`` and ``language`` match in any case; ``language="unknown"`` matches rows
    without a language. Raises ValueError (one line, listing the known values) for an unknown
    ``tier``, a ``profile`` without verdicts, and when nothing was exported because a
    ``source``, ``language`` or ``category`` matches nothing in the database; LookupError for an
    unknown ``run_id``; ValueError for a run answered by the emulator unless
    ``include_emulator``. Zero rows from filters that each match something is not an error."""
    if fmt not in FORMATS:
        raise QueryError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})")
    if per not in PER:
        raise QueryError(f"per must be one of {', '.join(PER)}, got {per!r}")
    if schema not in SCHEMAS:
        raise QueryError(f"unknown schema {schema!r} (use {', '.join(SCHEMA_NAMES)})")
    out = Path(out)
    if fmt != "hf" and out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    tiers = check_tiers(tier)
    with snapshot(conn):
        run = resolve_run(conn, run_id)
        backend = run.backend if run else ""
        if backend == "emulator" and not include_emulator:
            raise QueryError(
                f"run {run.id if run else '?'} was answered by the local emulator (heuristics, "
                "not a model): pass --include-emulator to export it anyway"
            )
        check_profile(conn, profile, run)
        the_profile = profile or (run.rules if run else None)
        params = {
            "run_id": run.id if run else -1,
            "profile": the_profile,
            "tiers": orjson.dumps(tiers).decode() if tiers else None,
            "category": category,
            "source": source,
            "language": language,
        }
        cursor = conn.execute(rq(f"export_by_{per}"), params)
        if fmt == "hf":
            from results.hf import CardFacts, write_hf

            facts = CardFacts(
                run=run_info(run),
                profile=the_profile,
                schema=schema,
                per=per,
                filters={
                    "tier": list(tiers),
                    "category": category,
                    "source": source,
                    "language": language,
                },
                sources=[str(r[0]) for r in conn.execute(rq("known_sources"))],
            )
            tables = _tables(cursor, backend, schema)
            written = write_hf(out, tables, SCHEMAS[schema], facts, shard_rows)
        else:
            written = WRITERS[fmt](out, cursor, schema, backend, csv_raw)
        if not written:  # a filter that matches nothing at all is a typo, not an empty result
            check_source(conn, source)
            check_language(conn, language)
            check_category(conn, category)
        return written
