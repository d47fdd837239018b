"""SQL kept as named data: ``queries.sql`` split on ``-- name:`` markers, and the migrations."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def _parse(text: str) -> dict[str, str]:
    parts = _NAME.split(text)
    queries = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        lines = [ln for ln in body.strip().splitlines() if not ln.lstrip().startswith("--")]
        queries[name] = "\n".join(lines).rstrip().rstrip(";")
    return queries


@cache
def queries() -> dict[str, str]:
    return _parse(resources.files("parallelprompt.db").joinpath("queries.sql").read_text("utf-8"))


def query(name: str) -> str:
    return queries()[name]


@cache
def migrations() -> tuple[tuple[int, str, str], ...]:
    """(version, file name, script) in order; file names look like ``0001_init.sql``."""
    found = []
    for entry in resources.files("parallelprompt.db").joinpath("migrations").iterdir():
        match = re.fullmatch(r"(\d{4})_\w+\.sql", entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..n: {versions}")
    return tuple(found)


@cache
def named_queries(file: str) -> dict[str, str]:
    """The named queries of another SQL file in ``db/`` (same ``-- name:`` format)."""
    return _parse(resources.files("parallelprompt.db").joinpath(file).read_text("utf-8"))
