"""Visit results, escalations (one per abnormal finding kind, re-sent every 24 hours until
acknowledged), decisions, re-interventions, contact attempts and reschedules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import TestCase

from followup import notifications
from followup.models import (
    Escalation,
    EscalationNotice,
    Notification,
    ReIntervention,
    Reminder,
    Visit,
)
from followup.services.escalations import escalation_acknowledge, escalation_decide
from followup.services.results import reintervention_record, visit_result_record
from followup.services.visits import contact_attempt_log, visit_close, visit_reschedule
from tests.followup.conftest import NOW, TODAY

pytestmark = pytest.mark.django_db

NORMAL = {
    "patency": "patent",
    "in_stent_thrombus": False,
    "isr_percent": 10,
    "peak_velocity_ratio": Decimal("1.2"),
    "compression": False,
}


def segments(**changes: Any) -> list[dict[str, Any]]:
    """Both stented segments of the ``schedule`` fixture (left CIV and EIV), CIV changed."""
    return [
        {"segment": "CIV", "side": "left", **NORMAL, **changes},
        {"segment": "EIV", "side": "left", **NORMAL},
    ]


def record(
    visit: Visit, user: Any, *, segs: list[dict[str, Any]] | None = None, **data: Any
) -> Any:
    return visit_result_record(
        visit=visit,
        user=user,
        now=NOW,
        data={"performed_on": TODAY, "phasicity": "phasic", "ulcer_status": "none", **data},
        segments=segments() if segs is None else segs,
    )


def deliver(notice: EscalationNotice) -> str:
    """Deliver one notice in this process, its e-mail copy too once the notice committed."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return notifications.escalation_notice_deliver(
            notice.pk, now=NOW, dispatcher=notifications.deliver_inline
        )


def deliver_first_notice(escalation: Escalation) -> None:
    assert deliver(EscalationNotice.objects.get(escalation=escalation, attempt=0)) == "sent"


def mails_to(user: Any) -> list[Any]:
    return [m for m in mail.outbox if m.to == [user.email]]


@pytest.fixture
def visit(schedule) -> Visit:
    return schedule.visits.get(label="3 months")  # overdue on TODAY


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """sweep(now) -> run the reminder sweep and deliver what it claims in this process."""

    def run(now: dt.datetime) -> notifications.SweepResult:
        with django_capture_on_commit_callbacks(execute=True):
            return notifications.reminders_sweep(now=now, dispatcher=notifications.deliver_inline)

    return run


def test_a_normal_duplex_closes_the_visit_without_escalation(visit, nurse):
    result = record(visit, nurse, pain_vas=2, vcss_pain=1)
    visit.refresh_from_db()
    assert visit.state == "done"
    assert result.abnormal_reasons == []
    assert not Escalation.objects.exists()
    assert result.segments.count() == 2
    assert not Reminder.objects.filter(visit=visit, sent_at__isnull=True).exists()
    assert result.history.get().history_user == nurse


