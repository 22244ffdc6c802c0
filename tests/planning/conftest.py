"""Planning fixtures: cases of each scenario, written from the hand-made demo cases
(demo/cases.py) through the cases services, and plans made by the planning service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from cases import services as case_services
from cases.models import Case
from demo import cases as demo_cases
from planning import services

TODAY = dt.date(2026, 11, 16)

# Short names for the demo cases (by their patient's hospital number).
DEMO = {
    "acute": "Acute left iliofemoral DVT, no phlegmasia",
    "nivl": "Symptomatic May-Thurner NIVL",
    "chronic": "Chronic post-thrombotic left CIV/EIV occlusion",
    "ivc": "IVC occlusion with bilateral iliac disease",
    "poor_inflow": "Post-thrombotic obstruction reaching the CFV, poor inflow",
    "femoropopliteal": "Acute right femoropopliteal DVT only",
    "contraindicated": "Post-thrombotic left iliac occlusion, groin infection",
}


def demo_spec(name: str) -> demo_cases.DemoCase:
    title = DEMO[name]
    return next(spec for spec in demo_cases.DEMO_CASES if spec.title.startswith(title))


@pytest.fixture
def make_case(centre_a, clinician) -> Callable[..., Case]:
    """make_case("ivc") -> that demo case in centre A; keyword arguments change case fields,
    ``findings=[...]`` replaces the segment findings."""

    def make(
        name: str,
        *,
        centre: Any = None,
        author: Any = None,
        identifier: str = "",
        findings: list[dict[str, Any]] | None = None,
        **changes: Any,
    ) -> Case:
        spec = demo_spec(name)
        patient_data = dict(spec.patient)
        if identifier:
            patient_data["identifier"] = identifier
        patient = case_services.patient_get_or_create(
            centre=centre or centre_a, data=patient_data, user=author or clinician
        )
        case_date = TODAY - dt.timedelta(days=spec.days_ago)
        data = {**spec.data, "case_date": case_date, **changes}
        if spec.onset_days is not None and "symptom_onset_date" not in changes:
            data["symptom_onset_date"] = case_date - dt.timedelta(days=spec.onset_days)
        case = case_services.case_create(
            patient=patient,
            author=author or clinician,
            data=data,
            findings=findings if findings is not None else [dict(f) for f in spec.findings],
        )
        return Case.objects.get(pk=case.pk)  # coded values as stored (plain strings)

    return make


@pytest.fixture
def ivc_case(make_case) -> Case:
    return make_case("ivc")


@pytest.fixture
def ivc_plan(ivc_case, clinician):
    return services.plan_create(case=ivc_case, author=clinician)


@pytest.fixture
def nivl_plan(make_case, clinician):
    return services.plan_create(case=make_case("nivl"), author=clinician)
