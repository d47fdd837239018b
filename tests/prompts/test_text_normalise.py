"""``text.normalise`` collapses whitespace with ``str.split`` as ``re.sub(r"\\s+", " ")`` and
``strip`` do (both split on ``str.isspace``), and takes a shortcut for ASCII text."""

from __future__ import annotations

import re
import sys
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from parallelprompt.prompts.text import QUOTES, normalise

SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(QUOTES).casefold()
    return re.sub(r"\s+", " ", text).strip()


def test_every_space_character_is_collapsed_as_the_pattern_does() -> None:
    assert len(SPACES) > 20
    for space in SPACES:
        text = f"{space}A{space}{space}’b’{space}"
        assert normalise(text) == _plain(text) == "a 'b'"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*SPACES, "a", "Ä", "ﬁ", "`", "x", "\u200b"]), max_size=20))
def test_same_as_the_pattern(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert normalise(text) == _plain(text)


def test_every_ascii_character_as_nfkc_quotes_and_casefold_give_it() -> None:
    ascii_chars = "".join(map(chr, range(128)))
    for text in (ascii_chars, ascii_chars[::-1], "`Hello`  WORLD\t", "A" * 3 + "\x1c" + "b"):
        assert text.isascii()
        assert normalise(text) == _plain(text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(max_codepoint=127), max_size=40))
def test_ascii_text_as_the_pattern(text: str) -> None:
    assert normalise(text) == _plain(text)
