"""A claimer process for the concurrency tests: python -m tests.db.claimer DB OUT MODE.

MODE "claim": claim batches until the queue is empty, complete each row, write the ids.
MODE "mixed": for a fixed number of rounds, enqueue, claim, complete / fail / release.
Any exception (notably "database is locked") exits non-zero with the error on stderr.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

from parallelprompt.db import Completion, Failure, SqliteQueue, VerdictRow
from tests.db.conftest import source_row


def completion(work_id: int, attempts: int) -> Completion:
    verdict = VerdictRow(profile="default", contract_version="t", outcome="not_parallelizable")
    return Completion(work_id=work_id, run_id=1, model_id="m", verdict=verdict, attempts=attempts)


async def claim_all(db: str, out: str) -> None:
    q = await SqliteQueue.open(db)
    got: list[int] = []
    try:
        while True:
            leases = await q.claim(random.randint(1, 7), lease_seconds=600)
            if not leases:
                break
            got.extend(lease.work_id for lease in leases)
            result = await q.complete_many([completion(x.work_id, x.attempts) for x in leases])
            assert not result.lost, result
            await asyncio.sleep(0.002)  # let the other claimers interleave
    finally:
        await q.close()
    Path(out).write_text("\n".join(map(str, got)))  # noqa: ASYNC240 (after the work)


async def mixed(db: str, out: str, ident: int) -> None:
    q = await SqliteQueue.open(db, backoff_base=0.0, backoff_cap=0.0)
    rng = random.Random(ident)
    ops = 0
    try:
        for round_ in range(40):
            rows = [
                source_row(f"p{ident}-{round_}-{i}", ident * 100_000 + round_ * 10 + i)
                for i in range(10)
            ]
            await q.enqueue_many(rows)
            leases = await q.claim(rng.randint(1, 8), lease_seconds=600)
            for lease in leases:
                pick = rng.random()
                if pick < 0.6:
                    await q.complete_many([completion(lease.work_id, lease.attempts)])
                elif pick < 0.8:
                    failure = Failure(
                        work_id=lease.work_id,
                        run_id=1,
                        model_id="m",
                        profile="default",
                        contract_version="t",
                        attempts=lease.attempts,
                        error_code="Throttling",
                        message="slow down",
                        retryable=True,
                    )
                    await q.fail(failure, max_attempts=3)
                else:
                    await q.release([lease.work_id])
                ops += 1
            await q.counts()
    finally:
        await q.close()
    Path(out).write_text(str(ops))  # noqa: ASYNC240 (after the work)


def wait_for_start(db: str) -> None:
    """All claimers start together: the test creates DB.go once every process is up."""
    ready = Path(f"{db}.ready.{sys.argv[4]}")
    ready.touch()
    deadline = time.monotonic() + 60
    while not Path(f"{db}.go").exists():
        if time.monotonic() > deadline:
            raise SystemExit("never told to start")
        time.sleep(0.01)


def main() -> None:
    db, out, mode = sys.argv[1:4]
    wait_for_start(db)
    if mode == "claim":
        asyncio.run(claim_all(db, out))
    else:
        asyncio.run(mixed(db, out, int(sys.argv[4])))


if __name__ == "__main__":
    main()
