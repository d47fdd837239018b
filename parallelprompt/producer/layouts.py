"""The dataset layouts we read, and how a layout is recognised from its columns.

A layout says where the conversation is, how its messages name the speaker and the text,
which role is the user's, and which columns carry the row's metadata. Pure data, no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass


class Layout(enum.StrEnum):
    LMSYS = "lmsys"
    WILDCHAT = "wildchat"
    SHAREGPT = "sharegpt"


@dataclass(frozen=True, slots=True)
class LayoutSpec:
    layout: Layout
    canonical_source: str  # the source name recorded for local files of this layout
    conversation: str  # column holding the list of messages
    role_key: str
    content_key: str
    user_roles: frozenset[str]
    id_column: str | None
    language_column: str | None
    model_column: str | None
    toxic_column: str | None
    redacted_column: str | None
    moderation_column: str | None  # list<struct<flagged>>: toxic = any message flagged

    @property
    def metadata_columns(self) -> tuple[str, ...]:
        cols = (
            self.id_column,
            self.language_column,
            self.model_column,
            self.toxic_column,
            self.redacted_column,
        )
        return tuple(c for c in cols if c is not None)


SPECS: dict[Layout, LayoutSpec] = {
    Layout.LMSYS: LayoutSpec(
        layout=Layout.LMSYS,
        canonical_source="lmsys/lmsys-chat-1m",
        conversation="conversation",
        role_key="role",
        content_key="content",
        user_roles=frozenset({"user"}),
        id_column="conversation_id",
        language_column="language",
        model_column="model",
        toxic_column=None,
        redacted_column="redacted",
        moderation_column="openai_moderation",
    ),
    Layout.WILDCHAT: LayoutSpec(
        layout=Layout.WILDCHAT,
        canonical_source="allenai/WildChat-1M",
        conversation="conversation",
        role_key="role",
        content_key="content",
        user_roles=frozenset({"user"}),
        id_column="conversation_hash",
        language_column="language",
        model_column="model",
        toxic_column="toxic",
        redacted_column="redacted",
        moderation_column=None,
    ),
    Layout.SHAREGPT: LayoutSpec(
        layout=Layout.SHAREGPT,
        canonical_source="sharegpt",
        conversation="conversations",
        role_key="from",
        content_key="value",
        user_roles=frozenset({"human", "user"}),
        id_column="id",
        language_column=None,
        model_column=None,
        toxic_column=None,
        redacted_column=None,
        moderation_column=None,
    ),
}


def detect(columns: Collection[str]) -> Layout | None:
    """The layout whose signature columns are present, or None.

    ShareGPT has ``conversations``; WildChat has ``conversation`` and ``conversation_hash``
    (or its ``toxic``/``timestamp`` columns); LMSYS has ``conversation`` and
    ``conversation_id``.
    """
    cols = set(columns)
    if "conversations" in cols and "conversation" not in cols:
        return Layout.SHAREGPT
    if "conversation" not in cols:
        return None
    if "conversation_hash" in cols or {"toxic", "timestamp"} <= cols:
        return Layout.WILDCHAT
    if "conversation_id" in cols:
        return Layout.LMSYS
    return None
