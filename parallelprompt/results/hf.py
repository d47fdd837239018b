"""An export as a dataset folder in the Hugging Face Hub's conventions.

    OUT/
      README.md                        dataset card: YAML front matter with ``dataset_info``
                                       (features, the train split's size) and ``configs``,
                                       then what produced it (run, model, contract, rules,
                                       backend, filters, counts)
      data/train-00000-of-00003.parquet
      data/train-00001-of-00003.parquet ...

``datasets.load_dataset(OUT)`` reads it, and ``huggingface-cli upload REPO OUT --repo-type
dataset`` publishes it as it is. The shards are written under temporary names while rows
stream in (the total is known only at the end), then renamed.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

SPLIT = "train"
EMULATOR_WARNING = (
    "**These verdicts came from the local Bedrock emulator (heuristics, not a model).** "
    "Do not publish them as model annotations."
)


@dataclass(frozen=True)
class CardFacts:
    """What the dataset card says about where the rows came from."""

    run: Mapping[str, Any] | None
    profile: str | None
    schema: str
    per: str
    filters: Mapping[str, Any]
    sources: list[str] = field(default_factory=list)


def features_yaml(schema: pa.Schema) -> list[dict[str, Any]]:
    """``dataset_info.features`` as the ``datasets`` library writes it for this schema."""
    from datasets import Features

    yaml_list: list[dict[str, Any]] = Features.from_arrow_schema(schema)._to_yaml_list()
    return yaml_list


def _shard_name(i: int, n: int) -> str:
    return f"{SPLIT}-{i:05d}-of-{n:05d}.parquet"


def _write_shards(
    data: Path, chunks: Iterator[pa.Table], schema: pa.Schema, shard_rows: int
) -> tuple[int, list[Path], collections.Counter[str]]:
    """Stream the rows into shards of at most ``shard_rows`` rows (temporary names)."""
    written, tiers = 0, collections.Counter[str]()
    paths: list[Path] = []
    writer: pq.ParquetWriter | None = None
    in_shard = 0
    try:
        for chunk in chunks:
            start = 0
            while start < chunk.num_rows:
                if writer is None or in_shard >= shard_rows:
                    if writer is not None:
                        writer.close()
                    paths.append(data / f".shard-{len(paths):05d}.parquet")
                    writer, in_shard = pq.ParquetWriter(paths[-1], schema), 0
                part = chunk.slice(start, shard_rows - in_shard)
                writer.write_table(part)
                for count in pc.value_counts(part.column("validation_tier")).to_pylist():
                    tiers[str(count["values"])] += int(count["counts"])
                in_shard += part.num_rows
                written += part.num_rows
                start += part.num_rows
        if writer is None:  # no rows: one empty shard keeps the features readable
            paths.append(data / ".shard-00000.parquet")
            pq.write_table(schema.empty_table(), paths[-1])
    finally:
        if writer is not None:
            writer.close()
    return written, paths, tiers


def write_hf(
    out: Path,
    chunks: Iterator[pa.Table],
    schema: pa.Schema,
    facts: CardFacts,
    shard_rows: int,
) -> int:
    """Write the folder ``out`` (created; it must not hold a dataset already)."""
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    written, temp_paths, tiers = _write_shards(data, chunks, schema, max(1, shard_rows))
    shards = []
    for i, tmp in enumerate(temp_paths):
        final = data / _shard_name(i, len(temp_paths))
        tmp.rename(final)
        shards.append(final)
    size = sum(p.stat().st_size for p in shards)
    num_bytes = sum(_uncompressed(p) for p in shards)
    (out / "README.md").write_text(
        card(schema, facts, written, tiers, num_bytes=num_bytes, download_size=size),
        encoding="utf-8",
    )
    return written


def _uncompressed(path: Path) -> int:
    meta = pq.ParquetFile(path).metadata
    return sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))


def card(
    schema: pa.Schema,
    facts: CardFacts,
    rows: int,
    tiers: Mapping[str, int],
    *,
    num_bytes: int,
    download_size: int,
) -> str:
    """The dataset card: YAML metadata the Hub and ``datasets`` read, then prose."""
    meta = {
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": SPLIT, "path": f"data/{SPLIT}-*"}],
            }
        ],
        "dataset_info": {
            "features": features_yaml(schema),
            "splits": [{"name": SPLIT, "num_bytes": num_bytes, "num_examples": rows}],
            "download_size": download_size,
            "dataset_size": num_bytes,
        },
        "tags": ["parallelprompt", "parallel-structure", "prompts"],
    }
    run = facts.run or {}
    lines = [
        "---",
        yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        "# ParallelPrompt-style export",
        "",
        "First-turn prompts from chat logs, each classified for hidden parallel structure "
        "(template, context, data items, n) by the `parallelprompt` pipeline.",
        "",
    ]
    if run.get("backend") == "emulator":
        lines += [EMULATOR_WARNING, ""]
    filters = {k: v for k, v in facts.filters.items() if v not in (None, [], ())}
    lines += [
        "## Provenance",
        "",
        f"- run: {run.get('id', '-')}",
        f"- model: `{run.get('model_id', '-')}` via {run.get('api', '-')}",
        f"- backend: {run.get('backend', '-')}",
        f"- contract (system prompt + categories) version: `{run.get('contract_version', '-')}`",
        f"- validation rules: `{facts.profile or '-'}`",
        f"- schema: `{facts.schema}` "
        + (
            "(the published ParallelPrompt dtypes: `data` is a JSON string, `n` float64)"
            if facts.schema == "published"
            else "(`data` list<string>, `n` int64)"
        ),
        f"- one row per {facts.per} row" if facts.per == "source" else "- one row per prompt",
        f"- filters: {filters or 'none'}",
        f"- source datasets: {', '.join(facts.sources) or '-'}",
        "",
        "## Counts",
        "",
        "| validation_tier | rows |",
        "|---|---|",
        *(f"| {tier} | {n:,} |" for tier, n in sorted(tiers.items())),
        f"| **total** | **{rows:,}** |",
        "",
    ]
    return "\n".join(lines)
