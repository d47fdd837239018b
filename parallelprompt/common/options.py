"""Declaring settings: each package declares its own section as a frozen dataclass whose
fields are :func:`opt` calls; ``parallelprompt.settings`` composes the sections and builds the
command-line flags, the environment variables and the configuration reference from them.

A field's metadata names its flag (default ``--field-name``) and its environment variable
(default ``PARALLELPROMPT_FIELD_NAME``).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from parallelprompt.common.errors import ParallelPromptError

ENV_PREFIX = "PARALLELPROMPT_"


class SettingsError(ParallelPromptError, ValueError):
    """A setting has a value that cannot be used; the message says which and why."""


#: A rule on a setting's value, declared with the setting (``opt(..., rule=positive)``): why
#: the value cannot be used ("must be positive, got 0"), or None when it can. Unset (None)
#: values pass every rule.
Rule = Callable[[Any], "str | None"]


def positive(value: Any) -> str | None:
    return None if value is None or value > 0 else f"must be positive, got {value}"


def non_negative(value: Any) -> str | None:
    return None if value is None or value >= 0 else f"must be >= 0, got {value}"


def tcp_port(value: Any) -> str | None:
    if value is None or 0 <= value <= 65535:
        return None
    return f"must be a TCP port (0 to 65535), got {value}"


def between(low: float, high: float) -> Rule:
    def rule(value: Any) -> str | None:
        if value is None or low <= value <= high:
            return None
        return f"must be in [{low:g}, {high:g}], got {value}"

    return rule


def opt(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    env: str | None = None,
    kind: str = "value",
    choices: Sequence[str] | None = None,
    convert: Any = None,
    rule: Rule | None = None,
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
        "rule": rule,
    }
    if isinstance(default, list | tuple):
        items = tuple(default)
        return field(default_factory=lambda: items, metadata=meta)
    return field(default=default, metadata=meta)


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
    rule: Rule | None = None


def options_of(cls: type[Any], section: str) -> list[Option]:
    """The settings that the section dataclass ``cls`` declares, in declaration order."""
    hints = typing.get_type_hints(cls)
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
                convert=meta["convert"] or scalar_type(hints[f.name]),
                rule=meta["rule"],
            )
        )
    return out


def scalar_type(tp: Any) -> Any:
    """The converter for a value of annotated type ``tp`` (Optional unwrapped)."""
    args = [a for a in getattr(tp, "__args__", ()) if a is not type(None)]
    if args and tp is not tuple and getattr(tp, "__origin__", None) is not tuple:
        tp = args[0]
    if getattr(tp, "__origin__", None) is tuple:
        return str
    return tp
