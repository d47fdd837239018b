"""Text that leaves the program: URL credentials redacted, terminal control sequences removed."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# Whole escape sequences first (CSI "ESC [ ... final", OSC "ESC ] ... BEL|ST", two-byte ESC x),
# so that no "[2J" residue is left behind; then any single control character.
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
)
# C0 controls except tab and newline, DEL, C1 controls (ESC and CSI included), and the bidi
# overrides that can make a line read differently from what it says.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# scheme://user[:password]@ — the userinfo part of any URL in free text
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s@]+)@")


def redact_url(url: str | None) -> str | None:
    """``http://user:pw@host:1/x`` -> ``http://***@host:1/x``; other URLs unchanged."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def without_userinfo(url: str | None) -> str | None:
    """``url`` without its ``user:password@`` part (Bedrock authenticates with SigV4)."""
    redacted = redact_url(url)
    return redacted.replace("***@", "", 1) if redacted and redacted != url else url


def redact_text(text: str) -> str:
    """Every ``scheme://userinfo@`` in ``text`` with the userinfo replaced by ``***``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


def terminal_safe(text: str) -> str:
    """``text`` without control and escape characters (newlines and tabs are kept)."""
    return _CONTROL.sub("", _SEQUENCE.sub("", text))
