"""Starting a small aiohttp server on a host and port (0: a free one): the emulator and the
worker's metrics endpoint share this."""

from __future__ import annotations

from typing import Any

from aiohttp import web


async def start_app(
    app: web.Application, host: str, port: int, **runner_options: Any
) -> tuple[web.AppRunner, str]:
    """Serve ``app``; returns the runner (``await runner.cleanup()`` stops it) and its URL."""
    runner = web.AppRunner(app, access_log=None, **runner_options)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    bound_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    return runner, f"http://{bound_host}:{bound_port}"
