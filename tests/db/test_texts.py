"""A verdict's serial, template and context point into the prompt (schema 8): the pure
encoding round-trips, and SQLite's view ``verdict_texts`` rebuilds exactly the same texts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from parallelprompt.db import connect_sync
from parallelprompt.db.connection import write_tx
from parallelprompt.db.models import VerdictRow
from parallelprompt.db.queue import verdict_params
from parallelprompt.db.sql import query
from parallelprompt.db.texts import MIN_SHARED, compact, expand_splice, span, splice

PROMPT = "Écris 5 slogans pour un marché de Noël à Zürich 🎄, en français s'il te plaît."


@given(st.text(), st.text())
def test_splice_round_trips(prompt: str, text: str) -> None:
    assert expand_splice(prompt, *splice(prompt, text)) == text


@given(st.text(min_size=1), st.integers(0, 200), st.integers(0, 200))
def test_span_round_trips(prompt: str, a: int, b: int) -> None:
    text = prompt[min(a, b) : max(a, b)]
    stored, at, to = span(prompt, text)
    assert (text if at is None else prompt[at:to]) == text
    assert (stored is None) == (at is not None)


def test_short_or_unrelated_texts_are_stored_in_full() -> None:
    assert splice(PROMPT, "Write a haiku") == ("Write a haiku", None, None)
    assert span(PROMPT, "Noël")[0] == "Noël"  # shorter than MIN_SHARED: not worth a pointer
    assert len("Noël") < MIN_SHARED
    nul = compact("a\x00" + PROMPT, "a\x00" + PROMPT, None, None)
    assert nul["serial"] == "a\x00" + PROMPT and nul["serial_at"] is None


def _store(db: Path, prompt: str, verdict: VerdictRow) -> sqlite3.Connection:
    conn = connect_sync(db)
    with write_tx(conn):
        conn.execute(
            "INSERT INTO runs (id, created_at, model_id, api, contract_version, rules, backend,"
            " config_json) VALUES (1, 0, 'm', 'converse', 'c', 'default', 'bedrock', '{}')"
        )
        conn.execute(
            "INSERT INTO work (id, text_hash, prompt, chars, created_at, updated_at)"
            " VALUES (1, x'01', ?, ?, 0, 0)",
            (prompt, len(prompt)),
        )
        conn.execute(
            "INSERT INTO results (id, work_id, run_id, model_id, attempts, created_at)"
            " VALUES (1, 1, 1, 'm', 1, 0)"
        )
        conn.execute(query("upsert_verdict"), verdict_params(1, verdict, 0.0, prompt))
    return conn


def test_the_view_rebuilds_the_texts_and_the_prompt_is_stored_once(tmp_path: Path) -> None:
    template = PROMPT.replace("5 slogans", "un slogan")
    context = "un marché de Noël à Zürich 🎄"
    verdict = VerdictRow(
        profile="default",
        contract_version="c",
        outcome="high_confidence",
        tier_label="high_confidence",
        validation_passed=True,
        parallelizable=True,
        serial=PROMPT,
        template=template,
        context=context,
    )
    conn = _store(tmp_path / "r.db", PROMPT, verdict)
    stored = conn.execute("SELECT serial, template, context FROM verdicts").fetchone()
    assert stored == (None, "un slogan", None)  # no copy of the prompt in the verdict
    got = conn.execute("SELECT serial, template, context FROM verdict_texts").fetchone()
    assert got == (PROMPT, template, context)
    view = conn.execute("SELECT serial, template, context FROM current_verdicts").fetchone()
    assert view == (PROMPT, template, context)
