"""The broker's absence never breaks a committed write: with the Redis of this test stopped,
a duplex result that escalates and a patency page that queues a report answer at once,
without a 500, under gunicorn; once Redis is back, the sweep (as beat runs it) hands the
work to a real worker and it completes: the in-app notice, its e-mail copy, the report."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.utils import timezone

from followup import notifications
from followup.models import (
    EscalationNotice,
    NoticeMail,
    Notification,
    PatencyReport,
)
from followup.services.clock import centre_today
from tests.celery_worker import celery_worker
from tests.followup.mail import free_port
from venousapp.models import JobStatus

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

SETTINGS = "tests.followup.broker_down_settings"
PASSWORD = "correct-horse-battery-staple"  # tests/factories.py
FAST = 5.0  # seconds: a request that waited on the broker's retries took 19


class Redis:
    """A redis-server of this test's own, stopped and started at will."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.proc = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: _answers(self.port), timeout=10)

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(10)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def environment(redis: Redis) -> dict[str, str]:
    db = connection.settings_dict
    return dict(
        os.environ,
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/"
        f"{db['NAME']}",
        REDIS_URL=redis.url,
        DJANGO_SETTINGS_MODULE=SETTINGS,
    )


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path)
    server.start()
    yield server
    if server.proc and server.proc.poll() is None:
        server.stop()


@pytest.fixture
def web(redis: Redis, tmp_path: Path) -> Iterator[str]:
    """gunicorn on the test database and this test's Redis."""
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "venousapp.wsgi", "-b", f"127.0.0.1:{port}"),
            *("--workers", "1", "--threads", "4", "--no-control-socket", "--timeout", "60"),
        ],
        env=environment(redis),
        cwd=settings.BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: _answers(port), timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def logged_in(web: str, username: str) -> requests.Session:
    """A browser-like session through the log-in form (pages take no Basic auth)."""
    session = requests.Session()
    session.get(f"{web}/accounts/login/", timeout=30)
    form = {"username": username, "password": PASSWORD}
    form["csrfmiddlewaretoken"] = session.cookies["csrftoken"]
    response = session.post(
        f"{web}/accounts/login/", data=form, headers={"Referer": f"{web}/"}, timeout=30
    )
    assert "sessionid" in session.cookies, response.text[:500]
    return session


def timed(call: Callable[[], requests.Response]) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_with_the_broker_down_writes_answer_at_once_and_complete_when_it_returns(
    redis, web, tmp_path, make_procedure, nurse, clinician, centre_a
):
    now = timezone.now()  # the web server and the worker do not share a frozen clock
    today = centre_today(centre_a, now)
    procedure = make_procedure(
        entity="post_thrombotic",
        performed_on=today - dt.timedelta(days=100),
        now=now - dt.timedelta(days=100),
    )
    visit = procedure.followup_schedule.visits.get(label="3 months")
    session = requests.Session()
    session.auth = (nurse.username, PASSWORD)

    redis.stop()
    result, seconds = timed(
        lambda: session.post(
            f"{web}/api/v1/followup/visits/{visit.pk}/result/",
            json={
                "performed_on": today.isoformat(),
                "phasicity": "phasic",
                "segments": [
                    {"segment": "CIV", "side": "left", "patency": "occluded"},
                    {"segment": "EIV", "side": "left", "patency": "patent"},
                ],
            },
            timeout=60,
        )
    )
    assert result.status_code == 201, result.text
    assert result.json()["abnormal_reasons"] == ["occlusion"]
    assert seconds < FAST
    notice = EscalationNotice.objects.get(attempt=0)
    assert notice.sent_at is None  # committed, its message never reached a broker

    clinician_session = logged_in(web, clinician.username)
    page, seconds = timed(
        lambda: clinician_session.get(f"{web}/followup/patency/?entity=post_thrombotic", timeout=60)
    )
    assert page.status_code == 200
    assert page.url.endswith("/followup/patency/?entity=post_thrombotic")
    assert seconds < FAST
    report = PatencyReport.objects.get()
    assert report.status == JobStatus.QUEUED

    # Redis is back, a worker runs; the sweep (beat, every 30 seconds) finds what waited.
    redis.start()
    with celery_worker(
        tmp_path / "worker.log",
        settings_module=SETTINGS,
        worker_args=["--pool=solo"],
        env={"REDIS_URL": redis.url},
        broker_url=redis.url,
    ):
        later = timezone.now() + notifications.CLAIM_TIMEOUT + dt.timedelta(seconds=1)
        swept = subprocess.run(
            [sys.executable, "manage.py", "send_due_reminders", "--now", later.isoformat()],
            env=environment(redis),
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "escalation notices: 1" in swept.stdout
        assert "Background jobs sent again: 1" in swept.stdout
        wait_until(lambda: NoticeMail.objects.filter(notice__recipient=clinician).exists())
        wait_until(lambda: PatencyReport.objects.filter(status=JobStatus.DONE).exists())
    assert Notification.objects.filter(recipient=clinician, kind="escalation").count() == 1
