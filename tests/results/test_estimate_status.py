"""Cost/time estimate of the pending prompts, and the live status of a campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from parallelprompt.catalogue.projection import DEFAULT_OUTPUT_TOKENS, project
from parallelprompt.db import connect_sync
from parallelprompt.results.estimate import estimate, format_estimate
from parallelprompt.results.status import format_status, status
from tests.results.conftest import MODEL, PENDING, T0

PRICES: dict[str, Any] = {"price_in": 1.0, "price_out": 5.0}
QUOTA: dict[str, Any] = {
    "rpm": 1000.0,
    "tpm": 2_000_000.0,
    "max_tokens": 1024,
    "system_prompt_tokens": 900,
}


def test_estimate_from_completed_results(results_db: Path) -> None:
    est = estimate(connect_sync(results_db), model=MODEL, **PRICES, **QUOTA)
    assert est["pending_prompts"] == 1
    assert est["pending_chars"] == len(PENDING)
    assert est["basis"] == "9 completed results"  # the dead letter has no answer
    assert est["output_tokens"] == round(sum(100 + i for i in range(10) if i != 8) / 9)
    assert est["input_tokens"] > 900
    assert est["cost_batch_usd"] == pytest.approx(est["cost_on_demand_usd"] / 2, abs=1e-4)
    assert est["minutes"] == pytest.approx(1 / 1000, abs=0.01)
    assert "pending: 1 prompts" in format_estimate(est)
    orjson.dumps(est)


def test_estimate_without_results_uses_defaults(tmp_path: Path) -> None:
    conn = connect_sync(tmp_path / "fresh.db")
    conn.execute(
        "INSERT INTO work (text_hash, prompt, chars, created_at, updated_at)"
        " VALUES (x'01', 'hello world, four words', 23, 0, 0)"
    )
    est = estimate(conn, model=MODEL, **PRICES, **QUOTA)
    assert est["basis"] == "defaults"
    assert est["output_tokens"] == DEFAULT_OUTPUT_TOKENS
    assert est["input_tokens"] == 900 + 10 + round(23 / 4)


def test_projection_arithmetic() -> None:
    est = project(
        pending=1_000_000,
        pending_chars=400_000_000,
        observed=None,
        price_in=0.8,
        price_out=4.0,
        rpm=4000,
        tpm=2_000_000,
        max_tokens=1024,
        system_prompt_tokens=1000,
    )
    # 1.01e9 + 1e8 input tokens, 1e6 x DEFAULT_OUTPUT_TOKENS output tokens
    out = 1_000_000 * DEFAULT_OUTPUT_TOKENS
    assert est["input_tokens"] == 1_110_000_000
    assert est["output_tokens"] == out
    assert est["cost_on_demand_usd"] == pytest.approx(1110 * 0.8 + out / 1e6 * 4.0)
    assert est["bound_by"] == "tokens/min"
    assert est["minutes"] == pytest.approx((1_110_000_000 + out) / 2_000_000)
    assert est["minutes_if_reservation_binds"] > est["minutes"]


def test_status_while_working(results_db: Path) -> None:
    conn = connect_sync(results_db)
    st = status(conn, now=T0 + 25.0)  # the worker's heartbeat is 25 s old; results end at +20
    assert st["queue"] == {"ready": 1, "leased": 0, "done": 9, "dead": 1, "total": 11}
    assert st["pending"] == 1
    assert st["workers"]["live"] == 1 and st["workers"]["live_concurrency"] == 4
    assert st["rate_per_min"]["last_60s"] == 10.0
    assert st["eta_s"] == pytest.approx(60 / 2.0, rel=0.01)  # 5-min window: 10/300 s
    assert st["processed"] == 10
    assert st["cost_usd"] > 0
    assert "1 live" in format_status(st)
    later = status(conn, now=T0 + 3600.0, heartbeat_ttl=30.0)
    assert later["workers"]["live"] == 0 and later["workers"]["stale"] == 1
    assert later["eta_s"] is None
    assert "unknown" in format_status(later)
    orjson.dumps(st)


def test_status_of_an_empty_database(tmp_path: Path) -> None:
    st = status(connect_sync(tmp_path / "e.db"))
    assert st["run"] is None and st["pending"] == 0
    assert "nothing pending" in format_status(st)
