"""Known Claude models on Bedrock and their on-demand prices, for cost accounting.

Prices are USD per million tokens (AWS pricing page, on demand, 2025/2026); batch inference is
billed at half. Cross-region inference profiles (``us.``, ``eu.``, ``apac.``, ``global.``) cost
the same as the base model here (``global.`` is in fact about 10 % cheaper on some models: set
``--price-in/--price-out`` if you need exact figures). An unknown model still runs, at cost 0.
"""

from __future__ import annotations

from dataclasses import dataclass

BATCH_DISCOUNT = 0.5
_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    model_id: str  # the base id, without an inference-profile prefix
    name: str
    price_in: float  # USD per million input tokens
    price_out: float  # USD per million output tokens
    legacy: bool = False


KNOWN_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("anthropic.claude-haiku-4-5-20251001-v1:0", "Claude Haiku 4.5", 1.00, 5.00),
    ModelInfo(
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "Claude 3.5 Haiku (the paper's model)",
        0.80,
        4.00,
        legacy=True,
    ),
    ModelInfo("anthropic.claude-3-haiku-20240307-v1:0", "Claude 3 Haiku", 0.25, 1.25, legacy=True),
    ModelInfo("anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5", 3.00, 15.00),
    ModelInfo("anthropic.claude-sonnet-4-20250514-v1:0", "Claude Sonnet 4", 3.00, 15.00),
)
_BY_ID = {m.model_id: m for m in KNOWN_MODELS}

DEFAULT_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


def base_model_id(model_id: str) -> str:
    """``us.anthropic.claude-...`` -> ``anthropic.claude-...``; ARNs keep their last part."""
    if model_id.startswith("arn:"):
        model_id = model_id.rsplit("/", 1)[-1]
    for prefix in _PROFILE_PREFIXES:
        if model_id.startswith(prefix):
            return model_id[len(prefix) :]
    return model_id


def lookup(model_id: str) -> ModelInfo | None:
    return _BY_ID.get(base_model_id(model_id))


@dataclass(frozen=True, slots=True)
class Pricing:
    """What one token costs in this run (USD per million); ``known`` is False for a guess."""

    price_in: float
    price_out: float
    known: bool

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.price_in + output_tokens * self.price_out) / 1e6


def pricing(
    model_id: str, price_in: float | None = None, price_out: float | None = None
) -> Pricing:
    """The model table's prices, each overridable; unknown models cost 0 (``known=False``)."""
    info = lookup(model_id)
    known = info is not None or (price_in is not None and price_out is not None)
    pin = price_in if price_in is not None else (info.price_in if info else 0.0)
    pout = price_out if price_out is not None else (info.price_out if info else 0.0)
    return Pricing(pin, pout, known)
