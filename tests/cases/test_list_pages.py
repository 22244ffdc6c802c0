"""The case list pages through its sort index: each page's links carry the sort values of
the rows around it, so a page deep in a centre's list costs what the first one costs (the
index answers it, no rows before it are skipped, no total is counted), and the statements
of the page and of the API list are the same with 10 cases and with 1 000."""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from guidelines.models import ReEvaluationTrigger
from guidelines.services import reevaluation
from tests.bulk import cases_bulk_create
from tests.factories import CaseFactory, PatientFactory

PER_PAGE = 25

# The list's sort orders and, for each, the order it must show (ascending; the descending
# sort is the same reversed). A case never evaluated sorts as the empty status.
ORDERS: dict[str, Callable[[Case], tuple[Any, ...]]] = {
    "case": lambda c: (c.pk,),
    "patient": lambda c: (c.patient.identifier, c.pk),
    "date": lambda c: (c.case_date, c.pk),
    "entity": lambda c: (c.lesion_entity, c.case_date, c.pk),
    "status": lambda c: (c.overall_status or "", c.case_date, c.pk),
}
SORTS = [*ORDERS, *(f"-{key}" for key in ORDERS)]


def _ids(response: Any) -> list[int]:
    return [case.pk for case, _overall in response.context["rows"]]


def _link(response: Any, label: str) -> str | None:
    """The href of the pagination link named ``label`` (None without one)."""
    nav = re.search(
        r'<nav aria-label="Pages" class="pagination">(.*?)</nav>', _html(response), re.S
    )
    if nav is None:
        return None
    found = re.search(rf'<a href="([^"]*)">{label}</a>', nav.group(1))
    return "/cases/" + html.unescape(found.group(1)) if found else None


