"""One typed settings object, built once: CLI flag > environment variable > default.

Each package declares its own section (``producer.settings.IngestSettings``,
``prompts.settings.ContractSettings``, ``worker.settings.WorkerSettings``,
``emulator.settings.EmulatorSettings``; the app's own ``common`` and ``output`` sections are
below) with :func:`common.options.opt`; this module composes them into :class:`Settings`. A
field's metadata names its command-line flag and its environment variable
(``PARALLELPROMPT_...``); the CLI builds its argument parsers from these declarations, so a
flag, its variable and its default can never drift apart. ``docs/configuration.md`` is
generated from the same table (``parallelprompt config-reference``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parallelprompt.common.options import (
    ENV_PREFIX,
    Option,
    SettingsError,
    opt,
    options_of,
    scalar_type,
)
from parallelprompt.emulator.settings import EmulatorSettings
from parallelprompt.producer.settings import IngestSettings
from parallelprompt.prompts.settings import ContractSettings
from parallelprompt.worker.settings import NO_BUDGET, WorkerSettings, budget

__all__ = [
    "ENV_PREFIX",
    "NO_BUDGET",
    "CommonSettings",
    "ContractSettings",
    "EmulatorSettings",
    "IngestSettings",
    "Option",
    "OutputSettings",
    "Settings",
    "SettingsError",
    "WorkerSettings",
    "add_arguments",
    "apply_aws_aliases",
    "budget",
    "build",
    "check",
    "options",
    "reference_table",
]

#: The original pipeline's variable names, accepted as aliases of the standard AWS ones.
AWS_ALIASES = {
    "AWS_KEY": "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_KEY": "AWS_SECRET_ACCESS_KEY",
}


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


def options(section: str) -> list[Option]:
    """The settings of one section (``common``, ``ingest``, ``contract``, ``worker``, ...)."""
    return options_of(_SECTION_TYPES[section], section)


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
    if raw == "" and (opt_.default is None or scalar_type(opt_.type) is not str):
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


def _values(s: Settings) -> Iterator[tuple[str, Option, Any]]:
    """Every setting of ``s``: the flag as an error names it, its option, its value."""
    for section in _SECTION_TYPES:
        values = getattr(s, section)
        where = "" if section != "emulator" else "emulator "
        for o in options(section):
            yield f"{where}{o.flag}", o, getattr(values, o.name)


def check(s: Settings) -> None:
    """Reject values no run could use, with one clear sentence: NaN and infinity first (they
    pass every comparison and hang limiters), then the rules each section declares with its
    settings (``opt(..., rule=...)``)."""
    for flag, o, value in _values(s):
        if not isinstance(value, float) or math.isfinite(value):
            continue
        if o.convert is budget and value == NO_BUDGET:
            continue
        raise SettingsError(f"{flag} must be a finite number, got {value}")
    for flag, o, value in _values(s):
        reason = o.rule(value) if o.rule is not None else None
        if reason is not None:
            raise SettingsError(f"{flag} {reason}")


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
