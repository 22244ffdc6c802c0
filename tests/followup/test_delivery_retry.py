"""A delivery the database could not complete (SQLite "database is locked" under `make run`,
a dropped connection) is retried, never lost: the bell and the Notifications page agree."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from followup import tasks
from followup.models import EscalationNotice, Notification
from tests.followup.test_results import record, segments

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(schedule):
    return schedule.visits.get(label="3 months")


@pytest.mark.parametrize(
    "task",
    [
        tasks.deliver_escalation_notice,
        tasks.deliver_digest,
        tasks.deliver_reminders,
    ],
)
def test_delivery_tasks_retry_database_errors(task):
    assert OperationalError in task.autoretry_for


def test_a_locked_database_delays_the_escalation_notice_but_does_not_lose_it(
    visit, nurse, clinician, monkeypatch
):
    record(visit, nurse, segs=segments(patency="occluded"))
    notice = EscalationNotice.objects.get()
    real_create = Notification.objects.bulk_create
    calls = {"n": 0}

    def locked_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("database is locked")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(Notification.objects, "bulk_create", locked_once)
    result = tasks.deliver_escalation_notice.apply(args=[notice.pk])
    assert result.get() == "sent"
    assert calls["n"] == 2
    listed = Notification.objects.filter(recipient=clinician, escalation__isnull=False)
    assert listed.count() == 1
    notice.refresh_from_db()
    assert notice.sent_at is not None
    assert (notice.tries, notice.last_error) == (1, "")
