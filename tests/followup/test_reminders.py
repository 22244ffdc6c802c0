"""The reminder sweep in this process: in-app visit reminders, the nurses' daily digest per
centre (centre time zone), claims that two concurrent sweeps never share, the beat entry,
``send_due_reminders`` and the task options (time limits, acks late, retries)."""

from __future__ import annotations

import datetime as dt
import importlib
import smtplib
import threading
from io import StringIO
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError, connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from followup import notifications, selectors, tasks
from followup.models import Digest, NoticeMail, Notification, Reminder, Visit
from followup.services.results import visit_result_record
from tests.factories import CentreFactory, UserFactory
from tests.followup.conftest import BERLIN, NOW, TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def run(now: dt.datetime) -> notifications.SweepResult:
        with django_capture_on_commit_callbacks(execute=True):
            return notifications.reminders_sweep(now=now, dispatcher=notifications.deliver_inline)

    return run


@pytest.fixture
def nivl_visit(make_procedure) -> Visit:
    """A 6-week visit whose window opens on TODAY (procedure 35 days ago)."""
    record = make_procedure(
        entity="nivl", performed_on=TODAY - dt.timedelta(days=35), now=NOW - dt.timedelta(days=35)
    )
    return record.followup_schedule.visits.get(label="6 weeks")


def test_a_visit_entering_its_window_notifies_the_centres_nurses_once(
    nivl_visit, nurse, clinician, other_centre_clinician, centre_b, sweep
):
    other_nurse = UserFactory(username="bea", centre=centre_b, role="nurse")
    assert nivl_visit.earliest_on == TODAY
    sweep(dt.datetime(2026, 11, 16, 6, 59, tzinfo=BERLIN))
    assert not Notification.objects.filter(visit=nivl_visit).exists()  # due at 07:00 local
    result = sweep(NOW)
    assert result.claimed["reminder"] >= 1
    (note,) = Notification.objects.filter(visit=nivl_visit)
    assert note.recipient == nurse
    assert note.kind == "window_open"
    assert nivl_visit.schedule.case.patient.identifier in note.body
    assert not Notification.objects.filter(recipient__in=[clinician, other_nurse]).exists()
    reminder = Reminder.objects.get(visit=nivl_visit, kind="window_open")
    assert (reminder.claimed_at, reminder.sent_at) == (NOW, NOW)
    sweep(NOW + dt.timedelta(minutes=5))
    assert Notification.objects.filter(visit=nivl_visit).count() == 1


def test_a_visit_done_before_its_reminder_is_not_reminded(nivl_visit, nurse, sweep):
    visit_result_record(
        visit=nivl_visit,
        user=nurse,
        now=NOW - dt.timedelta(hours=3),
        data={"performed_on": TODAY},
        segments=[
            {"segment": "CIV", "side": "left", "patency": "patent"},
            {"segment": "EIV", "side": "left", "patency": "patent"},
        ],
    )
    sweep(NOW + dt.timedelta(days=10))
    assert not Notification.objects.filter(visit=nivl_visit).exists()
    assert set(Reminder.objects.filter(visit=nivl_visit).values_list("skipped", flat=True)) == {
        True
    }


def test_the_overdue_reminder_follows_the_window_reminder(nivl_visit, nurse, sweep):
    sweep(NOW)
    sweep(dt.datetime(2026, 11, 24, 7, 0, tzinfo=BERLIN))  # target 11-23: overdue on the 24th
    kinds = list(
        Notification.objects.filter(visit=nivl_visit)
        .order_by("created_at")
        .values_list("kind", flat=True)
    )
    assert kinds == ["window_open", "overdue"]


