"""Finding cases: by patient name, identifier or case number; sortable columns; a constant
number of queries with 10 and 1 000 cases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CaseFactory, PatientFactory


@pytest.fixture
def named(centre_a, clinician):
    return {
        identifier: CaseFactory(
            patient=PatientFactory(centre=centre_a, identifier=identifier, name=name),
            author=clinician,
        )
        for identifier, name in (("A-300", "Zoe Adams"), ("A-100", "Marta Berg"))
    }


def _ids(response) -> list[int]:
    return [case.pk for case, _overall in response.context["rows"]]


@pytest.mark.parametrize(("query", "who"), [("berg", "A-100"), ("ZOE", "A-300"), ("A-3", "A-300")])
def test_case_list_finds_by_name_and_identifier(client_for, named, query, who):
    response = client_for("clinician").get("/cases/", {"q": query})
    assert _ids(response) == [named[who].pk]


def test_case_list_finds_by_case_number(client_for, named):
    case = named["A-100"]
    assert _ids(client_for("clinician").get("/cases/", {"q": f"#{case.pk}"})) == [case.pk]


def test_case_list_sorts_by_patient(client_for, named):
    client = client_for("clinician")
    up = client.get("/cases/", {"sort": "patient"})
    assert _ids(up) == [named["A-100"].pk, named["A-300"].pk]
    down = client.get("/cases/", {"sort": "-patient"})
    assert _ids(down) == [named["A-300"].pk, named["A-100"].pk]
    html = down.content.decode()
    assert 'aria-sort="descending"' in html
    assert 'href="?sort=patient"' in html  # the next click sorts ascending again


def test_case_list_search_and_sort_run_constant_queries_with_10_and_1000_cases(
    client_for, centre_a, clinician
):
    client = client_for("clinician")
    url = "/cases/?q=P&sort=-status"

    def make(count: int) -> None:
        patients = PatientFactory.create_batch(count, centre=centre_a)
        for patient in patients:
            CaseFactory(patient=patient, author=clinician, findings=[])

    make(10)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    make(990)
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(small.captured_queries) == len(large.captured_queries)
