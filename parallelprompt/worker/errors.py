"""Our error taxonomy for model calls.

Every adapter (:mod:`worker.llm`) turns whatever its client raises into one of these types
right at the boundary (the Bedrock adapter: :func:`worker.llm.bedrock_errors.translate`), so the
pool never looks at an SDK:

* :class:`RetryableError` — the call may succeed later: throttling, a model that is warming up,
  5xx, model timeouts and model errors, connection and read timeouts, a garbled response.
* :class:`FatalError` — no prompt can succeed until a person acts: bad or missing credentials,
  no access to the model, a retired or unknown model, a request our code builds wrongly, an
  exhausted account quota. The run stops at once and gives its leases back.

One kind of ``ValidationException`` is about a single prompt (it is too long for the model):
that one is :class:`PromptError`, a dead letter for that prompt only. Another kind says only that
the backend found the request invalid (``request_invalid``): before any answer that is the
configuration's fault, after answers it concerns the one prompt (the pool decides).
"""

from __future__ import annotations

import enum

from parallelprompt.common.errors import ParallelPromptError


class Code(enum.StrEnum):
    """Error codes as stored in ``results.error_code`` and shown in metrics."""

    THROTTLED = "throttled"
    MODEL_NOT_READY = "model_not_ready"
    SERVER = "server_error"
    UNAVAILABLE = "service_unavailable"
    MODEL_TIMEOUT = "model_timeout"
    MODEL_ERROR = "model_error"
    CONNECTION = "connection_error"
    READ_TIMEOUT = "read_timeout"
    BAD_RESPONSE = "bad_response"
    PROMPT_TOO_LONG = "prompt_rejected"
    VALIDATION = "validation"
    ACCESS_DENIED = "access_denied"
    NOT_FOUND = "model_not_found"
    CREDENTIALS = "credentials"
    QUOTA_EXCEEDED = "quota_exceeded"
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    UNKNOWN = "unknown"


class CallError(ParallelPromptError):
    """A failed model call, translated. ``code`` is ours, ``aws_code`` what the backend said
    (shown, never decided on). ``request_invalid``: the backend refused the request itself as
    invalid (Bedrock's ValidationException)."""

    def __init__(
        self,
        code: Code,
        message: str,
        aws_code: str | None = None,
        *,
        request_invalid: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.aws_code = aws_code
        self.request_invalid = request_invalid

    def __str__(self) -> str:
        head = self.aws_code or self.code.value
        return f"{head}: {self.message}"


class RetryableError(CallError):
    """Try again later (after backoff, through the limiter again)."""


class FatalError(CallError):
    """Stop the run: nothing will succeed until the configuration changes."""


class PromptError(CallError):
    """This prompt can never succeed (e.g. too long for the model); it becomes a dead letter."""
