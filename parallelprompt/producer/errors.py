"""The producer's one user-facing error type."""

from __future__ import annotations

from parallelprompt.common.errors import ParallelPromptError


class IngestError(ParallelPromptError):
    """An ingest cannot start or cannot go on; the message is one line that says what to do.

    Raised for user errors: a missing file, an unreadable Parquet file, an undetectable layout,
    an unreachable hub. Bad *rows* never raise: they are skipped and counted by reason.
    """
