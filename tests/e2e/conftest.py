"""Fixtures of the browser tests: pytest-django's live server, the personas of
tests/conftest.py (who log in, tests/e2e/session.py) and what a test needs besides them,
built from the named scenarios (tests/scenarios.py) through the services, dated relative to
today as the live server sees it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from cases import services as case_services
from cases.models import Case
from followup.services.clock import centre_today
from followup.services.results import visit_result_record
from followup.services.visits import contact_attempt_log
from planning import services as planning_services
from planning.models import Device
from tests.scenarios import SCENARIOS, scenario_case_create


@pytest.fixture
def site(live_server) -> str:
    """The live server's address."""
    return live_server.url


@pytest.fixture
def scenario_case(centre_a, clinician) -> Callable[[str], Case]:
    """scenario_case("ivc") -> that scenario's case at centre A, entered by Alice."""

    def make(name: str) -> Case:
        return scenario_case_create(name, centre=centre_a, author=clinician)

    return make


@dataclass(frozen=True)
class FollowUp:
    """A procedure on a scenario's case, completed ``days_ago`` days ago with ``stents``; the
    visits of the sequences in ``done`` have a result (``abnormal``: sequence -> the segment
    found abnormal), ``contacts`` are the nurse's attempts (sequence, method, outcome)."""

    scenario: str
    entity: str
    days_ago: int
    stents: tuple[tuple[str, str], ...]
    done: tuple[int, ...] = ()
    abnormal: tuple[tuple[int, dict[str, Any]], ...] = ()
    contacts: tuple[tuple[int, str, str], ...] = ()


# The NIVL stent's 6-week visit is due soon, the acute one's 2-week visit due, the
# post-thrombotic 3-month visit overdue (and an open escalation for an ISR at 6 weeks), the
# IVC reconstruction's 6-week visit missed with the calls unanswered.
FOLLOW_UPS = (
    FollowUp("nivl", "nivl", 33, (("CIV", "left"),), done=(1,)),
    FollowUp(
        "acute",
        "acute_thrombotic",
        13,
        (("CIV", "left"), ("EIV", "left")),
        done=(1,),
        contacts=((2, "phone", "booked"),),
    ),
    FollowUp(
        "chronic",
        "post_thrombotic",
        100,
        (("CIV", "left"), ("EIV", "left")),
        done=(1, 2, 3),
        abnormal=((3, {"segment": "CIV", "side": "left", "isr_percent": 55}),),
        contacts=((4, "phone", "no_answer"), (4, "letter", "sent")),
    ),
    FollowUp(
        "ivc",
        "ivc_reconstruction",
        60,
        (("IVC", "midline"), ("CIV", "left"), ("CIV", "right")),
        done=(1, 2),
        contacts=((3, "phone", "no_answer"), (3, "phone", "voicemail")),
    ),
)


def _segments(follow_up: FollowUp, sequence: int) -> list[dict[str, Any]]:
    abnormal = dict(follow_up.abnormal).get(sequence, {})
    rows = []
    for segment, side in follow_up.stents:
        row: dict[str, Any] = {
            "segment": segment,
            "side": side,
            "patency": "patent",
            "in_stent_thrombus": False,
            "isr_percent": 0,
            "compression": False,
        }
        if (abnormal.get("segment"), abnormal.get("side")) == (segment, side):
            row.update({k: v for k, v in abnormal.items() if k not in ("segment", "side")})
        rows.append(row)
    return rows


def _follow_up_create(follow_up: FollowUp, case: Case, clinician: Any, nurse: Any) -> None:
    today = centre_today(case.patient.centre)
    stent = Device.objects.filter(kind="stent", retired_at__isnull=True).order_by("pk").first()
    record = planning_services.procedure_record_create(
        case=case,
        author=clinician,
        data={
            "performed_on": today - dt.timedelta(days=follow_up.days_ago),
            "operators": "Dr Alice",
            "access_used": "Right common femoral vein",
            "technical_success": True,
            "antithrombotic_regimen": "LMWH 4 weeks, then a DOAC for 6 months.",
            "follow_up_entity": follow_up.entity,
        },
        implants=[
            {
                "segment": segment,
                "side": side,
                "device": stent,
                "diameter_mm": Decimal("14.0"),
                "length_mm": 90,
                "lot": "",
            }
            for segment, side in follow_up.stents
        ],
    )
    planning_services.procedure_record_complete(record=record, user=clinician)
    visits = {v.sequence: v for v in record.followup_schedule.visits.all()}
    for sequence, method, outcome in follow_up.contacts:
        contact_attempt_log(
            visit=visits[sequence], user=nurse, data={"method": method, "outcome": outcome}
        )
    for sequence in follow_up.done:
        visit_result_record(
            visit=visits[sequence],
            user=nurse,
            data={
                "performed_on": min(visits[sequence].target_on, today),
                "phasicity": "phasic",
                "ulcer_status": "none",
                "compression_use": "daily",
                "pain_vas": 2,
                "antithrombotic_adherence": "adherent",
            },
            segments=_segments(follow_up, sequence),
        )


@pytest.fixture
def clinic(scenario_case, clinician, nurse, guideline_admin) -> None:
    """Centre A as its staff meet it: a case of every scenario, and completed procedures whose
    follow-up visits are due soon, due, overdue, missed and done (one with an open
    escalation), their patients reachable by phone."""
    cases = {name: scenario_case(name) for name in SCENARIOS}
    for number, follow_up in enumerate(FOLLOW_UPS, start=1):
        case = cases[follow_up.scenario]
        case_services.patient_update(
            patient=case.patient,
            data={"phone": f"+49 30 5550 {number:04d}", "preferred_contact": "phone"},
            user=clinician,
        )
        _follow_up_create(follow_up, case, clinician, nurse)
