"""The async worker pool: leases, Bedrock via aioboto3, a fleet-shared limiter, buffered results.

``await work(settings)`` drains the queue of ``settings.common.db`` and returns a
:class:`WorkSummary`; ``python -m worker`` does the same from the command line.
"""

from worker.pool import StopReason, Tuning, WorkEvent
from worker.run import WorkSummary, work
from worker.runs import EMULATOR_NOTICE

__all__ = ["EMULATOR_NOTICE", "StopReason", "Tuning", "WorkEvent", "WorkSummary", "work"]
