"""Fixtures of the cases tests: centre B's patient and case (Bob's), next to the personas and
centre A's ``patient_a``/``case_a`` of tests/conftest.py."""

import datetime as dt

import pytest

from tests.factories import CaseFactory, PatientFactory


@pytest.fixture
def patient_b(centre_b):
    return PatientFactory(centre=centre_b, identifier="B-5005", date_of_birth=dt.date(1969, 8, 1))


@pytest.fixture
def case_b(patient_b, other_centre_clinician):
    return CaseFactory(
        patient=patient_b,
        author=other_centre_clinician,
        lesion_entity="nivl",
        nivl_cause="may_thurner",
        findings=[{"segment": "CIV", "side": "left", "finding": "compression"}],
    )
