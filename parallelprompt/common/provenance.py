"""Who answered: the emulator says so on every response, Bedrock does not.

The emulator adds :data:`EMULATOR_HEADER` (its version) to every response, errors included.
The worker reads the backend from the response headers of what actually answered, never from a
flag, so a rehearsal can never be stored as a model's answers.

:data:`IDENTIFY_MODEL_ID` is the model id of the worker's identification request: Bedrock
refuses it with a ValidationException before any inference (nothing is billed), the emulator
refuses it the same way without counting it; either refusal carries the headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

EMULATOR_HEADER = "x-parallelprompt-emulator"
IDENTIFY_MODEL_ID = "parallelprompt-identify"
BEDROCK = "bedrock"
EMULATOR = "emulator"
#: Said by every output of a run the emulator answered (defined here only).
EMULATOR_NOTICE = "answers from the local emulator are heuristics, not a model's"


def version() -> str:
    try:
        return metadata.version("parallelprompt")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


@dataclass(frozen=True, slots=True)
class Backend:
    """What answered: ``bedrock`` (no emulator header) or ``emulator`` with its version."""

    kind: str
    version: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind} {self.version}" if self.version else self.kind


def from_headers(headers: Mapping[str, Any] | None) -> Backend:
    """The backend that sent a response with these HTTP headers (any case)."""
    for name, value in (headers or {}).items():
        if str(name).lower() == EMULATOR_HEADER:
            return Backend(EMULATOR, str(value).strip() or "0+unknown")
    return Backend(BEDROCK)


def from_response(response: Mapping[str, Any] | None) -> Backend:
    """The backend of a botocore response or error response (``ResponseMetadata.HTTPHeaders``)."""
    meta = (response or {}).get("ResponseMetadata") or {}
    return from_headers(meta.get("HTTPHeaders"))
