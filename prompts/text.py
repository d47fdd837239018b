"""Text normalisation for grounding checks: is this item / context really in the prompt?"""

from __future__ import annotations

import re
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
_SPACES = re.compile(r"\s+")
_NAME = re.compile(r"\bname_(\d+)\b")
_EDGE = " \"'.,;:!。、，"
_MAX_NAME_LEN = 60


def normalise(text: str) -> str:
    """NFKC, unified quotes, case-folded, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return _SPACES.sub(" ", text).strip()


def name_map(prompt_norm: str, serial_norm: str) -> dict[str, str]:
    """Which real name the model put for each LMSYS placeholder (NAME_1 -> "alice"), found by
    aligning the normalised serial with the normalised prompt; {} where they do not align."""
    parts = _NAME.split(prompt_norm)  # literal, number, literal, number, ...
    if len(parts) < 3 or not serial_norm.startswith(parts[0]):
        return {}
    mapping: dict[str, str] = {}
    pos = len(parts[0])
    for i in range(1, len(parts), 2):
        placeholder, literal = f"name_{parts[i]}", parts[i + 1]
        if not literal and i + 2 < len(parts):
            return mapping  # two placeholders side by side: ambiguous split
        end = serial_norm.find(literal, pos + 1) if literal else len(serial_norm)
        if end < 0:
            return mapping
        name = serial_norm[pos:end].strip()
        if not name or len(name) > _MAX_NAME_LEN or mapping.get(placeholder, name) != name:
            return mapping
        mapping[placeholder] = name
        pos = end + len(literal)
    return mapping


def grounding_texts(prompt: str, serial: str | None) -> tuple[str, ...]:
    """The normalised prompt, plus the prompt with its NAME_n placeholders replaced by the names
    the model chose in `serial` (so a deanonymised item still counts as copied)."""
    prompt_norm = normalise(prompt)
    if serial is None or _NAME.search(prompt_norm) is None:
        return (prompt_norm,)
    mapping = name_map(prompt_norm, normalise(serial))
    if not mapping:
        return (prompt_norm,)
    named = _NAME.sub(lambda m: mapping.get(m.group(), m.group()), prompt_norm)
    return (prompt_norm, named)


def found_in(fragment: str, texts: tuple[str, ...]) -> bool:
    """Whether the fragment appears in one of the normalised texts (edge quotes and final
    punctuation are not held against it)."""
    norm = normalise(fragment)
    trimmed = norm.strip(_EDGE)
    if not trimmed:
        return True
    return any(norm in text or trimmed in text for text in texts)
