"""Fixtures of the browser tests: the demo site on pytest-django's live server."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from demo import cases as demo_cases


@pytest.fixture
def demo_site(live_server, monkeypatch) -> str:
    """The live server's address, with the demo data of ``seed_demo`` and its password."""
    monkeypatch.delenv(demo_cases.PASSWORD_ENV, raising=False)
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    return live_server.url
