"""Helpers for tests that commit and compare what a process keeps while the data's generation
(venousapp/generation.py) is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from venousapp import generation

T = TypeVar("T")


def while_unchanged(step: Callable[[], T]) -> T:
    """``step()``'s result from a try during which no other process changed the data (the
    Celery worker of other tests may take up their queued work at any time)."""
    for _ in range(5):
        before = generation.current()
        result = step()
        if generation.current() == before:
            return result
    pytest.fail("The data kept changing.")
