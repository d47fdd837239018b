"""One typed settings object, built once: CLI flag > environment variable > default.

Every setting is a field of one of the section dataclasses below. A field's metadata names its
command-line flag and its environment variable (``PARALLELPROMPT_...``); the CLI builds its
argument parsers from these declarations, so a flag, its variable and its default can never
drift apart. ``docs/configuration.md`` is generated from the same table
(``parallelprompt config-reference``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "PARALLELPROMPT_"

#: The original pipeline's variable names, accepted as aliases of the standard AWS ones.
AWS_ALIASES = {
    "AWS_KEY": "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_KEY": "AWS_SECRET_ACCESS_KEY",
}


def opt(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    env: str | None = None,
    kind: str = "value",
    choices: Sequence[str] | None = None,
    convert: Any = None,
) -> Any:
    """Declare a setting. ``kind`` is value | bool | list; ``convert`` parses a raw string
    (default: the annotated type)."""
    meta = {
        "help": help,
        "flag": flag,
        "env": env,
        "kind": kind,
        "choices": choices,
        "convert": convert,
    }
    if isinstance(default, list | tuple):
        items = tuple(default)
        return field(default_factory=lambda: items, metadata=meta)
    return field(default=default, metadata=meta)


NO_BUDGET = math.inf


def budget(raw: str) -> float:
    """A spending cap in USD, or ``none`` (:data:`NO_BUDGET`): run without one, knowingly."""
    if raw.strip().lower() == "none":
        return NO_BUDGET
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


@dataclass(frozen=True)
class CommonSettings:
    db: Path = opt(Path("parallelprompt.db"), "SQLite database file (local disk, never NFS/SMB)")
    log_format: str = opt(
        "auto",
        "log lines: auto (progress on a terminal, text otherwise), text or json",
        choices=("auto", "text", "json"),
    )
    quiet: bool = opt(False, "no progress display, only the summary", kind="bool")


@dataclass(frozen=True)
class IngestSettings:
    dataset: str | None = opt(
        None, "Hugging Face dataset id (e.g. lmsys/lmsys-chat-1m), streamed if reachable"
    )
    data_files: tuple[str, ...] = opt(
        (), "local Parquet/JSONL/JSON files or folders (several allowed)", kind="list"
    )
    layout: str = opt(
        "auto",
        "dataset layout; auto detects it from the columns",
        choices=("auto", "lmsys", "wildchat", "sharegpt"),
    )
    split: str = opt("train", "dataset split to read")
    source_name: str | None = opt(
        None,
        "name recorded as the rows' source (default: the --dataset id; local files: "
        "LAYOUT:STEM of the file or folder, or the layout's dataset id for hub-named shards "
        "like train-00000-of-00002)",
    )
    min_chars: int = opt(10, "keep first turns with at least this many characters (original: 10)")
    max_chars: int = opt(
        100_000, "first turns longer than this are stored but flagged as oversized (0: no flag)"
    )
    languages: tuple[str, ...] = opt(
        (), "keep only these languages (dataset's own names, e.g. English)", kind="list"
    )
    drop_toxic: bool = opt(False, "skip rows marked toxic", kind="bool")
    drop_redacted: bool = opt(False, "skip rows marked redacted", kind="bool")
    limit: int | None = opt(None, "read at most this many source rows")
    skip: int = opt(0, "skip this many source rows first")
    batch_rows: int = opt(100_000, "kept rows per ingest transaction (larger: faster ingest)")


@dataclass(frozen=True)
class ContractSettings:
    system_prompt: Path | None = opt(None, "your own system prompt file (default: the bundled one)")
    categories_file: Path | None = opt(
        None, "categories file: canonical names, definitions, synonyms (JSON)"
    )
    rules: str = opt("default", "validation rule profile: default or original")
    max_tokens: int = opt(
        1024, "max output tokens per call; calls ask for less when sized (original: 1024)"
    )
    size_max_tokens: bool = opt(
        True,
        "size max_tokens to each prompt, within --max-tokens (--no-size-max-tokens: always "
        "--max-tokens, as the original)",
        kind="bool",
    )
    max_tokens_retry: int = opt(
        4096, "ceiling of the one retry of an answer cut short by max_tokens (0: no retry)"
    )
    temperature: float = opt(
        0.2, "sampling temperature (original: 0.2); not sent to models that refuse it"
    )


@dataclass(frozen=True)
class WorkerSettings:
    model: str = opt(
        "global.anthropic.claude-haiku-5-5",
        "Bedrock model id or inference profile (`parallelprompt models` lists the catalogue; "
        "the paper used Claude 3.5 Haiku, now end of life)",
    )
    api: str = opt("converse", "Bedrock API to call", choices=("converse", "invoke"))
    region: str | None = opt(
        None, "AWS region (default: the AWS chain's, else us-east-1)", env="AWS_REGION"
    )
    endpoint_url: str | None = opt(
        None,
        "Bedrock Runtime endpoint, e.g. the emulator (the SDK's own "
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME works too)",
    )
    backend: str = opt(
        "auto",
        "where to send prompts. `run`: auto uses the local emulator for the bundled sample or "
        "without AWS credentials, emulator always starts one, bedrock uses AWS. `work`: what "
        "must answer at the endpoint (auto: anything). The backend recorded with a run is "
        "always the one that answered, never this flag",
        choices=("auto", "bedrock", "emulator"),
    )
    concurrency: int = opt(32, "in-flight calls per worker process")
    rpm: float = opt(1000.0, "requests/min quota shared by the whole fleet")
    tpm: float = opt(2_000_000.0, "tokens/min quota shared by the whole fleet")
    connect_timeout: float = opt(10.0, "connect timeout, seconds")
    read_timeout: float = opt(120.0, "read timeout, seconds")
    max_attempts: int = opt(8, "attempts per prompt before it goes to the dead letters")
    lease_seconds: float = opt(300.0, "lease length; extended while a call is in flight")
    max_cost_usd: float | None = opt(
        None,
        "stop claiming when this budget would be exceeded; required for Bedrock "
        "(`none`: no budget, knowingly)",
        convert=budget,
    )
    grace_seconds: float = opt(30.0, "on SIGTERM/SIGINT, time to drain in-flight calls")
    flush_rows: int = opt(100, "flush results after this many rows ...")
    flush_ms: float = opt(50.0, "... or after this many milliseconds")
    metrics_host: str = opt("127.0.0.1", "address of the /healthz and /metrics endpoint")
    metrics_port: int | None = opt(None, "port of /healthz and /metrics (off if unset)")
    new_run: bool = opt(
        False, "start a new run (re-classify everything under this configuration)", kind="bool"
    )
    exit_when_empty: bool = opt(
        True, "exit when the queue is drained (--no-exit-when-empty keeps polling)", kind="bool"
    )
    price_in: float | None = opt(None, "USD per million input tokens (overrides the catalogue)")
    price_out: float | None = opt(None, "USD per million output tokens (overrides the catalogue)")
    price_cache_write: float | None = opt(
        None, "USD per million tokens written to the prompt cache (default: 1.25x input)"
    )
    price_cache_read: float | None = opt(
        None, "USD per million tokens read from the prompt cache (default: 0.1x input)"
    )
    prompt_cache: bool = opt(
        True,
        "cache the system prompt when it reaches the model's minimum (--no-prompt-cache: never)",
        kind="bool",
    )


@dataclass(frozen=True)
class EmulatorSettings:
    host: str = opt("127.0.0.1", "address to bind", env="PARALLELPROMPT_EMULATOR_HOST")
    port: int = opt(8787, "port to bind (0: a free one)", env="PARALLELPROMPT_EMULATOR_PORT")
    rpm: float = opt(0.0, "requests/min quota (0: none)", env="PARALLELPROMPT_EMULATOR_RPM")
    tpm: float = opt(0.0, "tokens/min quota (0: none)", env="PARALLELPROMPT_EMULATOR_TPM")
    burst_seconds: float = opt(
        60.0, "bucket capacity in seconds of quota", env="PARALLELPROMPT_EMULATOR_BURST_SECONDS"
    )
    latency_ms: float = opt(0.0, "base latency", env="PARALLELPROMPT_EMULATOR_LATENCY_MS")
    per_token_ms: float = opt(
        0.0, "extra latency per output token", env="PARALLELPROMPT_EMULATOR_PER_TOKEN_MS"
    )
    jitter_ms: float = opt(0.0, "uniform latency jitter", env="PARALLELPROMPT_EMULATOR_JITTER_MS")
    faults: str = opt(
        "",
        "fault rates, e.g. throttle=0.05,server=0.01,timeout=0.01,malformed=0.01,"
        "truncated=0.01,refusal=0.01,empty=0.01",
        env="PARALLELPROMPT_EMULATOR_FAULTS",
    )
    seed: int = opt(
        0, "seed for latency, faults and the answer style", env="PARALLELPROMPT_EMULATOR_SEED"
    )
    answer_style: str = opt(
        "realistic",
        "realistic: the heuristic extractor's answers with a model's seeded imperfections "
        "(paraphrases, invented items, wrappers, truncation; docs/emulator.md); "
        "exact: its answers as they are",
        env="PARALLELPROMPT_EMULATOR_ANSWER_STYLE",
        choices=("realistic", "exact"),
    )
    models: tuple[str, ...] = opt(
        (),
        "accepted model ids (empty: the model catalogue's, see `parallelprompt models`)",
        kind="list",
        env="PARALLELPROMPT_EMULATOR_MODELS",
    )
    retired_models: tuple[str, ...] = opt(
        (), "model ids answered as retired", kind="list", env="PARALLELPROMPT_EMULATOR_RETIRED"
    )
    slow_seconds: float = opt(
        300.0,
        "how long a 'slow' fault stalls (past a client's read timeout)",
        env="PARALLELPROMPT_EMULATOR_SLOW_SECONDS",
    )
    initial_fill: float = opt(
        1.0,
        "quota buckets' fill at start, 0..1 (1: a full burst)",
        env="PARALLELPROMPT_EMULATOR_INITIAL_FILL",
    )


@dataclass(frozen=True)
class OutputSettings:
    out: Path | None = opt(None, "output file")
    format: str = opt(
        "jsonl",
        "export format (hf: a dataset folder in the Hugging Face Hub's layout)",
        choices=("jsonl", "parquet", "csv", "hf"),
    )
    schema: str = opt(
        "ours",
        "export dtypes: ours (data list<string>, n int64) or published (the published "
        "dataset's: data a JSON string, n float64)",
        choices=("ours", "published"),
    )
    json: bool = opt(False, "machine-readable JSON instead of text", kind="bool")
    per: str = opt(
        "source", "one row per source row or per unique prompt", choices=("source", "prompt")
    )
    run_id: int | None = opt(None, "restrict to this run (default: the latest)", flag="--run")
    source: str | None = opt(None, "restrict to this source dataset")
    tier: tuple[str, ...] = opt(
        (),
        "restrict to these outcomes (one or several): high_confidence, medium_confidence, "
        "not_parallelizable, failed, unparseable, dead",
        kind="list",
    )
    passed: bool = opt(
        False,
        "only prompts that passed validation: --tier high_confidence medium_confidence "
        "(the published subset)",
        kind="bool",
    )
    category: str | None = opt(None, "restrict to this category")
    language: str | None = opt(None, "restrict to this language")
    profile: str | None = opt(None, "rule profile to report (default: the run's own)")
    include_emulator: bool = opt(
        False,
        "export a run answered by the local emulator (heuristics, not a model); refused without it",
        kind="bool",
    )
    csv_raw: bool = opt(
        False,
        "write CSV cells as they are (default: cells starting with = + - @ tab or CR get a "
        "leading ' so spreadsheets do not run them as formulas)",
        kind="bool",
    )
    gold: Path | None = opt(
        None,
        "compare-rules: judge this labelled gold set (JSON Lines) instead of the database",
    )


@dataclass(frozen=True)
class Settings:
    common: CommonSettings = field(default_factory=CommonSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    contract: ContractSettings = field(default_factory=ContractSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    emulator: EmulatorSettings = field(default_factory=EmulatorSettings)
    output: OutputSettings = field(default_factory=OutputSettings)


_SECTION_TYPES: dict[str, type[Any]] = {
    "common": CommonSettings,
    "ingest": IngestSettings,
    "contract": ContractSettings,
    "worker": WorkerSettings,
    "emulator": EmulatorSettings,
    "output": OutputSettings,
}


@dataclass(frozen=True)
class Option:
    """One setting as the CLI and the docs see it."""

    section: str
    name: str
    flag: str
    env: str
    kind: str
    default: Any
    help: str
    choices: Sequence[str] | None
    type: Any
    convert: Any


def options(section: str) -> list[Option]:
    cls = _SECTION_TYPES[section]
    hints = _type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[operator]
        out.append(
            Option(
                section=section,
                name=f.name,
                flag=meta["flag"] or "--" + f.name.replace("_", "-"),
                env=meta["env"] or ENV_PREFIX + f.name.upper(),
                kind=meta["kind"],
                default=default,
                help=meta["help"],
                choices=meta["choices"],
                type=hints[f.name],
                convert=meta["convert"] or _scalar_type(hints[f.name]),
            )
        )
    return out


def _type_hints(cls: type[Any]) -> dict[str, Any]:
    import typing

    return typing.get_type_hints(cls)


def _scalar_type(tp: Any) -> Any:
    """The converter for a value of annotated type ``tp`` (Optional unwrapped)."""
    args = [a for a in getattr(tp, "__args__", ()) if a is not type(None)]
    if args and tp is not tuple and getattr(tp, "__origin__", None) is not tuple:
        tp = args[0]
    if getattr(tp, "__origin__", None) is tuple:
        return str
    return tp


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message says which and why."""


