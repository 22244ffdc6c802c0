"""Demo data: ``seed_demo`` adds procedures whose schedules have visits due soon, due,
overdue, missed and done (with an open escalation), and ``--visits N`` synthetic visits."""

from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from followup import selectors, services
from followup.demo import DEMO_PROCEDURES, seed_followup
from followup.models import Escalation, Reminder, Schedule, Visit
from tests.followup.conftest import NOW
from venousapp.accounts.models import Centre

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    with time_machine.travel(NOW, tick=False):
        out = StringIO()
        call_command("seed_demo", stdout=out, stderr=StringIO())
        yield out.getvalue()


def test_seed_demo_adds_schedules_with_every_worklist_status(seeded):
    assert f"Follow-up: {len(DEMO_PROCEDURES)} demo procedure(s)" in seeded
    centre = Centre.objects.get(code="centre-a")
    today = services.centre_today(centre, NOW)
    statuses = {v.status for v in selectors.worklist_due(centre_id=centre.pk, today=today)}
    assert statuses == {"due_soon", "due", "overdue", "missed"}
    assert Visit.objects.filter(centre=centre, state="done").count() >= 6
    escalation = Escalation.objects.get()
    assert escalation.clinician.username == "clinician"
    assert escalation.is_open
    assert Schedule.objects.filter(centre__code="centre-b").count() == 1


def test_seed_demo_twice_adds_no_second_schedule(seeded):
    schedules = Schedule.objects.count()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
        assert seed_followup(now=NOW).demo_procedures == 0
    assert Schedule.objects.count() == schedules


def test_seed_demo_visits_option_creates_synthetic_visits(db, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    out = StringIO()
    call_command("seed_demo", "--visits", "500", stdout=out, stderr=StringIO())
    assert "500 synthetic visit(s)" in out.getvalue()
    synthetic = Visit.objects.filter(schedule__case__patient__identifier__startswith="9")
    assert synthetic.count() == 500
    assert synthetic.filter(state="done").exists()
    assert synthetic.filter(state="planned").exists()
    assert Reminder.objects.filter(visit__in=synthetic, sent_at__isnull=True).exists()
    assert all(v.result.segments.exists() for v in synthetic.filter(state="done")[:20])
