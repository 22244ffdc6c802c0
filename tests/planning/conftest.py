"""Planning fixtures: cases of the named scenarios (tests/scenarios.py) in centre A, written
through the cases services, and plans made by the planning service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from cases.models import Case
from planning import services
from tests.scenarios import scenario_case_create

TODAY = dt.date(2026, 11, 16)


@pytest.fixture
def make_case(centre_a, clinician) -> Callable[..., Case]:
    """make_case("ivc") -> that scenario's case in centre A, dated relative to ``TODAY``;
    keyword arguments change case fields, ``findings=[...]`` replaces the segment findings."""

    def make(name: str, *, centre: Any = None, author: Any = None, **changes: Any) -> Case:
        return scenario_case_create(
            name, centre=centre or centre_a, author=author or clinician, today=TODAY, **changes
        )

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
