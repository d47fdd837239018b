"""Input that used to abort or mislead an ingest (issue 11, finding 6): bad bytes in metadata,
absurd nesting, byte-order marks, empty files, compressed files, symlink loops and the same
file named twice. Every case ends as counted rows (or counted files), never as an exception."""

from __future__ import annotations

import bz2
import collections
import gzip
import logging
import lzma
import os
from collections.abc import Callable
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from parallelprompt.producer.batches import Broken, from_rows
from parallelprompt.producer.errors import IngestError
from parallelprompt.producer.extract import TextRules
from parallelprompt.producer.layouts import SPECS, Layout
from parallelprompt.producer.normalise import has_invalid_unicode
from parallelprompt.producer.pipeline import RowRules, build_staged
from parallelprompt.producer.readers import parse_line
from parallelprompt.producer.schemas import LMSYS_SCHEMA, lmsys_row
from parallelprompt.settings import Settings
from tests.producer.conftest import ingest_sync, query, write_jsonl

Make = Callable[..., Settings]

PROMPTS = [
    "Give me 5 slogans for a bakery",
    "Translate these sentences into French: a. b.",
    "给我写5个关于咖啡店的广告语",
    "List 4 ways to save money on groceries.",
]


def lmsys_rows() -> list[dict[str, object]]:
    return [
        {
            "conversation_id": f"c{i}",
            "model": "vicuna-13b",
            "language": "English",
            "conversation": [
                {"role": "user", "content": p},
                {"role": "assistant", "content": "Sure."},
            ],
            "redacted": False,
        }
        for i, p in enumerate(PROMPTS)
    ]


def jsonl_bytes(rows: list[dict[str, object]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in rows)


def stored(db: Path) -> list[tuple[object, ...]]:
    return query(
        db,
        "SELECT s.row_index, s.conversation_id, s.language, s.model, w.prompt "
        "FROM sources s JOIN work w ON w.id = s.work_id ORDER BY s.row_index",
    )


# -- bad bytes and lone surrogates in metadata ------------------------------------------------


def test_invalid_unicode_in_jsonl_metadata_is_repaired_and_counted(
    make_settings: Make, tmp_path: Path, db_path: Path
) -> None:
    good = jsonl_bytes(lmsys_rows()[:2])
    bad = (
        b'{"conversation_id": "id\\ud800x", "model": "m", "language": "English", '
        b'"conversation": [{"role": "user", "content": "Write 3 haikus about rain"}]}\n'
        b'{"conversation_id": "c3", "model": "gpt\xff-4", "language": "Eng\xfelish", '
        b'"conversation": [{"role": "user", "content": "Write 3 limericks about snow"}]}\n'
        b'{"conversation_id": "c4", "model": "m", "language": "\\udfff", '
        b'"conversation": [{"role": "user", "content": "Bad \\ud800 prompt and \xff byte"}]}\n'
    )
    path = tmp_path / "meta.jsonl"
    path.write_bytes(good + bad)
    s = ingest_sync(make_settings(data_files=[path], layout="lmsys"), progress=False)
    assert (s.rows_read, s.kept, s.skipped) == (5, 5, {})
    # three rows had bad metadata; the last one also a bad prompt (counted apart)
    assert s.flagged == {"invalid_unicode_replaced": 1, "metadata_unicode_replaced": 3}
    rows = stored(db_path)
    assert rows[2][1:] == ("id\ufffdx", "English", "m", "Write 3 haikus about rain")
    assert rows[3][1:] == ("c3", "Eng\ufffdlish", "gpt\ufffd-4", "Write 3 limericks about snow")
    assert rows[4][1:] == ("c4", "\ufffd", "m", "Bad \ufffd prompt and \ufffd byte")


def _with_bad_bytes(table: pa.Table, column: str, row: int, value: bytes) -> pa.Table:
    values = [v.encode() for v in table.column(column).to_pylist()]
    values[row] = value
    bad = pa.array(values, pa.binary()).view(pa.string())  # not validated: as a hostile writer
    return table.set_column(table.schema.get_field_index(column), column, bad)


def test_invalid_utf8_in_parquet_is_repaired_and_counted(
    make_settings: Make, tmp_path: Path, db_path: Path
) -> None:
    rows = [lmsys_row(f"c{i}", [("user", p), ("assistant", "ok")]) for i, p in enumerate(PROMPTS)]
    table = pa.Table.from_pylist(rows, schema=LMSYS_SCHEMA)
    table = _with_bad_bytes(table, "conversation_id", 1, b"id\xff")
    table = _with_bad_bytes(table, "model", 2, b"\xc3(")
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path)
    s = ingest_sync(make_settings(data_files=[path]), progress=False)
    assert (s.rows_read, s.kept, s.skipped) == (4, 4, {})
    assert s.flagged == {"metadata_unicode_replaced": 2}
    got = stored(db_path)
    assert got[1][1] == "id\ufffd" and got[2][3] == "\ufffd("
    assert [r[4] for r in got] == PROMPTS