@pytest.mark.parametrize(
    ("changes", "data", "code"),
    [
        ({"isr_percent": 55}, {}, "isr"),
        ({"patency": "occluded"}, {}, "occlusion"),
        ({"in_stent_thrombus": True}, {}, "thrombus"),
        ({"compression": True}, {}, "compression"),
        ({"peak_velocity_ratio": Decimal("2.8")}, {}, "pvr"),
        ({}, {"phasicity": "lost"}, "phasicity"),
        ({}, {"ulcer_status": "new"}, "ulcer"),
        ({}, {"ulcer_status": "non_healing"}, "ulcer"),
    ],
)
def test_each_abnormal_finding_escalates_to_the_responsible_clinician(
    visit, nurse, clinician, changes, data, code, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        record(visit, nurse, segs=segments(**changes), **data)
    escalation = Escalation.objects.get()
    assert escalation.reasons == [code]
    assert escalation.clinician == clinician  # the procedure record's author
    assert escalation.visit == visit
    assert escalation.history.get().history_user == nurse
    notice = EscalationNotice.objects.get(escalation=escalation)
    assert (notice.attempt, notice.claimed_at, notice.sent_at) == (0, NOW, None)
    assert len(callbacks) == 1  # the notice is enqueued once the escalation is committed

    assert deliver(notice) == "sent"
    (email,) = mail.outbox
    assert email.to == [clinician.email]
    assert f"case #{visit.schedule.case_id}" in email.subject
    assert visit.schedule.case.patient.identifier not in email.body  # no identifiers by mail
    bell = Notification.objects.get(recipient=clinician)
    assert bell.escalation == escalation
    assert bell.read_at is None
    # Delivered twice (a redelivered task): nothing more.
    assert deliver(notice) == "nothing to do"
    assert len(mail.outbox) == 1


def test_the_case_author_is_responsible_when_the_operator_left(
    make_procedure, nurse, clinician, centre_a
):
    from tests.factories import UserFactory

    operator = UserFactory(username="olga", centre=centre_a, role="clinician")
    record_ = make_procedure(author=operator, performed_on=TODAY - dt.timedelta(days=100))
    operator.is_active = False
    operator.save()
    visit = record_.followup_schedule.visits.get(label="3 months")
    record(visit, nurse, segs=segments(patency="occluded"))
    assert Escalation.objects.get().clinician == record_.case.author


def test_correcting_a_result_escalates_only_new_findings(visit, nurse):
    record(visit, nurse, segs=segments(isr_percent=60))
    record(visit, nurse, segs=segments(isr_percent=70))
    assert Escalation.objects.count() == 1
    record(visit, nurse, segs=segments(isr_percent=70, in_stent_thrombus=True))
    assert [e.reasons for e in Escalation.objects.order_by("pk")] == [["isr"], ["thrombus"]]


def test_every_stented_segment_must_be_recorded(visit, nurse):
    with pytest.raises(ValidationError, match="missing: EIV left"):
        record(visit, nurse, segs=segments()[:1])
    with pytest.raises(ValidationError, match="Not a stented segment"):
        record(visit, nurse, segs=[*segments(), {"segment": "CFV", "side": "left", **NORMAL}])


def test_a_visit_date_in_the_future_is_refused(visit, nurse):
    with pytest.raises(ValidationError, match="Enter a date no later than 16 November 2026"):
        record(visit, nurse, performed_on=TODAY + dt.timedelta(days=1))


def test_acknowledgement_stops_re_notification(visit, nurse, clinician, sweep):
    record(visit, nurse, segs=segments(isr_percent=60))
    escalation = Escalation.objects.get()
    deliver_first_notice(escalation)  # what the task enqueued on commit does
    assert len(mails_to(clinician)) == 1
    sweep(NOW + dt.timedelta(hours=23))
    assert len(mails_to(clinician)) == 1  # not yet 24 hours
    sweep(NOW + dt.timedelta(hours=25))
    assert len(mails_to(clinician)) == 2
    assert mails_to(clinician)[1].subject.startswith("Reminder:")
    assert Notification.objects.filter(recipient=clinician, escalation=escalation).count() == 2

    escalation_acknowledge(escalation=escalation, user=clinician, now=NOW + dt.timedelta(hours=30))
    assert not Notification.objects.filter(escalation=escalation, read_at__isnull=True).exists()
    sweep(NOW + dt.timedelta(hours=50))
    sweep(NOW + dt.timedelta(days=5))
    assert len(mails_to(clinician)) == 2
    pending = EscalationNotice.objects.get(escalation=escalation, attempt=2)
    assert pending.skipped
    assert escalation.history.first().history_user == clinician


def test_an_escalation_acknowledged_at_once_is_never_re_sent(visit, nurse, clinician, sweep):
    record(visit, nurse, segs=segments(patency="occluded"))
    deliver_first_notice(Escalation.objects.get())
    escalation_acknowledge(
        escalation=Escalation.objects.get(), user=clinician, now=NOW + dt.timedelta(minutes=10)
    )
    for hours in (25, 49, 73):
        sweep(NOW + dt.timedelta(hours=hours))
    assert len(mails_to(clinician)) == 1


def test_decision_reimage_puts_an_unscheduled_visit_on_the_worklist(visit, nurse, clinician):
    record(visit, nurse, segs=segments(isr_percent=55))
    escalation = escalation_decide(
        escalation=Escalation.objects.get(),
        user=clinician,
        decision="reimage",
        reimage_kind="ct_venography",
        note="Check with CT",
        now=NOW,
    )
    assert escalation.acknowledged_by == clinician
    extra = escalation.reimage_visit
    assert (extra.kind, extra.extra, extra.target_on) == (
        "ct_venography",
        True,
        TODAY + dt.timedelta(days=7),
    )
    assert extra.sequence > 1000
    from followup import selectors

    due = selectors.worklist_due(centre_id=extra.centre_id, today=TODAY)
    assert extra in list(due)


def test_decision_reintervene_and_the_reintervention_counts_for_patency(visit, nurse, clinician):
    record(visit, nurse, segs=segments(patency="occluded"))
    escalation = escalation_decide(
        escalation=Escalation.objects.get(), user=clinician, decision="reintervene", now=NOW
    )
    assert escalation.decision == "reintervene"
    item = reintervention_record(
        schedule=visit.schedule,
        user=clinician,
        now=NOW,
        data={
            "performed_on": TODAY,
            "kind": "thrombectomy_lysis",
            "for_occlusion": True,
            "successful": True,
            "segments": ["EIV:left", "CIV:left"],
            "escalation": escalation,
        },
    )
    assert item.segments == ["CIV:left", "EIV:left"]
    assert ReIntervention.objects.get().for_occlusion
    with pytest.raises(ValidationError, match="Not a stented segment"):
        reintervention_record(
            schedule=visit.schedule,
            user=clinician,
            now=NOW,
            data={
                "performed_on": TODAY,
                "kind": "angioplasty",
                "for_occlusion": False,
                "segments": ["IVC:midline"],
            },
        )


def test_contact_attempts_update_the_last_contact(visit, nurse):
    contact_attempt_log(
        visit=visit,
        user=nurse,
        now=NOW - dt.timedelta(hours=2),
        data={"method": "phone", "outcome": "no_answer"},
    )
    second = contact_attempt_log(
        visit=visit, user=nurse, now=NOW, data={"method": "letter", "outcome": "sent"}
    )
    visit.refresh_from_db()
    assert visit.last_contact == second
    assert second.history.get().history_user == nurse


def test_reschedule_moves_the_window_and_resets_unsent_reminders(visit, nurse):
    old_width = (visit.latest_on - visit.earliest_on).days
    sent = Reminder.objects.get(visit=visit, kind="overdue")
    Reminder.objects.filter(pk=sent.pk).update(sent_at=NOW)
    new_target = TODAY + dt.timedelta(days=10)
    visit_reschedule(
        visit=visit, user=nurse, target_on=new_target, reason="Patient on holiday", now=NOW
    )
    visit.refresh_from_db()
    assert visit.target_on == new_target
    assert (visit.latest_on - visit.earliest_on).days == old_width
    assert visit.reschedule_reason == "Patient on holiday"
    latest = visit.history.first()
    assert latest.history_change_reason == "rescheduled: Patient on holiday"
    assert latest.history_user == nurse
    window = Reminder.objects.get(visit=visit, kind="window_open")
    assert window.sent_at is None
    assert Reminder.objects.get(visit=visit, kind="overdue").sent_at == NOW  # not sent again
    with pytest.raises(ValidationError, match="why"):
        visit_reschedule(visit=visit, user=nurse, target_on=new_target, reason=" ", now=NOW)


def test_closing_a_visit_removes_it_from_the_worklist(visit, nurse):
    visit_close(visit=visit, user=nurse, reason="Moved abroad", now=NOW)
    visit.refresh_from_db()
    assert visit.state == "cancelled"
    with pytest.raises(ValidationError):
        contact_attempt_log(
            visit=visit, user=nurse, now=NOW, data={"method": "phone", "outcome": "no_answer"}
        )
