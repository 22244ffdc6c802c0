"""The zero-setup SQLite database of `make run` is safe with the web process, the Celery
worker and beat writing at once: WAL journal, immediate transactions, a busy timeout.

Four processes each write 150 read-then-write transactions to one fresh database; before
these settings about one transaction in ten failed with "database is locked"."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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


ESCALATE = """
import django; django.setup()
from followup.models import Visit
from followup.services.clock import centre_today
from followup.services.results import stented_segments, visit_result_record
from venousapp.accounts.models import User
visits = Visit.objects.filter(state="planned", kind="duplex", schedule__procedure__isnull=False)
visit = visits.order_by("target_on").first()
stented = stented_segments(visit.schedule.procedure)
result = visit_result_record(
    visit=visit,
    user=User.objects.get(username="nurse"),
    data={"performed_on": centre_today(visit.centre)},
    segments=[
        {"segment": s, "side": d, "patency": "occluded" if i == 0 else "patent"}
        for i, (s, d) in enumerate(stented)
    ],
)
print("escalations", ",".join(str(e.pk) for e in result.escalations.all()))
"""

LISTED = """
import django; django.setup()
from followup.models import Notification
print("listed", Notification.objects.filter(escalation_id={pk}, kind="escalation").count())
"""


def _python(code: str, env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_worker_and_beat_deliver_an_escalation_notice_while_others_write(
    make_run_database, tmp_path
):
    """The `make run` processes together on SQLite and the filesystem broker: a real Celery
    worker and beat start (beat writes its schedule), writers keep the database busy, a
    nurse's occlusion raises an escalation, and its notice is delivered and listed."""
    env = make_run_database
    logs = {name: tmp_path / f"{name}.log" for name in ("worker", "beat")}
    celery = [sys.executable, "-m", "celery", "-A", "venousapp"]
    commands = {
        "worker": [*celery, "worker", "-l", "INFO", "--concurrency=1", "--without-gossip"],
        "beat": [*celery, "beat", "-l", "INFO", "--pidfile=", "-s", str(tmp_path / "beat")],
    }
    processes = {
        name: subprocess.Popen(
            command,
            env=env,
            cwd=settings.BASE_DIR,
            stdout=logs[name].open("w"),
            stderr=subprocess.STDOUT,
        )
        for name, command in commands.items()
    }
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.sqlite_writer", "100"],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        escalations = _python(ESCALATE, env).split()[-1].split(",")
        assert escalations[0], "the occlusion raised no escalation"
        deadline = time.monotonic() + 90
        while True:
            listed = int(_python(LISTED.format(pk=escalations[0]), env).split()[-1])
            if listed or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert listed == 1, logs["worker"].read_text()[-3000:]
        for writer in writers:
            assert "failures=0" in writer.communicate(timeout=120)[0]
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(20)
    for name, log in logs.items():
        assert "database is locked" not in log.read_text(), f"{name}: {log.read_text()[-2000:]}"
