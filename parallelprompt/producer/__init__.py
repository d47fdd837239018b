"""The producer: conversation datasets to deduplicated first-turn prompts in the work table.

``run_ingest(ingest_settings, db=..., progress=...)`` (or ``await producer.ingest.ingest(...)``)
is the whole public surface; ``parallelprompt ingest`` runs it from the command line. See
docs/ingest.md. (``producer.ingest`` is the module: the names below load on first use, and a
lazily loaded function cannot share its name with its module.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parallelprompt.producer.errors import IngestError
    from parallelprompt.producer.ingest import IngestSummary, run_ingest

__all__ = ["IngestError", "IngestSummary", "run_ingest"]

#: Imported on first use, so that importing a light module of the package (its settings
#: section, its errors) does not load the rest.
_HOME = {
    "IngestError": "parallelprompt.producer.errors",
    "IngestSummary": "parallelprompt.producer.ingest",
    "run_ingest": "parallelprompt.producer.ingest",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
