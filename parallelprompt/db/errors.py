"""The read side's user-facing errors (``db.DatabaseError``, in :mod:`db.connection`, is the
other): each derives from the application's error root, so the command line prints it as one
line."""

from __future__ import annotations

from parallelprompt.common.errors import ParallelPromptError


class QueryError(ParallelPromptError, ValueError):
    """A read command asked for something the database does not hold: a source, language,
    category, tier or rule profile that matches nothing, or an unknown format. The message
    lists what there is."""


class NoSuchRun(ParallelPromptError, LookupError):
    """A run id that is not in the database, or no run recorded yet."""
