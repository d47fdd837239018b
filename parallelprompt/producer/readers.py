"""Reading source rows: local Parquet, JSONL and JSON files, and Hugging Face hub datasets.

Every reader yields chunks of at most ``batch_rows`` rows with the position of their first
row in the file, and translates the libraries' exceptions into :class:`IngestError` naming the
file. Parquet is read with pyarrow directly, only the needed leaf columns (the nested
moderation structs are never materialised). JSONL is read line by line with orjson (through
a decompressor for ``.gz``, ``.bz2``, ``.xz`` and ``.zst`` files); a line that does not parse
becomes a :class:`~producer.batches.Broken` marker (never an exception), and so does the
unreadable rest of a truncated compressed file.
"""

from __future__ import annotations

import json
import logging
import socket
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from parallelprompt.producer.batches import Broken
from parallelprompt.producer.errors import IngestError
from parallelprompt.producer.files import (
    DECOMPRESSION_ERRORS,
    Compression,
    FileKind,
    file_type,
    open_binary,
)
from parallelprompt.producer.layouts import Layout, LayoutSpec, detect

log = logging.getLogger("producer")

SNIFF_LINES = 100
HUB_PROBE_TIMEOUT_S = 3.0
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class InputFile:
    path: Path
    kind: FileKind
    layout: Layout
    num_rows: int | None  # known up front for Parquet
    compression: Compression | None = None


class NoObjects(IngestError):
    """A JSON file whose first rows hold no JSON object, so its layout cannot be seen (its
    rows are all broken lines or not objects). The plan reads it with the layout of the other
    files, when there are any."""

    def __init__(self, path: Path, kind: FileKind, compression: Compression | None) -> None:
        super().__init__(
            f"{path}: no JSON object in its first {SNIFF_LINES} rows, so its layout cannot be "
            "told; pass --layout lmsys, wildchat or sharegpt"
        )
        self.path, self.kind, self.compression = path, kind, compression


@dataclass(frozen=True, slots=True)
class Chunk:
    """Rows read together. Every reader ends with an empty chunk whose ``start`` is the
    number of rows in the file (so skipped files still move the row index on)."""

    start: int  # position of the first row in its file (or split)
    batch: pa.RecordBatch | None = None
    rows: list[Any] | None = None

    def __len__(self) -> int:
        if self.batch is not None:
            return int(self.batch.num_rows)
        return len(self.rows or ())

    def head(self, n: int) -> Chunk:
        if self.batch is not None:
            return Chunk(self.start, batch=self.batch.slice(0, n))
        return Chunk(self.start, rows=(self.rows or [])[:n])


# -- checking files --------------------------------------------------------------------------


def inspect_file(path: Path, layout: Layout | None) -> InputFile | None:
    """Check that ``path`` can be read and find its layout (given, or detected); None when
    the file holds no rows at all (0 bytes, blank lines only, an empty array)."""
    found_type = file_type(path)
    if found_type is None:
        raise IngestError(f"{path}: unsupported file type")
    kind, compression = found_type
    if path.stat().st_size == 0:
        return None
    num_rows: int | None = None
    if kind is FileKind.PARQUET:
        pf = _open_parquet(path)
        columns: list[str] = list(pf.schema_arrow.names)
        num_rows = int(pf.metadata.num_rows)
    else:
        if kind is FileKind.JSON and not _looks_like_array(path, compression):
            kind = FileKind.JSONL  # many ".json" files on the hub are JSON lines
        sniffed = _sniff_keys(path, kind, compression)
        if sniffed is None:
            return None
        columns = sniffed
        if not columns and layout is None:
            raise NoObjects(path, kind, compression)
    found = layout or detect(columns)
    if found is None:
        raise IngestError(
            f"{path}: cannot tell the layout from its columns {sorted(columns)}; "
            "pass --layout lmsys, wildchat or sharegpt"
        )
    return InputFile(path, kind, found, num_rows, compression)


