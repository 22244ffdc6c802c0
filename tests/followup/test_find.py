"""Finding things: the worklist by patient name, identifier or case number, sortable columns;
the nurse calls the number shown."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from followup.models import Schedule
from tests.factories import CaseFactory, PatientFactory
from tests.followup.conftest import NOW, TODAY

WORKLIST = "/followup/worklist/"


@pytest.fixture
def three(make_procedure, centre_a, clinician):
    """Three overdue-ish schedules of three named patients."""
    made = {}
    for identifier, name in (
        ("P-300", "Zoe Adams"),
        ("P-100", "Marta Berg"),
        ("P-200", "Jan Cole"),
    ):
        case = CaseFactory(
            patient=PatientFactory(centre=centre_a, identifier=identifier, name=name),
            author=clinician,
        )
        record = make_procedure(case=case, performed_on=TODAY - dt.timedelta(days=100))
        made[identifier] = Schedule.objects.get(procedure=record)
    return made


def _identifiers(response) -> list[str]:
    seen: list[str] = []
    for visit in response.context["page"]:
        identifier = visit.schedule.case.patient.identifier
        if identifier not in seen:
            seen.append(identifier)
    return seen


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("query", "expected"),
    [("berg", ["P-100"]), ("MARTA", ["P-100"]), ("P-2", ["P-200"]), ("zzz", [])],
)
def test_worklist_finds_by_name_and_identifier(client_for, three, query, expected):
    response = client_for("nurse").get(WORKLIST, {"q": query})
    assert _identifiers(response) == expected


@time_machine.travel(NOW, tick=False)
def test_worklist_finds_by_case_number(client_for, three):
    case_id = three["P-300"].case_id
    for query in (str(case_id), f"#{case_id}"):
        assert _identifiers(client_for("nurse").get(WORKLIST, {"q": query})) == ["P-300"]


@time_machine.travel(NOW, tick=False)
def test_worklist_sorts_by_patient_both_ways(client_for, three):
    client = client_for("nurse")
    up = client.get(WORKLIST, {"sort": "patient"})
    assert _identifiers(up) == ["P-100", "P-200", "P-300"]
    assert 'aria-sort="ascending"' in up.content.decode()
    down = client.get(WORKLIST, {"sort": "-patient"})
    assert _identifiers(down) == ["P-300", "P-200", "P-100"]
    assert 'aria-sort="descending"' in down.content.decode()
    assert client.get(WORKLIST, {"sort": "nonsense"}).status_code == 200
