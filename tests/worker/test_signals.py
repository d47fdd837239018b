"""Stop requests recorded before the event loop runs (worker/signals.py)."""

from __future__ import annotations

import signal

from parallelprompt.worker import signals


def test_a_signal_is_recorded_not_fatal_and_the_old_handlers_come_back() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    previous = signals.install()
    try:
        signal.raise_signal(signal.SIGTERM)  # would end this process under the default handler
        signal.raise_signal(signal.SIGINT)  # would raise KeyboardInterrupt
        assert signals.take() == "SIGTERM"  # the first one names the stop
        assert signals.take() is None
    finally:
        signals.restore(previous)
    assert {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)} == before
