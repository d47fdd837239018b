"""Finding input files and opening them: kinds by suffix, compression, loop-safe search.

A ``--data-files`` entry is a file, a folder (searched recursively) or a glob. Folders and
``**`` globs are searched by :func:`walk`, which follows symbolic links but enters every
directory once: a link back to a directory being searched (a loop) is reported and counted,
never followed, so a search always ends. The files found are de-duplicated by identity
(device and inode, which ``os.path.realpath`` equality implies, and which also catches hard
links): a file named twice, through a relative and an absolute path or through a link, is read
once. Pure path logic apart from the ``stat``/``scandir`` calls; nothing is read here but
directory listings.
"""

from __future__ import annotations

import bz2
import collections
import enum
import fnmatch
import glob
import gzip
import io
import logging
import lzma
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import zstandard

from parallelprompt.producer.errors import IngestError

log = logging.getLogger("producer")


class FileKind(enum.StrEnum):
    PARQUET = "parquet"
    JSONL = "jsonl"
    JSON = "json"  # one JSON array of rows


SUFFIXES = {
    ".parquet": FileKind.PARQUET,
    ".jsonl": FileKind.JSONL,
    ".ndjson": FileKind.JSONL,
    ".json": FileKind.JSON,
}


class Compression(enum.StrEnum):
    GZIP = "gzip"
    BZ2 = "bz2"
    XZ = "xz"
    ZSTD = "zstd"


#: Compressed JSON lines or JSON arrays: ``chats.jsonl.gz``, ``rows.json.zst``, ... (the
#: compressions the ``datasets`` JSON loader infers from a file name, less lz4). Parquet
#: compresses its pages itself and is never wrapped.
COMPRESSIONS = {
    ".gz": Compression.GZIP,
    ".bz2": Compression.BZ2,
    ".xz": Compression.XZ,
    ".zst": Compression.ZSTD,
    ".zstd": Compression.ZSTD,
}

#: Errors of a corrupt or truncated compressed stream (besides OSError and EOFError).
DECOMPRESSION_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zstandard.ZstdError,
)

WHAT = ".parquet, .jsonl or .json"
ALSO = " (.ndjson too; JSON lines and arrays also compressed: .gz, .bz2, .xz, .zst)"


class FileSkip(enum.StrEnum):
    """Files found but not read, counted in the summary (they hold no rows to count)."""

    EMPTY = "empty_file"  # 0 bytes, or no rows at all (blank lines only, an empty array)
    DUPLICATE = "duplicate_file"  # the same file as one already listed
    LOOP = "symlink_loop"  # a link back to a directory being searched: not followed


def file_type(path: Path) -> tuple[FileKind, Compression | None] | None:
    """What a file name says it holds, or None when it is not an input file."""
    name = path.name.lower()
    stem, dot, last = name.rpartition(".")
    compression = COMPRESSIONS.get(dot + last)
    if compression is not None:
        kind = SUFFIXES.get(Path(stem).suffix)
        if kind is None or kind is FileKind.PARQUET:
            return None
        return kind, compression
    kind = SUFFIXES.get(dot + last)
    return (kind, None) if kind is not None else None


class _ZstdRaw(io.RawIOBase):
    """A zstd stream as a raw binary file, frame after frame. Unlike ``zstandard``'s own
    readers it raises EOFError when the file ends inside a frame (a truncated download),
    instead of ending quietly."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._dctx = zstandard.ZstdDecompressor()
        self._obj = self._dctx.decompressobj()
        self._out = memoryview(b"")  # decompressed, not yet read
        self._in_frame = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._out:
            data = self._fh.read(1 << 20)
            if not data:
                if self._in_frame:
                    raise EOFError("compressed file ended before the end of its last frame")
                return 0
            out = []
            while data:
                self._in_frame = True
                out.append(self._obj.decompress(data))
                data = b""
                if self._obj.eof:  # a frame ended: the rest starts the next one
                    self._in_frame = False
                    data = self._obj.unused_data
                    self._obj = self._dctx.decompressobj()
            self._out = memoryview(b"".join(out))
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def open_binary(path: Path, compression: Compression | None) -> IO[bytes] | gzip.GzipFile:
    """The file's (decompressed) bytes, buffered, for reading lines."""
    if compression is None:
        return path.open("rb")
    if compression is Compression.GZIP:
        return gzip.open(path, "rb")
    if compression is Compression.BZ2:
        return bz2.open(path, "rb")
    if compression is Compression.XZ:
        return lzma.open(path, "rb")
    return io.BufferedReader(_ZstdRaw(path.open("rb")), buffer_size=1 << 20)


# -- finding files ---------------------------------------------------------------------------


