"""From a chunk of source rows to columns of first turns and metadata.

Readers hand over either an Arrow record batch (Parquet, the hub) or a list of Python rows
(JSONL, JSON). Arrow batches are handled column-wise with pyarrow compute and numpy, which
is what makes a million conversations a few seconds of work; any batch whose types are not
the expected ones (a conversation that is not a list, content that is not a string) takes the
row-by-row path instead, so that the rules of :mod:`producer.extract` judge it. So does a batch
with invalid UTF-8 in a string column (Arrow does not check what a Parquet writer put there):
its bytes are decoded leniently, as a JSON line's, and repaired by the same rules.

Metadata text (conversation id, language, model) with lone surrogates or undecodable bytes is
repaired here (U+FFFD), and the rows are listed in :attr:`Extracted.repaired` so that a kept
row is counted under ``metadata_unicode_replaced``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parallelprompt.producer.extract import SkipReason, first_user_content
from parallelprompt.producer.layouts import LayoutSpec
from parallelprompt.producer.normalise import has_invalid_unicode, replace_invalid_unicode


@dataclass(frozen=True, slots=True)
class Broken:
    """A JSONL line that could not be parsed, where it was."""

    where: str  # file:line
    error: str
    rest: bool = False  # the unreadable rest of a compressed file, not one line


@dataclass(frozen=True, slots=True)
class Extracted:
    """One chunk as parallel columns. ``first`` holds the first user turn's content as found,
    or a SkipReason decided already."""

    first: list[object]
    ids: list[str | None]
    languages: list[str | None]
    models: list[str | None]
    toxic: list[bool | None]
    redacted: list[bool | None]
    repaired: frozenset[int] = field(default=frozenset())  # rows whose metadata was repaired

    def __len__(self) -> int:
        return len(self.first)


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    try:
        return str(value)
    except RecursionError:  # a list nested ~1000 deep (orjson allows 1024)
        return None


def _repair(columns: tuple[list[str | None], ...], row: int) -> bool:
    """Replace lone surrogates in ``row`` of each column; True when any was found."""
    found = False
    for col in columns:
        value = col[row]
        if value is not None and not value.isascii() and has_invalid_unicode(value):
            col[row] = replace_invalid_unicode(value)
            found = True
    return found


def _flag(value: object) -> bool | None:
    return bool(value) if isinstance(value, bool | int) else None


def _any_flagged(moderation: object) -> bool | None:
    if not isinstance(moderation, list):
        return None
    return any(isinstance(m, dict) and m.get("flagged") is True for m in moderation)


def from_rows(rows: list[Any], spec: LayoutSpec) -> Extracted:
    """The row-by-row path: JSONL/JSON rows (dicts, or Broken markers, or anything else)."""
    first: list[object] = []
    ids: list[str | None] = []
    langs: list[str | None] = []
    models: list[str | None] = []
    toxic: list[bool | None] = []
    redacted: list[bool | None] = []
    repaired: set[int] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            first.append(_unreadable(row))
            for col in (ids, langs, models, toxic, redacted):
                col.append(None)
            continue
        first.append(
            first_user_content(
                row.get(spec.conversation), spec.role_key, spec.content_key, spec.user_roles
            )
        )
        ids.append(_text(row.get(spec.id_column)) if spec.id_column else None)
        langs.append(_text(row.get(spec.language_column)) if spec.language_column else None)
        models.append(_text(row.get(spec.model_column)) if spec.model_column else None)
        if _repair((ids, langs, models), i):
            repaired.add(i)
        if spec.toxic_column:
            toxic.append(_flag(row.get(spec.toxic_column)))
        elif spec.moderation_column:
            toxic.append(_any_flagged(row.get(spec.moderation_column)))
        else:
            toxic.append(None)
        redacted.append(_flag(row.get(spec.redacted_column)) if spec.redacted_column else None)
    return Extracted(first, ids, langs, models, toxic, redacted, frozenset(repaired))


def _unreadable(row: object) -> SkipReason:
    if isinstance(row, Broken):
        return SkipReason.UNREADABLE_REST if row.rest else SkipReason.BROKEN_LINE
    return SkipReason.NOT_AN_OBJECT


def _is_list(t: pa.DataType) -> bool:
    return bool(pa.types.is_list(t) or pa.types.is_large_list(t))


def _is_str(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _fast_path_ok(conv: pa.Array, spec: LayoutSpec) -> bool:
    if not _is_list(conv.type) or not pa.types.is_struct(conv.type.value_type):
        return False
    st = conv.type.value_type
    names = {st.field(i).name for i in range(st.num_fields)}
    if spec.role_key not in names or spec.content_key not in names:
        return False
    return _is_str(st.field(spec.role_key).type) and _is_str(st.field(spec.content_key).type)


def _column(batch: pa.RecordBatch, name: str | None) -> pa.Array | None:
    if name is None or name not in batch.schema.names:
        return None
    return batch.column(name)


def _as_list(batch: pa.RecordBatch, name: str | None, n: int) -> list[Any]:
    col = _column(batch, name)
    if col is None:
        return [None] * n
    if _is_str(col.type):
        return list(col.to_pylist())
    return [_text(v) for v in col.to_pylist()]


def _as_flags(batch: pa.RecordBatch, name: str | None, n: int) -> list[bool | None]:
    col = _column(batch, name)
    if col is None:
        return [None] * n
    if pa.types.is_boolean(col.type):
        return list(col.to_pylist())
    return [_flag(v) for v in col.to_pylist()]


def _moderation_flagged(batch: pa.RecordBatch, name: str | None, n: int) -> list[bool | None]:
    col = _column(batch, name)
    if col is None or not _is_list(col.type) or not pa.types.is_struct(col.type.value_type):
        return [None] * n
    if col.type.value_type.get_field_index("flagged") < 0:
        return [None] * n
    flat = pc.list_flatten(col)
    flagged = pc.fill_null(flat.field("flagged"), False).to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(col).to_numpy()
    hits = np.bincount(parents[flagged.astype(bool)], minlength=n) > 0
    present = pc.is_valid(col).to_numpy(zero_copy_only=False)
    return [bool(h) if p else None for h, p in zip(hits.tolist(), present.tolist(), strict=True)]


def first_turns_arrow(conv: pa.Array, spec: LayoutSpec) -> list[object]:
    """Column-wise :func:`producer.extract.first_user_content` for a list<struct> column."""
    n = len(conv)
    lengths = pc.fill_null(pc.list_value_length(conv), 0).to_numpy()
    flat = pc.list_flatten(conv)
    parents = pc.list_parent_indices(conv).to_numpy()
    roles = flat.field(spec.role_key)
    is_user = pc.fill_null(pc.is_in(roles, pa.array(sorted(spec.user_roles))), False)
    user_pos = np.flatnonzero(is_user.to_numpy(zero_copy_only=False))
    user_rows = parents[user_pos]
    rows_with_user, first_idx = np.unique(user_rows, return_index=True)
    take = np.full(n, -1, dtype=np.int64)
    take[rows_with_user] = user_pos[first_idx]
    missing = take < 0
    contents = flat.field(spec.content_key).take(pa.array(take, mask=missing))
    out: list[object] = contents.to_pylist()
    if missing.any():
        for i in np.flatnonzero(missing).tolist():
            out[i] = SkipReason.NO_CONVERSATION if lengths[i] == 0 else SkipReason.NO_USER_TURN
    return out


def _as_binary(t: pa.DataType) -> pa.DataType:
    """``t`` with every string type (however nested) made binary: the same memory layout."""
    if pa.types.is_string(t):
        return pa.binary()
    if pa.types.is_large_string(t):
        return pa.large_binary()
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_as_binary(t.value_type)))
    if pa.types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_as_binary(t.value_type)))
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_as_binary(f.type)) for f in t])
    return t


def _decoded(value: object) -> object:
    """Bytes (a string column's, read as binary) as text, undecodable bytes as surrogates."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    return value


def lenient_rows(batch: pa.RecordBatch) -> list[Any]:
    """The batch as Python rows even when a string column holds invalid UTF-8."""
    columns = [col.view(_as_binary(col.type)) for col in batch.columns]
    binary = pa.RecordBatch.from_arrays(columns, names=batch.schema.names)
    return [_decoded(row) for row in binary.to_pylist()]


def from_arrow(batch: pa.RecordBatch, spec: LayoutSpec) -> Extracted:
    """The column-wise path; falls back to :func:`from_rows` for unexpected types, and for
    invalid UTF-8 (which only shows when the values are converted)."""
    try:
        return _from_arrow(batch, spec)
    except UnicodeDecodeError:
        return from_rows(lenient_rows(batch), spec)


def _from_arrow(batch: pa.RecordBatch, spec: LayoutSpec) -> Extracted:
    n = batch.num_rows
    conv = _column(batch, spec.conversation)
    if conv is None:
        first: list[object] = [SkipReason.NO_CONVERSATION] * n
    elif _fast_path_ok(conv, spec):
        first = first_turns_arrow(conv, spec)
    else:
        return from_rows(batch.to_pylist(), spec)
    if spec.toxic_column:
        toxic = _as_flags(batch, spec.toxic_column, n)
    else:
        toxic = _moderation_flagged(batch, spec.moderation_column, n)
    return Extracted(
        first=first,
        ids=_as_list(batch, spec.id_column, n),
        languages=_as_list(batch, spec.language_column, n),
        models=_as_list(batch, spec.model_column, n),
        toxic=toxic,
        redacted=_as_flags(batch, spec.redacted_column, n),
    )
