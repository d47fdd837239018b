"""What an ingest will read, decided (and checked) before anything is written.

Every input is opened up front: each Parquet file's footer is read, each layout detected, a
hub dataset is opened. A missing file, a truncated Parquet file or an unreachable hub stops
the ingest here, with the database untouched.

Inputs are grouped by the source name recorded on their rows. Within a source, ``row_index``
is the row's position across that source's files in sorted path order, which is the index the
split has on the hub when the files are its shards.

Local files without ``--source-name`` or ``--dataset`` are named after their layout and the
``--data-files`` entry they came from (``sharegpt:chats`` for ``chats.jsonl``, ``lmsys:dump``
for a folder ``dump/``), so two different files of one layout never share row indices. Files
named like the hub's own shards (``train-00000-of-00006.parquet``) keep the layout's dataset
id (``lmsys/lmsys-chat-1m``), so local shards and a streamed ingest of that dataset agree.

Files that hold no rows (0 bytes, blank lines only, an empty array), second names of a file
already listed and symlink loops are left out with a warning, and counted per
:class:`~producer.files.FileSkip` reason.
"""

from __future__ import annotations

import collections
import glob
import logging
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from parallelprompt.producer.files import FileSkip, find_files
from parallelprompt.producer.layouts import SPECS, Layout
from parallelprompt.producer.normalise import replace_invalid_unicode
from parallelprompt.producer.readers import HubInput, InputFile, NoObjects, inspect_file, open_hub
from parallelprompt.producer.settings import IngestSettings

log = logging.getLogger("producer")

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
        """As recorded in the ingests table: a file name's undecodable bytes as U+FFFD."""
        return [
            replace_invalid_unicode(str(i.path))
            if isinstance(i, InputFile)
            else f"hf://{i.dataset_id}"
            for i in self.inputs
        ]


def sample_dir() -> Path:
    return Path(str(resources.files("parallelprompt.producer").joinpath("sample")))


def sample_files() -> list[Path]:
    return [sample_dir() / name for name in SAMPLE_SOURCES]


@dataclass(frozen=True, slots=True)
class Plan:
    groups: list[SourceGroup]
    files_skipped: dict[str, int] = field(default_factory=dict)  # FileSkip reason -> files


def plan(cfg: IngestSettings) -> Plan:
    layout = None if cfg.layout == "auto" else Layout(cfg.layout)
    if cfg.data_files:
        return _group_files(cfg, list(cfg.data_files), layout, cfg.dataset)
    if cfg.dataset and Path(cfg.dataset).expanduser().exists():
        return _group_files(cfg, [cfg.dataset], layout, None)
    if cfg.dataset:
        hub = open_hub(cfg.dataset, cfg.split, layout)
        return Plan([SourceGroup(cfg.source_name or cfg.dataset, cfg.split, (hub,))])
    groups = []
    for path in sample_files():
        source = cfg.source_name or SAMPLE_SOURCES[path.name]
        sample = inspect_file(path, layout)
        assert sample is not None, path
        groups.append(SourceGroup(source, cfg.split, (sample,)))
    return Plan(groups)


def entry_stem(entry: str) -> str:
    """The name a ``--data-files`` entry gives its files' source: a file's stem, a folder's
    name, or for a glob the name of the folder above its first wildcard."""
    path = Path(entry).expanduser()
    if glob.has_magic(entry) and not path.exists():
        parts = path.parts
        fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
        path = Path(*parts[:fixed]) if fixed else Path()
        return path.resolve().name or "files"
    if path.is_dir():
        return path.resolve().name or "files"
    return path.stem


def is_hub_shard(path: Path, split: str) -> bool:
    """Named like a hub dataset's own shard of ``split``: ``train-00000-of-00006.parquet``."""
    stem = path.name.split(".", 1)[0]
    return re.fullmatch(rf"{re.escape(split)}-\d{{5}}-of-\d{{5}}", stem) is not None


def _group_files(
    cfg: IngestSettings, entries: list[str], layout: Layout | None, dataset_id: str | None
) -> Plan:
    """Source name: --source-name, else --dataset (local shards of a hub dataset), else
    ``LAYOUT:STEM`` of the entry the file came from (``STEM``: see :func:`entry_stem`), or the
    layout's dataset id when every file of the entry is named like a hub shard."""
    found = find_files(entries)
    skipped: collections.Counter[str] = collections.Counter(found.skipped)
    shards: dict[str, bool] = {}
    for entry, paths in found.by_entry.items():
        stem = entry_stem(entry)
        shards[stem] = shards.get(stem, True) and all(is_hub_shard(p, cfg.split) for p in paths)
    files: list[InputFile] = []
    unjudged: list[NoObjects] = []
    for path in found.files:
        try:
            inspected = inspect_file(path, layout)
        except NoObjects as exc:
            unjudged.append(exc)
            continue
        if inspected is None:
            log.warning("%s: empty file (no rows); skipped", path)
            skipped[FileSkip.EMPTY] += 1
        else:
            files.append(inspected)
    if unjudged:
        files = sorted(files + _like_the_others(unjudged, files), key=lambda f: str(f.path))
    by_source: dict[str, list[Input]] = {}
    for f in files:
        stem = entry_stem(found.entry[f.path])
        if cfg.source_name or dataset_id:
            source = cfg.source_name or dataset_id or ""
        elif shards[stem]:
            source = SPECS[f.layout].canonical_source
        else:
            source = f"{f.layout}:{stem}"
        source = replace_invalid_unicode(source)  # a file name's undecodable bytes
        by_source.setdefault(source, []).append(f)
    groups = [SourceGroup(s, cfg.split, tuple(inputs)) for s, inputs in by_source.items()]
    return Plan(groups, {str(k): v for k, v in sorted(skipped.items())})


def _like_the_others(unjudged: list[NoObjects], files: list[InputFile]) -> list[InputFile]:
    """Files with no JSON object among their first rows, read with the layout the other
    files have (their rows are counted as broken lines or not objects, never lost); an
    error when there is no other file, or the others disagree."""
    layouts = {f.layout for f in files}
    if len(layouts) != 1:
        raise unjudged[0]
    (layout,) = layouts
    for exc in unjudged:
        log.warning(
            "%s: no JSON object in its first rows; read as %s like the other files",
            exc.path,
            layout,
        )
    return [InputFile(exc.path, exc.kind, layout, None, exc.compression) for exc in unjudged]