def test_one_daily_digest_per_centre_in_its_time_zone(nivl_visit, nurse, sweep, centre_b):
    UserFactory(username="bea", centre=centre_b, role="nurse")
    centre_b.time_zone = "America/New_York"
    centre_b.save()
    sweep(dt.datetime(2026, 11, 16, 6, 59, tzinfo=BERLIN))
    assert not Digest.objects.exists()
    sweep(dt.datetime(2026, 11, 16, 7, 0, tzinfo=BERLIN))  # 01:00 in New York
    assert list(Digest.objects.values_list("centre__code", "local_date")) == [("centre-a", TODAY)]
    digests = [m for m in mail.outbox if m.to == [nurse.email]]
    assert len(digests) == 1
    counts = selectors.worklist_counts(centre_id=nurse.centre_id, today=TODAY)
    assert f"{counts['all']} visit(s)" in digests[0].subject
    assert f"case #{nivl_visit.schedule.case_id}" in digests[0].body
    assert nivl_visit.schedule.case.patient.identifier not in digests[0].body
    sweep(dt.datetime(2026, 11, 16, 18, 0, tzinfo=BERLIN))  # 12:00 in New York
    assert Digest.objects.filter(centre__code="centre-a").count() == 1
    centre_b_digest = Digest.objects.get(centre__code="centre-b")
    assert centre_b_digest.local_date == TODAY
    assert centre_b_digest.skipped  # nothing on centre B's worklist: no e-mail
    assert len([m for m in mail.outbox if m.to == [nurse.email]]) == 1
    sweep(dt.datetime(2026, 11, 17, 7, 5, tzinfo=BERLIN))
    assert Digest.objects.filter(centre__code="centre-a").count() == 2
    assert Notification.objects.filter(recipient=nurse, kind="digest").count() == 2


