"""The one root of the errors meant for the user.

Every error that says what the user can fix (a bad setting, a missing input file, a database
that cannot be used, a filter that matches nothing, a model the account cannot reach) derives
from :class:`ParallelPromptError`. The command line catches this class only and prints its
message as one line (exit status 2); any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class ParallelPromptError(Exception):
    """A problem the user can fix; the message is one line that says what and how."""
