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

import itertools
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from parallelprompt.db.connection import database_file
from parallelprompt.db.errors import QueryError
from parallelprompt.db.readside import chunk_starts, snapshot_of
from parallelprompt.prompts.published import FIELD_TYPES
from parallelprompt.results.export_inplace import CHUNK_IDS, Encoder, write_in_place
from parallelprompt.results.export_parts import (
    FIRST_SHARE,
    PARALLEL_MIN,
    Part,
    Span,
    chunks,
    default_jobs,
    later_parts,
    spans,
    write_pieces,
)
from parallelprompt.results.stats import (
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

#: Our columns: where the row came from, the published dataset's nine answer fields
#: (``prompts.published.FIELD_TYPES``), how it was judged, and the backend that answered. The
#: export queries select them in this order.
COLUMN_TYPES: dict[str, str] = {
    "source": "text",
    "source_index": "int",
    "prompt": "text",
    **FIELD_TYPES,
    "validation_passed": "bool",
    "validation_tier": "text",
    "backend": "text",
}
COLUMNS = tuple(COLUMN_TYPES)
FORMATS = ("jsonl", "parquet", "csv", "hf")
SCHEMA_NAMES = ("ours", "published")
SHARD_ROWS = 500_000  # rows per data/train-*.parquet shard of an hf export
PER = ("source", "prompt")
CHUNK_ROWS = 20_000

_ARROW = {"text": pa.string(), "int": pa.int64(), "bool": pa.bool_(), "list": pa.list_(pa.string())}
SCHEMA = pa.schema([(name, _ARROW[kind]) for name, kind in COLUMN_TYPES.items()])

#: The published dataset card's dtypes where they differ from ours: ``data`` is JSON text,
#: ``n`` a float. ``backend`` is ours: the published columns stay exactly the card's, so they
#: concatenate.
PUBLISHED_TYPES = {"data": pa.string(), "n": pa.float64()}
PUBLISHED_COLUMNS = tuple(c for c in COLUMNS if c != "backend")
PUBLISHED_SCHEMA = pa.schema(
    [(name, PUBLISHED_TYPES.get(name, SCHEMA.field(name).type)) for name in PUBLISHED_COLUMNS]
)
SCHEMAS = {"ours": SCHEMA, "published": PUBLISHED_SCHEMA}
#: What the CSV writer builds: lists as their JSON text (a CSV cell holds text).
CSV_SCHEMAS = {
    name: pa.schema([(f.name, pa.string() if pa.types.is_list(f.type) else f.type) for f in schema])
    for name, schema in SCHEMAS.items()
}

Record = dict[str, Any]
Row = tuple[Any, ...]
Parts = Sequence[Part]

_BOOL_AT = tuple(i for i, kind in enumerate(COLUMN_TYPES.values()) if kind == "bool")
_LIST_AT = tuple(i for i, kind in enumerate(COLUMN_TYPES.values()) if kind == "list")


def to_published(record: Record) -> Record:
    """A record in the published dtypes: ``data`` as JSON text, ``n`` as a float."""
    data, n = record["data"], record["n"]
    return {
        **{k: v for k, v in record.items() if k != "backend"},
        "data": None if data is None else orjson.dumps(data).decode(),
        "n": None if n is None else float(n),
    }


def to_record(row: Sequence[Any], backend: str, *, raw_lists: bool = False) -> Record:
    """One row (``with_texts``: every column but ``backend``, in ``COLUMNS`` order) as a typed
    record: booleans from SQLite's 0/1, lists from their JSON text; with ``raw_lists`` the list
    stays that text, as an ``orjson.Fragment`` that ``orjson.dumps`` copies as it is.

    The stored text is orjson's own (``db.queue.verdict_params`` is its only writer, and always
    was), so the fragment is byte for byte what dumping the decoded list gives."""
    values = [*row, backend]
    for i in _BOOL_AT:
        if values[i] is not None:
            values[i] = bool(values[i])
    for i in _LIST_AT:
        if values[i] is not None:
            values[i] = orjson.Fragment(values[i]) if raw_lists else orjson.loads(values[i])
    return dict(zip(COLUMNS, values, strict=True))


def with_texts(row: Sequence[Any]) -> Row:
    """A query row with its serial, template and context rebuilt from their pointers into the
    prompt (``db.texts.expand_splice``; the view ``verdict_texts`` does it in SQL): the row in
    ``COLUMNS`` order, ``backend`` aside."""
    (source, index, prompt, par, category, novel, desc) = row[:7]
    serial, serial_at, serial_to, template, template_at, template_to = row[7:13]
    context, context_at, context_to = row[13:16]
    if serial_at is not None:
        serial = prompt[:serial_at] + (serial or "") + prompt[serial_to:]
    if template_at is not None:
        template = prompt[:template_at] + (template or "") + prompt[template_to:]
    if context_at is not None:
        context = prompt[context_at:context_to]
    return (source, index, prompt, par, category, novel, desc, serial, template, context, *row[16:])


def _row_chunks(cursor: sqlite3.Cursor) -> Iterator[list[Row]]:
    while True:
        rows = cursor.fetchmany(CHUNK_ROWS)
        if not rows:
            return
        yield [with_texts(r) for r in rows]


def _chunks(cursor: sqlite3.Cursor, backend: str, schema: str = "ours") -> Iterator[list[Record]]:
    """Records to dump as JSON; in our schema the lists go out as their stored JSON text."""
    for rows in _row_chunks(cursor):
        if schema == "published":
            yield [to_published(to_record(r, backend)) for r in rows]
        else:
            yield [to_record(r, backend, raw_lists=True) for r in rows]


def _bools(values: Sequence[Any]) -> pa.Array:
    return pa.array(values, pa.int64()).cast(pa.bool_())


def _column(values: list[Any], kind: str, arrow_type: pa.DataType) -> pa.Array:
    """One column of query values in its Arrow type."""
    if kind == "bool":
        return _bools(values)
    if kind == "list" and pa.types.is_list(arrow_type):
        return pa.array([None if v is None else orjson.loads(v) for v in values], arrow_type)
    if kind == "int" and pa.types.is_floating(arrow_type):
        return pa.array(values, pa.int64()).cast(arrow_type)
    return pa.array(values, arrow_type)  # the published ``data``: the stored JSON text


def to_table(rows: Sequence[Row], backend: str, schema: str | pa.Schema = "ours") -> pa.Table:
    """Query rows as one typed Arrow table, column by column (no per-row dicts). ``schema``:
    a name of ``SCHEMAS``, or a schema whose list columns are strings (``CSV_SCHEMAS``: the
    lists as their stored JSON text)."""
    target = SCHEMAS[schema] if isinstance(schema, str) else schema
    if not rows:
        return target.empty_table()
    values = dict(zip(COLUMNS, (list(c) for c in zip(*rows, strict=True)), strict=False))
    values["backend"] = [backend] * len(rows)
    columns = [
        _column(values[field.name], COLUMN_TYPES[field.name], field.type) for field in target
    ]
    return pa.Table.from_arrays(columns, schema=target)


def _tables(
    cursor: sqlite3.Cursor, backend: str, schema: str | pa.Schema = "ours"
) -> Iterator[pa.Table]:
    for rows in _row_chunks(cursor):
        yield to_table(rows, backend, schema)


def _jsonl_chunk(
    conn: sqlite3.Connection, per: str, params: Mapping[str, Any], span: Span, first: bool
) -> tuple[list[bytes], int]:
    """One chunk of a JSONL export (``export_inplace.Encoder``): its lines."""
    lines = [
        orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE)
        for chunk in _chunks(_query(conn, per, params, span), params["backend"], params["schema"])
        for r in chunk
    ]
    return lines, len(lines)


