"""Issue 7, multi-process operation: what docker-compose runs, as separate OS processes on one
SQLite file — the producer (the bundled sample), three workers and the emulator.

Checked: every prompt ends in exactly one result; the three workers share one quota; SIGTERM
on one worker mid-run releases its leases to the two others, which finish the queue; and the
secret access key never reaches the DB file, the logs, ``/metrics`` or an export.

As compose does, the settings come from the environment (compose's ``.env``: the DB path,
quotas, the emulator's latency and faults, the AWS credentials, given to every process) and
the command lines are compose's, except that the ports are free loopback ones.
"""

from __future__ import annotations

import re
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.worker.procs import emulator_stats, worker_env

from .fleet import Fleet, Proc, http_get, metrics_url, poll, query

pytestmark = pytest.mark.slow

WORKERS = 3
RPM = 900  # the account's quota: the workers' fleet setting and the emulator's, 15 requests/s
CONCURRENCY = 8
START_S = 60.0  # generous: three interpreters importing aioboto3 on a loaded 2-core machine
FINISH_S = 120.0


def compose_env(tmp_path: Path, db: Path, secret: str) -> dict[str, str]:
    """What compose's ``.env`` gives every service (plus the isolation a test needs)."""
    env = worker_env(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
        PARALLELPROMPT_DB=str(db),
        PARALLELPROMPT_RPM=str(RPM),
        PARALLELPROMPT_TPM="1e9",
        PARALLELPROMPT_CONCURRENCY=str(CONCURRENCY),
        PARALLELPROMPT_GRACE_SECONDS="20",
        PARALLELPROMPT_EMULATOR_RPM=str(RPM),
        # a 5 s bucket (not 60 s): a fleet sending more than the quota is throttled quickly
        PARALLELPROMPT_EMULATOR_BURST_SECONDS="5",
        PARALLELPROMPT_EMULATOR_LATENCY_MS="60",
        PARALLELPROMPT_EMULATOR_JITTER_MS="40",
        PARALLELPROMPT_EMULATOR_FAULTS="server=0.02,malformed=0.02",
        PARALLELPROMPT_EMULATOR_SEED="7",
    )
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        env.pop(name, None)
    return env


def start_workers(fleet: Fleet, endpoint: str) -> list[Proc]:
    return [
        fleet.start(
            f"worker{i}",
            "parallelprompt",
            "work",
            "--endpoint-url",
            endpoint,
            "--backend",
            "emulator",
            "--metrics-host",
            "127.0.0.1",
            "--metrics-port",
            "0",
        )
        for i in range(WORKERS)
    ]


def owner_of(db: Path, pid: int) -> str:
    rows = query(db, "SELECT id FROM workers WHERE pid = ?", pid)
    assert len(rows) == 1, rows
    return str(rows[0][0])


def leased_by(db: Path, owner: str) -> set[int]:
    rows = query(db, "SELECT id FROM work WHERE status = 'leased' AND lease_owner = ?", owner)
    return {r[0] for r in rows}


def status_counts(db: Path) -> dict[str, int]:
    return dict(query(db, "SELECT status, count(*) FROM work GROUP BY status"))


def summary_line(proc: Proc) -> str:
    lines = proc.stdout().strip().splitlines()
    assert len(lines) == 1, f"{proc.name}: expected one summary line, got {lines}"
    return lines[0]


def stop_one_mid_run(db: Path, victim: Proc) -> tuple[str, set[int]]:
    """SIGTERM ``victim`` once it is working (results written, leases held) and the queue is far
    from drained; returns its owner id and the prompts it had leased just before the signal."""
    owner = owner_of(db, victim.pid)

    def working() -> set[int] | None:
        """The victim's leases, once it has finished a few prompts and holds a few more."""
        finished = query(db, "SELECT count(*) FROM results WHERE worker_id = ?", owner)[0][0]
        leases = leased_by(db, owner)
        return leases if finished >= 5 and len(leases) >= 2 else None

    held = poll(working, START_S, f"{victim.name} to finish 5 prompts and hold 2 more")
    ready = status_counts(db).get("ready", 0)
    assert ready >= 20, f"the queue is nearly drained already ({ready} ready): not mid-run"
    victim.popen.send_signal(signal.SIGTERM)
    rc = victim.wait(60)
    assert rc == 0, victim.stderr()[-2000:]
    return owner, held


def check_victim(db: Path, victim: Proc, owner: str) -> None:
    line = summary_line(victim)
    assert "stopped by SIGTERM" in line, line
    released = re.search(r"(\d+) lease\(s\) released", line)
    assert released and int(released.group(1)) >= 1, line
    assert leased_by(db, owner) == set()
    stopped = query(db, "SELECT stopped_at FROM workers WHERE id = ?", owner)
    assert stopped[0][0] is not None


def check_exactly_one_result_each(db: Path) -> int:
    work_rows = query(db, "SELECT count(*) FROM work")[0][0]
    assert set(status_counts(db)) <= {"done", "dead"}, status_counts(db)
    runs = query(db, "SELECT DISTINCT run_id FROM results")
    assert len(runs) == 1, f"the three workers should share one run, got {runs}"
    results = query(db, "SELECT count(*), count(DISTINCT work_id) FROM results")[0]
    assert results == (work_rows, work_rows)
    dupes = query(
        db, "SELECT work_id, run_id FROM results GROUP BY work_id, run_id HAVING count(*) > 1"
    )
    assert dupes == []
    # one verdict per result, under the run's rule profile: one outcome per prompt
    verdicts = query(db, "SELECT count(*), count(DISTINCT result_id) FROM verdicts")[0]
    assert verdicts == (work_rows, work_rows)
    return int(work_rows)


