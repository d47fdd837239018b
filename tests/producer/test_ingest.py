"""Ingest end to end: real-schema files in, work and sources rows out (a real SQLite file)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parallelprompt.producer.errors import IngestError
from parallelprompt.producer.layouts import Layout
from parallelprompt.producer.readers import hub_input, open_hub
from parallelprompt.producer.schemas import (
    LMSYS_SCHEMA,
    WILDCHAT_SCHEMA,
    lmsys_row,
    wildchat_row,
    write_parquet,
)
from parallelprompt.settings import Settings
from tests.producer.conftest import ingest_on, ingest_sync, query, write_jsonl

Make = Callable[..., Settings]


def chat(prompt: str | None) -> list[tuple[str, str | None]]:
    return [("user", prompt), ("assistant", "Sure.")]


@pytest.fixture
def lmsys_file(tmp_path: Path) -> Path:
    rows = [
        lmsys_row("c0", chat("Give me 5 slogans for a bakery"), language="English"),
        lmsys_row("c1", chat("Translate these sentences into French: a. b."), redacted=True),
        lmsys_row("c2", chat("给我写5个关于咖啡店的广告语"), language="Chinese", flagged=True),
        lmsys_row("c3", [("assistant", "hi"), ("user", "What is the capital of France?")]),
        lmsys_row("c4", chat("hi")),
        lmsys_row("c5", None),
        lmsys_row("c6", chat("Give me 5 slogans  for a bakery ")),  # duplicate once normalised
    ]
    return write_parquet(rows, LMSYS_SCHEMA, tmp_path / "lmsys.parquet")


@pytest.fixture
def wildchat_file(tmp_path: Path) -> Path:
    rows = [
        wildchat_row("h0", chat("Give me 5 slogans for a bakery"), language="English"),
        wildchat_row("h1", chat("Напиши 3 слогана для школы"), language="Russian", toxic=True),
        wildchat_row("h2", chat("List 4 ways to save money on groceries."), redacted=True),
        wildchat_row("h3", chat("   \n ")),
    ]
    return write_parquet(rows, WILDCHAT_SCHEMA, tmp_path / "wildchat.parquet")


def test_real_schemas_are_written(lmsys_file: Path, wildchat_file: Path) -> None:
    w = pq.ParquetFile(wildchat_file).schema_arrow
    assert w.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert w.field("header").type.num_fields == 2
    assert pq.ParquetFile(lmsys_file).schema_arrow.equals(LMSYS_SCHEMA)


def test_lmsys_parquet(make_settings: Make, lmsys_file: Path, db_path: Path) -> None:
    s = ingest_sync(make_settings(data_files=[lmsys_file]), progress=False)
    assert (s.rows_read, s.kept, s.new_prompts, s.duplicates) == (7, 5, 4, 1)
    assert s.skipped == {"too_short": 1, "no_conversation": 1}
    assert s.rows_read == s.kept + sum(s.skipped.values())
    assert s.sources == ("lmsys:lmsys",)  # a local file: layout and file stem
    rows = query(
        db_path,
        "SELECT s.row_index, s.conversation_id, s.language, s.model, s.toxic, s.redacted, "
        "w.prompt FROM sources s JOIN work w ON w.id = s.work_id ORDER BY s.row_index",
    )
    assert [r[0] for r in rows] == [0, 1, 2, 3, 6]
    assert rows[0][1:4] == ("c0", "English", "vicuna-13b")
    assert rows[1][5] == 1 and rows[2][4] == 1  # redacted; toxic from openai_moderation
    assert rows[3][6] == "What is the capital of France?"  # first turn was the assistant's
    assert rows[4][6] == "Give me 5 slogans for a bakery"  # points at the first copy
    assert "5 duplicates" not in s.line() and "1 duplicates" in s.line()


def test_dedup_across_datasets_keeps_provenance(
    make_settings: Make, lmsys_file: Path, wildchat_file: Path, db_path: Path
) -> None:
    ingest_sync(make_settings(data_files=[lmsys_file]), progress=False)
    s = ingest_sync(make_settings(data_files=[wildchat_file]), progress=False)
    assert s.sources == ("wildchat:wildchat",)
    assert s.kept == 3 and s.new_prompts == 2 and s.duplicates == 1
    found = query(
        db_path,
        "SELECT s.source, s.conversation_id FROM sources s JOIN work w ON w.id = s.work_id "
        "WHERE w.prompt = 'Give me 5 slogans for a bakery' ORDER BY s.source, s.row_index",
    )
    assert found == [
        ("lmsys:lmsys", "c0"),
        ("lmsys:lmsys", "c6"),
        ("wildchat:wildchat", "h0"),
    ]
    ingests = query(db_path, "SELECT source, layout, finished_at IS NOT NULL FROM ingests")
    assert ingests == [("lmsys:lmsys", "lmsys", 1), ("wildchat:wildchat", "wildchat", 1)]


def test_reingest_adds_nothing_and_says_so(
    make_settings: Make, lmsys_file: Path, db_path: Path
) -> None:
    settings = make_settings(data_files=[lmsys_file])
    ingest_sync(settings, progress=False)
    before = query(db_path, "SELECT count(*) FROM work")[0][0]
    again = ingest_sync(settings, progress=False)
    assert (again.new_prompts, again.new_sources, again.known_sources) == (0, 0, 5)
    assert "nothing new" in again.line()
    assert query(db_path, "SELECT count(*) FROM work")[0][0] == before
    assert query(db_path, "SELECT count(*) FROM sources")[0][0] == 5


def test_filters(make_settings: Make, lmsys_file: Path, wildchat_file: Path) -> None:
    files = [lmsys_file, wildchat_file]
    s = ingest_sync(make_settings(data_files=files, languages=["english"]), progress=False)
    assert s.skipped["filtered_language"] == 2
    s = ingest_sync(make_settings(data_files=files, drop_toxic=True), progress=False)
    assert s.skipped["filtered_toxic"] == 2  # LMSYS moderation flag, WildChat toxic column
    s = ingest_sync(make_settings(data_files=files, drop_redacted=True), progress=False)
    assert s.skipped["filtered_redacted"] == 2
    s = ingest_sync(make_settings(data_files=files, min_chars=31), progress=False)
    assert s.skipped["too_short"] == 6  # the stored prompt keeps inner double spaces
    s = ingest_sync(make_settings(data_files=files, max_chars=20), progress=False)
    assert s.flagged == {"oversized": 7}


def test_limit_and_skip_keep_row_indices(
    make_settings: Make, lmsys_file: Path, wildchat_file: Path, db_path: Path
) -> None:
    # Same source for both files: the index runs on across the sorted file list.
    s = ingest_sync(
        make_settings(data_files=[wildchat_file, lmsys_file], source_name="mix", skip=5, limit=4),
        progress=False,
    )
    assert s.rows_read == 4 and s.sources == ("mix",)
    got = query(db_path, "SELECT row_index, conversation_id FROM sources ORDER BY row_index")
    # lmsys.parquet sorts first (7 rows): rows 5, 6 are c5 (no conversation) and c6, then
    # wildchat rows 7, 8 are h0, h1.
    assert got == [(6, "c6"), (7, "h0"), (8, "h1")]
    layout = query(db_path, "SELECT layout FROM ingests")
    assert layout == [("lmsys+wildchat",)]


def test_batches_and_limits_across_chunks(
    make_settings: Make, tmp_path: Path, db_path: Path
) -> None:
    rows = [lmsys_row(f"c{i}", chat(f"Prompt number {i} is here")) for i in range(95)]
    path = tmp_path / "many.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=LMSYS_SCHEMA), path, row_group_size=20)
    s = ingest_sync(
        make_settings(data_files=[path], batch_rows=7, skip=33, limit=50), progress=False
    )
    assert s.kept == 50
    got = [r[0] for r in query(db_path, "SELECT row_index FROM sources ORDER BY row_index")]
    assert got == list(range(33, 83))


def test_sharegpt_and_wildchat_jsonl_every_bad_input_counted(
    make_settings: Make, tmp_path: Path, caplog: pytest.LogCaptureFixture, db_path: Path
) -> None:
    good = {"id": 1, "conversations": [{"from": "human", "value": "Write 3 haikus about rain"}]}
    rows: list[object] = [
        good,
        {
            "id": "s",
            "conversations": [
                {"from": "system", "value": "x"},
                {"from": "human", "value": "List 5 fruits please"},
            ],
        },
        {"id": "g", "conversations": [{"from": "gpt", "value": "hello"}]},
        {"id": "n"},
        {"id": "l", "conversations": "not a list"},
        {"id": "c", "conversations": [{"from": "human", "value": None}]},
        {"id": "i", "conversations": [{"from": "human", "value": 12345678901}]},
        {"id": "w", "conversations": [{"from": "human", "value": " \n\t "}]},
        {"id": "t", "conversations": [{"from": "human", "value": "hey"}]},
        {"id": "z", "conversations": [{"from": "human", "value": "Nul\x00 byte prompt here"}]},
        {"id": "big", "conversations": [{"from": "human", "value": "A" * 1_000_000}]},
        [1, 2, 3],
    ]
    path = write_jsonl(tmp_path / "share.jsonl", rows)
    with path.open("ab") as fh:
        fh.write(b'{"id": "broken", "conversations": [\n')  # line 13
        fh.write(b"\n")  # blank lines are not rows
        fh.write(
            b'{"id": "u", "conversations": [{"from": "human", "value": "bad \\ud800 one!"}]}\n'
        )
        fh.write(b'{"id": "b", "conversations": [{"from": "human", "value": "bytes \xff here"}]}\n')
    with caplog.at_level(logging.WARNING, logger="producer"):
        s = ingest_sync(make_settings(data_files=[path], layout="sharegpt"), progress=False)
    assert s.skipped == {
        "broken_line": 1,
        "conversation_not_list": 1,
        "no_conversation": 1,
        "no_user_turn": 1,
        "non_string_content": 1,
        "not_an_object": 1,
        "null_content": 1,
        "too_short": 1,
        "whitespace_only": 1,
    }
    assert s.flagged == {"invalid_unicode_replaced": 2, "nul_removed": 1, "oversized": 1}
    assert s.kept == 6 and s.rows_read == 15 == s.kept + sum(s.skipped.values())
    assert f"{path}:13" in caplog.text
    stored = dict(query(db_path, "SELECT conversation_id, prompt FROM sources JOIN work "
                                 "ON work.id = sources.work_id"))  # fmt: skip
    assert stored["s"] == "List 5 fruits please" and stored["1"] == "Write 3 haikus about rain"
    assert stored["u"] == "bad \ufffd one!" and stored["b"] == "bytes \ufffd here"
    assert len(stored["big"]) == 1_000_000
    assert query(db_path, "SELECT flags FROM work WHERE chars = 1000000") == [(1,)]
    assert s.sources == ("sharegpt:share",)


def test_wildchat_jsonl_matches_parquet(
    make_settings: Make, tmp_path: Path, wildchat_file: Path
) -> None:
    table = pq.read_table(wildchat_file)
    rows = table.to_pylist()
    for r in rows:  # JSON has no timestamps: ISO strings, as the hub's JSON exports do
        r["timestamp"] = r["timestamp"].isoformat()
        for m in r["conversation"]:
            m["timestamp"] = m["timestamp"].isoformat() if m["timestamp"] else None
    jsonl = write_jsonl(tmp_path / "wildchat.jsonl", rows)
    a = ingest_sync(make_settings(data_files=[wildchat_file]), progress=False)
    b = ingest_sync(make_settings(data_files=[jsonl], source_name="again"), progress=False)
    assert (a.kept, a.skipped) == (b.kept, b.skipped)
    assert b.new_prompts == 0  # same dedup keys from both paths


def test_truncated_parquet_is_an_error_and_nothing_is_written(
    make_settings: Make, lmsys_file: Path, tmp_path: Path, db_path: Path
) -> None:
    data = lmsys_file.read_bytes()
    bad = tmp_path / "z_truncated.parquet"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(IngestError, match=r"z_truncated\.parquet: not a readable Parquet"):
        ingest_sync(make_settings(data_files=[lmsys_file, bad]), progress=False)
    assert not db_path.exists()


def test_user_errors(make_settings: Make, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file or folder"):
        ingest_sync(make_settings(data_files=[tmp_path / "missing.parquet"]), progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match=r"no \.parquet, \.jsonl or \.json files"):
        ingest_sync(make_settings(data_files=[tmp_path / "empty"]), progress=False)
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"text": "hello", "label": 1}])
    with pytest.raises(IngestError, match="pass --layout"):
        ingest_sync(make_settings(data_files=[odd]), progress=False)


def test_folder_of_shards(make_settings: Make, tmp_path: Path, lmsys_file: Path) -> None:
    shards = tmp_path / "data"
    shards.mkdir()
    lmsys_file.rename(shards / "train-00000-of-00002.parquet")
    write_parquet(
        [lmsys_row("d0", chat("Another prompt that is long"))],
        LMSYS_SCHEMA,
        shards / "train-00001-of-00002.parquet",
    )
    s = ingest_sync(
        make_settings(data_files=[shards], dataset="lmsys/lmsys-chat-1m"), progress=False
    )
    assert s.rows_read == 8 and s.sources == ("lmsys/lmsys-chat-1m",)


def test_hub_named_shards_keep_the_dataset_name(
    make_settings: Make, tmp_path: Path, lmsys_file: Path, db_path: Path
) -> None:
    """Files named like the hub's shards are recorded under the layout's dataset id, with row
    indices across the sorted shards, as a streamed ingest of the split records them."""
    shards = tmp_path / "data"
    shards.mkdir()
    lmsys_file.rename(shards / "train-00000-of-00002.parquet")
    write_parquet(
        [lmsys_row("d0", chat("Another prompt that is long"))],
        LMSYS_SCHEMA,
        shards / "train-00001-of-00002.parquet",
    )
    s = ingest_sync(make_settings(data_files=[shards]), progress=False)
    assert s.sources == ("lmsys/lmsys-chat-1m",)
    assert query(db_path, "SELECT max(row_index) FROM sources") == [(7,)]


def sharegpt_rows(*prompts: str) -> list[dict[str, object]]:
    return [
        {"id": f"r{i}", "conversations": [{"from": "human", "value": p}]}
        for i, p in enumerate(prompts)
    ]


def test_two_files_of_one_layout_keep_their_provenance(
    make_settings: Make, tmp_path: Path, db_path: Path
) -> None:
    """Two different ShareGPT files ingested in separate runs: each is its own source, so
    the second file's rows are recorded (not taken for the first file's row indices)."""
    a = write_jsonl(
        tmp_path / "first.jsonl", sharegpt_rows("List 5 fruits please", "Name 3 rivers now")
    )
    b = write_jsonl(
        tmp_path / "second.jsonl", sharegpt_rows("Write 4 haikus on snow", "List 5 fruits please")
    )
    ingest_sync(make_settings(data_files=[a]), progress=False)
    s = ingest_sync(make_settings(data_files=[b]), progress=False)
    assert s.sources == ("sharegpt:second",)
    assert (s.kept, s.new_prompts, s.new_sources, s.known_sources) == (2, 1, 2, 0)
    assert "nothing new" not in s.line()
    assert query(db_path, "SELECT count(*) FROM work w WHERE NOT EXISTS "
                          "(SELECT 1 FROM sources s WHERE s.work_id = w.id)") == [(0,)]  # fmt: skip
    assert query(db_path, "SELECT source, row_index FROM sources ORDER BY source, row_index") == [
        ("sharegpt:first", 0), ("sharegpt:first", 1), ("sharegpt:second", 0), ("sharegpt:second", 1)
    ]  # fmt: skip
    again = ingest_sync(make_settings(data_files=[b]), progress=False)  # the same file: a no-op
    assert (again.new_prompts, again.new_sources, again.skipped) == (0, 0, {})
    assert "nothing new: all 2 kept rows were already recorded" in again.line()


def test_folder_is_one_source_and_globs_name_their_folder(
    make_settings: Make, tmp_path: Path, db_path: Path
) -> None:
    folder = tmp_path / "dump"
    folder.mkdir()
    write_jsonl(folder / "b.jsonl", sharegpt_rows("Write 4 haikus on snow"))
    write_jsonl(folder / "a.jsonl", sharegpt_rows("List 5 fruits please", "Name 3 rivers now"))
    s = ingest_sync(make_settings(data_files=[folder]), progress=False)
    assert s.sources == ("sharegpt:dump",)
    rows = query(db_path, "SELECT row_index, conversation_id FROM sources ORDER BY row_index")
    assert rows == [(0, "r0"), (1, "r1"), (2, "r0")]  # across the sorted files: a, then b
    again = ingest_sync(make_settings(data_files=[str(folder / "*.jsonl")]), progress=False)
    assert again.sources == ("sharegpt:dump",) and again.new_sources == 0


def test_clashing_row_indices_are_reported_not_dropped_silently(
    make_settings: Make, tmp_path: Path, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A different input under a source name already used: rows whose index is recorded for
    another prompt are not stored (no prompt without provenance), counted and warned about."""
    a = write_jsonl(
        tmp_path / "a.jsonl", sharegpt_rows("List 5 fruits please", "Name 3 rivers now")
    )
    b = write_jsonl(
        tmp_path / "b.jsonl",
        sharegpt_rows("Write 4 haikus on snow", "Name 3 rivers now", "Give 2 tips for sleep"),
    )
    ingest_sync(make_settings(data_files=[a], source_name="chats"), progress=False)
    with caplog.at_level(logging.WARNING, logger="producer"):
        s = ingest_sync(make_settings(data_files=[b], source_name="chats"), progress=False)
    assert s.skipped == {"source_row_conflict": 1}  # row 0; row 1 is the same prompt
    assert (s.rows_read, s.kept, s.new_prompts, s.new_sources) == (3, 2, 1, 1)
    assert s.rows_read == s.kept + sum(s.skipped.values())
    assert "already recorded for a different prompt" in caplog.text
    assert "WARNING 1 rows not stored" in s.line()
    assert "nothing new" not in s.line()
    prompts = {p for (p,) in query(db_path, "SELECT prompt FROM work")}
    assert "Write 4 haikus on snow" not in prompts  # not added without its provenance
    (recorded,) = query(db_path, "SELECT skipped_json FROM ingests ORDER BY id DESC LIMIT 1")
    assert json.loads(recorded[0]) == {"source_row_conflict": 1}