def _open_parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise IngestError(
            f"{path}: not a readable Parquet file (truncated or corrupt: {_first_line(exc)})"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _looks_like_array(path: Path, compression: Compression | None) -> bool:
    try:
        with open_binary(path, compression) as fh:
            head = fh.read(4096).lstrip(BOM + b" \t\r\n")
    except DECOMPRESSION_ERRORS as exc:
        raise IngestError(f"{path}: not a readable {compression} file ({exc})") from exc
    return head.startswith(b"[")


def _sniff_keys(path: Path, kind: FileKind, compression: Compression | None) -> list[str] | None:
    """The keys of the first object among the first rows; None when there is no row."""
    if kind is FileKind.JSON:
        rows = _load_json_array(path, compression)
        if not rows:
            return None
        return next((list(r) for r in rows if isinstance(r, dict)), [])
    any_row = False
    try:
        with open_binary(path, compression) as fh:
            for i, line in enumerate(fh):
                if i >= SNIFF_LINES:
                    break
                if not line.strip():
                    continue
                any_row = True
                parsed = parse_line(line, "")
                if isinstance(parsed, dict):
                    return list(parsed)
    except DECOMPRESSION_ERRORS as exc:
        if not any_row:  # not that kind of file at all: say so before anything is written
            raise IngestError(f"{path}: not a readable {compression} file ({exc})") from exc
        # truncated after some rows: the reading counts the rest as unreadable_rest
    return [] if any_row else None


# -- JSON lines ------------------------------------------------------------------------------


def parse_line(line: bytes, where: str) -> object:
    """One JSONL line: the parsed value, or a Broken marker.

    orjson is strict (no lone surrogates, valid UTF-8 only); a line it rejects gets a second,
    lenient chance with the standard library (undecodable bytes become lone surrogates), so
    that a prompt with a stray bad byte is repaired by the text rules instead of lost. A
    UTF-8 byte-order mark before the line is dropped. Nesting deeper than orjson's limit
    (1024) is a broken line: the standard library would fail with RecursionError.
    """
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if line.startswith(BOM):
            return parse_line(line[len(BOM) :], where)
        try:
            return json.loads(line.decode("utf-8", "surrogateescape"))
        except (ValueError, RecursionError):
            return Broken(where, str(exc))


def _numbered_lines(path: Path, compression: Compression | None) -> Iterator[tuple[int, Any]]:
    """(line number, line); a compressed file that is corrupt or ends early (a truncated
    download) ends with a Broken marker (``rest=True``) for whatever could not be read."""
    lineno = 0
    with open_binary(path, compression) as fh:
        try:
            for lineno, line in enumerate(fh, 1):
                yield lineno, line
        except DECOMPRESSION_ERRORS as exc:
            where = f"{path}:{lineno + 1}"
            log.warning(
                "%s: the rest of this %s file cannot be read (%s); counted as one "
                "unreadable_rest row",
                where,
                compression,
                exc,
            )
            yield lineno + 1, Broken(where, str(exc), rest=True)


def iter_jsonl(
    path: Path, batch_rows: int, skip: int, compression: Compression | None = None
) -> Iterator[Chunk]:
    """Chunks of rows; a row is a non-blank line. Broken lines are logged with file:line."""
    rows: list[Any] = []
    start = index = -1
    for lineno, line in _numbered_lines(path, compression):
        if type(line) is bytes and not line.strip():
            continue
        index += 1
        if index < skip:
            continue
        if type(line) is bytes:
            parsed = parse_line(line, f"{path}:{lineno}")
            if isinstance(parsed, Broken):
                log.warning("%s: broken JSON line skipped (%s)", parsed.where, parsed.error)
        else:
            parsed = line
        if not rows:
            start = index
        rows.append(parsed)
        if len(rows) >= batch_rows:
            yield Chunk(start, rows=rows)
            rows = []
    if rows:
        yield Chunk(start, rows=rows)
    yield Chunk(index + 1, rows=[])


def _load_json_array(path: Path, compression: Compression | None = None) -> list[Any]:
    """The whole array; like a JSON line, with a lenient second parse and no BOM."""
    try:
        with open_binary(path, compression) as fh:
            raw = fh.read()
    except DECOMPRESSION_ERRORS as exc:
        raise IngestError(f"{path}: not a readable {compression} file ({exc})") from exc
    data = parse_line(raw, str(path))
    if isinstance(data, Broken):
        raise IngestError(f"{path}: not valid JSON ({data.error})")
    if not isinstance(data, list):
        raise IngestError(f"{path}: expected a JSON array of conversations or JSON lines")
    return data


def iter_json(
    path: Path, batch_rows: int, skip: int, compression: Compression | None = None
) -> Iterator[Chunk]:
    rows = _load_json_array(path, compression)
    for start in range(skip, len(rows), batch_rows):
        yield Chunk(start, rows=rows[start : start + batch_rows])
    yield Chunk(len(rows), rows=[])


# -- Parquet ---------------------------------------------------------------------------------


def parquet_columns(pf: pq.ParquetFile, spec: LayoutSpec) -> list[str]:
    """The leaf paths to read: metadata columns, the messages' role and content (nothing else
    of the message structs) and the moderation ``flagged`` bits."""
    paths = [pf.schema.column(i).path for i in range(len(pf.schema))]
    top = set(spec.metadata_columns)
    msg_keys = {spec.role_key, spec.content_key}
    wanted = [p for p in paths if p in top]
    conv = [p for p in paths if p.split(".")[0] == spec.conversation]
    msg = [p for p in conv if len(p.split(".")) == 4 and p.split(".")[-1] in msg_keys]
    wanted += msg if len(msg) == 2 else conv  # odd shapes: read it all, the row path judges
    if spec.moderation_column:
        wanted += [
            p
            for p in paths
            if p.split(".")[0] == spec.moderation_column
            and len(p.split(".")) == 4
            and p.endswith(".flagged")
        ]
    return wanted


def iter_parquet(path: Path, spec: LayoutSpec, batch_rows: int, skip: int) -> Iterator[Chunk]:
    pf = _open_parquet(path)
    groups: list[int] = []
    pos = 0
    for g in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if pos + n <= skip and not groups:
            pos += n
            continue
        groups.append(g)
    if not groups:
        yield Chunk(pos, rows=[])
        return
    try:
        batches = pf.iter_batches(
            batch_size=batch_rows, row_groups=groups, columns=parquet_columns(pf, spec)
        )
        for batch in batches:
            n = batch.num_rows
            if pos + n <= skip:
                pos += n
                continue
            if pos < skip:
                batch = batch.slice(skip - pos)
                pos = skip
            yield Chunk(pos, batch=batch)
            pos += batch.num_rows
        yield Chunk(pos, rows=[])
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(
            f"{path}: unreadable Parquet data after row {pos} ({_first_line(exc)}); rows "
            "before it were stored, the ingest is not marked finished, re-run once the file "
            "is fixed"
        ) from exc


def iter_file(f: InputFile, spec: LayoutSpec, batch_rows: int, skip: int) -> Iterator[Chunk]:
    if f.kind is FileKind.PARQUET:
        return iter_parquet(f.path, spec, batch_rows, skip)
    if f.kind is FileKind.JSON:
        return iter_json(f.path, batch_rows, skip, f.compression)
    return iter_jsonl(f.path, batch_rows, skip, f.compression)


# -- the Hugging Face hub --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HubInput:
    dataset_id: str
    split: str
    layout: Layout
    dataset: Any  # datasets.IterableDataset, streaming


def _offline_message(dataset_id: str) -> str:
    return (
        f"cannot reach the Hugging Face hub for {dataset_id}; download the Parquet shards "
        "(data/train-*.parquet) and pass --data-files PATH"
    )


def _hub_reachable(endpoint: str) -> bool:
    """A quick TCP probe, so an unreachable hub fails in seconds, not after minutes of
    retries. Skipped (assumed reachable) when a proxy is configured."""
    if urllib.request.getproxies():
        return True
    url = urllib.parse.urlsplit(endpoint)
    host = url.hostname or "huggingface.co"
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=HUB_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def open_hub(dataset_id: str, split: str, layout: Layout | None) -> HubInput:
    """Open a hub dataset in streaming mode and find its layout; fails fast when offline."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or not _hub_reachable(constants.ENDPOINT):
        raise IngestError(_offline_message(dataset_id))
    import datasets

    try:
        ds = datasets.load_dataset(dataset_id, split=split, streaming=True)
    except ConnectionError as exc:
        raise IngestError(_offline_message(dataset_id)) from exc
    except Exception as exc:  # the hub's errors are many (gated, missing, bad split)
        raise IngestError(
            f"cannot open {dataset_id} (split {split}) on the Hugging Face hub: "
            f"{_first_line(exc)}; for a gated dataset accept its licence and log in "
            "(`hf auth login`), or pass --data-files PATH"
        ) from exc
    return hub_input(ds, dataset_id, split, layout)


def hub_input(ds: Any, dataset_id: str, split: str, layout: Layout | None) -> HubInput:
    """Wrap an already opened streaming dataset (also how tests feed a local one)."""
    columns = list(ds.column_names or [])
    found = layout or detect(columns)
    if found is None:
        raise IngestError(
            f"{dataset_id}: cannot tell the layout from its columns {sorted(columns)}; "
            "pass --layout lmsys, wildchat or sharegpt"
        )
    return HubInput(dataset_id, split, found, ds)


def iter_hub(hub: HubInput, spec: LayoutSpec, batch_rows: int, skip: int) -> Iterator[Chunk]:
    ds = hub.dataset
    present = set(ds.column_names or [])
    wanted = [spec.conversation, *spec.metadata_columns]
    if spec.moderation_column:
        wanted.append(spec.moderation_column)
    ds = ds.select_columns([c for c in wanted if c in present])
    if skip:
        ds = ds.skip(skip)
    pos = skip
    try:
        for table in ds.with_format("arrow").iter(batch_size=batch_rows):
            for batch in table.to_batches():
                yield Chunk(pos, batch=batch)
                pos += batch.num_rows
        yield Chunk(pos, rows=[])
    except ConnectionError as exc:
        raise IngestError(
            f"lost the Hugging Face hub while streaming {hub.dataset_id} after row {pos}; "
            "re-run (rows already stored are not added twice) or use --data-files"
        ) from exc
