"""A Parquet or ``hf`` export split by id range across processes (``results.export``; JSONL
and CSV are written in place, see ``results.export_inplace``).

The rows an export walks (source rows, or results per prompt) are cut into consecutive id
spans. This process writes the first span straight into the output; each other span is read,
typed and encoded by a process of its own into a part file beside the output (an Arrow IPC
stream), whose record batches are then read in order from a memory map into the Parquet
writer. The output is the same bytes as one process would write.

Each process reads its own snapshot. The spans are bounded by the ids present when the export
began, so rows added while it runs are left out, as from one snapshot; a verdict rewritten
meanwhile (``revalidate``) can show its new values in a later span.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
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


def spans(low: int | None, high: int | None, jobs: int, parallel_min: int) -> list[Span]:
    """``jobs`` consecutive spans covering ``[low, high]`` (the first open below), or the
    whole range as one span when there are fewer than ``parallel_min`` ids or one job."""
    if low is None or high is None or jobs <= 1 or high - low + 1 < max(parallel_min, jobs):
        return [ALL_IDS]
    size = (high - low + 1) // jobs
    cuts = [low + size * k for k in range(1, jobs)]
    firsts = [ALL_IDS[0], *cuts]
    lasts = [c - 1 for c in cuts] + [high]
    return list(zip(firsts, lasts, strict=True))


class Part:
    """A later span being written by another process into ``path``."""

    def __init__(self, future: Future[int], path: Path) -> None:
        self.future, self.path = future, path

    def tables(self) -> Iterator[pa.Table]:
        """Wait for the part, then its record batches (an Arrow IPC stream), in order."""
        self.future.result()
        with pa.memory_map(str(self.path)) as source:
            reader = pa.ipc.open_stream(source)
            for batch in reader:
                yield pa.Table.from_batches([batch])


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
    into a hidden part file in ``folder``; the part files are removed on exit."""
    if not later or db_file is None:
        yield []
        return
    paths = [folder / f".export-part-{os.getpid()}-{k}" for k in range(1, len(later) + 1)]
    for path in paths:
        path.touch()  # there to follow before its process opens it
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
            path.unlink(missing_ok=True)
