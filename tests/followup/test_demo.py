"""Demo data: ``seed_demo`` adds procedures whose schedules have visits due soon, due,
overdue, missed and done (with an open escalation), and ``--visits N`` synthetic visits."""

from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from demo.followup import DEMO_PROCEDURES, PATENCY_DEMO, seed_followup
from followup import selectors
from followup.models import Escalation, ReIntervention, Reminder, Schedule, Visit
from followup.patency import PRIMARY, PRIMARY_ASSISTED, SECONDARY
from followup.services.clock import centre_today
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
    today = centre_today(centre, NOW)
    statuses = {v.status for v in selectors.worklist_due(centre_id=centre.pk, today=today)}
    assert statuses == {"due_soon", "due", "overdue", "missed"}
    assert Visit.objects.filter(centre=centre, state="done").count() >= 6
    escalation = Escalation.objects.get()
    assert escalation.clinician.username == "clinician"
    assert escalation.is_open
    assert Schedule.objects.filter(centre__code="centre-b").count() == 1


@pytest.fixture
def cohort(seeded):
    with time_machine.travel(NOW, tick=False):
        out = StringIO()
        call_command("seed_patency_demo", stdout=out)
        yield out.getvalue()


def test_seed_patency_demo_needs_the_demo(db):
    with pytest.raises(CommandError, match="run seed_demo first"):
        call_command("seed_patency_demo", stdout=StringIO())


def test_seed_patency_demo_twice_adds_nothing(cohort):
    assert f"Patency demo: {len(PATENCY_DEMO)} of {len(PATENCY_DEMO)} procedure(s)" in cohort
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_patency_demo", stdout=out)
    assert f"Patency demo: 0 of {len(PATENCY_DEMO)}" in out.getvalue()


def test_seed_patency_demo_gives_non_trivial_curves(cohort):
    """Every entity has curves with events; the cohort's escalations are decided, its past
    visits done (nothing of it is missed on the worklist)."""
    centre = Centre.objects.get(code="centre-a")
    assert Escalation.objects.filter(acknowledged_at__isnull=True).count() == 1  # seed_demo's
    cohort = Visit.objects.filter(schedule__case__patient__identifier__startswith="4016")
    today = centre_today(centre, NOW)
    assert not cohort.filter(state="planned", target_on__lt=today).exists()
    assert ReIntervention.objects.filter(for_occlusion=True, successful=False).exists()
    assert ReIntervention.objects.filter(for_occlusion=False).count() >= 3
    groups = {g.entity: g for g in selectors.patency_analysis(centre_id=centre.pk).groups}
    for entity in ("nivl", "acute_thrombotic", "post_thrombotic", "ivc_reconstruction"):
        events = {e: groups[entity].curve_for(e).events for e in (PRIMARY, SECONDARY)}
        assert events[PRIMARY] >= 1, entity
        assert groups[entity].curve_for(PRIMARY).max_days >= 300, entity
    pt = groups["post_thrombotic"]
    assert pt.curve_for(PRIMARY).events > pt.curve_for(PRIMARY_ASSISTED).events
    assert pt.curve_for(PRIMARY_ASSISTED).events > pt.curve_for(SECONDARY).events >= 1
    schedule = Schedule.objects.get(case__patient__identifier="40160021")
    trend = selectors.score_trend(schedule)
    assert trend[0].baseline
    assert trend[0].vcss == 14
    assert len([p for p in trend if p.vcss is not None]) >= 6


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
