"""The patency analytics pages: every persona on every endpoint, the chart and tables, the
CSV, filter errors (never a 500), the queued path without a worker, and the navigation."""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client

from followup.models import PatencyReport
from followup.services.reports import patency_report_queue, patency_report_run
from tests.conftest import PERSONAS
from tests.followup.cohort import build_cohort, record, schedule_of
from tests.followup.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

LOGIN = "login"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(make_procedure, nurse, clinician, other_centre_clinician) -> dict[str, Any]:
    """Centre A's cohort (tests/followup/cohort.py), one occluded NIVL schedule at centre B,
    and a finished report of centre A."""
    cohort = build_cohort(make_procedure, nurse, clinician)
    theirs = schedule_of(make_procedure, "nivl", 100, author=other_centre_clinician)
    record(theirs, "6 weeks", other_centre_clinician, on_day=42, patency="occluded")
    report = patency_report_queue(user=clinician, now=NOW)
    patency_report_run(report_id=report.pk, now=lambda: NOW)
    return {**cohort, "theirs": theirs, "report": report}


# (clinician, nurse, guideline_admin, other_centre_clinician, anonymous)
PAGES: dict[str, tuple[Any, ...]] = {
    "page": (200, 403, 200, 200, LOGIN),
    "page-filtered": (200, 403, 200, 200, LOGIN),
    "page-report": (200, 403, 200, 404, LOGIN),
    "compute-again": (302, 403, 302, 302, LOGIN),
    "csv": (200, 403, 200, 200, LOGIN),
    "csv-report": (200, 403, 200, 404, LOGIN),
    "progress": (200, 403, 200, 404, LOGIN),
}


def request(client: Client, endpoint: str, w: dict[str, Any]) -> Any:
    report = w["report"].pk
    match endpoint:
        case "page":
            return client.get("/followup/patency/")
        case "page-filtered":
            return client.get("/followup/patency/?endpoint=secondary&entity=nivl")
        case "page-report":
            return client.get(f"/followup/patency/?report={report}")
        case "compute-again":
            return client.post("/followup/patency/?entity=nivl")
        case "csv":
            return client.get("/followup/patency.csv")
        case "csv-report":
            return client.get(f"/followup/patency.csv?report={report}")
        case "progress":
            return client.get(f"/followup/patency/reports/{report}/")
    raise AssertionError(endpoint)


@pytest.mark.parametrize(
    ("endpoint", "persona", "expected"),
    [
        pytest.param(endpoint, persona, expected, id=f"{endpoint}-{persona}")
        for endpoint, row in PAGES.items()
        for persona, expected in zip(PERSONAS, row, strict=True)
    ],
)
def test_patency_pages_answer_each_persona(client_for, world, endpoint, persona, expected):
    response = request(client_for(persona), endpoint, world)
    if expected == LOGIN:
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == "/accounts/login/"
    else:
        assert response.status_code == expected, response.content[:2000]


def csv_rows(response: Any) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.DictReader(io.StringIO(text.decode())))


