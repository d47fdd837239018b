"""The reading process (large local inputs): same outcomes as the in-process path, same errors.

Re-runs end-to-end ingest tests with every local input read in a child process.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parallelprompt.producer.errors import IngestError
from parallelprompt.producer.pipeline import _portable
from parallelprompt.producer.schemas import LMSYS_SCHEMA, lmsys_row
from tests.producer.conftest import ingest_sync, query
from tests.producer.test_hostile_input import (  # noqa: F401  (re-run in the reading process)
    test_a_line_nested_100k_deep_is_a_broken_line,
    test_a_truncated_compressed_file_keeps_its_rows_and_counts_the_rest,
    test_compressed_jsonl_and_json_are_read,
    test_invalid_unicode_in_jsonl_metadata_is_repaired_and_counted,
    test_invalid_utf8_in_a_parquet_prompt_is_repaired_as_in_jsonl,
    test_invalid_utf8_in_parquet_is_repaired_and_counted,
)
from tests.producer.test_ingest import (  # noqa: F401  (fixtures and tests re-run here)
    Make,
    chat,
    lmsys_file,
    test_batches_and_limits_across_chunks,
    test_clashing_row_indices_are_reported_not_dropped_silently,
    test_dedup_across_datasets_keeps_provenance,
    test_filters,
    test_limit_and_skip_keep_row_indices,
    test_lmsys_parquet,
    test_reingest_adds_nothing_and_says_so,
    test_sharegpt_and_wildchat_jsonl_every_bad_input_counted,
    test_wildchat_jsonl_matches_parquet,
    wildchat_file,
)

ingest_module = importlib.import_module("parallelprompt.producer.ingest")


@pytest.fixture(autouse=True)
def always_a_process(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[None]:
    monkeypatch.setattr(ingest_module, "PROCESS_MIN_BYTES", 0)
    spawned = []
    real = ingest_module.ProcessFeed

    def feed(*args: object) -> object:
        spawned.append(args)
        return real(*args)

    monkeypatch.setattr(ingest_module, "ProcessFeed", feed)
    yield
    if "make_settings" in request.fixturenames:  # the tests that ingest
        assert spawned, "the ingest did not use the reading process"


def test_corrupt_data_pages_fail_with_the_same_one_line_error(
    make_settings: Make, tmp_path: Path, db_path: Path
) -> None:
    rows = [lmsys_row(f"c{i}", chat(f"Prompt number {i} is here")) for i in range(400)]
    path = tmp_path / "pages.parquet"
    pq.write_table(
        pa.Table.from_pylist(rows, schema=LMSYS_SCHEMA),
        path,
        row_group_size=100,
        compression="snappy",
        use_dictionary=False,
    )
    data = bytearray(path.read_bytes())
    meta = pq.ParquetFile(path).metadata
    col = meta.row_group(2).column(0)  # a data page of the third row group
    start = col.data_page_offset + 20
    data[start : start + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))
    with pytest.raises(IngestError, match=r"pages\.parquet: unreadable Parquet data after row 200"):
        ingest_sync(make_settings(data_files=[path], batch_rows=100), progress=False)
    # the rows before it are stored, the ingest is not marked finished
    assert query(db_path, "SELECT count(*) FROM sources") == [(200,)]
    assert query(db_path, "SELECT finished_at FROM ingests") == [(None,)]


def test_an_error_that_does_not_pickle_still_says_what_happened() -> None:
    class Odd(Exception):
        def __init__(self, a: int, b: int) -> None:
            super().__init__(f"odd {a} {b}")

    try:
        raise Odd(1, 2)
    except Odd as exc:
        portable = _portable(exc)
    again = pickle.loads(pickle.dumps(portable))
    assert isinstance(again, RuntimeError) and str(again) == "Odd: odd 1 2"
    assert "in the ingest's reading process" in again.__notes__[0]


def test_a_batch_crosses_the_pipe_as_named_columns() -> None:
    """Batches travel pickled as columns (no object per row) and arrive field by field."""
    from parallelprompt.db import StagedRows
    from parallelprompt.producer.pipeline import Batch

    rows = StagedRows()
    rows.add(b"h" * 16, "a prompt", 42, flags=1, conversation_id="c42", language="English")
    rows.add(b"i" * 16, "another prompt", 43, toxic=True)
    back = pickle.loads(pickle.dumps(Batch(rows, 3, {"too_short": 1}, {}), 5))
    assert back.staged == rows and len(back.staged) == 2
    assert list(back.staged.rows()) == [
        (b"h" * 16, "a prompt", 8, 1, 42, "c42", "English", None, None, None),
        (b"i" * 16, "another prompt", 14, 0, 43, None, None, None, True, None),
    ]
    assert back.staged.select([1]).prompt == ["another prompt"]
