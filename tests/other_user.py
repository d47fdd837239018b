"""Run a function as another, unprivileged user: how a container's user meets a bind mount
owned by the host's user. As root: a forked child switches to uid/gid 65534 (the interpreter and
the imported modules are already in memory). Otherwise the caller's folder is made read-only."""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

NOBODY = 65534


def _child(conn: Connection, fn: Callable[[], Any]) -> None:
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            result = fn()
        conn.send((result, err.getvalue(), None))
    except Exception as exc:
        conn.send((None, err.getvalue(), f"{type(exc).__name__}: {exc}"))


def run_locked_out(folder: Path, fn: Callable[[], Any]) -> tuple[Any, str, str | None]:
    """``(result, stderr, exception text)`` of ``fn()`` run by a user who cannot write
    ``folder`` (a folder owned by the current user, mode 755)."""
    folder.chmod(0o755)
    if os.getuid() != 0:
        folder.chmod(0o555)
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                return fn(), err.getvalue(), None
        except Exception as exc:
            return None, err.getvalue(), f"{type(exc).__name__}: {exc}"
        finally:
            folder.chmod(0o755)
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn))
    proc.start()
    result: tuple[Any, str, str | None] = parent.recv()
    proc.join(60)
    return result
