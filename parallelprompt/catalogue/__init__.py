"""The model catalogue: Claude models on Bedrock as data (``models.json``), read by the worker,
the emulator, ``estimate``, ``stats`` and ``parallelprompt models``. No I/O beyond reading the
file, no dependency on the other packages."""

from parallelprompt.catalogue.models import (
    BATCH_DISCOUNT,
    CACHE_TTL_S,
    DEFAULT_MODEL,
    GLOBAL,
    PAPER_MODEL,
    REGIONAL,
    Catalogue,
    ModelInfo,
    Prices,
    Pricing,
    base_model_id,
    catalogue,
    eol_message,
    format_catalogue,
    lookup,
    pricing,
)

__all__ = [
    "BATCH_DISCOUNT",
    "CACHE_TTL_S",
    "DEFAULT_MODEL",
    "GLOBAL",
    "PAPER_MODEL",
    "REGIONAL",
    "Catalogue",
    "ModelInfo",
    "Prices",
    "Pricing",
    "base_model_id",
    "catalogue",
    "eol_message",
    "format_catalogue",
    "lookup",
    "pricing",
]
