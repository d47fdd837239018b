"""The reading side of an ingest: read, extract and judge rows, hand kept rows over in batches.

The database side (:mod:`producer.ingest`) takes :class:`Batch` messages from a *feed* and
inserts them. Two feeds produce the same messages:

- :class:`ThreadFeed` reads in a thread of this process: the bundled sample, small files,
  hub datasets (a streaming dataset cannot be handed to another process).
- :class:`ProcessFeed` reads in a child process (a fresh interpreter) so that reading and
  extracting (pyarrow, the per-row text rules, hashing) run on a second core instead of
  competing with the inserts for this process's GIL. Batches travel pickled through a pipe
  into a bounded queue (:data:`QUEUE_DEPTH` batches: backpressure, so memory stays flat
  however fast the reader is). An error in the child comes back as the same exception (an
  :class:`IngestError` keeps its one-line message); the child ignores Ctrl-C, and the parent
  stops it.

Each source row ends in exactly one place: kept (and staged) or skipped by one reason, so
``rows_read == kept + sum(skipped)`` always.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple, Protocol

from parallelprompt.db import StagedRows
from parallelprompt.producer.batches import Extracted, from_arrow, from_rows
from parallelprompt.producer.extract import Flag, SkipReason, TextRules
from parallelprompt.producer.layouts import SPECS, LayoutSpec
from parallelprompt.producer.plan import SourceGroup
from parallelprompt.producer.readers import Chunk, InputFile, iter_file, iter_hub
from parallelprompt.producer.settings import IngestSettings

#: Rows read and extracted together (at most; fewer when --batch-rows is smaller). The
#: database side puts several such batches in one transaction (--batch-rows kept rows).
READ_CHUNK_ROWS = 10_000
#: Batches the reader may run ahead of the inserts.
QUEUE_DEPTH = 8
#: How often a blocked put/get looks whether the other side is still there (seconds).
POLL_S = 0.2

#: Reasons decided before the filters (the row could not even be read).
_UNREADABLE = frozenset(
    {SkipReason.BROKEN_LINE, SkipReason.UNREADABLE_REST, SkipReason.NOT_AN_OBJECT}
)


class Batch(NamedTuple):
    """One chunk's outcome: the kept rows staged for the database and the chunk's counts."""

    staged: StagedRows
    rows_read: int
    skipped: dict[str, int]
    flagged: dict[str, int]


class Done(NamedTuple):
    """The group is read; ``skip``/``limit`` left over for the next group."""

    skip: int
    limit: int | None


class Failed(NamedTuple):
    error: BaseException


class Log(NamedTuple):
    """A log record of the reading process (a broken JSONL line), logged again here."""

    name: str
    level: int
    message: str


Message = Batch | Done | Failed


class Stopped(Exception):
    """The consumer asked the feed to stop (Ctrl-C, or an error on the database side)."""


@dataclass(frozen=True, slots=True)
class RowRules:
    """Everything that decides a row's fate, from the settings."""

    text: TextRules
    languages: frozenset[str] | None  # lower-cased
    drop_toxic: bool
    drop_redacted: bool

    @classmethod
    def from_settings(cls, cfg: IngestSettings) -> RowRules:
        langs = frozenset(lang.lower() for lang in cfg.languages) if cfg.languages else None
        return cls(
            TextRules(cfg.min_chars, cfg.max_chars), langs, cfg.drop_toxic, cfg.drop_redacted
        )

    @property
    def any_filter(self) -> bool:
        return self.languages is not None or self.drop_toxic or self.drop_redacted

    def filtered(self, ex: Extracted, i: int) -> SkipReason | None:
        if self.languages is not None:
            lang = ex.languages[i]
            if lang is None or lang.lower() not in self.languages:
                return SkipReason.LANGUAGE
        if self.drop_toxic and ex.toxic[i]:
            return SkipReason.TOXIC
        if self.drop_redacted and ex.redacted[i]:
            return SkipReason.REDACTED
        return None


