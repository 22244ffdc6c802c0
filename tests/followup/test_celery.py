"""Exactly-once in-app notices and at-most-once e-mail with a real Celery worker (prefork, 2
children) and Redis: two concurrent sweeps, a claim whose task never ran, a worker child
killed in the middle of a send (acks late + reject on worker lost), a mail server that
refuses before it recovers, and one that stalls after it received a message.

The worker runs in another process on the test database and sends real SMTP to a fake
server in this process (tests/followup/mail.py), so the test counts what really arrived.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from followup import notifications, tasks
from followup.models import (
    Digest,
    EscalationNotice,
    NoticeMail,
    Notification,
    Reminder,
    Visit,
)
from followup.services.clock import centre_today
from followup.services.results import visit_result_record
from tests.followup.conftest import WORKER_EMAIL_TIMEOUT, Worker

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

SEGMENTS = [
    {
        "segment": "CIV",
        "side": "left",
        "patency": "patent",
        "isr_percent": 65,
        "peak_velocity_ratio": Decimal("3.0"),
    },
    {"segment": "EIV", "side": "left", "patency": "patent"},
]


def local_today(centre: Any) -> dt.date:
    return centre_today(centre)


@pytest.fixture
def due_visit(make_procedure, nurse, centre_a) -> Visit:
    """A visit in its window today (real time; the worker does not share a frozen clock)."""
    performed = local_today(centre_a) - dt.timedelta(days=42)
    record = make_procedure(
        entity="nivl", performed_on=performed, now=timezone.now() - dt.timedelta(days=42)
    )
    visit = record.followup_schedule.visits.get(label="6 weeks")
    assert visit.earliest_on <= local_today(centre_a) <= visit.target_on
    return visit


@pytest.fixture
def overdue_visit(make_procedure, centre_a) -> Visit:
    performed = local_today(centre_a) - dt.timedelta(days=100)
    record = make_procedure(
        entity="post_thrombotic",
        performed_on=performed,
        now=timezone.now() - dt.timedelta(days=100),
    )
    return record.followup_schedule.visits.get(label="3 months")


def digests_to(worker: Worker, user: Any) -> list[bytes]:
    return [m for m in worker.messages() if user.email.encode() in m and b"Follow-up worklist" in m]


def mails_to(worker: Worker, user: Any) -> list[bytes]:
    return [m for m in worker.messages() if f"To: {user.email}".encode() in m]


def escalate(visit: Visit, nurse: Any) -> EscalationNotice:
    visit_result_record(
        visit=visit,
        user=nurse,
        data={"performed_on": local_today(nurse.centre)},
        segments=SEGMENTS,
    )  # escalates; the notice is enqueued once committed
    return EscalationNotice.objects.get(attempt=0)


def worker_children(worker: Worker) -> list[int]:
    pid = worker.proc.pid
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_a_due_visit_produces_exactly_one_email_when_the_sweep_runs_twice_concurrently(
    worker, due_visit, nurse
):
    now = timezone.now().isoformat()
    first, second = tasks.sweep.delay(now), tasks.sweep.delay(now)  # two worker children
    results = [first.get(timeout=60), second.get(timeout=60)]
    assert sum(r["claimed"]["digest"] for r in results) == 1
    assert sum(r["digests_created"] for r in results) == 1
    worker.wait_for(
        lambda: (
            not Digest.objects.filter(sent_at__isnull=True).exists()
            and not Reminder.objects.filter(claimed_at__isnull=False, sent_at__isnull=True).exists()
            and NoticeMail.objects.exists()
            and not NoticeMail.objects.filter(sent_at__isnull=True).exists()
        )
    )
    assert len(worker.messages()) == 1
    assert len(digests_to(worker, nurse)) == 1
    assert (
        Notification.objects.filter(recipient=nurse, visit=due_visit, kind="window_open").count()
        == 1
    )
    # Sweeping again, even twice more, sends nothing new.
    for result in (tasks.sweep.delay(now), tasks.sweep.delay(now)):
        assert result.get(timeout=60)["claimed"]["digest"] == 0
    assert len(worker.messages()) == 1


def test_a_task_lost_after_its_claim_is_redelivered_and_sends_once(worker, due_visit, nurse):
    """Simulates a worker that claimed the digest and died before the task was delivered:
    the claim goes stale and a later sweep sends it, once."""
    now = timezone.now()
    notifications.digests_create(now=now)
    claimed = notifications.claim_due(Digest, now=now, dispatcher=lambda *a: 0)  # never sent
    assert len(claimed) == 1
    assert (
        tasks.sweep.delay((now + dt.timedelta(minutes=1)).isoformat()).get(timeout=60)["claimed"][
            "digest"
        ]
        == 0
    )  # a fresh claim is left to its task
    assert worker.messages() == []
    later = now + notifications.CLAIM_TIMEOUT + dt.timedelta(minutes=1)
    assert tasks.sweep.delay(later.isoformat()).get(timeout=60)["claimed"]["digest"] == 1
    worker.wait_for(lambda: NoticeMail.objects.filter(outcome="sent").exists())
    # The same message delivered again (a redelivery) and yet another sweep: nothing more.
    assert tasks.deliver_digest.delay(claimed[0]).get(timeout=60) == "nothing to do"
    assert tasks.sweep.delay(later.isoformat()).get(timeout=60)["claimed"]["digest"] == 0
    assert len(digests_to(worker, nurse)) == 1
    assert len(worker.messages()) == 1


def test_a_worker_killed_in_the_middle_of_a_send_never_sends_the_e_mail_twice(
    worker, overdue_visit, nurse, clinician
):
    worker.smtp.stall_next(60)  # the message arrives, the answer never comes
    notice = escalate(overdue_visit, nurse)
    worker.wait_for(lambda: len(worker.messages()) == 1)
    for pid in worker_children(worker):  # the child holding the message, and its sibling
        os.kill(pid, signal.SIGKILL)
    worker.wait_for(lambda: "WorkerLostError" in worker.log.read_text())
    copy = NoticeMail.objects.get(notice__recipient=clinician)
    assert copy.sending_at is not None  # the key was kept before the message went out
    # The in-app notice was committed before the e-mail was even tried.
    assert Notification.objects.filter(recipient=clinician, kind="escalation").count() == 1
    assert EscalationNotice.objects.get(pk=notice.pk).sent_at is not None
    # Redelivered while a send may still run: nothing; the sweep later: recorded, not resent.
    assert tasks.deliver_notice_mail.delay(copy.pk).get(timeout=60) == "in progress"
    later = timezone.now() + notifications.SEND_WINDOW + dt.timedelta(seconds=1)
    assert notifications.notice_mail_send(copy.pk, now=later) == "not confirmed"
    copy.refresh_from_db()
    assert (copy.outcome, copy.sent_at) == ("unconfirmed", later)
    assert len(mails_to(worker, clinician)) == 1
    assert Notification.objects.filter(recipient=clinician, kind="escalation").count() == 1


def test_a_mail_server_that_stalls_after_the_message_gets_it_once_and_the_notice_stays(
    worker, overdue_visit, nurse, clinician
):
    worker.smtp.stall_next(WORKER_EMAIL_TIMEOUT * 4)
    escalate(overdue_visit, nurse)
    worker.wait_for(
        lambda: NoticeMail.objects.filter(sent_at__isnull=False).exists(),
        timeout=WORKER_EMAIL_TIMEOUT * 3 + 10,
    )
    copy = NoticeMail.objects.get(notice__recipient=clinician)
    assert copy.outcome == "unconfirmed"
    assert "timed out" in copy.last_error
    assert Notification.objects.filter(recipient=clinician, kind="escalation").count() == 1
    # Sweeping later sends nothing more.
    later = timezone.now() + notifications.CLAIM_TIMEOUT + dt.timedelta(minutes=1)
    assert tasks.sweep.delay(later.isoformat()).get(timeout=60)["claimed"]["noticemail"] == 0
    assert len(mails_to(worker, clinician)) == 1


def test_a_mail_server_that_refuses_is_retried_with_backoff_and_later_accepts_once(
    worker, overdue_visit, nurse, clinician
):
    worker.smtp.refuse(2)
    escalate(overdue_visit, nurse)
    worker.wait_for(lambda: NoticeMail.objects.filter(sent_at__isnull=False).exists(), timeout=60)
    copy = NoticeMail.objects.get(notice__recipient=clinician)
    assert (copy.outcome, copy.tries, copy.sending_at is not None) == ("sent", 2, True)
    assert len(mails_to(worker, clinician)) == 1
    assert worker.log.read_text().count("Retry in") >= 2
    assert Notification.objects.filter(recipient=clinician, kind="escalation").count() == 1
