"""The case list and the case page run a constant number of SQL queries however many cases
(and findings) there are (STYLE.md convention 12, Zulip-style query counts)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.facts import case_facts
from guidelines.engine import evaluate
from guidelines.models import ReEvaluationTrigger, RuleSetState
from guidelines.ruleset import current_ruleset
from guidelines.services import reevaluation
from tests.factories import CaseFactory, PatientFactory

# Session, user, centre, role permissions and the page's own reads (15 today, with the rule
# set state, the case's signed decisions, its procedure records and its follow-up schedules);
# a query per row or per finding would exceed it with 50 cases and fail.
MAX_QUERIES = 15

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


def _store_statuses() -> None:
    reevaluation.reevaluation_start(trigger=ReEvaluationTrigger.COMMAND, inline=True)


@pytest.mark.parametrize("stale", [False, True], ids=["stored", "stale"])
def test_case_list_filtered_by_status_runs_constant_queries_with_5_and_50_cases(
    client_for, clinician, centre_a, django_assert_max_num_queries, stale
):
    """Filtered on the stored status; with ``stale`` a publish made every row stale, so each
    listed case is evaluated live, from what the page already loaded."""
    client = client_for("clinician")
    first = add_cases(centre_a, clinician, 5)[0]
    status = evaluate(case_facts(first), current_ruleset())["overall"]
    url = f"/cases/?status={status}"
    counts = []
    for more in (0, 45):
        add_cases(centre_a, clinician, more)
        _store_statuses()
        if stale:
            RuleSetState.objects.update(version=F("version") + 1)
        client.get(url)  # warm-up: session, content types, the rule set compiled
        counts.append(count_queries(client, url, django_assert_max_num_queries))
    assert counts[0] == counts[1]
    rows = client.get(url).context["rows"]
    assert len(rows) == 25
    assert {overall.code for _case, overall in rows} == {status}
    assert {overall.live for _case, overall in rows} == {stale}
