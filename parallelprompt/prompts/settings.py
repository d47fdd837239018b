"""The classification contract's settings section (``contract``): system prompt, categories,
rule profile, and the shape of each request (max tokens, temperature)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from parallelprompt.common.options import between, non_negative, opt, positive


@dataclass(frozen=True)
class ContractSettings:
    system_prompt: Path | None = opt(None, "your own system prompt file (default: the bundled one)")
    categories_file: Path | None = opt(
        None, "categories file: canonical names, definitions, synonyms (JSON)"
    )
    rules: str = opt("default", "validation rule profile: default or original")
    max_tokens: int = opt(
        1024,
        "max output tokens per call; calls ask for less when sized (original: 1024)",
        rule=positive,
    )
    size_max_tokens: bool = opt(
        True,
        "size max_tokens to each prompt, within --max-tokens (--no-size-max-tokens: always "
        "--max-tokens, as the original)",
        kind="bool",
    )
    max_tokens_retry: int = opt(
        4096,
        "ceiling of the one retry of an answer cut short by max_tokens (0: no retry)",
        rule=non_negative,
    )
    temperature: float = opt(
        0.2,
        "sampling temperature (original: 0.2); not sent to models that refuse it",
        rule=between(0.0, 1.0),
    )