def _write_parquet(out: Path, tables: Iterator[pa.Table], schema: pa.Schema) -> int:
    written = 0
    with pq.ParquetWriter(out, schema) as writer:
        for table in tables:
            writer.write_table(table)
            written += table.num_rows
        if written == 0:
            writer.write_table(schema.empty_table())
    return written


def _all_tables(
    cursor: sqlite3.Cursor, backend: str, schema: str, later: Parts
) -> Iterator[pa.Table]:
    """This process's tables, then the later parts' in order, cut again into tables of
    ``CHUNK_ROWS`` rows (zero-copy slices): each is a Parquet row group, so the file is the
    same bytes however the export was split (a table of several chunks encodes as one)."""
    tables = itertools.chain(_tables(cursor, backend, schema), *(p.tables() for p in later))
    if not later:
        yield from tables
        return
    held: list[pa.Table] = []
    rows = 0
    for table in tables:
        held.append(table)
        rows += table.num_rows
        while rows >= CHUNK_ROWS:
            whole = pa.concat_tables(held)  # no copy: slices of the same buffers
            yield whole.slice(0, CHUNK_ROWS)
            rest = whole.slice(CHUNK_ROWS)
            held, rows = [rest], rest.num_rows
    if rows:
        yield pa.concat_tables(held)


def _write_arrow(out: Path, cursor: sqlite3.Cursor, schema: str, backend: str) -> int:
    """A part of a Parquet or ``hf`` export: the typed tables as Arrow IPC pieces."""
    return write_pieces(out, _tables(cursor, backend, schema), SCHEMAS[schema])


#: What makes a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = "^[=+\\-@\t\r]"


def neutralise(text: str) -> str:
    """A cell that cannot run as a formula: a leading ``'`` where it could."""
    return "'" + text if text.startswith(FORMULA_START) else text