def test_the_page_draws_a_chart_per_entity_with_the_benchmarks(client_for, world):
    response = client_for("clinician").get("/followup/patency/")
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["report"] is None  # a small cohort: computed inline
    assert html.count('role="img"') == 2  # NIVL and post-thrombotic have curves
    for entity in ("nivl", "post_thrombotic"):
        assert f'data-entity="{entity}"' in html
    assert (
        '<title id="km-post_thrombotic-title">Kaplan–Meier patency, Post-thrombotic</title>' in html
    )
    desc = re.search(r'<desc id="km-post_thrombotic-desc">(.*?)</desc>', html).group(1)
    assert "Primary patency: 3 schedules, 3 events. At 12 months 0 %" in desc
    assert "Primary-assisted patency: 3 schedules, 2 events. At 12 months 33 %" in desc
    assert "Razavi 2015 one-year benchmark: 79 %" in desc
    assert "Razavi 2015 one-year benchmark: 94 %" in desc
    assert html.count('class="km-benchmark"') == 4  # primary and secondary, NIVL and PT
    assert "Razavi 2015: 96 %" in html
    assert "Razavi 2015: 99 %" in html
    assert "none: primary-assisted patency not reported" in html
    assert "No schedule of this entity has a known patency status yet." in html  # acute, IVC
    assert (
        "1 schedule without an imaging result or re-intervention yet is not in the curves." in html
    )
    # number at risk at 0, 3, 6, 12, 24, 36 months: primary ends on days 42, 90 and 180
    rows = re.findall(
        r'<tr data-endpoint="primary"><th scope="row">Primary patency</th>((?:<td>\d+</td>)+)</tr>',
        html,
    )
    assert [re.findall(r"\d+", r) for r in rows] == [
        ["1", "1", "1", "0", "0", "0"],  # NIVL: followed to day 182, i.e. to 6 months
        ["3", "1", "0", "0", "0", "0"],  # post-thrombotic: days 42, 90 and 180
    ]
    assert "hx-trigger" not in html
    assert 'href="/followup/patency.csv"' in html


def test_the_filters_choose_the_endpoint_and_the_entity(client_for, world):
    html = (
        client_for("clinician")
        .get("/followup/patency/?endpoint=secondary&entity=post_thrombotic")
        .content.decode()
    )
    assert html.count('role="img"') == 1
    assert 'data-endpoint="secondary"' in html
    assert 'data-endpoint="primary"' not in html
    assert "Secondary patency: 3 schedules, 1 event. At 12 months 67 % (95 % CI" in html
    assert 'href="/followup/patency.csv?endpoint=secondary&amp;entity=post_thrombotic"' in html


def test_the_ivc_entity_says_it_has_no_benchmark(client_for, make_procedure, nurse):
    ivc = schedule_of(make_procedure, "ivc_reconstruction", 400)
    record(ivc, "12 months", nurse, on_day=365)
    html = client_for("clinician").get("/followup/patency/?entity=ivc_reconstruction")
    html = html.content.decode()
    assert html.count('role="img"') == 1
    assert 'class="km-benchmark"' not in html
    assert html.count("none: no IVC reconstruction group in the meta-analysis") == 3


def test_other_centres_see_only_their_own_schedules(client_for, world):
    html = client_for("other_centre_clinician").get("/followup/patency/").content.decode()
    assert html.count('role="img"') == 1
    assert "Primary patency: 1 schedule, 1 event." in html
    assert 'data-entity="post_thrombotic"' not in html
    rows = csv_rows(client_for("other_centre_clinician").get("/followup/patency.csv"))
    assert {r["entity"] for r in rows} == {"nivl"}
    assert [(r["time_days"], r["events"]) for r in rows if r["endpoint"] == "primary"] == [
        ("0", "0"),
        ("42", "1"),
    ]


def test_the_csv_holds_the_product_limit_tables(client_for, world):
    response = client_for("clinician").get("/followup/patency.csv?entity=post_thrombotic")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="patency-centre-a-2026-11-16.csv"'
    )
    rows = csv_rows(response)
    assert list(rows[0]) == [
        "entity",
        "endpoint",
        "time_days",
        "at_risk",
        "events",
        "censored",
        "survival",
        "ci_lower_95",
        "ci_upper_95",
    ]
    table = [
        (r["endpoint"], r["time_days"], r["at_risk"], r["events"], r["censored"], r["survival"])
        for r in rows
    ]
    assert table == [
        ("primary", "0", "3", "0", "0", "1.000000"),
        ("primary", "42", "3", "1", "0", "0.666667"),
        ("primary", "90", "2", "1", "0", "0.333333"),
        ("primary", "180", "1", "1", "0", "0.000000"),
        ("primary_assisted", "0", "3", "0", "0", "1.000000"),
        ("primary_assisted", "42", "3", "1", "0", "0.666667"),
        ("primary_assisted", "90", "2", "1", "0", "0.333333"),
        ("primary_assisted", "370", "1", "0", "1", "0.333333"),
        ("secondary", "0", "3", "0", "0", "1.000000"),
        ("secondary", "42", "3", "1", "0", "0.666667"),
        ("secondary", "365", "2", "0", "1", "0.666667"),
        ("secondary", "370", "1", "0", "1", "0.666667"),
    ]
    for r in rows:
        assert 0 <= float(r["ci_lower_95"]) <= float(r["survival"]) <= float(r["ci_upper_95"]) <= 1
    only = csv_rows(client_for("clinician").get("/followup/patency.csv?endpoint=primary"))
    assert {(r["entity"], r["endpoint"]) for r in only} == {
        ("nivl", "primary"),
        ("post_thrombotic", "primary"),
    }


