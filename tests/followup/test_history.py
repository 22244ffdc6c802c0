"""Audit (STYLE.md convention 11): after a whole follow-up story every audited row has
history, and its newest historical row matches the row, so no change bypassed the history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps

from demo.followup import seed_followup
from followup.models import Escalation, Protocol
from followup.services.escalations import escalation_decide
from followup.services.protocols import protocol_revise
from followup.services.results import reintervention_record, visit_result_record
from followup.services.visits import contact_attempt_log, visit_close, visit_reschedule
from tests.followup.conftest import NOW, TODAY

pytestmark = pytest.mark.django_db


def audited_models() -> list[type]:
    return [m for m in apps.get_app_config("followup").get_models() if hasattr(m, "history")]


def assert_every_change_has_history() -> int:
    checked = 0
    for model in audited_models():
        tracked = [
            f.attname
            for f in model.history.model._meta.concrete_fields
            if not f.attname.startswith("history_")
        ]
        for obj in model.objects.all():
            latest = obj.history.order_by("-history_date", "-history_id").first()
            assert latest is not None, f"{model.__name__} {obj.pk} has no history"
            for name in tracked:
                assert getattr(latest, name) == getattr(obj, name), (
                    f"{model.__name__} {obj.pk}.{name} changed without a history row"
                )
            checked += 1
    return checked


def test_a_whole_follow_up_story_is_audited(schedule, nurse, clinician, guideline_admin):
    visit = schedule.visits.get(label="3 months")
    contact_attempt_log(
        visit=visit, user=nurse, now=NOW, data={"method": "phone", "outcome": "booked"}
    )
    visit_reschedule(
        visit=visit, user=nurse, target_on=TODAY + dt.timedelta(days=2), reason="Booked", now=NOW
    )
    visit_result_record(
        visit=visit,
        user=nurse,
        now=NOW,
        data={"performed_on": TODAY, "pain_vas": 3},
        segments=[
            {"segment": "CIV", "side": "left", "patency": "patent", "isr_percent": 70},
            {"segment": "EIV", "side": "left", "patency": "patent"},
        ],
    )
    escalation = Escalation.objects.get()
    escalation_decide(escalation=escalation, user=clinician, decision="reimage", now=NOW)
    reintervention_record(
        schedule=schedule,
        user=clinician,
        now=NOW,
        data={
            "performed_on": TODAY,
            "kind": "angioplasty",
            "for_occlusion": False,
            "segments": ["CIV:left"],
            "escalation": escalation,
        },
    )
    visit_close(visit=schedule.visits.get(label="6 months"), user=nurse, reason="Moved", now=NOW)
    protocol_revise(
        protocol=Protocol.objects.get(entity="nivl", retired_at__isnull=True),
        user=guideline_admin,
        data={},
        visits=[{"label": "6 weeks", "offset_value": 6, "offset_unit": "weeks", "kind": "duplex"}],
        now=NOW,
    )
    assert assert_every_change_has_history() > 20
    escalation.refresh_from_db()
    assert [h.history_user for h in escalation.history.order_by("history_id")] == [
        nurse,
        clinician,
        clinician,
    ]


def test_demo_data_is_audited(db, settings):
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    result = seed_followup(visits=300, now=NOW)
    assert result.synthetic_visits == 300
    assert assert_every_change_has_history() > 300
