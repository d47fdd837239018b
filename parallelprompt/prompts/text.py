"""Text normalisation for comparing items (duplicates, whole lines); see grounding.py."""

from __future__ import annotations

import unicodedata

_QUOTES = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "″": '"',
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‹": "'",
        "›": "'",
        "`": "'",
        "´": "'",
    }
)
QUOTES = _QUOTES  # for prompts.lean


def normalise(text: str) -> str:
    """NFKC, unified quotes, case-folded, whitespace collapsed."""
    if text.isascii():  # NFKC keeps ASCII as it is, casefold is lower, "`" the one quote
        text = (text.replace("`", "'") if "`" in text else text).lower()
    else:
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    # = re.sub(r"\s+", " ", text).strip(): str.split and re's \s both split on str.isspace
    return " ".join(text.split())