def build_staged(
    ex: Extracted,
    start: int,
    rules: RowRules,
    skipped: collections.Counter[str],
    flagged: collections.Counter[str],
) -> StagedRows:
    """Judge one extracted chunk: the kept rows as :class:`db.StagedRows` (columns: this loop
    runs once per source row and allocates no object per row), counting every other row by
    reason."""
    out = StagedRows()
    add_hash, add_prompt, add_flags = out.text_hash.append, out.prompt.append, out.flags.append
    kept_at: list[int] = []
    add_kept = kept_at.append
    check = rules.text.check
    any_filter = rules.any_filter
    repaired = ex.repaired
    for i, first in enumerate(ex.first):
        if type(first) is SkipReason and first in _UNREADABLE:
            skipped[first] += 1
            continue
        if any_filter:
            reason = rules.filtered(ex, i)
            if reason is not None:
                skipped[reason] += 1
                continue
        if type(first) is SkipReason:
            skipped[first] += 1
            continue
        kept = check(first)
        if type(kept) is SkipReason:
            skipped[kept] += 1
            continue
        assert not isinstance(kept, SkipReason)
        if kept.touched:
            flagged.update(kept.touched)
        if repaired and i in repaired:
            flagged[Flag.METADATA_REPLACED] += 1
        add_hash(kept.text_hash)
        add_prompt(kept.prompt)
        add_flags(kept.flags)
        add_kept(i)
    out.row_index = [start + i for i in kept_at]
    out.conversation_id = [ex.ids[i] for i in kept_at]
    out.language = [ex.languages[i] for i in kept_at]
    out.model = [ex.models[i] for i in kept_at]
    out.toxic = [ex.toxic[i] for i in kept_at]
    out.redacted = [ex.redacted[i] for i in kept_at]
    return out


@dataclass
class Window:
    """--skip and --limit, counted across the whole ingest."""

    skip: int
    limit: int | None

    @property
    def done(self) -> bool:
        return self.limit is not None and self.limit <= 0

    def take(self, chunk: Chunk) -> Chunk:
        if self.limit is not None and len(chunk) > self.limit:
            chunk = chunk.head(self.limit)
        if self.limit is not None:
            self.limit -= len(chunk)
        return chunk


def _chunks(
    group: SourceGroup, batch_rows: int, window: Window
) -> Iterator[tuple[int, Chunk, LayoutSpec]]:
    """(row index of the chunk's first row, chunk, layout) across the group's inputs."""
    offset = 0
    for item in group.inputs:
        if window.done:
            return
        spec = SPECS[item.layout]
        if isinstance(item, InputFile):
            if item.num_rows is not None and window.skip >= item.num_rows:
                window.skip -= item.num_rows
                offset += item.num_rows
                continue
            chunks = iter_file(item, spec, batch_rows, window.skip)
        else:
            chunks = iter_hub(item, spec, batch_rows, window.skip)
        rows_in_file = 0
        for chunk in chunks:
            if not len(chunk):  # the end marker
                rows_in_file = chunk.start
                continue
            chunk = window.take(chunk)
            yield offset + chunk.start, chunk, spec
            if window.done:
                return
        window.skip = max(window.skip - rows_in_file, 0)
        offset += rows_in_file


def produce(
    group: SourceGroup, cfg: IngestSettings, window: Window, put: Callable[[Message], None]
) -> None:
    """Read a group and ``put`` one :class:`Batch` per chunk, then :class:`Done` (or
    :class:`Failed` with the error that stopped it)."""
    try:
        rules = RowRules.from_settings(cfg)
        chunk_rows = max(1, min(cfg.batch_rows, READ_CHUNK_ROWS))
        for index, chunk, spec in _chunks(group, chunk_rows, window):
            if chunk.batch is not None:
                ex = from_arrow(chunk.batch, spec)
            else:
                ex = from_rows(chunk.rows or [], spec)
            skipped: collections.Counter[str] = collections.Counter()
            flagged: collections.Counter[str] = collections.Counter()
            staged = build_staged(ex, index, rules, skipped, flagged)
            put(Batch(staged, len(ex), _plain(skipped), _plain(flagged)))
        put(Done(window.skip, window.limit))
    except Stopped:
        return
    except Exception as exc:  # handed to the consumer, which raises it
        with contextlib.suppress(Stopped):
            put(Failed(exc))


def _plain(counts: collections.Counter[str]) -> dict[str, int]:
    return {str(k): v for k, v in counts.items()}


class Feed(Protocol):
    def get(self, stop: threading.Event) -> Message: ...
    def close(self) -> None: ...


