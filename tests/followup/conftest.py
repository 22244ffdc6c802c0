"""Follow-up fixtures: completed procedures (through the planning services, which hand over
to ``followup_schedule_create``), a fixed clock, and a real Celery worker with a queue of
its own that sends real SMTP to a fake mail server.

Times are Europe/Berlin (centre A's zone): ``NOW`` is Monday 16 November 2026, 10:00.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
import uuid
import zoneinfo
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from followup.models import Schedule
from planning import services as planning_services
from planning.models import Device, ProcedureRecord
from tests.celery_worker import celery_worker
from tests.factories import CaseFactory, PatientFactory
from tests.followup.mail import FakeSMTPServer, Mailbox

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=BERLIN)
TODAY = NOW.date()
WORKER_EMAIL_TIMEOUT = 5  # seconds the worker waits for the fake mail server


@pytest.fixture
def stent(db) -> Device:
    """A catalogue stent, as the planning migration seeds them."""
    return Device.objects.filter(kind="stent").order_by("pk").first()


@pytest.fixture
def make_procedure(centre_a, clinician, stent) -> Callable[..., ProcedureRecord]:
    """make_procedure(entity=..., performed_on=..., stents=[("CIV", "left")]) -> a completed
    procedure record of a new case at centre A (or ``case=``), completed at ``now``."""
    counter = iter(range(1, 10_000))

    def make(
        *,
        entity: str = "post_thrombotic",
        performed_on: dt.date = TODAY,
        stents: tuple[tuple[str, str], ...] = (("CIV", "left"), ("EIV", "left")),
        case: Any = None,
        author: Any = None,
        now: dt.datetime = NOW,
        complete: bool = True,
    ) -> ProcedureRecord:
        author = author or clinician
        if case is None:
            case = CaseFactory(
                patient=PatientFactory(centre=author.centre, identifier=f"F{next(counter):05d}"),
                author=author,
            )
        record = planning_services.procedure_record_create(
            case=case,
            author=author,
            data={
                "performed_on": performed_on,
                "operators": "Dr Test",
                "access_used": "Right CFV",
                "technical_success": True,
                "antithrombotic_regimen": "DOAC",
                "follow_up_entity": entity,
            },
            implants=[
                {
                    "segment": s,
                    "side": d,
                    "device": stent,
                    "diameter_mm": Decimal("14.0"),
                    "length_mm": 90,
                    "lot": "",
                }
                for s, d in stents
            ],
        )
        if complete:
            record = planning_services.procedure_record_complete(
                record=record, user=author, now=now
            )
        return record

    return make


@pytest.fixture
def schedule(make_procedure) -> Schedule:
    """A post-thrombotic schedule of a procedure 100 days before NOW (left CIV and EIV)."""
    record = make_procedure(performed_on=TODAY - dt.timedelta(days=100))
    return Schedule.objects.get(procedure=record)


def visit_of(schedule: Schedule, label: str) -> Any:
    return schedule.visits.get(label=label)


# --- a real Celery worker -----------------------------------------------------------------------


class Worker:
    def __init__(self, proc: subprocess.Popen[bytes], smtp: Mailbox, queue: str, log: Path) -> None:
        self.proc, self.smtp, self.queue, self.log = proc, smtp, queue, log

    def messages(self) -> list[bytes]:
        """Every message the fake SMTP server received, in arrival order."""
        return self.smtp.messages()

    def reset_mail(self) -> None:
        self.smtp.reset()

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; worker log:\n{self.log.read_text()[-4000:]}")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def followup_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Worker]:
    """A Celery worker process (prefork, 2 children) on the test database, consuming a queue
    of its own, sending real SMTP to a fake server in this process (tests/followup/mail.py)."""
    base = tmp_path_factory.mktemp("followup-worker")
    queue = f"followup-test-{uuid.uuid4().hex[:8]}"
    log_path = base / "worker.log"
    with (
        FakeSMTPServer() as smtp,
        celery_worker(
            log_path,
            settings_module="tests.followup.worker_settings",
            worker_args=["--pool=prefork", "--concurrency=2", "-Q", queue],
            env={
                "FOLLOWUP_TEST_QUEUE": queue,
                "FOLLOWUP_SMTP_PORT": str(smtp.port),
                "EMAIL_TIMEOUT": str(WORKER_EMAIL_TIMEOUT),
            },
            name=f"{queue}@localhost",
        ) as proc,
    ):
        yield Worker(proc, smtp.mailbox, queue, log_path)


@pytest.fixture
def worker(followup_worker, settings) -> Iterator[Worker]:
    """The worker, with this test's tasks routed to its queue and an empty mail folder; this
    process uses the worker's digest hour (tests/followup/worker_settings.py)."""
    from venousapp.celery import app

    settings.FOLLOWUP_DIGEST_HOUR = 0
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = followup_worker.queue
    followup_worker.reset_mail()
    try:
        yield followup_worker
    finally:
        # The database is flushed after the test: let the worker finish what it holds first.
        name = f"{followup_worker.queue}@localhost"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            active = app.control.inspect(destination=[name], timeout=1).active() or {}
            if not any(active.values()):
                break
            time.sleep(0.2)
        app.conf.task_default_queue = previous_queue
        followup_worker.reset_mail()
