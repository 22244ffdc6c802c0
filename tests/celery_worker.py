"""Start a real Celery worker process on the test database (tests/conftest.py, the follow-up
worker in tests/followup/conftest.py). The worker runs in another process, so it is given
the test database's URL; its output goes to a file (a pipe could fill up and block it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def celery_worker(
    log_path: Path,
    *,
    settings_module: str,
    worker_args: Sequence[str],
    env: dict[str, str] | None = None,
    name: str | None = None,
    start_timeout: float = 40,
    broker_url: str | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A worker answering pings (``name``: only that worker's); stopped on exit.
    ``broker_url``: a broker of the worker's own (its environment's ``REDIS_URL``)."""
    from celery import Celery
    from django.conf import settings
    from django.db import connection

    from venousapp.celery import app as project_app

    app = Celery(broker=broker_url, set_as_current=False) if broker_url else project_app

    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the worker tests need a real Redis broker")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    environment = dict(
        os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE=settings_module, **(env or {})
    )
    command = [sys.executable, "-m", "celery", "-A", "venousapp", "worker", *worker_args]
    command += ["-n", name] if name else []
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
        )
        deadline = time.monotonic() + start_timeout
        while not app.control.ping(destination=[name] if name else None, timeout=0.5):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"celery worker did not start:\n{log_path.read_text()}")
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
