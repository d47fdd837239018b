"""Stop requests that arrive before the event loop runs. Imports nothing heavy, on purpose.

A worker spends its first second or so importing aioboto3, opening the DB and creating the
client. A SIGTERM then (an orchestrator scaling down right after scaling up) would kill it
with status 143 and no summary line. :func:`install` is the first thing ``python -m worker``
and ``parallelprompt work`` do: from then on SIGTERM/SIGINT are only recorded, and
``work()`` takes the record when its event-loop handlers take over, stops before claiming
anything and exits like any graceful stop (0 after SIGTERM, 130 after SIGINT).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

_received: list[str] = []


def _record(signum: int, frame: FrameType | None) -> None:
    if not _received:
        _received.append(signal.Signals(signum).name)


def install() -> None:
    """Record SIGTERM and SIGINT instead of dying (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _record)


def take() -> str | None:
    """The first signal recorded since :func:`install` (by name, or None), and forget it."""
    return _received.pop(0) if _received else None