def _html(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def listed(centre_a, centre_b, clinician, other_centre_clinician) -> list[Case]:
    """61 cases of centre A (three pages) with ties on every sort column: 40 patients, four
    dates, two entities, a stored status on some and none on others; and centre B's cases,
    never listed."""
    patients = [PatientFactory(centre=centre_a, identifier=f"P{n:05d}") for n in range(40)]
    cases = []
    for n in range(61):
        case = CaseFactory(
            patient=patients[(n * 7) % 40],
            author=clinician,
            case_date=dt.date(2026, 1, 1) + dt.timedelta(days=n % 4),
            lesion_entity=("nivl", "chronic_post_thrombotic")[n % 2],
            nivl_cause=("may_thurner", "")[n % 2],
            findings=[],
        )
        cases.append(case)
    for case in cases[::3]:
        status = ("stent_indicated", "conservative")[case.pk % 2]
        Case.objects.filter(pk=case.pk).update(
            overall_status=status,
            evaluated_ruleset=1,
            evaluated_engine=1,
            evaluated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
    for _ in range(3):
        CaseFactory(patient=PatientFactory(centre=centre_b), author=other_centre_clinician)
    return list(Case.objects.filter(pk__in=[c.pk for c in cases]).select_related("patient"))


def _expected(cases: list[Case], sort: str) -> list[int]:
    ordered = sorted(cases, key=ORDERS[sort.lstrip("-")], reverse=sort.startswith("-"))
    return [case.pk for case in ordered]


@pytest.mark.parametrize("sort", SORTS)
def test_next_and_previous_walk_every_case_once_in_the_sort_order(client_for, listed, sort):
    client = client_for("clinician")
    response = client.get("/cases/", {"sort": sort})
    pages, numbers = [_ids(response)], [response.context["page"].number]
    assert _link(response, "Previous") is None
    while (url := _link(response, "Next")) is not None:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(_ids(response))
        numbers.append(response.context["page"].number)
    assert [len(page) for page in pages] == [PER_PAGE, PER_PAGE, 11]
    assert [pk for page in pages for pk in page] == _expected(listed, sort)
    assert numbers == [1, 2, 3]
    assert "Page 3" in _html(response)

    back = []
    while (url := _link(response, "Previous")) is not None:
        response = client.get(url)
        back.append((response.context["page"].number, _ids(response)))
    assert back == [(2, pages[1]), (1, pages[0])]
    assert _link(response, "Previous") is None


def test_the_page_links_carry_the_filters_and_the_sort(client_for, listed):
    client = client_for("clinician")
    response = client.get("/cases/", {"entity": "chronic_post_thrombotic", "sort": "-date"})
    url = _link(response, "Next")
    query = parse_qs(urlsplit(url).query)
    assert query["entity"] == ["chronic_post_thrombotic"]
    assert query["sort"] == ["-date"]
    assert query["page"] == ["2"]
    second = client.get(url)
    wanted = [c for c in listed if c.lesion_entity == "chronic_post_thrombotic"]
    assert _ids(second) == _expected(wanted, "-date")[PER_PAGE:]
    assert _link(second, "Next") is None


def test_a_sort_header_or_a_new_filter_starts_from_the_first_page(client_for, listed):
    client = client_for("clinician")
    second = client.get(_link(client.get("/cases/"), "Next"))
    headers = re.findall(r'<th scope="col" aria-sort="[a-z]+"><a href="\?([^"]*)"', _html(second))
    assert len(headers) == 5
    for href in headers:
        assert set(parse_qs(html.unescape(href))) == {"sort"}
    form = re.search(
        r'<form method="get" class="filters" role="search">(.*?)</form>', _html(second), re.S
    )
    assert "after" not in form.group(1)


@pytest.mark.parametrize(
    "params",
    [
        {"after": "not a cursor"},
        {"after": "W10"},  # []
        {"after": "WyJ4IiwxXQ"},  # ["x", 1]: not a date
        {"before": "WzEsMiwzLDRd"},  # four values for two columns
        {"after": "eyJhIjoxfQ"},  # an object
        {"after": base64.urlsafe_b64encode(b"[" * 1500 + b"]" * 1500).decode()},  # too deep
        {"after": "WyIyMDI2LTAxLTAxIiwxXQ", "page": "99999999999999999999"},
        {"page": "0"},
        {"page": "9223372036854775807"},
    ],
)
def test_an_unreadable_page_link_is_never_a_500(client_for, listed, params):
    response = client_for("clinician").get("/cases/", params)
    assert response.status_code == 200
    assert len(_ids(response)) <= PER_PAGE


def test_an_unreadable_cursor_shows_the_first_page(client_for, listed):
    response = client_for("clinician").get("/cases/", {"after": "not a cursor"})
    assert _ids(response) == _expected(listed, "-date")[:PER_PAGE]


def test_a_page_number_without_a_cursor_counts_pages_from_the_start(client_for, listed):
    """A link from before the pages carried their sort values still opens that page."""
    response = client_for("clinician").get("/cases/", {"page": "2"})
    assert _ids(response) == _expected(listed, "-date")[PER_PAGE : 2 * PER_PAGE]
    assert response.context["page"].number == 2


def test_a_case_gets_its_patients_centre_on_every_write(client_for, patient_a, centre_b):
    from tests.cases.test_api import payload

    api = client_for("clinician")
    created = api.post("/api/v1/cases/", payload(patient_a), content_type="application/json")
    assert created.status_code == 201
    case = Case.objects.get(pk=created.json()["id"])
    assert case.centre_id == patient_a.centre_id
    assert "centre" not in created.json()


# --- cost: statements and the index --------------------------------------------------------


def _statements(client: Any, url: str) -> int:
    client.get(url)  # warm-up: the session, content types and the rule set
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


def _grow(centre: Any, author: Any, count: int) -> None:
    """``count`` more cases (bulk, with history), with their overall status stored."""
    cases_bulk_create(centre=centre, author=author, count=count, today=centre.today())
    reevaluation.reevaluation_start(trigger=ReEvaluationTrigger.COMMAND, inline=True)


def _urls(first: Case) -> tuple[list[str], list[str]]:
    """The list pages and API lists to count, each listing ``first`` among others: search
    by identifier (every bulk one starts with 9), by case number, filters and sorts."""
    pages = [
        "/cases/",
        "/cases/?q=9",
        f"/cases/?q={first.patient.identifier}",
        f"/cases/?q=%23{first.pk}",
        f"/cases/?entity={first.lesion_entity}&status={first.overall_status}&sort=-status",
        *(f"/cases/?sort={sort}" for sort in SORTS),
        *(f"/cases/?q=9&sort={sort}" for sort in ("patient", "-date")),
    ]
    api = [
        "/api/v1/cases/",
        f"/api/v1/cases/?lesion_entity={first.lesion_entity}&side={first.side}",
    ]
    return pages, api


def test_case_list_and_api_run_the_same_statements_with_10_and_1000_cases(
    client_for, centre_a, clinician
):
    client = client_for("clinician")
    _grow(centre_a, clinician, 10)
    pages, api = _urls(Case.objects.select_related("patient").order_by("pk").first())
    small = {url: _statements(client, url) for url in [*pages, *api]}
    _grow(centre_a, clinician, 990)
    large = {url: _statements(client, url) for url in [*pages, *api]}
    assert large == small
    # a later page, reached by its link, and the API's second page cost the same again
    for url in pages:
        later = _link(client.get(url), "Next")
        if later is not None:
            assert _statements(client, later) == small[url], later
    assert _statements(client, "/api/v1/cases/?page=2") == small["/api/v1/cases/"]


def _scans(plan: dict[str, Any], table: str) -> list[dict[str, Any]]:
    found = [plan] if plan.get("Relation Name") == table else []
    for child in plan.get("Plans", []):
        found += _scans(child, table)
    return found


def _node_types(plan: dict[str, Any]) -> list[str]:
    return [plan["Node Type"], *(t for child in plan.get("Plans", []) for t in _node_types(child))]


def _page_plans(client: Any, first: str) -> list[tuple[str, dict[str, Any]]]:
    """The plans of the list's query on the page ``first`` and on the page its Next link
    opens (if any), with sequential scans and sorts priced out (as on a table too large for
    them)."""
    plans = []
    for url in filter(None, [first, _link(client.get(first), "Next")]):
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        [sql] = [q["sql"] for q in queries.captured_queries if 'FROM "cases_case"' in q["sql"]]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            [explained] = cursor.fetchone()
        if isinstance(explained, str):
            explained = json.loads(explained)
        plans.append((url, explained[0]["Plan"]))
    return plans


@pytest.mark.parametrize("sort", [s for s in SORTS if s.lstrip("-") != "patient"])
@pytest.mark.parametrize(
    "filters", ["", "&entity=nivl", "&status=stent_indicated"], ids=["all", "entity", "status"]
)
def test_each_page_of_the_list_is_read_through_an_index_of_the_centre(
    client_for, listed, sort, filters
):
    """The page's query needs neither a sequential scan nor a sort: an index of the cases
    starting with the centre yields the rows in the page's order, from the first row of the
    page on (first page and a page reached by its link)."""
    for url, plan in _page_plans(client_for("clinician"), f"/cases/?sort={sort}{filters}"):
        [scan] = _scans(plan, "cases_case")
        assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), url
        assert scan["Index Name"].startswith("case_centre_"), url
        assert "centre_id = " in scan["Index Cond"], url
        assert "Sort" not in _node_types(plan), url


@pytest.mark.parametrize("sort", ["patient", "-patient"])
def test_pages_sorted_by_patient_are_read_through_the_patients_index(client_for, listed, sort):
    """Sorted by patient, the patients of the centre come in the order of their index, each
    with its cases; only a patient's own cases are put in order of case number."""
    for url, plan in _page_plans(client_for("clinician"), f"/cases/?sort={sort}"):
        [patients] = _scans(plan, "cases_patient")
        assert patients["Index Name"] == "patient_identifier_unique_per_centre", url
        assert "centre_id = " in patients["Index Cond"], url
        [cases] = _scans(plan, "cases_case")
        assert cases["Node Type"] in ("Index Scan", "Bitmap Heap Scan"), url
        assert "patient_id = " in cases.get("Index Cond", cases.get("Recheck Cond")), url
        assert "Sort" not in _node_types(plan), url


def test_rows_show_the_labels_of_coded_values(client_for, case_a):
    """As the model's own get_..._display shows them (a code no longer offered as itself)."""
    Case.objects.filter(pk=case_a.pk).update(side="sideways")
    html = _html(client_for("clinician").get("/cases/"))
    row = re.search(rf'<tr>\s*<td><a href="/cases/{case_a.pk}/">.*?</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(0), re.S)
    assert cells[2] == case_a.case_date.isoformat()
    assert cells[3] == "Chronic post-thrombotic obstruction"
    assert cells[4] == "sideways"