def check_quota(stats: dict[str, Any], elapsed: float) -> None:
    """Count-based: what the fleet sent over the whole run stays near one quota (three
    processes each using the full ``--rpm`` would send up to three times as much and be
    throttled), and the emulator's own quota (equal to it) throttled next to nothing."""
    requests = int(stats["requests"])
    throttled = int(stats["by_outcome"].get("throttled", 0))
    allowed = RPM / 60.0 * elapsed
    assert requests <= 1.15 * allowed + 30, (requests, allowed, elapsed)
    assert throttled <= max(10, 0.05 * requests), stats["by_outcome"]


def db_bytes(db: Path) -> bytes:
    """The DB file and its WAL/SHM companions as they are now."""
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")))


def test_compose_fleet_shares_one_db_one_quota_and_survives_sigterm(tmp_path: Path) -> None:
    secret = f"pp-secret-{uuid.uuid4().hex}"
    db = tmp_path / "data" / "parallelprompt.db"
    db.parent.mkdir()
    env = compose_env(tmp_path, db, secret)
    exports = tmp_path / "exports"
    exports.mkdir()
    seen: dict[str, bytes] = {}  # everything that must not hold the secret

    with Fleet(tmp_path / "logs", env, grace=15.0) as fleet:
        fleet.run("producer", "parallelprompt", "ingest", timeout=120)  # the bundled sample
        total = query(db, "SELECT count(*) FROM work")[0][0]
        assert total >= 200

        _emu, endpoint = fleet.emulator("--host", "127.0.0.1", "--port", "0")
        t0 = time.monotonic()
        workers = start_workers(fleet, endpoint)
        urls = [metrics_url(w, START_S) for w in workers]
        poll(
            lambda: query(db, "SELECT count(*) FROM workers")[0][0] == WORKERS,
            START_S,
            "three registered workers",
        )
        for w, url in zip(workers, urls, strict=True):
            text = http_get(url)
            assert "# TYPE" in text
            seen[f"{w.name} /metrics"] = text.encode()

        victim, others = workers[0], workers[1:]
        owner, held = stop_one_mid_run(db, victim)
        check_victim(db, victim, owner)
        assert db.with_name(db.name + "-wal").exists()  # WAL mode: read it while it is live
        seen["DB and WAL while running"] = db_bytes(db)
        done = query(db, "SELECT work_id FROM results WHERE worker_id = ?", owner)
        done_by_victim = {r[0] for r in done}
        for w, url in zip(others, urls[1:], strict=True):
            seen[f"{w.name} /metrics after the stop"] = http_get(url).encode()

        for w in others:
            assert w.wait(FINISH_S) == 0, w.stderr()[-2000:]
            assert "queue drained" in summary_line(w)
        elapsed = time.monotonic() - t0
        stats = emulator_stats(endpoint)

        for fmt in ("jsonl", "csv"):
            out = exports / f"results.{fmt}"
            fleet.run(
                f"export-{fmt}",
                "parallelprompt",
                "export",
                "--format",
                fmt,
                "--include-emulator",  # the fleet ran against the emulator
                "--out",
                str(out),
            )
            assert out.stat().st_size > 0
        sources = query(db, "SELECT count(*) FROM sources")[0][0]
        jsonl = (exports / "results.jsonl").read_text().splitlines()
        assert len(jsonl) == sources  # one row per source row, every one with its outcome

    # (a) every prompt ends with exactly one result
    assert check_exactly_one_result_each(db) == total
    # (b) one quota for the fleet; three registered workers, all stopped cleanly
    check_quota(stats, elapsed)
    rows = query(db, "SELECT id, stopped_at FROM workers")
    assert len(rows) == WORKERS and all(stopped is not None for _, stopped in rows)
    # (c) the victim's released leases went to the others, who finished the queue
    per_worker = dict(query(db, "SELECT worker_id, count(*) FROM results GROUP BY worker_id"))
    assert per_worker.get(owner, 0) == len(done_by_victim)
    assert sum(n for w, n in per_worker.items() if w != owner) == total - len(done_by_victim)
    finished_by = dict(query(db, "SELECT work_id, worker_id FROM results"))
    others_ids = {owner_of(db, w.pid) for w in others}
    assert {finished_by[i] for i in held - done_by_victim} <= others_ids
    # (d) the secret key is nowhere: DB, WAL, logs, /metrics, exports
    seen["DB at the end"] = db_bytes(db)
    for path in sorted((tmp_path / "logs").iterdir()) + sorted(exports.iterdir()):
        seen[str(path.relative_to(tmp_path))] = path.read_bytes()
    assert any(name.endswith(".err") for name in seen) and "exports/results.csv" in seen
    leaks = [name for name, data in seen.items() if secret.encode() in data]
    assert leaks == [], f"the secret key appears in: {leaks}"
    # the scan reads real content: a stored prompt is found in the DB bytes and the export
    probe = query(
        db,
        "SELECT prompt FROM work WHERE instr(prompt, '\"') = 0 AND instr(prompt, char(10)) = 0 "
        "ORDER BY length(prompt) LIMIT 1",
    )[0][0].encode()
    assert probe in seen["DB at the end"] and probe in seen["exports/results.csv"]
