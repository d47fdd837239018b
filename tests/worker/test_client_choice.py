"""`--client` chooses the LLM adapter from the registry: a new backend is a module in
``worker/llm/`` and one line in ``ADAPTERS``; the worker opens whichever is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from parallelprompt.worker.llm import registry
from parallelprompt.worker.llm.port import ClientOptions
from parallelprompt.worker.llm.scripted import ScriptedClient, in_turn, reply
from parallelprompt.worker.settings import WorkerSettings
from tests.answers import answer

from .conftest import fill, make_settings, work_on

OPENED: list[ScriptedClient] = []


async def open_client(options: ClientOptions) -> ScriptedClient:
    """This module doubles as an adapter: what `worker/llm/NAME.py` provides."""
    client = ScriptedClient(in_turn([reply(answer(parallelizable=False, serial="x"))]))
    OPENED.append(client)
    return client


def test_the_clients_choices_are_the_registrys() -> None:
    option = next(o for o in WorkerSettings.__dataclass_fields__.values() if o.name == "client")
    assert tuple(option.metadata["choices"]) == tuple(registry.ADAPTERS)
    assert WorkerSettings().client == "bedrock"


async def test_the_worker_opens_the_adapter_it_is_told(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry.ADAPTERS, "scripted-test", __name__)
    OPENED.clear()
    await fill(db, ["a", "b", "c"])
    summary = await work_on(make_settings(db, None, client="scripted-test"))
    assert summary.exit_code == 0, summary
    (client,) = OPENED
    assert len(client.calls) == 3 and client.closed


def test_an_unknown_client_is_refused_by_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The registry's own refusal is tested in test_llm_bedrock; the user meets the choices."""
    from parallelprompt.cli import main

    assert main(["work", "--client", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--client: invalid choice: 'nope' (choose from 'bedrock')" in err
    assert len(err.strip().splitlines()) == 1
