"""A Parquet or ``hf`` export split by id range across processes (``results.export``; JSONL
and CSV are written in place, see ``results.export_inplace``).

The rows an export walks (source rows, or results per prompt) are cut into consecutive id
spans. This process writes the first span straight into the output; each other span is read,
typed and encoded by a process of its own into a part beside the output: one Arrow IPC file
per table of rows (a piece), named once complete. This process reads the pieces in order from
a memory map into the Parquet writer as they appear, and removes them. The output holds the
same rows in the same row groups as one process would write (the same bytes in the tests;
with texts of hundreds of thousands of characters, Parquet's page boundaries can differ).

Each process reads its own snapshot. The spans are bounded by the ids present when the export
began, so rows added while it runs are left out, as from one snapshot; a verdict rewritten
meanwhile (``revalidate``) can show its new values in a later span.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import pyarrow as pa

#: Below this many ids to walk, an export stays in one process (starting one costs more).
PARALLEL_MIN = 200_000
#: The whole id range: one span.
ALL_IDS = (-(2**63), 2**63 - 1)

Span = tuple[int, int]


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


#: The first span's size against each other span's in a Parquet or ``hf`` export: this process
#: also encodes every row group into Parquet (about a quarter of the work), so it reads a
#: smaller span and finishes with the others.
FIRST_SHARE = 0.7


def spans(
    low: int | None, high: int | None, jobs: int, parallel_min: int, first_share: float = 1.0
) -> list[Span]:
    """``jobs`` consecutive spans covering ``[low, high]`` (the first open below, and
    ``first_share`` times the size of each other), or the whole range as one span when there
    are fewer than ``parallel_min`` ids or one job."""
    if low is None or high is None or jobs <= 1 or high - low + 1 < max(parallel_min, jobs):
        return [ALL_IDS]
    size = (high - low + 1) / (jobs - 1 + first_share)
    cuts: list[int] = []
    for k in range(jobs - 1):  # each span at least one id
        cuts.append(max((cuts[-1] if cuts else low) + 1, low + int(size * (first_share + k))))
    return chunks([low, *cuts], high)


def chunks(starts: Sequence[int], high: int | None) -> list[Span]:
    """Consecutive spans from each of ``starts`` (the first open below) to ``high``; the whole
    range as one span when there is nothing to walk."""
    if not starts or high is None:
        return [ALL_IDS]
    firsts = [ALL_IDS[0], *starts[1:]]
    lasts = [s - 1 for s in starts[1:]] + [high]
    return list(zip(firsts, lasts, strict=True))


#: How often this process looks for the next piece of a part that is still being written.
POLL_S = 0.02


def piece(path: Path, seq: int) -> Path:
    """The ``seq``-th piece of the part ``path``."""
    return path.with_name(f"{path.name}.{seq:06d}")


def write_pieces(path: Path, tables: Iterable[pa.Table], schema: pa.Schema) -> int:
    """In a part's process: each table as a piece of its own (an Arrow IPC stream), named only
    once complete (written under a temporary name, then renamed); returns the rows."""
    rows = 0
    for seq, table in enumerate(tables):
        final = piece(path, seq)
        temporary = final.with_name(final.name + ".tmp")
        with pa.ipc.new_stream(str(temporary), schema) as writer:
            writer.write_table(table)
        temporary.rename(final)
        rows += table.num_rows
    return rows


class Part:
    """A later span being written by another process, piece by piece, beside ``path``."""

    def __init__(self, future: Future[int], path: Path) -> None:
        self.future, self.path = future, path

    def tables(self) -> Iterator[pa.Table]:
        """The part's record batches in order, each piece as soon as it is complete (read from
        a memory map, then removed), until the part's process is done; its error is raised."""
        seq = 0
        while True:
            done = self.future.done()  # before looking: a finished part has all its pieces
            path = piece(self.path, seq)
            if path.exists():
                with pa.memory_map(str(path)) as source:
                    for batch in pa.ipc.open_stream(source):
                        yield pa.Table.from_batches([batch])
                path.unlink()
                seq += 1
            elif done:
                self.future.result()
                return
            else:
                wait([self.future], timeout=POLL_S)


#: (part file, database file, per, query parameters, span) -> rows written.
PartWriter = Callable[[Path, str, str, Mapping[str, Any], Span], int]


@contextlib.contextmanager
def later_parts(
    writer: PartWriter,
    db_file: str | None,
    per: str,
    params: Mapping[str, Any],
    later: Sequence[Span],
    folder: Path,
) -> Iterator[list[Part]]:
    """Start one process per span of ``later`` (none when empty), each running ``writer``
    into the pieces of a hidden part in ``folder``; what is left of them is removed on exit."""
    if not later or db_file is None:
        yield []
        return
    paths = [folder / f".export-part-{os.getpid()}-{k}" for k in range(1, len(later) + 1)]
    # fork: the parts need nothing but the imported modules; no Arrow thread runs yet.
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(len(later), mp_context=context) as pool:
            yield [
                Part(pool.submit(writer, path, db_file, per, dict(params), span), path)
                for path, span in zip(paths, later, strict=True)
            ]
    finally:
        for path in paths:
            for left in folder.glob(f"{path.name}.*"):
                left.unlink(missing_ok=True)
