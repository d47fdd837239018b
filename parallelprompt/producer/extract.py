"""First-turn rules: which text of a conversation is its prompt, and whether it is kept.

Pure functions over plain Python values, so each rule is a table test. Every row ends in
exactly one outcome: a kept prompt (maybe flagged), or one :class:`SkipReason`.
"""

from __future__ import annotations

import enum
import hashlib
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from parallelprompt.db import FLAG_OVERSIZED
from parallelprompt.producer.normalise import DIGEST_SIZE, normalise, replace_invalid_unicode

_nfc = unicodedata.normalize
_blake2b = hashlib.blake2b


class SkipReason(enum.StrEnum):
    """Why a source row gave no prompt. Checked in this order; the first that applies wins."""

    BROKEN_LINE = "broken_line"  # a JSONL line that is not JSON (logged with file:line)
    UNREADABLE_REST = "unreadable_rest"  # a compressed file's corrupt or truncated end
    NOT_AN_OBJECT = "not_an_object"  # valid JSON, but not an object
    LANGUAGE = "filtered_language"  # --languages given and the row's language is not one
    TOXIC = "filtered_toxic"  # --drop-toxic and the row is marked toxic
    REDACTED = "filtered_redacted"  # --drop-redacted and the row is marked redacted
    NO_CONVERSATION = "no_conversation"  # missing, null or empty conversation
    NOT_A_LIST = "conversation_not_list"  # the conversation is not a list of messages
    NO_USER_TURN = "no_user_turn"  # no message has the user's role
    NULL_CONTENT = "null_content"  # the first user message has no text
    NON_STRING_CONTENT = "non_string_content"  # ... or text that is not a string
    WHITESPACE_ONLY = "whitespace_only"  # empty once stripped (NUL bytes removed first)
    TOO_SHORT = "too_short"  # fewer than --min-chars characters once stripped


class Flag(enum.StrEnum):
    """Kept prompts that a rule touched. Counted; only ``oversized`` is stored in the DB."""

    OVERSIZED = "oversized"  # longer than --max-chars: stored with db.FLAG_OVERSIZED
    NUL_REMOVED = "nul_removed"  # NUL characters deleted
    UNICODE_REPLACED = "invalid_unicode_replaced"  # lone surrogates / bad bytes -> U+FFFD
    METADATA_REPLACED = "metadata_unicode_replaced"  # the same in conversation id/language/model


def first_user_content(
    conversation: object, role_key: str, content_key: str, user_roles: Collection[str]
) -> object:
    """The content of the first message whose role is the user's, or a :class:`SkipReason`.

    The content is returned as found (maybe None or not a string): :meth:`TextRules.check`
    judges it. Messages that are not objects are passed over like non-user turns.
    """
    if conversation is None:
        return SkipReason.NO_CONVERSATION
    if not isinstance(conversation, list):
        return SkipReason.NOT_A_LIST
    if not conversation:
        return SkipReason.NO_CONVERSATION
    for message in conversation:
        if isinstance(message, dict):
            role = message.get(role_key)
            if isinstance(role, str) and role in user_roles:  # a list or dict is no role
                return message.get(content_key)
    return SkipReason.NO_USER_TURN


@dataclass(frozen=True, slots=True)
class Kept:
    prompt: str  # the original text, stripped (and repaired when a flag says so)
    text_hash: bytes
    flags: int  # db flag bits
    touched: tuple[Flag, ...]  # every rule that changed or flagged it


@dataclass(frozen=True, slots=True)
class TextRules:
    min_chars: int = 10
    max_chars: int = 100_000  # 0: never flag

    def check(self, content: object) -> Kept | SkipReason:
        """Keep or skip one first-turn content (the hot loop of an ingest: kept inline)."""
        if type(content) is not str:
            if content is None:
                return SkipReason.NULL_CONTENT
            if not isinstance(content, str):
                return SkipReason.NON_STRING_CONTENT
        touched: tuple[Flag, ...] = ()
        if "\x00" in content:
            content = content.replace("\x00", "")
            touched = (Flag.NUL_REMOVED,)
        prompt = content.strip()
        if not prompt:
            return SkipReason.WHITESPACE_ONLY
        try:
            data = " ".join(_nfc("NFC", prompt).split()).encode("utf-8")  # = normalise()
        except UnicodeEncodeError:
            prompt = replace_invalid_unicode(prompt)
            data = normalise(prompt).encode("utf-8")
            touched = (*touched, Flag.UNICODE_REPLACED)
        if len(prompt) < self.min_chars:
            return SkipReason.TOO_SHORT
        flags = 0
        if self.max_chars and len(prompt) > self.max_chars:
            flags = FLAG_OVERSIZED
            touched = (*touched, Flag.OVERSIZED)
        return Kept(prompt, _blake2b(data, digest_size=DIGEST_SIZE).digest(), flags, touched)