def test_offline_hub_id_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)

    def no_pause(seconds: float) -> None:  # fails fast: no retry that waits between tries
        raise AssertionError(f"paused {seconds} s before retrying an offline hub")

    monkeypatch.setattr(time, "sleep", no_pause)
    with pytest.raises(IngestError, match="cannot reach the Hugging Face hub for lmsys") as err:
        open_hub("lmsys/lmsys-chat-1m", "train", None)
    assert "--data-files" in str(err.value)


async def test_streaming_dataset_path(
    make_settings: Make, lmsys_file: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub code path (datasets streaming, Arrow format), fed a local streaming dataset."""
    import datasets

    ds = datasets.load_dataset("parquet", data_files=str(lmsys_file), split="train", streaming=True)
    monkeypatch.setattr(
        "parallelprompt.producer.plan.open_hub",
        lambda d, split, layout: hub_input(ds, d, split, layout),
    )
    s = await ingest_on(make_settings(dataset="lmsys/lmsys-chat-1m", skip=1), progress=False)
    assert (s.rows_read, s.kept, s.sources) == (6, 4, ("lmsys/lmsys-chat-1m",))
    got = query(db_path, "SELECT row_index, toxic FROM sources ORDER BY row_index")
    assert got == [(1, 0), (2, 1), (3, 0), (6, 0)]
    assert hub_input(ds, "x", "train", None).layout is Layout.LMSYS


def test_offline_hub_id_from_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "parallelprompt", "ingest", "--db", str(tmp_path / "x.db"),
         "--dataset", "lmsys/lmsys-chat-1m"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(
        "parallelprompt ingest: cannot reach the Hugging Face hub for lmsys/"
    )
    assert not (tmp_path / "x.db").exists()
