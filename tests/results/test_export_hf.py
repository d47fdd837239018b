"""Exports that join the published dataset: several tiers, the published dtypes, and a
dataset folder in the Hub's layout that ``datasets.load_dataset(folder)`` reads."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from datasets import Dataset, Features, Sequence, Value, concatenate_datasets, load_dataset

from parallelprompt.cli import main
from parallelprompt.db import connect_sync
from parallelprompt.results.export import PUBLISHED_COLUMNS
from parallelprompt.results.export import export as export_any
from parallelprompt.results.stats import PASSED_TIERS


def export(conn: sqlite3.Connection, out: Path, **kw: Any) -> int:
    """The fixture's run was answered by the emulator: exported knowingly."""
    return export_any(conn, out, include_emulator=True, **kw)


#: The published ParallelPrompt dataset card's features (data: string, n: float64).
PUBLISHED = Features(
    {
        "source": Value("string"),
        "source_index": Value("int64"),
        "prompt": Value("string"),
        "parallelizable": Value("bool"),
        "category": Value("string"),
        "is_novel_category": Value("bool"),
        "category_description": Value("string"),
        "serial": Value("string"),
        "template": Value("string"),
        "context": Value("string"),
        "data": Value("string"),
        "n": Value("float64"),
        "validation_passed": Value("bool"),
        "validation_tier": Value("string"),
    }
)


def _published_row() -> Dataset:
    row: dict[str, list[Any]] = {name: [None] for name in PUBLISHED}
    row.update(
        source=["lmsys/lmsys-chat-1m"],
        source_index=[7],
        prompt=["Give me 3 names for a cat"],
        data=['["a", "b", "c"]'],
        n=[3.0],
        validation_passed=[True],
        validation_tier=["high_confidence"],
    )
    return Dataset.from_dict(row, features=PUBLISHED)


def _front_matter(readme: Path) -> dict[str, Any]:
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    meta: dict[str, Any] = yaml.safe_load(text.split("---\n")[1])
    return meta


def test_several_tiers_and_passed(results_db: Path, tmp_path: Path) -> None:
    conn = connect_sync(results_db)
    out = tmp_path / "x.jsonl"
    high = export(conn, out, fmt="jsonl", tier="high_confidence")
    medium = export(conn, out, fmt="jsonl", tier=["medium_confidence"])
    assert export(conn, out, fmt="jsonl", tier=PASSED_TIERS) == high + medium > 0
    with pytest.raises(ValueError, match="unknown tier 'high'"):
        export(conn, out, fmt="jsonl", tier=["high_confidence", "high"])


def test_hf_folder_loads_and_joins_the_published_dataset(results_db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "hf"
    conn = connect_sync(results_db)
    written = export(conn, folder, fmt="hf", schema="published", tier=PASSED_TIERS, shard_rows=3)
    shards = sorted(p.name for p in (folder / "data").iterdir())
    n = len(shards)
    assert n == -(-written // 3) >= 2
    assert shards == [f"train-{i:05d}-of-{n:05d}.parquet" for i in range(n)]
    meta = _front_matter(folder / "README.md")
    info = meta["dataset_info"]
    assert [f["name"] for f in info["features"]] == list(PUBLISHED_COLUMNS)
    dtypes = {f["name"]: f.get("dtype") for f in info["features"]}
    assert dtypes["data"] == "string" and dtypes["n"] == "float64"
    assert info["splits"] == [
        {"name": "train", "num_bytes": info["dataset_size"], "num_examples": written}
    ]
    assert meta["configs"][0]["data_files"] == [{"split": "train", "path": "data/train-*"}]
    card = (folder / "README.md").read_text(encoding="utf-8")
    for needle in ("us.anthropic.claude-haiku", "validation rules: `default`", "test-v1"):
        assert needle in card
    assert f"| **total** | **{written:,}** |" in card

    ds = load_dataset(str(folder), split="train", cache_dir=str(tmp_path / "cache"))
    assert isinstance(ds, Dataset)
    assert ds.num_rows == written
    assert ds.features == PUBLISHED
    assert set(ds["validation_tier"]) <= set(PASSED_TIERS)
    joined = concatenate_datasets([_published_row(), ds])
    assert joined.num_rows == written + 1


def test_our_schema_does_not_join_the_published_one(results_db: Path, tmp_path: Path) -> None:
    """Why the published schema exists: ours types data and n differently."""
    folder = tmp_path / "ours"
    export(connect_sync(results_db), folder, fmt="hf")
    ds = load_dataset(str(folder), split="train", cache_dir=str(tmp_path / "cache"))
    assert isinstance(ds, Dataset)
    assert ds.features["data"] == Sequence(Value("string")) or ds.features["data"].feature == (
        Value("string")
    )
    assert ds.features["n"] == Value("int64")
    with pytest.raises(ValueError):
        concatenate_datasets([_published_row(), ds])


def test_published_parquet_dtypes(results_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.parquet"
    export(connect_sync(results_db), out, fmt="parquet", schema="published")
    schema = pq.read_schema(out)
    assert str(schema.field("data").type) == "string"
    assert str(schema.field("n").type) == "double"


def test_cli_hf_export(
    results_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "published"
    argv = ["export", "--db", str(results_db), "--format", "hf", "--include-emulator"]
    argv += ["--out", str(folder)]
    assert main([*argv, "--passed", "--schema", "published"]) == 0
    assert "a dataset folder, published schema" in capsys.readouterr().out
    assert (folder / "README.md").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # nothing left over
    assert main([*argv, "--passed"]) == 2  # never into a folder that holds something
    assert "not an empty folder" in capsys.readouterr().err
    again = tmp_path / "again"
    assert main([*argv[:-1], str(again), "--passed", "--tier", "failed"]) == 2
    assert "--passed is --tier" in capsys.readouterr().err
