"""The model catalogue (``models.json`` beside this file) as typed, frozen records.

Every fact about a model — ids and inference-profile prefixes, prices per region family (on
demand, batch, cache write, cache read), the minimum cacheable prefix, whether sampling
parameters are accepted, thinking and how to turn it off, the output burndown toward the
tokens-per-minute quota, legacy and end-of-life dates — lives in the JSON file with its sources;
this module only reads it. ``docs/models.md`` cites the sources. An unknown model still runs,
priced from the ``--price-*`` flags (0 when none are given).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CATALOGUE = Path(__file__).with_name("models.json")
GLOBAL = "global"
REGIONAL = "regional"
CACHE_TTL_S = 300.0  # Bedrock's default (5-minute) cache lifetime, refreshed by every hit
BATCH_DISCOUNT = 0.5

#: The default model: Claude Haiku 5.5 on the global cross-region profile (the cheapest
#: family, and the one with the highest throughput: AWS routes it to any region).
DEFAULT_MODEL = "global.anthropic.claude-haiku-5-5"
#: The paper's model, to price its method in estimate, stats and bench/cost.py.
PAPER_MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per million tokens in one region family."""

    input: float
    output: float
    batch_input: float
    batch_output: float
    cache_write: float
    cache_read: float


@dataclass(frozen=True, slots=True)
class ModelInfo:
    key: str
    name: str
    model_id: str  # the base id, without an inference-profile prefix
    profiles: tuple[str, ...]
    launched: str | None
    legacy_date: str | None
    eol: str | None
    successor: str | None
    max_output_tokens: int
    prices: dict[str, Prices]
    min_cache_tokens: int | None  # None: no prompt caching on Bedrock
    sampling_params: bool
    thinking_default_on: bool
    thinking_accepted: tuple[str, ...]
    thinking_off: dict[str, Any] | None  # request fields that turn default-on thinking off
    output_burndown: float
    sources: tuple[str, ...]
    notes: str

    @property
    def legacy(self) -> bool:
        return self.legacy_date is not None or self.eol is not None

    def end_of_life(self, today: dt.date | None = None) -> bool:
        if self.eol is None:
            return False
        return (today or dt.date.today()) >= dt.date.fromisoformat(self.eol)

    def price(self, family: str) -> Prices:
        """The family's prices; a model without a global profile has only regional ones."""
        return self.prices.get(family) or self.prices[REGIONAL]

    def caches(self, prefix_tokens: int) -> bool:
        return self.min_cache_tokens is not None and prefix_tokens >= self.min_cache_tokens


def _model(raw: dict[str, Any]) -> ModelInfo:
    thinking = raw["thinking"]
    return ModelInfo(
        key=raw["key"],
        name=raw["name"],
        model_id=raw["base_id"],
        profiles=tuple(raw["profiles"]),
        launched=raw.get("launched"),
        legacy_date=raw.get("legacy"),
        eol=raw.get("eol"),
        successor=raw.get("successor"),
        max_output_tokens=int(raw["max_output_tokens"]),
        prices={family: Prices(**p) for family, p in raw["prices"].items()},
        min_cache_tokens=raw.get("min_cache_tokens"),
        sampling_params=bool(raw["sampling_params"]),
        thinking_default_on=bool(thinking["default_on"]),
        thinking_accepted=tuple(thinking["accepted"]),
        thinking_off=thinking.get("off"),
        output_burndown=float(raw["output_burndown"]),
        sources=tuple(raw["sources"]),
        notes=raw.get("notes", ""),
    )


@dataclass(frozen=True)
class Catalogue:
    models: tuple[ModelInfo, ...]
    sources: dict[str, dict[str, str]]
    prefixes: dict[str, str]  # profile prefix -> region family
    checked: str

    @classmethod
    def load(cls, path: Path = _CATALOGUE) -> Catalogue:
        data = json.loads(path.read_text(encoding="utf-8"))
        prefixes = {
            prefix: family
            for family, spec in data["region_families"].items()
            for prefix in spec["prefixes"]
        }
        return cls(
            tuple(_model(m) for m in data["models"]), data["sources"], prefixes, data["checked"]
        )

    def split(self, model_id: str) -> tuple[str, str]:
        """``(profile prefix, base id)``; an ARN keeps its last part."""
        if model_id.startswith("arn:"):
            model_id = model_id.rsplit("/", 1)[-1]
        for prefix in sorted(self.prefixes, key=len, reverse=True):
            if prefix and model_id.startswith(prefix):
                return prefix, model_id[len(prefix) :]
        return "", model_id

    def lookup(self, model_id: str) -> ModelInfo | None:
        prefix, base = self.split(model_id)
        for m in self.models:
            if m.model_id == base and (not prefix or prefix in m.profiles):
                return m
        return None

    def family(self, model_id: str) -> str:
        return self.prefixes.get(self.split(model_id)[0], REGIONAL)

    def by_key(self, key: str) -> ModelInfo:
        return next(m for m in self.models if m.key == key)