@dataclass
class Found:
    """The files of the ``--data-files`` entries: sorted by path, each file once."""

    files: list[Path] = field(default_factory=list)
    entry: dict[Path, str] = field(default_factory=dict)  # the entry that named each file
    by_entry: dict[str, list[Path]] = field(default_factory=dict)
    skipped: collections.Counter[str] = field(default_factory=collections.Counter)


def walk(top: Path, skipped: collections.Counter[str]) -> Iterator[Path]:
    """Every file under ``top``, following links to directories but entering each directory
    once; a link back to a directory above it (a loop) is warned about and counted. Entries
    are visited in sorted order, so which of two names of one directory is used is fixed."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, frozenset[tuple[int, int]]]] = [(top, frozenset())]
    while stack:
        folder, above = stack.pop()
        try:
            st = folder.stat()
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            log.warning("%s: cannot list this folder (%s); skipped", folder, exc.strerror or exc)
            continue
        key = (st.st_dev, st.st_ino)
        if key in above:
            log.warning(
                "%s: symlink loop (leads back to %s); not followed", folder, folder.resolve()
            )
            skipped[FileSkip.LOOP] += 1
            continue
        if key in seen:  # a second name of a directory already searched
            continue
        seen.add(key)
        inner = above | {key}
        subdirs = []
        for e in entries:
            try:
                if e.is_dir():
                    subdirs.append((Path(e.path), inner))
                elif e.is_file():
                    yield Path(e.path)
            except OSError:  # a link to itself, or one that vanished meanwhile
                log.warning("%s: cannot follow this link; skipped", e.path)
        stack.extend(reversed(subdirs))


def _match(parts: Sequence[str], pattern: Sequence[str]) -> bool:
    """``parts`` of a relative path against glob ``pattern`` parts, ``**`` being any number
    of folders; as :func:`glob.glob`, wildcards do not match names that start with a dot."""
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        for i in range(len(parts) + 1):
            if _match(parts[i:], rest):
                return True
            if i < len(parts) and parts[i].startswith("."):
                return False
        return False
    if not parts or (parts[0].startswith(".") and not head.startswith(".")):
        return False
    return fnmatch.fnmatchcase(parts[0], head) and _match(parts[1:], rest)


def glob_files(pattern: str, skipped: collections.Counter[str]) -> list[Path]:
    """Files matching ``pattern``. Patterns with ``**`` walk the folder above the first
    wildcard with :func:`walk` (glob itself follows symlink loops until the path is too
    long: one file found dozens of times, or a search that never ends)."""
    if "**" not in pattern:
        return [Path(p) for p in glob.glob(pattern) if os.path.isfile(p)]
    parts = Path(pattern).parts
    fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    top = Path(*parts[:fixed]) if fixed else Path()
    wanted = parts[fixed:]
    return [p for p in walk(top, skipped) if _match(p.relative_to(top).parts, wanted)]


def _entry_files(entry: str, skipped: collections.Counter[str]) -> list[Path]:
    path = Path(entry).expanduser()
    if path.is_dir():
        hits = [p for p in walk(path, skipped) if file_type(p) is not None]
        if not hits:
            raise IngestError(f"{entry}: no {WHAT} files in this folder{ALSO}")
        return hits
    if path.is_file():
        if file_type(path) is None:
            raise IngestError(f"{entry}: unsupported file type (use {WHAT}{ALSO})")
        return [path]
    if glob.has_magic(entry):
        hits = [p for p in glob_files(str(path), skipped) if file_type(p) is not None]
        if not hits:
            raise IngestError(f"{entry}: no {WHAT} files match{ALSO}")
        return hits
    raise IngestError(f"{entry}: no such file or folder")


def find_files(entries: Sequence[str]) -> Found:
    """Files named, folders searched recursively, globs expanded; sorted by path, each file
    once (the first of its names in path order), with the first entry that named it."""
    found = Found()
    named: list[tuple[Path, str]] = []
    for entry in entries:
        named += [(p, entry) for p in _entry_files(entry, found.skipped)]
    named.sort(key=lambda pe: str(pe[0]))  # stable: a path named twice keeps its first entry
    first: dict[tuple[int, int], Path] = {}
    for path, entry in named:
        try:
            st = path.stat()
        except OSError as exc:
            raise IngestError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        key = (st.st_dev, st.st_ino)
        if key in first:
            if first[key] != path:
                log.warning("%s is the same file as %s: read once", path, first[key])
            found.skipped[FileSkip.DUPLICATE] += 1
            found.by_entry.setdefault(entry, [])
            continue
        first[key] = path
        found.files.append(path)
        found.entry[path] = entry
        found.by_entry.setdefault(entry, []).append(path)
    return found