def neutralise_column(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """``neutralise`` on every cell of a string column, as one Arrow compute step (the column
    as it is when no cell needs it: no copy of every prompt)."""
    risky = pc.fill_null(pc.match_substring_regex(column, _FORMULA_RE), False)
    if not pc.any(risky).as_py():
        return column
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


def _csv_chunk(
    conn: sqlite3.Connection, per: str, params: Mapping[str, Any], span: Span, first: bool
) -> tuple[list[memoryview], int]:
    """One chunk of a CSV export (``export_inplace.Encoder``): its rows, after the header in
    the first chunk (the header alone when the export has no rows)."""
    rows = [with_texts(r) for r in _query(conn, per, params, span)]
    if not rows and not first:
        return [], 0
    table = to_table(rows, params["backend"], CSV_SCHEMAS[params["schema"]])
    sink = pa.BufferOutputStream()
    options = pacsv.WriteOptions(include_header=first)
    pacsv.write_csv(csv_table(table, params["csv_raw"]), sink, write_options=options)
    return [memoryview(sink.getvalue())], len(rows)  # Arrow's buffer, not a copy of it


#: JSONL and CSV are written in place by chunks (``results.export_inplace``).
ENCODERS: dict[str, Encoder] = {"jsonl": _jsonl_chunk, "csv": _csv_chunk}


def _arrow_before_fork() -> None:
    """pyarrow imports pandas on its first ``pa.array`` (0.25-0.6 s): done before an export
    forks, its processes inherit the import instead of each paying for it again."""
    pa.array([], pa.int64())


def _query(
    conn: sqlite3.Connection, per: str, params: Mapping[str, Any], span: Span
) -> sqlite3.Cursor:
    first, last = span
    return conn.execute(rq(f"export_by_{per}"), {**params, "first": first, "last": last})


def write_part(path: Path, db_file: str, per: str, params: Mapping[str, Any], span: Span) -> int:
    """Run in another process: the rows of ``span`` written to ``path`` as a part of a
    Parquet or ``hf`` export, an Arrow IPC stream (``params`` carries the schema and backend
    besides the query's parameters)."""
    with snapshot_of(db_file) as conn:
        cursor = _query(conn, per, params, span)
        return _write_arrow(path, cursor, params["schema"], params["backend"])


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
    jobs: int | None = None,
    parallel_min: int = PARALLEL_MIN,
) -> int:
    """Write the run's verdicts (default: latest run, its own profile) to ``out``; returns the
    number of rows written. ``per="prompt"``: one row per unique prompt, with the source and
    row index of its first source row. ``tier``: one tier label or several. ``fmt="hf"``:
    ``out`` is a folder (see :mod:`results.hf`). ``schema``: ``ours`` or ``published`` dtypes.

    ``category`` and ``language`` match in any case; ``language="unknown"`` matches rows
    without a language. Raises ValueError (one line, listing the known values) for an unknown
    ``tier``, a ``profile`` without verdicts, and when nothing was exported because a
    ``source``, ``language`` or ``category`` matches nothing in the database; LookupError for an
    unknown ``run_id``; ValueError for a run answered by the emulator unless
    ``include_emulator``. Zero rows from filters that each match something is not an error.

    From ``parallel_min`` ids to walk on, ``jobs`` processes (default: the cores, at most 4)
    share the work: JSONL and CSV chunks of ``CHUNK_IDS`` ids dealt round them and written in
    place (:mod:`results.export_inplace`), Parquet and ``hf`` a span each
    (:mod:`results.export_parts`)."""
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
        low, high = conn.execute(rq("export_id_span"), {"per": per}).fetchone()
        starts = chunk_starts(conn, per, low, CHUNK_IDS)
        # at least this many ids to walk: a whole chunk each but the last, which has one or more
        ids = (len(starts) - 1) * CHUNK_IDS + 1 if starts else 0
        jobs = (default_jobs() if jobs is None else jobs) if ids >= parallel_min else 1
        task = {**params, "fmt": fmt, "schema": schema, "backend": backend, "csv_raw": csv_raw}
        if jobs > 1 and fmt != "jsonl":
            _arrow_before_fork()
        if fmt in ENCODERS:
            pieces = chunks(starts, high)
            written = write_in_place(out, conn, ENCODERS[fmt], per, task, pieces, jobs)
        else:
            parts = spans(low, high, jobs, 1, FIRST_SHARE)
            if fmt == "hf":
                out.mkdir(parents=True, exist_ok=True)
            folder = out if fmt == "hf" else out.parent
            db_file = database_file(conn)
            with later_parts(write_part, db_file, per, task, parts[1:], folder) as later:
                tables = _all_tables(_query(conn, per, params, parts[0]), backend, schema, later)
                if fmt == "hf":
                    from parallelprompt.results.hf import CardFacts, write_hf

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
                    written = write_hf(out, tables, SCHEMAS[schema], facts, shard_rows)
                else:
                    written = _write_parquet(out, tables, SCHEMAS[schema])
        if not written:  # a filter that matches nothing at all is a typo, not an empty result
            check_source(conn, source)
            check_language(conn, language)
            check_category(conn, category)
        return written
