"""Which run a worker writes into: run identity and the choice to continue, start or refuse.

A run is one configuration applied to the queue. Its identity: model, API, contract version,
rule profile, the backend that answered (read from the response headers, never from a flag)
and the endpoint (the URL for Bedrock; "emulator VERSION" for the emulator, whatever its port).
A run never mixes two identities:

* the latest run has ours: continue it (``--new-run`` starts a new one when it holds results);
* it differs and holds no results: it is superseded by a new run;
* it differs and is a rehearsal (backend ``emulator``): a new run re-classifies every prompt —
  heuristic answers never stand in for a model's. Its results stay with it;
* it differs and holds a model's results: refused (exit 2) unless ``--new-run``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parallelprompt.catalogue import Pricing, pricing
from parallelprompt.common.errors import ParallelPromptError
from parallelprompt.common.provenance import EMULATOR, EMULATOR_NOTICE, Backend
from parallelprompt.common.textsafe import redact_url
from parallelprompt.db import Run, RunIdentity, Status
from parallelprompt.prompts import Contract, estimate_tokens
from parallelprompt.worker.settings import Job
from parallelprompt.worker.store import Store


class ConfigError(ParallelPromptError):
    """The worker cannot start with this configuration (exit 2, one line)."""


def identity_of(
    settings: Job, contract: Contract, backend: Backend, endpoint_url: str
) -> RunIdentity:
    """The identity of the run this worker would write into."""
    return RunIdentity(
        model_id=settings.worker.model,
        api=settings.worker.api,
        contract_version=contract.version,
        rules=contract.profile.name,
        backend=backend.kind,
        endpoint=endpoint_key(backend, endpoint_url),
        endpoint_url=redact_url(settings.worker.endpoint_url),
    )


def describe(identity: RunIdentity) -> str:
    where = (
        f"via the local emulator ({EMULATOR_NOTICE})"
        if identity.backend == EMULATOR
        else f"on Bedrock at {identity.endpoint or '?'}"
    )
    return (
        f"model {identity.model_id}, api {identity.api}, prompt version "
        f"{identity.contract_version}, rules {identity.rules}, {where}"
    )


def endpoint_key(backend: Backend, endpoint_url: str) -> str:
    """The endpoint part of a run's identity (credentials never included)."""
    if backend.kind == EMULATOR:
        return backend.label
    return redact_url(endpoint_url) or ""


def run_pricing(settings: Job) -> Pricing:
    w = settings.worker
    return pricing(w.model, w.price_in, w.price_out, w.price_cache_write, w.price_cache_read)


def run_config(
    settings: Job, contract: Contract, identity: RunIdentity, backend: Backend
) -> dict[str, Any]:
    """What a run records about itself; never credentials (URL userinfo is redacted).
    ``prices`` (USD per million tokens) let stats and the report price the cache's savings."""
    w, k = settings.worker, settings.contract
    config: dict[str, Any] = {
        "model_id": w.model,
        "api": w.api,
        "region": w.region,
        "endpoint_url": redact_url(w.endpoint_url),
        "endpoint": identity.endpoint,
        "contract_version": contract.version,
        "rules": contract.profile.name,
        "system_prompt": str(k.system_prompt) if k.system_prompt else "bundled",
        "categories_file": str(k.categories_file) if k.categories_file else "bundled",
        "max_tokens": k.max_tokens,
        "size_max_tokens": k.size_max_tokens,
        "max_tokens_retry": k.max_tokens_retry,
        "temperature": k.temperature,
        "prompt_cache": w.prompt_cache,
        "system_prompt_tokens": estimate_tokens(contract.system_prompt),
        "prices": run_pricing(settings).as_dict(),
        "rpm": w.rpm,
        "tpm": w.tpm,
        "concurrency": w.concurrency,
        "max_attempts": w.max_attempts,
        "backend": backend.kind,
    }
    if backend.kind == EMULATOR:
        config["emulator_version"] = backend.version
        config["notice"] = EMULATOR_NOTICE
    return config


@dataclass(frozen=True, slots=True)
class Choice:
    """Continue ``run``, or start a new run (``reopen``: send finished prompts back first;
    ``join``: an automatic new run, which a worker of the same fleet may have started)."""

    run: Run | None
    reopen: bool = False
    join: bool = False


async def decide(store: Store, settings: Job, identity: RunIdentity) -> Choice:
    """The run to use (see the module doc); ConfigError when refused."""
    latest = await store.latest_run()
    new_run = settings.worker.new_run
    if latest is None:
        return Choice(None)
    if identity.matches(latest):
        if not new_run or await store.run_result_count(latest.id) == 0:
            return Choice(latest)  # a fleet started with --new-run creates one run, not one each
        return Choice(None, reopen=True)
    if await store.run_result_count(latest.id) == 0:
        return Choice(None, reopen=new_run)
    if latest.backend == EMULATOR:
        return Choice(None, reopen=True, join=not new_run)
    if not new_run:
        raise ConfigError(
            f"this DB holds results of run {latest.id} ({describe(RunIdentity.of_run(latest))}); "
            f"you asked for {describe(identity)} — pass --new-run to classify everything "
            "again under a new run, or use a fresh --db"
        )
    return Choice(None, reopen=True)


async def reopens_rows(store: Store, settings: Job, identity: RunIdentity) -> int:
    """How many finished prompts choosing the run would send back to ready (ConfigError when
    the run would be refused)."""
    choice = await decide(store, settings, identity)
    if choice.run is not None or not choice.reopen:
        return 0
    counts = await store.counts()
    return counts[Status.DONE] + counts[Status.DEAD]


async def choose_run(
    store: Store, settings: Job, contract: Contract, identity: RunIdentity, backend: Backend
) -> Run:
    """Continue the latest run, start one, or refuse (ConfigError) — see the module doc."""
    choice = await decide(store, settings, identity)
    if choice.run is not None:
        return choice.run
    return await store.start_run(
        identity,
        run_config(settings, contract, identity, backend),
        reopen=choice.reopen,
        join=choice.join,
    )