def test_a_failing_mail_server_never_holds_back_the_in_app_digest_and_its_copy_is_retried(
    nivl_visit, nurse, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        notifications.reminders_sweep(now=NOW, dispatcher=lambda model, ids, now: len(ids))
    digest = Digest.objects.get()
    calls = {"n": 0}

    def down_twice(self: Any) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.open", down_twice)
    with django_capture_on_commit_callbacks(execute=False):
        assert notifications.digest_deliver(digest.pk, now=NOW) == "sent"
    assert Notification.objects.filter(kind="digest", recipient=nurse).count() == 1
    copy = NoticeMail.objects.get(notice__recipient=nurse)
    for _ in range(2):
        with pytest.raises(ConnectionRefusedError):
            notifications.notice_mail_send(copy.pk)
    copy.refresh_from_db()
    assert (copy.sent_at, copy.sending_at, copy.tries) == (None, None, 2)
    assert "mail server down" in copy.last_error
    assert mail.outbox == []
    assert notifications.notice_mail_send(copy.pk) == "sent"
    copy.refresh_from_db()
    assert copy.outcome == "sent"
    assert [m.to for m in mail.outbox] == [[nurse.email]]
    assert notifications.notice_mail_send(copy.pk) == "nothing to do"
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_claim_disjoint_rows(make_procedure):
    for days in range(35, 45):
        make_procedure(
            entity="nivl",
            performed_on=TODAY - dt.timedelta(days=days),
            now=NOW - dt.timedelta(days=days),
        )
    due = set(
        Reminder.objects.filter(due_at__lte=NOW, sent_at__isnull=True).values_list("pk", flat=True)
    )
    assert len(due) >= 10
    claimed: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        try:
            barrier.wait()

            def record(model: Any, ids: Any, now: Any) -> int:
                if model is Reminder:
                    claimed[index].extend(ids)
                return len(ids)

            notifications.reminders_sweep(now=NOW, dispatcher=record)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(claimed[0]) & set(claimed[1])
    assert set(claimed[0]) | set(claimed[1]) == due
    assert len(Digest.objects.filter(local_date=TODAY)) == Digest.objects.count()


def test_send_due_reminders_runs_the_sweep_and_prints_counts(
    nivl_visit, nurse, django_capture_on_commit_callbacks
):
    due = Reminder.objects.filter(due_at__lte=NOW, sent_at__isnull=True).count()
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_due_reminders", "--inline", "--now", NOW.isoformat(), stdout=out)
    text = out.getvalue()
    assert "Claimed and delivered here:" in text
    assert f"visit reminders: {due}\n" in text
    assert "daily digests: 1 (created now: 1)" in text
    assert "escalation notices: 0" in text
    # The discharge visit's reminders are moot (window passed); the 6-week one is sent.
    assert Notification.objects.filter(recipient=nurse, kind="window_open").count() == 1
    out = StringIO()
    call_command("send_due_reminders", "--inline", "--now", NOW.isoformat(), stdout=out)
    assert "visit reminders: 0\n" in out.getvalue()
    assert "daily digests: 0 (created now: 0)" in out.getvalue()


def test_send_due_reminders_refuses_a_naive_time(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="UTC offset"):
        call_command("send_due_reminders", "--now", "2026-11-16T10:00:00", stdout=StringIO())


def test_the_sweep_is_one_beat_entry_every_thirty_seconds(db):
    """Often enough that a claim lost with its worker is taken again within two minutes."""
    (task,) = PeriodicTask.objects.filter(task="followup.sweep")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (30, "seconds")
    assert dt.timedelta(seconds=30) + notifications.CLAIM_TIMEOUT <= dt.timedelta(minutes=2)


def test_a_sweep_left_at_the_former_default_is_moved_and_a_chosen_interval_kept(db):
    from django.apps import apps

    sweep_schedule_speed_up = importlib.import_module(
        "followup.migrations.0010_sweep_every_30_seconds"
    ).sweep_schedule_speed_up
    task = PeriodicTask.objects.get(task="followup.sweep")
    task.interval = IntervalSchedule.objects.create(every=5, period="minutes")
    task.save()
    assert sweep_schedule_speed_up(apps=apps)
    task.refresh_from_db()
    assert (task.interval.every, task.interval.period) == (30, "seconds")
    task.interval = IntervalSchedule.objects.create(every=2, period="minutes")
    task.save()
    assert not sweep_schedule_speed_up(apps=apps)
    task.refresh_from_db()
    assert (task.interval.every, task.interval.period) == (2, "minutes")


def test_tasks_are_thin_acks_late_time_limited_and_retry_mail_errors():
    for task in (
        tasks.sweep,
        tasks.deliver_reminders,
        tasks.deliver_digest,
        tasks.deliver_escalation_notice,
        tasks.deliver_notice_mail,
    ):
        assert task.acks_late
        assert 0 < task.soft_time_limit < task.time_limit <= 240
    one_message = (tasks.deliver_digest, tasks.deliver_escalation_notice, tasks.deliver_notice_mail)
    assert {task.time_limit for task in one_message} == {notifications.SEND_WINDOW.total_seconds()}
    for task in (tasks.deliver_reminders, *one_message):
        assert set(task.autoretry_for) == {
            smtplib.SMTPException,
            OSError,
            OperationalError,
            SoftTimeLimitExceeded,
        }
        assert task.retry_backoff is True
        assert task.max_retries == 8


def test_claims_are_made_after_commit_and_only_once(nivl_visit, django_capture_on_commit_callbacks):
    sent: list[Any] = []
    with django_capture_on_commit_callbacks() as callbacks:
        notifications.claim_due(
            Reminder, now=NOW, dispatcher=lambda model, ids, now: sent.append(list(ids))
        )
    assert sent == []  # nothing is enqueued before the claim commits
    for callback in callbacks:
        callback()
    assert len(sent) == 1
    assert notifications.claim_due(Reminder, now=NOW) == []


def test_a_centre_without_nurses_gets_no_digest_mail(db, sweep):
    CentreFactory(code="centre-c", name="Centre C")
    sweep(NOW)
    assert Digest.objects.get(centre__code="centre-c").skipped
    assert mail.outbox == []
