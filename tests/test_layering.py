"""Packages depend only downward: every import of every module (function-level and
``TYPE_CHECKING`` imports included) is checked against the layering of docs/architecture.md."""

from __future__ import annotations

import ast
import inspect
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The layering, lowest level first: a package may import any package on a lower level, and on
#: its own level only what :data:`SAME_LEVEL` allows. Dotted names work (``parallelprompt.db``):
#: a module belongs to the longest package name that prefixes it, so the application package
#: may hold the others.
#: Where the packages are installed: every one of them under the application's namespace.
NS = "parallelprompt"

LAYERS: tuple[tuple[str, ...], ...] = (
    (f"{NS}.common",),  # the leaf: errors root, option declarations, serving, provenance, textsafe
    (f"{NS}.catalogue", f"{NS}.prompts", f"{NS}.db"),  # data, the pure contract, storage
    (f"{NS}.worker", f"{NS}.producer", f"{NS}.emulator"),  # the processes
    (f"{NS}.results",),  # the read side: stats, export, report, estimate, status, revalidate
    (NS,),  # the application: the CLI, the settings composition, the main job
)

#: Imports between two packages of one level that the design allows, (importer, imported):
#: ``db`` stores the contract's judgements (``db/verdicts.py`` maps a ``prompts.Verdict`` to
#: its row).
SAME_LEVEL: frozenset[tuple[str, str]] = frozenset({(f"{NS}.db", f"{NS}.prompts")})

LEVEL = {package: level for level, names in enumerate(LAYERS) for package in names}


def package_of(module: str) -> str | None:
    """The package of the table that ``module`` belongs to (the longest prefix), if any."""
    best = None
    for package in LEVEL:
        if (module == package or module.startswith(package + ".")) and (
            best is None or len(package) > len(best)
        ):
            best = package
    return best


def module_files() -> dict[str, Path]:
    """Every module of the packages in the table that exist here: dotted name -> file."""
    out = {}
    for package in LEVEL:
        folder = ROOT.joinpath(*package.split("."))
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else ():
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def imported_modules(module: str, source: str, *, is_package: bool) -> Iterator[str]:
    """Every module that ``source`` imports, wherever the import statement is (relative imports
    resolved; ``importlib.import_module("...")`` with a literal name counts too)."""
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # pkg.name: ``from pkg import submodule`` imports pkg.submodule (which may be a
            # package of the table nested in pkg), ``from pkg.mod import name`` pkg.mod
            yield from (f"{target}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def violations(imports: Mapping[str, list[str]]) -> list[str]:
    """One ``module imports X`` line per module and package it may not import."""
    found = []
    for module, targets in sorted(imports.items()):
        importer = package_of(module)
        if importer is None:
            continue
        seen = set()
        for target in sorted(set(targets)):
            imported = package_of(target)
            if imported is None or imported == importer or imported in seen:
                continue
            if LEVEL[imported] < LEVEL[importer] or (importer, imported) in SAME_LEVEL:
                continue
            seen.add(imported)
            how = "up" if LEVEL[imported] > LEVEL[importer] else "sideways"
            found.append(f"{module} imports {target} ({importer} -> {imported}: {how})")
    return found


def the_import_graph() -> dict[str, list[str]]:
    graph = {}
    for name, path in module_files().items():
        source = path.read_text(encoding="utf-8")
        graph[name] = list(imported_modules(name, source, is_package=path.stem == "__init__"))
    return graph


def test_no_package_imports_upward_or_sideways() -> None:
    found = violations(the_import_graph())
    assert not found, "imports against the layering (docs/architecture.md):\n" + "\n".join(found)


def test_the_table_covers_every_installed_package() -> None:
    """A new top-level package must take its place in the layering (pyproject's list)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    installed = project["tool"]["mypy"]["packages"]
    assert set(installed) <= set(LEVEL) and module_files()


def test_the_check_sees_imports_anywhere_in_a_module() -> None:
    """The checker itself: function-level, relative and TYPE_CHECKING imports all count."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        f"    from {NS}.settings import Settings\n"
        "def f():\n"
        f"    import {NS}.producer.ingest\n"
        "    from . import pool\n"
        f"    importlib.import_module('{NS}.results.stats')\n"
    )
    run = f"{NS}.worker.run"
    graph = {run: list(imported_modules(run, source, is_package=False))}
    assert f"{NS}.worker.pool" in graph[run]
    assert violations(graph) == [
        f"{NS}.worker.run imports {NS}.producer.ingest ({NS}.worker -> {NS}.producer: sideways)",
        f"{NS}.worker.run imports {NS}.results.stats ({NS}.worker -> {NS}.results: up)",
        f"{NS}.worker.run imports {NS}.settings.Settings ({NS}.worker -> {NS}: up)",
    ]
    allowed = {f"{NS}.db.verdicts": [f"{NS}.prompts.types"], f"{NS}.prompts.x": [f"{NS}.db.models"]}
    assert violations(allowed) == [
        f"{NS}.prompts.x imports {NS}.db.models ({NS}.prompts -> {NS}.db: sideways)"
    ]


def test_a_package_exports_no_name_of_its_own_submodules() -> None:
    """The packages' ``__init__`` load their names on first use (so that importing a settings
    section stays cheap); a name shared with a submodule would then be the module once that
    submodule was imported (``prompts.validate``, ``producer.ingest`` were)."""
    import importlib
    import pkgutil

    for package in LEVEL:
        if not ROOT.joinpath(*package.split("."), "__init__.py").exists():
            continue
        module = importlib.import_module(package)
        submodules = {m.name for m in pkgutil.iter_modules(module.__path__)}
        clash = submodules & set(getattr(module, "__all__", ()))
        assert not clash, f"{package} exports {clash}, also its submodules"
        for name in getattr(module, "__all__", ()):
            assert not inspect.ismodule(getattr(module, name)), f"{package}.{name}"
