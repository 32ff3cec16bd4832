"""The check every bad-input case makes: the error type, a message naming the variable or argument, and (where
nothing compiles) the time to the error."""

from __future__ import annotations

import re
import time

import pytest


def expect_error(exc, match: str, fn, seconds: float | None = 1.0):
    """`fn()` raises `exc` whose message matches `match` (a regex naming the variable or argument), within
    `seconds` (None: no limit, for cases that must compile first)."""
    t0 = time.perf_counter()
    with pytest.raises(exc) as info:
        fn()
    elapsed = time.perf_counter() - t0
    assert re.search(match, str(info.value)), f"{type(info.value).__name__}: {info.value}"
    if seconds is not None:
        assert elapsed < seconds, f"the error took {elapsed:.2f} s"
    return info.value
