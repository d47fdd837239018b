"""The async worker pool: leases, Bedrock via aioboto3, a fleet-shared limiter, buffered results.

``await work(worker_settings, contract_settings, db=path)`` drains the queue of the database
``db`` and returns a :class:`WorkSummary`; ``parallelprompt work`` does the same from the
command line.

The names below are imported on first use, so that ``parallelprompt work`` can install its
signal handlers (:mod:`worker.signals`) and read its settings section
(:mod:`worker.settings`) before aioboto3 and the rest are loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parallelprompt.common.provenance import EMULATOR_NOTICE
    from parallelprompt.worker.pool import StopReason, Tuning, WorkEvent
    from parallelprompt.worker.run import WorkSummary, work

__all__ = ["EMULATOR_NOTICE", "StopReason", "Tuning", "WorkEvent", "WorkSummary", "work"]

_HOME = {
    "StopReason": "parallelprompt.worker.pool",
    "Tuning": "parallelprompt.worker.pool",
    "WorkEvent": "parallelprompt.worker.pool",
    "EMULATOR_NOTICE": "parallelprompt.common.provenance",
    "WorkSummary": "parallelprompt.worker.run",
    "work": "parallelprompt.worker.run",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'worker' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
