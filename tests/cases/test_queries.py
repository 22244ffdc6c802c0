"""The case list and the case page run a constant number of SQL queries however many cases
(and findings) there are (STYLE.md §12, Zulip-style query counts)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CaseFactory, PatientFactory

# Session, user, centre, role permissions and the page's own reads (13 today, with the rule
# set state and the case's signed decisions); a query per row or per finding would exceed it
# with 50 cases and fail.
MAX_QUERIES = 13

SEGMENTS = ["IVC", "CIV", "IIV", "EIV", "CFV", "DFV", "FV", "POPV"]


def add_cases(centre: Any, author: Any, count: int, findings_each: int = 3) -> list[Any]:
    return [
        CaseFactory(
            patient=PatientFactory(centre=centre),
            author=author,
            findings=[
                {"segment": segment, "side": "left", "finding": "stenosis"}
                for segment in SEGMENTS[:findings_each]
            ],
        )
        for _ in range(count)
    ]


def count_queries(client: Any, url: str, django_assert_max_num_queries: Any) -> int:
    with django_assert_max_num_queries(MAX_QUERIES), CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/cases/", "/cases/?q=P&entity=chronic_post_thrombotic"])
def test_case_list_runs_constant_queries_with_5_and_50_cases(
    client_for, clinician, centre_a, django_assert_max_num_queries, url
):
    client = client_for("clinician")
    add_cases(centre_a, clinician, 5)
    client.get(url)  # warm-up: session and content types
    with_5 = count_queries(client, url, django_assert_max_num_queries)
    add_cases(centre_a, clinician, 45)
    with_50 = count_queries(client, url, django_assert_max_num_queries)
    assert with_5 == with_50
    response = client.get(url)
    assert len(response.context["page"]) == 25


def test_case_list_second_page_runs_the_same_queries(
    client_for, clinician, centre_a, django_assert_max_num_queries
):
    client = client_for("clinician")
    add_cases(centre_a, clinician, 50)
    client.get("/cases/")
    first = count_queries(client, "/cases/", django_assert_max_num_queries)
    second = count_queries(client, "/cases/?page=2", django_assert_max_num_queries)
    assert first == second


@pytest.mark.parametrize("persona", ["clinician", "nurse"])
def test_case_detail_runs_constant_queries_with_5_and_50_cases(
    client_for, clinician, centre_a, django_assert_max_num_queries, persona
):
    client = client_for(persona)
    small = add_cases(centre_a, clinician, 5, findings_each=1)
    client.get(reverse("cases:detail", args=[small[0].pk]))
    with_5 = count_queries(
        client, reverse("cases:detail", args=[small[0].pk]), django_assert_max_num_queries
    )
    large = add_cases(centre_a, clinician, 45, findings_each=len(SEGMENTS))
    with_50 = count_queries(
        client, reverse("cases:detail", args=[large[-1].pk]), django_assert_max_num_queries
    )
    assert with_5 == with_50