def test_invalid_utf8_in_a_parquet_prompt_is_repaired_as_in_jsonl(
    make_settings: Make, tmp_path: Path, db_path: Path
) -> None:
    rows = [lmsys_row("c0", [("user", "placeholder text"), ("assistant", "ok")])]
    rows += [lmsys_row("c1", [("user", PROMPTS[0]), ("assistant", "ok")])]
    table = pa.Table.from_pylist(rows, schema=LMSYS_SCHEMA)
    conv = table.column("conversation").combine_chunks()
    flat = conv.flatten()
    contents = [c.encode() for c in flat.field("content").to_pylist()]
    contents[0] = b"Write 3 poems \xff about rain"
    messages = pa.StructArray.from_arrays(
        [pa.array(contents, pa.binary()).view(pa.string()), flat.field("role")],
        ["content", "role"],
    )
    table = table.set_column(
        table.schema.get_field_index("conversation"),
        "conversation",
        pa.ListArray.from_arrays(conv.offsets, messages),
    )
    path = tmp_path / "badprompt.parquet"
    pq.write_table(table, path)
    s = ingest_sync(make_settings(data_files=[path]), progress=False)
    assert (s.rows_read, s.kept, s.flagged) == (2, 2, {"invalid_unicode_replaced": 1})
    assert stored(db_path)[0][4] == "Write 3 poems \ufffd about rain"


# -- lines that cannot be rows ----------------------------------------------------------------


