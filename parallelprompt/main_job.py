"""`parallelprompt run`: ingest, classify, report, in one command.

With no dataset it ingests the bundled sample. Where the prompts go (``--backend``):

* ``auto`` (default): an ``--endpoint-url`` if given; else the local emulator for the bundled
  sample (the demo never spends) or when no AWS credentials are found; else Bedrock;
* ``emulator``: a local emulator on a free loopback port (or the one at ``--endpoint-url``);
* ``bedrock``: AWS Bedrock.

A Bedrock run needs ``--max-cost-usd`` (see :mod:`worker.spending`). Emulator answers are
said, everywhere, to be heuristics and not a model's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
from typing import TYPE_CHECKING

from parallelprompt.common.provenance import EMULATOR_NOTICE
from parallelprompt.settings import Settings, WorkerSettings

if TYPE_CHECKING:
    from parallelprompt.worker import WorkSummary
from parallelprompt.common.textsafe import terminal_safe

UNLIMITED_RPM = 600_000.0
UNLIMITED_TPM = 6_000_000_000.0
EMULATOR_HINT = "pass --backend bedrock and --max-cost-usd to classify with Bedrock"


def aws_credentials_available() -> bool:
    """Whether the standard AWS chain (env, profile, SSO, role) yields credentials."""
    import botocore.session

    try:
        return botocore.session.get_session().get_credentials() is not None
    except Exception:  # a broken profile: no usable credentials
        return False


def starts_emulator(s: Settings) -> bool:
    """Whether `run` starts a local emulator (see the module doc)."""
    backend, endpoint = s.worker.backend, s.worker.endpoint_url
    if backend == "bedrock" or endpoint is not None:
        return False
    if backend == "emulator":
        return True
    bundled_sample = s.ingest.dataset is None and not s.ingest.data_files
    return bundled_sample or not aws_credentials_available()


def style_notice(s: Settings) -> str:
    """How the emulator answers: in a model's style (the default) or exactly."""
    e = s.emulator
    if e.answer_style == "exact":
        return "emulator answer style exact: the heuristic extractor's answers as they are"
    return (
        f"emulator answer style {e.answer_style} (seed {e.seed}): some answers are paraphrased, "
        "invent an item, come wrapped in prose or cut at max tokens, as a model's do "
        "(PARALLELPROMPT_EMULATOR_ANSWER_STYLE=exact for the extractor's exact answers)"
    )


def main_job(s: Settings) -> int:
    return asyncio.run(_main_job(s))


async def _main_job(s: Settings) -> int:
    from parallelprompt.db import connect_sync
    from parallelprompt.producer.ingest import ingest
    from parallelprompt.results.stats import compute_stats, format_stats

    c = s.common
    summary = await ingest(s.ingest, db=c.db, progress=not c.quiet, log_format=c.log_format)
    print(summary.line(), flush=True)

    use_emulator = starts_emulator(s)
    if use_emulator:
        print(f"note: {EMULATOR_NOTICE} ({EMULATOR_HINT})", file=sys.stderr, flush=True)
        print(f"note: {style_notice(s)}", file=sys.stderr, flush=True)
        code = await _work_on_emulator(s)
    else:
        result = await _work(s, s.worker)
        print(terminal_safe(result.line()), flush=True)
        code = result.exit_code

    with contextlib.closing(connect_sync(s.common.db)) as conn:
        stats = compute_stats(conn)
    print()
    print(terminal_safe(format_stats(stats)))
    db = s.common.db.resolve()
    print(f"\nresults: {db}")
    print(f"  parallelprompt stats --db {db}")
    print(f"  sqlite3 {db} 'SELECT * FROM parallelizable_prompts LIMIT 5'")
    if use_emulator:
        print(f"note: {EMULATOR_NOTICE} ({EMULATOR_HINT})")
    return code


async def _work_on_emulator(s: Settings) -> int:
    from parallelprompt.emulator import Emulator

    emu_settings = dataclasses.replace(s.emulator, host="127.0.0.1", port=0)
    async with Emulator(emu_settings) as emu:
        # The worker's limiter mirrors the emulator's quota; with none, it must not be the
        # bottleneck (the defaults are sized for a real Bedrock account).
        worker = dataclasses.replace(
            s.worker,
            backend="emulator",  # the worker signs with dummy keys (worker.llm.LOCAL_CREDENTIALS)
            endpoint_url=emu.endpoint,
            rpm=emu_settings.rpm or UNLIMITED_RPM,
            tpm=emu_settings.tpm or UNLIMITED_TPM,
        )
        result = await _work(s, worker)
    print(terminal_safe(result.line()), flush=True)
    return result.exit_code


async def _work(s: Settings, worker: WorkerSettings) -> WorkSummary:
    from parallelprompt.worker.run import work

    c = s.common
    return await work(worker, s.contract, db=c.db, log_format=c.log_format, quiet=c.quiet)
