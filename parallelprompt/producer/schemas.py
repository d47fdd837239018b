"""The real datasets' Arrow schemas, and builders of rows that match them.

Used by the sample generator, the tests and the benchmark, so that every Parquet file the
project writes has the nested types of the published shards (LMSYS-Chat-1M, WildChat-1M).
The producer itself reads whatever a file has; nothing here is needed to ingest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
DETOXIFY_FIELDS = (
    "identity_attack",
    "insult",
    "obscene",
    "severe_toxicity",
    "sexual_explicit",
    "threat",
    "toxicity",
)

MODERATION = pa.struct(
    [
        ("categories", pa.struct([(c, pa.bool_()) for c in MODERATION_CATEGORIES])),
        ("category_scores", pa.struct([(c, pa.float64()) for c in MODERATION_CATEGORIES])),
        ("flagged", pa.bool_()),
    ]
)
UTC_US = pa.timestamp("us", tz="UTC")
HEADER = pa.struct([("accept-language", pa.string()), ("user-agent", pa.string())])

LMSYS_SCHEMA = pa.schema(
    [
        ("conversation_id", pa.string()),
        ("model", pa.string()),
        ("conversation", pa.list_(pa.struct([("content", pa.string()), ("role", pa.string())]))),
        ("turn", pa.int64()),
        ("language", pa.string()),
        ("openai_moderation", pa.list_(MODERATION)),
        ("redacted", pa.bool_()),
    ]
)

WILDCHAT_MESSAGE = pa.struct(
    [
        ("content", pa.string()),
        ("country", pa.string()),
        ("hashed_ip", pa.string()),
        ("header", HEADER),
        ("language", pa.string()),
        ("redacted", pa.bool_()),
        ("role", pa.string()),
        ("state", pa.string()),
        ("timestamp", UTC_US),
        ("toxic", pa.bool_()),
        ("turn_identifier", pa.int64()),
    ]
)

WILDCHAT_SCHEMA = pa.schema(
    [
        ("conversation_hash", pa.string()),
        ("model", pa.string()),
        ("timestamp", UTC_US),
        ("conversation", pa.list_(WILDCHAT_MESSAGE)),
        ("turn", pa.int64()),
        ("language", pa.string()),
        ("openai_moderation", pa.list_(MODERATION)),
        ("detoxify_moderation", pa.list_(pa.struct([(f, pa.float32()) for f in DETOXIFY_FIELDS]))),
        ("toxic", pa.bool_()),
        ("redacted", pa.bool_()),
        ("state", pa.string()),
        ("country", pa.string()),
        ("hashed_ip", pa.string()),
        ("header", HEADER),
    ]
)

Message = tuple[str, str | None]  # (role, content)


def moderation(flagged: bool = False) -> dict[str, Any]:
    return {
        "categories": {c: flagged and c == "harassment" for c in MODERATION_CATEGORIES},
        "category_scores": {
            c: (0.91 if flagged and c == "harassment" else 0.0001) for c in MODERATION_CATEGORIES
        },
        "flagged": flagged,
    }


def lmsys_row(
    conversation_id: str,
    messages: Sequence[Message] | None,
    *,
    language: str = "English",
    model: str = "vicuna-13b",
    redacted: bool = False,
    flagged: bool = False,
) -> dict[str, Any]:
    """One LMSYS-Chat-1M row; ``flagged`` marks the first message's moderation entry."""
    msgs = None if messages is None else [{"content": c, "role": r} for r, c in messages]
    mods = (
        None
        if messages is None
        else [moderation(flagged and i == 0) for i in range(len(msgs or []))]
    )
    return {
        "conversation_id": conversation_id,
        "model": model,
        "conversation": msgs,
        "turn": max(1, len(messages or []) // 2),
        "language": language,
        "openai_moderation": mods,
        "redacted": redacted,
    }


WILDCHAT_EPOCH = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)


def wildchat_row(
    conversation_hash: str,
    messages: Sequence[Message] | None,
    *,
    language: str = "English",
    model: str = "gpt-3.5-turbo-0613",
    toxic: bool = False,
    redacted: bool = False,
    country: str = "United States",
    state: str | None = "California",
    minute: int = 0,
) -> dict[str, Any]:
    """One WildChat-1M row (messages carry their own language/toxic/redacted/turn ids)."""
    when = WILDCHAT_EPOCH + dt.timedelta(minutes=minute)
    header = {"accept-language": "en-US,en;q=0.9", "user-agent": "Mozilla/5.0"}
    msgs = None
    if messages is not None:
        msgs = []
        for i, (role, content) in enumerate(messages):
            user = role == "user"
            msgs.append(
                {
                    "content": content,
                    "country": country if user else None,
                    "hashed_ip": "a1b2c3" if user else None,
                    "header": header if user else None,
                    "language": language,
                    "redacted": redacted,
                    "role": role,
                    "state": state if user else None,
                    "timestamp": when + dt.timedelta(seconds=i * 10) if user else None,
                    "toxic": toxic,
                    "turn_identifier": 1000 + i // 2,
                }
            )
    n = len(messages or [])
    return {
        "conversation_hash": conversation_hash,
        "model": model,
        "timestamp": when,
        "conversation": msgs,
        "turn": max(1, n // 2),
        "language": language,
        "openai_moderation": None if messages is None else [moderation(toxic) for _ in range(n)],
        "detoxify_moderation": None
        if messages is None
        else [dict.fromkeys(DETOXIFY_FIELDS, 0.001) for _ in range(n)],
        "toxic": toxic,
        "redacted": redacted,
        "state": state,
        "country": country,
        "hashed_ip": "a1b2c3",
        "header": header,
    }


def write_parquet(rows: Sequence[dict[str, Any]], schema: pa.Schema, path: Path) -> Path:
    pq.write_table(pa.Table.from_pylist(list(rows), schema=schema), path)
    return path
