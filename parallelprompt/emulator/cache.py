"""The prompt cache: prefixes kept for a TTL, keyed by model and prefix. Pure, clocked from
outside.

As on Bedrock: a prefix shorter than the model's minimum is silently not cached (its tokens are
plain input); the first request with a prefix writes it (``cacheWriteInputTokens``), later ones
within the TTL read it (``cacheReadInputTokens``) and each read restarts the TTL. Requests in
flight together before the first write all write: the emulator writes on admission, so only
exactly simultaneous first requests would, which is close enough for tests and benchmarks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

DEFAULT_TTL_S = 300.0


@dataclass
class PromptCache:
    ttl_s: float = DEFAULT_TTL_S
    _expiry: dict[tuple[str, bytes], float] = field(default_factory=dict)

    def use(
        self, model: str, prefix: str, tokens: int, minimum: int | None, now: float
    ) -> tuple[int, int]:
        """``(cache read, cache write)`` tokens of a request whose cached prefix is ``prefix``
        of ``tokens`` tokens; ``(0, 0)`` when the model does not cache it."""
        if minimum is None or tokens < minimum:
            return 0, 0
        key = (model, hashlib.sha256(prefix.encode("utf-8", "surrogatepass")).digest())
        live = self._expiry.get(key, -1.0) > now
        self._expiry[key] = now + self.ttl_s
        if len(self._expiry) > 4096:  # forget expired prefixes now and then
            self._expiry = {k: t for k, t in self._expiry.items() if t > now}
        return (tokens, 0) if live else (0, tokens)
