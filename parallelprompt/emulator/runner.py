"""Running the emulator as a program: ``serve`` until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

from parallelprompt.emulator.responders import HEURISTIC_NOTICE, Responder
from parallelprompt.emulator.server import Emulator, EmulatorOptions
from parallelprompt.emulator.settings import EmulatorSettings


def banner(endpoint: str) -> str:
    """The first line the emulator prints; :mod:`emulator.process` reads the endpoint from it."""
    return (
        f"emulator listening on {endpoint} — set --endpoint-url {endpoint} "
        f"(or AWS_ENDPOINT_URL_BEDROCK_RUNTIME); {HEURISTIC_NOTICE}"
    )


def summary(stats: dict[str, object]) -> str:
    return (
        f"emulator stopped: {stats['requests']} requests, by outcome {stats['by_outcome']}, "
        f"{stats['input_tokens']} input / {stats['output_tokens']} output tokens, "
        f"peak concurrency {stats['peak_concurrency']}, "
        f"{stats['duplicate_calls']} duplicate calls; {HEURISTIC_NOTICE}"
    )


async def serve(
    settings: EmulatorSettings,
    responder: Responder | None = None,
    *,
    options: EmulatorOptions | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, printing the endpoint first and a summary at the end."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    emulator = Emulator(settings, responder, options=options)
    try:
        endpoint = await emulator.start()
        print(banner(endpoint), flush=True)
        q = settings
        print(
            f"quota rpm={q.rpm:g} tpm={q.tpm:g} burst={q.burst_seconds:g}s; latency "
            f"{q.latency_ms:g} ms + {q.per_token_ms:g} ms/token + jitter {q.jitter_ms:g} ms; "
            f"faults {emulator.fault_rates}; answer style {emulator.answer_style} (seed {q.seed})",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await emulator.stop()
        if emulator.endpoint is not None:  # it served (a port in use: one error line only)
            print(summary(emulator.stats()), file=sys.stderr, flush=True)