class ThreadFeed:
    """Reads in a thread of this process (small inputs, hub datasets)."""

    def __init__(self, group: SourceGroup, cfg: IngestSettings, window: Window) -> None:
        self._queue: queue.Queue[Message] = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=produce, args=(group, cfg, window, self._put), name="ingest-reader"
        )
        self._thread.daemon = True
        self._thread.start()

    def _put(self, msg: Message) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(msg, timeout=POLL_S)
                return
            except queue.Full:
                continue
        raise Stopped

    def get(self, stop: threading.Event) -> Message:
        while True:
            if stop.is_set():
                raise Stopped
            try:
                return self._queue.get(timeout=POLL_S)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    raise RuntimeError("the ingest's reading thread stopped unexpectedly") from None

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class ProcessFeed:
    """Reads in a child process: the second core extracts while this process inserts.

    The child is a fresh interpreter (``python -c``, not :mod:`multiprocessing`, so that the
    caller's ``__main__`` is never re-imported and needs no ``if __name__ == "__main__"``
    guard). It gets its arguments pickled on stdin and writes length-prefixed pickled
    messages on stdout; a thread here unpickles them into a bounded queue. The pipe blocks
    the child when this side falls behind (backpressure).
    """

    def __init__(self, group: SourceGroup, cfg: IngestSettings, window: Window) -> None:
        root = str(Path(__file__).resolve().parents[2])
        code = (
            f"import sys; sys.path.insert(0, {root!r}); "
            "from parallelprompt.producer.pipeline import child_main; child_main()"
        )
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._queue: queue.Queue[Message] = queue.Queue(maxsize=QUEUE_DEPTH)
        self._closing = threading.Event()
        try:
            self._proc.stdin.write(pickle.dumps((group, cfg, window.skip, window.limit), 5))
            self._proc.stdin.close()
        except OSError:
            pass  # it died at once: the reading thread reports how
        self._thread = threading.Thread(
            target=self._receive, args=(self._proc.stdout,), name="ingest-receiver", daemon=True
        )
        self._thread.start()

    def _receive(self, pipe: IO[bytes]) -> None:
        try:
            while True:
                head = _read_exactly(pipe, _HEAD.size)
                if head is None:
                    break
                payload = _read_exactly(pipe, _HEAD.unpack(head)[0])
                if payload is None:
                    break
                msg: Message | Log = pickle.loads(payload)
                if isinstance(msg, Log):
                    logging.getLogger(msg.name).log(msg.level, "%s", msg.message)
                    continue
                if not self._put(msg) or isinstance(msg, Done | Failed):
                    return
            code = self._proc.wait()
            if not self._closing.is_set():
                self._put(
                    Failed(
                        RuntimeError(
                            f"the ingest's reading process exited unexpectedly (exit code {code})"
                        )
                    )
                )
        finally:
            pipe.close()

    def _put(self, msg: Message) -> bool:
        while not self._closing.is_set():
            try:
                self._queue.put(msg, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def get(self, stop: threading.Event) -> Message:
        while True:
            if stop.is_set():
                raise Stopped
            try:
                return self._queue.get(timeout=POLL_S)
            except queue.Empty:
                continue

    def close(self) -> None:
        self._closing.set()
        try:
            self._proc.wait(timeout=2 * POLL_S)  # normally it has just sent Done and exits
        except subprocess.TimeoutExpired:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._thread.join()


_HEAD = struct.Struct("<Q")


def _read_exactly(pipe: IO[bytes], n: int) -> bytes | None:
    """``n`` bytes, or None at the end of the stream."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = pipe.readinto(view[got:])  # type: ignore[attr-defined]
        if not k:
            return None
        got += k
    return bytes(buf)


def child_main() -> None:
    """The reading process (see :class:`ProcessFeed`). Ctrl-C reaches the whole process
    group: the parent handles it and stops this process, so it is ignored here. A parent that
    goes away closes the pipe, and the next write ends this process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    group, cfg, skip, limit = pickle.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the message stream

    class Forward(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            put(Log(record.name, record.levelno, record.getMessage()))

    logging.basicConfig(level=logging.INFO, handlers=[Forward()])

    def put(msg: Message | Log) -> None:
        if isinstance(msg, Failed):
            msg = Failed(_portable(msg.error))
        data = pickle.dumps(msg, 5)
        try:
            out.write(_HEAD.pack(len(data)))
            out.write(data)
            out.flush()
        except BrokenPipeError:
            raise Stopped from None

    produce(group, cfg, Window(skip, limit), put)


def _portable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling (IngestError does), else a RuntimeError
    with its text; either way with the child's traceback attached as a note."""
    detail = "".join(traceback.format_exception(exc)).rstrip()
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    exc.add_note(f"in the ingest's reading process:\n{detail}")
    return exc