def test_the_csv_of_a_report_is_the_report(client_for, world, make_procedure, nurse):
    """A report keeps what it computed; the inline CSV reads today's rows."""
    later = schedule_of(make_procedure, "post_thrombotic", 200)
    record(later, "6 weeks", nurse, on_day=42, patency="occluded")
    client = client_for("clinician")
    of_report = csv_rows(client.get(f"/followup/patency.csv?report={world['report'].pk}"))
    now = csv_rows(client.get("/followup/patency.csv"))
    pt = [r for r in of_report if r["entity"] == "post_thrombotic" and r["time_days"] == "0"]
    assert pt[0]["at_risk"] == "3"
    pt_now = [r for r in now if r["entity"] == "post_thrombotic" and r["time_days"] == "0"]
    assert pt_now[0]["at_risk"] == "4"


@pytest.mark.parametrize(
    "query",
    [
        "endpoint=tertiary",
        "entity=<script>alert(1)</script>",
        "report=%C2%B2",  # "²": isdigit() but not int()
        "report=0",
        "report=99999999999999999999999999",
        "report=abc",
    ],
)
def test_bad_filters_are_a_clear_400_never_a_500(client_for, world, query):
    client = client_for("clinician")
    page = client.get(f"/followup/patency/?{query}")
    assert page.status_code == 400
    html = page.content.decode()
    assert "The filters could not be used:" in html
    assert "<script>alert(1)</script>" not in html
    assert 'role="img"' not in html
    download = client.get(f"/followup/patency.csv?{query}")
    assert download.status_code == 400
    assert download.content.decode().startswith("Invalid filter: ")
    progress = client.get(f"/followup/patency/reports/{world['report'].pk}/?{query}")
    assert progress.status_code == 400
    assert client.post(f"/followup/patency/?{query}").status_code == 400


def test_a_report_for_another_entity_filter_is_not_shown_for_this_one(client_for, world):
    html = (
        client_for("clinician")
        .get(f"/followup/patency/?entity=nivl&report={world['report'].pk}")
        .content.decode()
    )
    assert html.count('role="img"') == 1
    assert 'data-entity="nivl"' in html


def test_a_large_cohort_is_queued_and_polled_without_blocking_the_page(client_for, world, settings):
    """Above FOLLOWUP_PATENCY_INLINE_MAX the page creates a report and polls it; the task is
    only enqueued on commit (never, in this transaction: no worker computes it here)."""
    settings.FOLLOWUP_PATENCY_INLINE_MAX = 2
    client = client_for("clinician")
    response = client.get("/followup/patency/?entity=post_thrombotic")
    report = response.context["report"]
    assert (report.status, report.total, report.entity) == ("queued", 4, "post_thrombotic")
    html = response.content.decode()
    poll = f'hx-get="/followup/patency/reports/{report.pk}/?entity=post_thrombotic"'
    assert poll in html
    assert 'hx-trigger="every 1s"' in html
    assert '<progress id="patency-progress" value="0" max="4">' in html
    # A second visit polls the same report instead of queueing another one.
    again = client.get("/followup/patency/?entity=post_thrombotic&endpoint=primary")
    assert again.context["report"].pk == report.pk
    assert PatencyReport.objects.filter(entity="post_thrombotic").count() == 1
    # Until it is done the CSV sends the reader back to the page.
    download = client.get("/followup/patency.csv?entity=post_thrombotic")
    assert download.status_code == 302
    assert f"report={report.pk}" in download["Location"]
    # "Compute again" while it is queued joins it; once it is done, it starts a new report.
    assert client.post("/followup/patency/?entity=post_thrombotic").status_code == 302
    assert PatencyReport.objects.filter(entity="post_thrombotic").count() == 1
    patency_report_run(report_id=report.pk, now=lambda: NOW)
    assert client.post("/followup/patency/?entity=post_thrombotic").status_code == 302
    assert PatencyReport.objects.filter(entity="post_thrombotic").count() == 2


