"""The contract's one user-facing error type."""

from __future__ import annotations

from parallelprompt.common.errors import ParallelPromptError


class ContractError(ParallelPromptError, ValueError):
    """The contract cannot be loaded: an unknown rule profile, or a system prompt or categories
    file that cannot be read or is malformed. The message says which and why."""
