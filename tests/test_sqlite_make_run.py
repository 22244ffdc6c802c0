"""The zero-setup SQLite database of `make run` is safe with the web process, the Celery
worker and beat writing at once: WAL journal, immediate transactions, a busy timeout.

Four processes each write 150 read-then-write transactions to one fresh database; before
these settings about one transaction in ten failed with "database is locked"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

WRITERS = 4
WRITES = 150


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(VAR_DIR=str(var_dir), DEBUG="true", DJANGO_SETTINGS_MODULE="venousapp.settings")
    return env


@pytest.fixture(scope="module")
def make_run_database(tmp_path_factory) -> dict[str, str]:
    var_dir = tmp_path_factory.mktemp("make-run")
    env = _env(var_dir)
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "-v0"], ["seed_demo", "--once"]):
        subprocess.run(
            manage + command, env=env, cwd=settings.BASE_DIR, check=True, capture_output=True
        )
    return env


def test_the_make_run_database_uses_wal_and_immediate_transactions(make_run_database):
    probe = (
        "import django; django.setup(); from django.db import connection;"
        "cursor = connection.cursor(); cursor.execute('PRAGMA journal_mode');"
        "print(cursor.fetchone()[0], connection.transaction_mode)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=make_run_database,
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert out == ["wal", "IMMEDIATE"]


def test_concurrent_writers_never_see_database_is_locked(make_run_database):
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.sqlite_writer", str(WRITES)],
            env=make_run_database,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(WRITERS)
    ]
    outputs = [writer.communicate(timeout=180)[0] for writer in writers]
    for output in outputs:
        assert "database is locked" not in output
        assert "failures=0" in output, output[-2000:]
