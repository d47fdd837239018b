"""Stop requests that arrive before the event loop runs. Imports nothing heavy, on purpose.

A worker spends its first second or so importing aioboto3, opening the DB and creating the
client. A SIGTERM then (an orchestrator scaling down right after scaling up) would kill it
with status 143 and no summary line. :func:`install` is the first thing ``parallelprompt
work`` does, before it parses its arguments and before the slow imports: from then on
SIGTERM/SIGINT are only recorded, and ``work()`` takes the record when its event-loop
handlers take over, stops before claiming anything and exits like any
graceful stop (0 after SIGTERM, 130 after SIGINT). The command restores the previous
handlers when it returns, so a caller in a longer-lived process keeps its own.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

_received: list[str] = []


def _record(signum: int, frame: FrameType | None) -> None:
    if not _received:
        _received.append(signal.Signals(signum).name)


Handlers = dict[signal.Signals, Any]


def install() -> Handlers:
    """Record SIGTERM and SIGINT instead of dying (main thread only; elsewhere a no-op).
    Returns the handlers it replaced, for :func:`restore`."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, _record)
    return previous


def restore(previous: Handlers) -> None:
    """Put back what :func:`install` replaced (a caller in a longer-lived process)."""
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def take() -> str | None:
    """The first signal recorded since :func:`install` (by name, or None), and forget it."""
    return _received.pop(0) if _received else None
