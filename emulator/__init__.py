"""A local Bedrock Runtime emulator: the offline backend for the demo, the tests and the benches.

It speaks the Converse and InvokeModel wire protocol well enough for the real aioboto3 client,
enforces requests/min and tokens/min quotas like Bedrock, adds latency and injects faults from
a seed. Its answers come from the heuristic extractor in ``prompts/``: heuristics, not a model's,
given by default in a model's seeded style (paraphrases, invented items, wrappers, truncation;
:mod:`emulator.style`), or exactly with ``--answer-style exact``.
"""

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
