"""The producer's settings section (``ingest``): what to read and which rows to keep."""

from __future__ import annotations

from dataclasses import dataclass

from parallelprompt.common.options import non_negative, opt, positive
from parallelprompt.producer.layouts import Layout


@dataclass(frozen=True)
class IngestSettings:
    dataset: str | None = opt(
        None, "Hugging Face dataset id (e.g. lmsys/lmsys-chat-1m), streamed if reachable"
    )
    data_files: tuple[str, ...] = opt(
        (), "local Parquet/JSONL/JSON files or folders (several allowed)", kind="list"
    )
    layout: str = opt(
        "auto",
        "dataset layout; auto detects it from the columns",
        choices=("auto", *Layout),
    )
    split: str = opt("train", "dataset split to read")
    source_name: str | None = opt(
        None,
        "name recorded as the rows' source (default: the --dataset id; local files: "
        "LAYOUT:STEM of the file or folder, or the layout's dataset id for hub-named shards "
        "like train-00000-of-00002)",
    )
    min_chars: int = opt(
        10, "keep first turns with at least this many characters (original: 10)", rule=non_negative
    )
    max_chars: int = opt(
        100_000, "first turns longer than this are stored but flagged as oversized (0: no flag)"
    )
    languages: tuple[str, ...] = opt(
        (), "keep only these languages (dataset's own names, e.g. English)", kind="list"
    )
    drop_toxic: bool = opt(False, "skip rows marked toxic", kind="bool")
    drop_redacted: bool = opt(False, "skip rows marked redacted", kind="bool")
    limit: int | None = opt(None, "read at most this many source rows", rule=non_negative)
    skip: int = opt(0, "skip this many source rows first", rule=non_negative)
    batch_rows: int = opt(
        100_000, "kept rows per ingest transaction (larger: faster ingest)", rule=positive
    )