def _convert(opt_: Option, raw: str, origin: str) -> Any:
    conv = opt_.convert
    try:
        value = conv(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{origin}: {raw!r} is not a valid {conv.__name__}") from None
    if opt_.choices and value not in opt_.choices:
        raise SettingsError(f"{origin}: {raw!r} is not one of {', '.join(opt_.choices)}")
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _from_env(opt_: Option, environ: Mapping[str, str]) -> Any:
    raw = environ.get(opt_.env)
    if raw is None:
        return dataclasses.MISSING
    origin = f"environment variable {opt_.env}"
    if opt_.kind == "bool":
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise SettingsError(f"{origin}: {raw!r} is not a boolean (use 1/0, true/false)")
    if opt_.kind == "list":
        return tuple(p.strip() for p in raw.split(",") if p.strip())
    if raw == "" and (opt_.default is None or _scalar_type(opt_.type) is not str):
        return None  # an empty variable (compose's ${X:-}) means "not set"
    return _convert(opt_, raw, origin)


def add_arguments(parser: argparse.ArgumentParser, sections: Sequence[str]) -> None:
    """Add the flags of ``sections`` to ``parser``; defaults stay unset so env can fill them.

    A section is ``name`` (all its settings) or ``name:field,field`` (only those), so that each
    command takes only the flags it uses."""
    for spec in sections:
        section, _, only = spec.partition(":")
        wanted = set(only.split(",")) if only else None
        known = {o.name for o in options(section)}
        if wanted is not None and not wanted <= known:
            raise ValueError(f"section {section} has no setting {sorted(wanted - known)}")
        group = parser.add_argument_group(section)
        for o in options(section):
            if wanted is not None and o.name not in wanted:
                continue
            dest = f"{section}__{o.name}"
            default_txt = "" if o.default in (None, (), "") else f" [default: {o.default}]"
            help_ = f"{o.help}{default_txt} (env {o.env})"
            if o.kind == "bool":
                group.add_argument(
                    o.flag,
                    dest=dest,
                    action=argparse.BooleanOptionalAction,
                    default=None,
                    help=help_,
                )
            elif o.kind == "list":
                group.add_argument(
                    o.flag, dest=dest, nargs="+", default=None, metavar="VALUE", help=help_
                )
            else:
                group.add_argument(
                    o.flag,
                    dest=dest,
                    default=None,
                    metavar=None if o.choices else o.name.upper(),  # choices: {a,b} in --help
                    choices=o.choices,
                    type=o.convert,
                    help=help_,
                )


def build(
    args: argparse.Namespace | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build the settings once: flag, else environment variable, else default.

    Every section reads its environment variables; flags exist only for the sections that the
    command's parser declared.
    """
    env = os.environ if environ is None else environ
    ns = vars(args) if args is not None else {}
    built: dict[str, Any] = {}
    for section in _SECTION_TYPES:
        values: dict[str, Any] = {}
        for o in options(section):
            flag_value = ns.get(f"{section}__{o.name}")
            if flag_value is not None:
                values[o.name] = tuple(flag_value) if o.kind == "list" else flag_value
                continue
            env_value = _from_env(o, env)
            if env_value is not dataclasses.MISSING:
                values[o.name] = env_value
        built[section] = _SECTION_TYPES[section](**values)
    settings = Settings(**built)
    check(settings)
    return settings


#: AWS region names: us-east-1, eu-central-1, ap-southeast-2, us-gov-west-1, ...
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")


def _check_finite(s: Settings) -> None:
    """NaN and infinity pass every comparison check (and hang limiters): refuse them all."""
    for section in _SECTION_TYPES:
        values = getattr(s, section)
        for o in options(section):
            value = getattr(values, o.name)
            if not isinstance(value, float) or math.isfinite(value):
                continue
            if o.convert is budget and value == NO_BUDGET:
                continue
            where = "" if section != "emulator" else "emulator "
            raise SettingsError(f"{where}{o.flag} must be a finite number, got {value}")


def check(s: Settings) -> None:
    """Reject values no run could use, with one clear sentence."""
    _check_finite(s)
    w, e = s.worker, s.emulator
    if w.region is not None and not REGION.fullmatch(w.region):
        raise SettingsError(
            f"--region {w.region!r} is not an AWS region name (like us-east-1 or eu-central-1)"
        )
    positive = {
        "--concurrency": w.concurrency,
        "--rpm": w.rpm,
        "--tpm": w.tpm,
        "--max-attempts": w.max_attempts,
        "--lease-seconds": w.lease_seconds,
        "--max-tokens": s.contract.max_tokens,
        "--batch-rows": s.ingest.batch_rows,
        "--flush-rows": w.flush_rows,
        "--flush-ms": w.flush_ms,
        "--connect-timeout": w.connect_timeout,
        "--read-timeout": w.read_timeout,
        "emulator --burst-seconds": e.burst_seconds,
    }
    for flag, value in positive.items():
        if value <= 0:
            raise SettingsError(f"{flag} must be positive, got {value}")
    not_negative = {
        "--max-cost-usd": w.max_cost_usd,
        "--grace-seconds": w.grace_seconds,
        "--price-in": w.price_in,
        "--price-out": w.price_out,
        "--price-cache-write": w.price_cache_write,
        "--price-cache-read": w.price_cache_read,
        "--max-tokens-retry": s.contract.max_tokens_retry,
        "--min-chars": s.ingest.min_chars,
        "--skip": s.ingest.skip,
        "--limit": s.ingest.limit,
        "emulator --rpm": e.rpm,
        "emulator --tpm": e.tpm,
        "emulator --latency-ms": e.latency_ms,
        "emulator --per-token-ms": e.per_token_ms,
        "emulator --jitter-ms": e.jitter_ms,
        "emulator --slow-seconds": e.slow_seconds,
    }
    for flag, maybe in not_negative.items():
        if maybe is not None and maybe < 0:
            raise SettingsError(f"{flag} must be >= 0, got {maybe}")
    ports = {"--metrics-port": w.metrics_port, "emulator --port": e.port}
    for flag, port in ports.items():
        if port is not None and not 0 <= port <= 65535:
            raise SettingsError(f"{flag} must be a TCP port (0 to 65535), got {port}")
    if not 0.0 <= s.contract.temperature <= 1.0:
        raise SettingsError(f"--temperature must be in [0, 1], got {s.contract.temperature}")
    if not 0.0 <= e.initial_fill <= 1.0:
        raise SettingsError(f"emulator --initial-fill must be in [0, 1], got {e.initial_fill}")


def apply_aws_aliases(environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """Copy the original pipeline's AWS_KEY / AWS_SECRET_KEY onto the standard names.

    The standard names win when both are set. Returns the aliases that were applied (names
    only, never values), so the CLI can say so.
    """
    applied = []
    for alias, standard in AWS_ALIASES.items():
        if alias in environ and standard not in environ:
            environ[standard] = environ[alias]
            applied.append(alias)
    return applied


def reference_table() -> str:
    """The configuration reference as a Markdown table (docs/configuration.md)."""
    lines = [
        "| section | flag | environment variable | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for section in _SECTION_TYPES:
        for o in options(section):
            default = "" if o.default in (None, ()) else f"`{o.default}`"
            help_ = o.help.replace("|", "\\|")
            if o.choices:
                help_ += f" ({' / '.join(o.choices)})"
            lines.append(f"| {section} | `{o.flag}` | `{o.env}` | {default} | {help_} |")
    return "\n".join(lines) + "\n"
