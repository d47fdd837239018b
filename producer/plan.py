"""What an ingest will read, decided (and checked) before anything is written.

Every input is opened up front: each Parquet file's footer is read, each layout detected, a
hub dataset is opened. A missing file, a truncated Parquet file or an unreachable hub stops
the ingest here, with the database untouched.

Inputs are grouped by the source name recorded on their rows. Within a source, ``row_index``
is the row's position across that source's files in sorted path order, which is the index the
split has on the hub when the files are its shards.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from parallelprompt.settings import IngestSettings
from producer.layouts import SPECS, Layout
from producer.readers import HubInput, InputFile, inspect_file, open_hub, resolve_paths

#: The bundled sample: file name -> source name (never a real dataset's name).
SAMPLE_SOURCES = {
    "lmsys_sample.parquet": "sample/lmsys-chat-1m",
    "wildchat_sample.parquet": "sample/WildChat-1M",
}

Input = InputFile | HubInput


@dataclass(frozen=True, slots=True)
class SourceGroup:
    source: str
    split: str
    inputs: tuple[Input, ...]

    @property
    def layout_label(self) -> str:
        return "+".join(dict.fromkeys(str(i.layout) for i in self.inputs))

    @property
    def input_names(self) -> list[str]:
        return [
            str(i.path) if isinstance(i, InputFile) else f"hf://{i.dataset_id}" for i in self.inputs
        ]


def sample_dir() -> Path:
    return Path(str(resources.files("producer").joinpath("sample")))


def sample_files() -> list[Path]:
    return [sample_dir() / name for name in SAMPLE_SOURCES]


def plan(cfg: IngestSettings) -> list[SourceGroup]:
    layout = None if cfg.layout == "auto" else Layout(cfg.layout)
    if cfg.data_files:
        return _group_files(cfg, resolve_paths(cfg.data_files), layout, cfg.dataset)
    if cfg.dataset and Path(cfg.dataset).expanduser().exists():
        return _group_files(cfg, resolve_paths([cfg.dataset]), layout, None)
    if cfg.dataset:
        hub = open_hub(cfg.dataset, cfg.split, layout)
        return [SourceGroup(cfg.source_name or cfg.dataset, cfg.split, (hub,))]
    groups = []
    for path in sample_files():
        source = cfg.source_name or SAMPLE_SOURCES[path.name]
        groups.append(SourceGroup(source, cfg.split, (inspect_file(path, layout),)))
    return groups


def _group_files(
    cfg: IngestSettings, paths: list[Path], layout: Layout | None, dataset_id: str | None
) -> list[SourceGroup]:
    """Source name: --source-name, else --dataset (local shards of a hub dataset), else the
    detected layout's canonical dataset name."""
    files = [inspect_file(p, layout) for p in paths]
    by_source: dict[str, list[Input]] = {}
    for f in files:
        source = cfg.source_name or dataset_id or SPECS[f.layout].canonical_source
        by_source.setdefault(source, []).append(f)
    return [SourceGroup(s, cfg.split, tuple(inputs)) for s, inputs in by_source.items()]