@functools.cache
def catalogue() -> Catalogue:
    return Catalogue.load()


def base_model_id(model_id: str) -> str:
    """``us.anthropic.claude-...`` -> ``anthropic.claude-...``; ARNs keep their last part."""
    return catalogue().split(model_id)[1]


def lookup(model_id: str) -> ModelInfo | None:
    """The catalogue's record of this id or profile (None: unknown, or a profile the model
    does not have)."""
    return catalogue().lookup(model_id)


def eol_message(info: ModelInfo, model_id: str) -> str:
    """The one line a worker prints for an end-of-life model."""
    after = ""
    if info.successor:
        successor = catalogue().by_key(info.successor)
        after = f"; use {successor.name} (--model {DEFAULT_MODEL})"
    return f"{info.name} ({model_id}) reached end of life on Bedrock on {info.eol}{after}"


@dataclass(frozen=True, slots=True)
class Pricing:
    """What a token costs in this run (USD per million); ``known`` is False for a guess."""

    price_in: float
    price_out: float
    cache_write: float
    cache_read: float
    known: bool
    family: str = REGIONAL

    def cost(
        self, input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0
    ) -> float:
        """``input_tokens`` are the uncached ones, as Bedrock reports them."""
        return (
            input_tokens * self.price_in
            + output_tokens * self.price_out
            + cache_read * self.cache_read
            + cache_write * self.cache_write
        ) / 1e6

    def saved(self, cache_read: int, cache_write: int) -> float:
        """Dollars caching saved against sending the same tokens uncached (writes cost more)."""
        return (
            cache_read * (self.price_in - self.cache_read)
            - cache_write * (self.cache_write - self.price_in)
        ) / 1e6

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.price_in,
            "output": self.price_out,
            "cache_write": self.cache_write,
            "cache_read": self.cache_read,
            "family": self.family,
            "known": self.known,
        }


def pricing(
    model_id: str,
    price_in: float | None = None,
    price_out: float | None = None,
    cache_write: float | None = None,
    cache_read: float | None = None,
) -> Pricing:
    """The catalogue's prices for this id's region family, each overridable by a flag. An
    unknown model costs what the flags say (0 for those not given; ``known=False`` unless at
    least input and output prices were given)."""
    info = lookup(model_id)
    family = catalogue().family(model_id)
    base = info.price(family) if info else None
    pin = price_in if price_in is not None else (base.input if base else 0.0)
    pout = price_out if price_out is not None else (base.output if base else 0.0)
    # Cache prices follow the input price: the catalogue's ratio, else Bedrock's usual ones.
    write_ratio = base.cache_write / base.input if base and base.input else 1.25
    read_ratio = base.cache_read / base.input if base and base.input else 0.1
    if cache_write is None:
        cache_write = pin * write_ratio
    if cache_read is None:
        cache_read = pin * read_ratio
    known = info is not None or (price_in is not None and price_out is not None)
    return Pricing(pin, pout, cache_write, cache_read, known, family)


def format_catalogue(today: dt.date | None = None) -> str:
    """``parallelprompt models``: one block per model, then the sources."""
    cat = catalogue()
    lines = [
        f"model catalogue (catalogue/models.json, checked {cat.checked}); USD per million tokens"
    ]
    for m in cat.models:
        status = "active"
        if m.end_of_life(today):
            status = f"END OF LIFE since {m.eol}"
        elif m.legacy:
            status = f"legacy (EOL {m.eol})"
        profiles = ", ".join(p + m.model_id for p in m.profiles)
        lines += [
            "",
            f"{m.name} — {status}",
            f"  ids: {m.model_id}; profiles: {profiles}",
        ]
        for family, p in m.prices.items():
            lines.append(
                f"  {family}: in {p.input:g}, out {p.output:g}, batch {p.batch_input:g}/"
                f"{p.batch_output:g}, cache write {p.cache_write:g}, cache read {p.cache_read:g}"
            )
        cache = f"from {m.min_cache_tokens:,} tokens" if m.min_cache_tokens else "not on Bedrock"
        thinking = "on by default" if m.thinking_default_on else "off unless asked"
        if m.thinking_off:
            thinking += f", turned off with {json.dumps(m.thinking_off)}"
        lines += [
            f"  prompt caching {cache}; sampling parameters "
            f"{'accepted' if m.sampling_params else 'refused'}; thinking {thinking}; output "
            f"counts x{m.output_burndown:g} toward TPM; max output {m.max_output_tokens:,}",
            f"  sources: {', '.join(m.sources)}",
        ]
        if m.notes:
            lines.append(f"  note: {m.notes}")
    lines += ["", "sources:"]
    for key, src in cat.sources.items():
        lines.append(f"  {key}: {src['title']} <{src['url']}> (read {src['read']})")
    return "\n".join(lines)
