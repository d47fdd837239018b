"""A model answer in the system prompt's JSON format, for tests that script the model."""

from __future__ import annotations

from typing import Any

import orjson


def answer(**fields: Any) -> str:
    """The nine keys of the contract, parallelizable by default; ``fields`` override them."""
    base: dict[str, Any] = {
        "parallelizable": True,
        "category": None,
        "is_novel_category": False,
        "category_description": None,
        "serial": None,
        "template": None,
        "context": None,
        "data": None,
        "n": None,
    }
    base.update(fields)
    return orjson.dumps(base).decode()
