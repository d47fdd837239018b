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
    from parallelprompt.emulator.buckets import Quota, TokenBucket
    from parallelprompt.emulator.errors import BedrockError
    from parallelprompt.emulator.faults import FaultKind, FaultPicker, FaultRates
    from parallelprompt.emulator.protocol import Api
    from parallelprompt.emulator.responders import (
        HEURISTIC_NOTICE,
        FixedResponder,
        HeuristicResponder,
        Responder,
        ScriptedResponder,
        StyledResponder,
    )
    from parallelprompt.emulator.runner import banner, serve
    from parallelprompt.emulator.server import Emulator, EmulatorOptions
    from parallelprompt.emulator.stats import Outcome
    from parallelprompt.emulator.style import AnswerStyle, StyleRates

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
    "HEURISTIC_NOTICE": "parallelprompt.emulator.responders",
    "AnswerStyle": "parallelprompt.emulator.style",
    "Api": "parallelprompt.emulator.protocol",
    "BedrockError": "parallelprompt.emulator.errors",
    "Emulator": "parallelprompt.emulator.server",
    "EmulatorOptions": "parallelprompt.emulator.server",
    "FaultKind": "parallelprompt.emulator.faults",
    "FaultPicker": "parallelprompt.emulator.faults",
    "FaultRates": "parallelprompt.emulator.faults",
    "FixedResponder": "parallelprompt.emulator.responders",
    "HeuristicResponder": "parallelprompt.emulator.responders",
    "Outcome": "parallelprompt.emulator.stats",
    "Quota": "parallelprompt.emulator.buckets",
    "Responder": "parallelprompt.emulator.responders",
    "ScriptedResponder": "parallelprompt.emulator.responders",
    "StyleRates": "parallelprompt.emulator.style",
    "StyledResponder": "parallelprompt.emulator.responders",
    "TokenBucket": "parallelprompt.emulator.buckets",
    "banner": "parallelprompt.emulator.runner",
    "serve": "parallelprompt.emulator.runner",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
