"""The dedup key: normalised text and its hash. Pure functions.

Two prompts are the same prompt when their normalised texts are equal: Unicode NFC, every run
of whitespace (spaces, tabs, newlines, any Unicode space) collapsed to one space, and stripped.
Case is kept: "fix the capitalisation of: paris" and "... Paris" are different tasks, and the
model is asked about the text as written. The key is a 16-byte BLAKE2b digest of the UTF-8
normalised text (collisions are negligible at any realistic corpus size).
"""

from __future__ import annotations

import hashlib
import unicodedata

DIGEST_SIZE = 16


def normalise(text: str) -> str:
    """NFC, whitespace runs collapsed to one space, stripped. Case is kept."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def text_hash(text: str) -> bytes:
    """The dedup key of ``text`` (which must be valid Unicode: see :func:`repair`)."""
    return hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=DIGEST_SIZE).digest()


def has_invalid_unicode(text: str) -> bool:
    """True when ``text`` holds lone surrogates (from JSON escapes or undecodable bytes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def replace_invalid_unicode(text: str) -> str:
    """Lone surrogates become U+FFFD; a valid surrogate pair becomes its one character."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