def test_a_finished_report_is_shown_then_superseded_when_stale(client_for, world, settings):
    settings.FOLLOWUP_PATENCY_INLINE_MAX = 2
    client = client_for("clinician")
    report = world["report"]  # every entity, finished at NOW
    response = client.get("/followup/patency/")
    assert response.context["report"].pk == report.pk
    html = response.content.decode()
    assert "Computed in the background at 2026-11-16 10:00." in html
    assert ">Compute again</button>" in html
    partial = client.get(f"/followup/patency/reports/{report.pk}/").content.decode()
    assert "hx-trigger" not in partial
    assert partial.count('role="img"') == 2
    settings.FOLLOWUP_PATENCY_FRESH_SECONDS = 0
    with time_machine.travel(NOW.timestamp() + 60, tick=False):
        stale = client.get("/followup/patency/")
    assert stale.context["report"].pk != report.pk
    assert stale.context["report"].status == "queued"


def test_a_failed_report_says_so(client_for, world):
    report = world["report"]
    PatencyReport.objects.filter(pk=report.pk).update(status="failed", error="Boom")
    html = client_for("clinician").get(f"/followup/patency/?report={report.pk}").content.decode()
    assert "The computation failed: Boom" in html


def test_a_report_is_computed_once(world):
    report = world["report"]
    assert PatencyReport.objects.get(pk=report.pk).status == "done"
    assert patency_report_run(report_id=report.pk) is False


def test_the_navigation_links_clinicians_and_admins_not_nurses(client_for, world):
    link = 'href="/followup/patency/"'
    assert link in client_for("clinician").get("/followup/escalations/").content.decode()
    assert link in client_for("guideline_admin").get("/followup/protocols/").content.decode()
    assert link not in client_for("nurse").get("/followup/worklist/").content.decode()


def test_the_inline_page_takes_a_bounded_number_of_queries(
    client_for, world, django_assert_max_num_queries
):
    """Session, user, permissions (2), cohort size, the analysis (1 + 4), the centre's name,
    and the session save; whatever the number of schedules (see test_patency_selectors)."""
    client = client_for("clinician")
    client.get("/followup/patency/")  # warm the session and the bell
    with django_assert_max_num_queries(14):
        assert client.get("/followup/patency/").status_code == 200


def test_the_roles_hold_the_patency_permissions_and_every_one_exists(db):
    """``roles.grant`` lets an older migration skip the permissions of a model added later;
    once migrated, every follow-up permission a role names must exist."""
    from django.contrib.auth.models import Group, Permission

    from venousapp.accounts.roles import ROLE_PERMISSIONS

    existing = set(
        Permission.objects.filter(content_type__app_label="followup").values_list(
            "codename", flat=True
        )
    )
    for role, apps in ROLE_PERMISSIONS.items():
        assert set(apps["followup"]) <= existing, role
    for role, allowed in (("clinician", True), ("guideline_admin", True), ("nurse", False)):
        held = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert ({"view_patencyreport", "add_patencyreport"} <= held) is allowed, role