def test_a_line_nested_100k_deep_is_a_broken_line(
    make_settings: Make, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deep_array = b"[" * 100_000 + b"]" * 100_000
    deep_object = b'{"conversation": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    deep_bad_bytes = b'{"x": "\xff", "y": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    deep_id = (  # within orjson's limit, too deep for str(): no conversation id
        b'{"conversation_id": ' + b"[" * 1000 + b"]" * 1000 + b', "conversation": '
        b'[{"role": "user", "content": "Name 3 rivers of Europe"}]}\n'
    )
    path = tmp_path / "deep.jsonl"
    path.write_bytes(
        jsonl_bytes(lmsys_rows()[:2])
        + b"\n".join((deep_array, deep_object, deep_bad_bytes))
        + b"\n"
        + jsonl_bytes(lmsys_rows()[2:])
        + deep_id
    )
    with caplog.at_level(logging.WARNING, logger="producer"):
        s = ingest_sync(make_settings(data_files=[path], layout="lmsys"), progress=False)
    assert (s.rows_read, s.kept, s.skipped) == (8, 5, {"broken_line": 3})
    assert f"{path}:3" in caplog.text and f"{path}:5" in caplog.text


@given(st.binary(max_size=200))
def test_parse_line_never_raises(line: bytes) -> None:
    parse_line(line, "f:1")  # a value or a Broken marker, never an exception
    parse_line(b"[" * 5000 + line, "f:2")


def test_parse_line_marks_absurd_nesting_broken() -> None:
    assert isinstance(parse_line(b"[" * 100_000 + b"]" * 100_000, "f:1"), Broken)
    assert isinstance(parse_line(b'["\xff", ' + b"[" * 100_000 + b"]" * 100_001, "f:1"), Broken)


def test_utf8_bom_keeps_the_first_row(make_settings: Make, tmp_path: Path, db_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(bom + jsonl_bytes(lmsys_rows()))
    array = tmp_path / "bom_array.json"
    array.write_bytes(bom + orjson.dumps(lmsys_rows()))
    s = ingest_sync(make_settings(data_files=[jsonl]), progress=False)
    assert (s.rows_read, s.kept, s.skipped) == (4, 4, {})
    assert s.sources == ("lmsys:bom",)  # the layout was detected from the first line too
    s = ingest_sync(make_settings(data_files=[array]), progress=False)
    assert (s.rows_read, s.kept, s.skipped) == (4, 4, {})


# -- files ------------------------------------------------------------------------------------


def test_empty_files_do_not_abort_a_folder(
    make_settings: Make, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "dump"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", lmsys_rows())
    for name in ("b.jsonl", "c.parquet", "d.json", "e.jsonl.gz"):
        (folder / name).write_bytes(b"")
    (folder / "f.jsonl").write_bytes(b"\n  \n")  # blank lines only: no rows either
    (folder / "g.jsonl").write_bytes(b"not json\n[1, 2]\n\xff\xfe\n")  # rows, no object
    with caplog.at_level(logging.WARNING, logger="producer"):
        s = ingest_sync(make_settings(data_files=[folder]), progress=False)
    assert (s.rows_read, s.kept) == (7, 4)
    assert s.skipped == {"broken_line": 2, "not_an_object": 1}
    assert s.sources == ("lmsys:dump",)
    assert s.files_skipped == {"empty_file": 5}
    assert "empty_file 5" in s.line()
    assert str(folder / "c.parquet") in caplog.text


def _compress(data: bytes, suffix: str) -> bytes:
    if suffix == ".gz":
        return gzip.compress(data)
    if suffix == ".bz2":
        return bz2.compress(data)
    if suffix == ".xz":
        return lzma.compress(data)
    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("suffix", [".gz", ".zst", ".bz2", ".xz"])
def test_compressed_jsonl_and_json_are_read(
    make_settings: Make, tmp_path: Path, db_path: Path, suffix: str
) -> None:
    rows = lmsys_rows()
    folder = tmp_path / "packed"
    folder.mkdir()
    (folder / f"a.jsonl{suffix}").write_bytes(_compress(jsonl_bytes(rows), suffix))
    (folder / f"b.json{suffix}").write_bytes(_compress(orjson.dumps(rows), suffix))
    (folder / f"c.ndjson{suffix}").write_bytes(_compress(jsonl_bytes(rows[:1]), suffix))
    # several streams one after the other (as `cat a.gz b.gz` or a multi-frame zstd writer)
    two = _compress(jsonl_bytes(rows[:3]), suffix) + _compress(jsonl_bytes(rows[3:]), suffix)
    (folder / f"d.jsonl{suffix}").write_bytes(two)
    s = ingest_sync(make_settings(data_files=[folder]), progress=False)
    assert (s.rows_read, s.kept, s.new_prompts, s.skipped) == (13, 13, 4, {})
    assert s.sources == ("lmsys:packed",)
    assert query(db_path, "SELECT inputs FROM ingests")[0][0].count(suffix) == 4


def test_a_truncated_compressed_file_keeps_its_rows_and_counts_the_rest(
    make_settings: Make, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [
        {**lmsys_rows()[i % 4], "conversation_id": f"r{i}", "conversation": [
            {"role": "user", "content": f"Write {i} short poems about the sea, please"}
        ]}
        for i in range(2000)
    ]  # fmt: skip
    data = gzip.compress(jsonl_bytes(rows))
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    whole = write_jsonl(tmp_path / "whole.jsonl", lmsys_rows())
    with caplog.at_level(logging.WARNING, logger="producer"):
        s = ingest_sync(make_settings(data_files=[cut, whole], source_name="mixed"), progress=False)
    assert s.skipped.get("unreadable_rest") == 1
    assert 0 < s.kept - 4 < 2000
    assert s.rows_read == s.kept + sum(s.skipped.values())
    assert f"{cut}" in caplog.text
    data = gzip.compress(jsonl_bytes(rows[:30]))  # cut within the rows read to find the layout
    cut.write_bytes(data[: len(data) * 2 // 3])
    s = ingest_sync(make_settings(data_files=[cut], source_name="short"), progress=False)
    assert s.skipped == {"unreadable_rest": 1} and 0 < s.kept < 30
    cut.write_bytes(b"plain text, not gzip\n")
    with pytest.raises(IngestError, match=r"cut\.jsonl\.gz: not a readable gzip file"):
        ingest_sync(make_settings(data_files=[cut], source_name="bad"), progress=False)


def test_symlink_loops_are_detected_not_followed(
    make_settings: Make, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    top = tmp_path / "top"
    (top / "sub").mkdir(parents=True)
    write_jsonl(top / "sub" / "a.jsonl", lmsys_rows())
    (top / "sub" / "loop").symlink_to(top)  # sub/loop/sub/loop/... back to top
    with caplog.at_level(logging.WARNING, logger="producer"):
        for entry in (top, f"{top}/**/*.jsonl"):
            s = ingest_sync(make_settings(data_files=[entry], source_name="x"), progress=False)
            assert s.rows_read == 4, entry
            assert s.files_skipped == {"symlink_loop": 1}
    assert "symlink loop" in caplog.text
    # two loops: following them would take 2**40 steps
    (top / "sub" / "loop2").symlink_to(top / "sub")
    s = ingest_sync(
        make_settings(data_files=[f"{top}/**/*.jsonl"], source_name="y"), progress=False
    )
    assert s.rows_read == 4 and s.files_skipped == {"symlink_loop": 2}


def test_the_same_file_twice_is_read_once(
    make_settings: Make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_jsonl(tmp_path / "chats.jsonl", lmsys_rows())
    (tmp_path / "alias.jsonl").symlink_to(path)
    monkeypatch.chdir(tmp_path)
    s = ingest_sync(
        make_settings(data_files=["chats.jsonl", str(path), str(tmp_path / "alias.jsonl")]),
        progress=False,
    )
    assert (s.rows_read, s.kept) == (4, 4)
    assert s.files_skipped == {"duplicate_file": 2}
    folder = tmp_path / "f"
    folder.mkdir()
    os.link(path, folder / "hard.jsonl")  # a hard link is a second name of the same file
    (folder / "soft.jsonl").symlink_to(path)
    s = ingest_sync(make_settings(data_files=[folder], source_name="again"), progress=False)
    assert (s.rows_read, s.files_skipped) == (4, {"duplicate_file": 1})


# -- any JSON at all --------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(st.characters(codec=None, blacklist_categories=()), max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def _row_like(spec_layout: Layout) -> st.SearchStrategy[object]:
    spec = SPECS[spec_layout]
    message = st.dictionaries(
        st.sampled_from([spec.role_key, spec.content_key, "x"]), json_values, max_size=3
    ) | st.fixed_dictionaries(
        {spec.role_key: st.sampled_from(sorted(spec.user_roles)) | json_values,
         spec.content_key: json_values}
    )  # fmt: skip
    keys = [spec.conversation, *spec.metadata_columns]
    if spec.moderation_column:
        keys.append(spec.moderation_column)
    conversation = st.lists(message | json_values, max_size=4) | json_values
    return (
        st.dictionaries(st.sampled_from(keys), json_values, max_size=6).flatmap(
            lambda d: conversation.map(lambda c: {**d, spec.conversation: c})
        )
        | json_values
    )


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(list(Layout)).flatmap(lambda lay: st.tuples(
    st.just(lay), st.lists(_row_like(lay), min_size=1, max_size=6))))  # fmt: skip
def test_any_json_rows_are_judged_never_raised(case: tuple[Layout, list[object]]) -> None:
    layout, rows = case
    rules = RowRules(TextRules(), frozenset({"english"}), drop_toxic=True, drop_redacted=True)
    for r in (rules, RowRules(TextRules(), None, drop_toxic=False, drop_redacted=False)):
        skipped: collections.Counter[str] = collections.Counter()
        flagged: collections.Counter[str] = collections.Counter()
        staged = build_staged(from_rows(list(rows), SPECS[layout]), 0, r, skipped, flagged)
        assert len(staged) + sum(skipped.values()) == len(rows)
        # what reaches SQLite is valid text
        for value in (*staged.prompt, *staged.conversation_id, *staged.language, *staged.model):
            assert value is None or not has_invalid_unicode(value)


def test_file_names_with_undecodable_bytes(
    make_settings: Make, tmp_path: Path, db_path: Path
) -> None:
    folder = os.fsdecode(os.fsencode(tmp_path) + b"/d\xffir")  # as argv gives it
    os.mkdir(folder)
    write_jsonl(Path(os.fsdecode(os.fsencode(folder) + b"/ch\xfeats.jsonl")), lmsys_rows())
    s = ingest_sync(make_settings(data_files=[folder]), progress=False)
    assert (s.rows_read, s.kept, s.sources) == (4, 4, ("lmsys:d\ufffdir",))
    (inputs,) = query(db_path, "SELECT inputs FROM ingests")[0]
    assert orjson.loads(inputs)[0].endswith("/d\ufffdir/ch\ufffdats.jsonl")
