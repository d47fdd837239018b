"""Fit a request to its model, as the catalogue says. Pure: dict in, new dict out.

* No sampling parameters where the model refuses them (Claude Haiku 5.5 answers 400 to
  ``temperature``, ``top_p`` or ``top_k``).
* Thinking off where the model thinks by default (Haiku 5.5's adaptive thinking): the catalogue's
  ``thinking.off`` fields go into the Anthropic body, which Converse takes as
  ``additionalModelRequestFields``. An answer that thinks first costs output tokens, and output
  tokens count 5x toward the quota.
* A cache point after the system prompt when it reaches the model's minimum cacheable prefix:
  a ``cachePoint`` block (Converse) or ``cache_control`` on the system text block (InvokeModel).
  Shorter prefixes are not cached by Bedrock anyway: no marker is sent for them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from parallelprompt.catalogue import ModelInfo

_SAMPLING = ("temperature", "top_p", "top_k")
CONVERSE_CACHE_POINT: dict[str, Any] = {"cachePoint": {"type": "default"}}
INVOKE_CACHE_CONTROL: dict[str, Any] = {"type": "ephemeral"}


@dataclass(frozen=True, slots=True)
class Shape:
    """What to change in every request of a run."""

    drop_sampling: bool
    extra_fields: dict[str, Any] | None  # Anthropic-body fields, e.g. thinking off
    cache_point: bool

    @classmethod
    def for_model(cls, info: ModelInfo | None, prefix_tokens: int, caching: bool) -> Shape:
        """Unknown models get requests as before: temperature kept, no cache point."""
        if info is None:
            return AS_BUILT
        extra = dict(info.thinking_off) if info.thinking_default_on and info.thinking_off else None
        return cls(not info.sampling_params, extra, caching and info.caches(prefix_tokens))


#: Requests exactly as the contract builds them (an unknown model).
AS_BUILT = Shape(False, None, False)


def converse(request: dict[str, Any], shape: Shape) -> dict[str, Any]:
    out = copy.deepcopy(request)
    if shape.drop_sampling:
        config = out.get("inferenceConfig") or {}
        for key in ("temperature", "topP"):
            config.pop(key, None)
        extra = out.get("additionalModelRequestFields") or {}
        extra.pop("top_k", None)
    if shape.extra_fields:
        out.setdefault("additionalModelRequestFields", {}).update(shape.extra_fields)
    if shape.cache_point and out.get("system"):
        out["system"] = [*out["system"], dict(CONVERSE_CACHE_POINT)]
    return out


def invoke(body: dict[str, Any], shape: Shape) -> dict[str, Any]:
    out = copy.deepcopy(body)
    if shape.drop_sampling:
        for key in _SAMPLING:
            out.pop(key, None)
    if shape.extra_fields:
        out.update(shape.extra_fields)
    system = out.get("system")
    if shape.cache_point and system:
        blocks = [{"type": "text", "text": system}] if isinstance(system, str) else system
        blocks[-1] = {**blocks[-1], "cache_control": dict(INVOKE_CACHE_CONTROL)}
        out["system"] = blocks
    return out
