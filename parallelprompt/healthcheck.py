"""Container healthcheck: ``python -m parallelprompt.healthcheck URL`` exits 0 iff URL answers 200.

Standard library only, so it works in the slim image without a shell or curl.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def check(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m parallelprompt.healthcheck URL", file=sys.stderr)
        return 2
    return 0 if check(argv[0]) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
