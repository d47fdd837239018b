"""A local Bedrock Runtime emulator: the offline backend for the demo, the tests and the benches.

It speaks the Converse and InvokeModel wire protocol well enough for the real aioboto3 client,
enforces requests/min and tokens/min quotas like Bedrock, adds latency and injects faults from
a seed. Its answers come from the heuristic extractor in ``prompts/``: heuristics, not a model's,
given by default in a model's seeded style (paraphrases, invented items, wrappers, truncation;
:mod:`emulator.style`), or exactly with ``--answer-style exact``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.buckets import Quota, TokenBucket
    from emulator.errors import BedrockError
    from emulator.faults import FaultKind, FaultPicker, FaultRates
    from emulator.protocol import Api
    from emulator.responders import (
        HEURISTIC_NOTICE,
        FixedResponder,
        HeuristicResponder,
        Responder,
        ScriptedResponder,
        StyledResponder,
    )
    from emulator.runner import banner, serve
    from emulator.server import Emulator, EmulatorOptions
    from emulator.stats import Outcome
    from emulator.style import AnswerStyle, StyleRates

__all__ = [
    "HEURISTIC_NOTICE",
    "AnswerStyle",
    "Api",
    "BedrockError",
    "Emulator",
    "EmulatorOptions",
    "FaultKind",
    "FaultPicker",
    "FaultRates",
    "FixedResponder",
    "HeuristicResponder",
    "Outcome",
    "Quota",
    "Responder",
    "ScriptedResponder",
    "StyleRates",
    "StyledResponder",
    "TokenBucket",
    "banner",
    "serve",
]

#: Imported on first use, so that importing a light module of the package (its settings
#: section, its errors) does not load the rest.
_HOME = {
    "HEURISTIC_NOTICE": "emulator.responders",
    "AnswerStyle": "emulator.style",
    "Api": "emulator.protocol",
    "BedrockError": "emulator.errors",
    "Emulator": "emulator.server",
    "EmulatorOptions": "emulator.server",
    "FaultKind": "emulator.faults",
    "FaultPicker": "emulator.faults",
    "FaultRates": "emulator.faults",
    "FixedResponder": "emulator.responders",
    "HeuristicResponder": "emulator.responders",
    "Outcome": "emulator.stats",
    "Quota": "emulator.buckets",
    "Responder": "emulator.responders",
    "ScriptedResponder": "emulator.responders",
    "StyleRates": "emulator.style",
    "StyledResponder": "emulator.responders",
    "TokenBucket": "emulator.buckets",
    "banner": "emulator.runner",
    "serve": "emulator.runner",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
