"""Per-patient score trends: rVCSS and Villalta totals of a schedule (the case's baseline,
then each visit result) as small inline SVG charts with a table fallback, on the schedule
page and in the case's follow-up panel. And the re-intervention form's escalation id, which
must never turn a stray character into a 500."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
import time_machine
from django.template import Context, Template

from cases import scores
from followup import charts
from tests.factories import CaseFactory, PatientFactory
from tests.followup.cohort import record, schedule_of
from tests.followup.conftest import NOW, TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def grades(prefix: str, items: tuple[scores.ScoreItem, ...], total: int) -> dict[str, int]:
    """Item grades (0–3) adding up to ``total``."""
    out = {}
    for item in items:
        grade = min(3, total)
        out[f"{prefix}_{item.key}"] = grade
        total -= grade
    assert total == 0
    return out


def vcss(total: int) -> dict[str, int]:
    return grades("vcss", scores.VCSS_ITEMS, total)


def villalta(total: int) -> dict[str, int]:
    return grades("villalta", scores.VILLALTA_ITEMS, total)


@pytest.fixture
def scored(make_procedure, clinician, nurse, centre_a):
    """A post-thrombotic case scored rVCSS 12 / Villalta 15 at baseline, then 9 / 11 at
    6 weeks, 6 / 7 at 3 months, and a clinical result without Villalta at 6 months."""
    case = CaseFactory(
        patient=PatientFactory(centre=centre_a, identifier="T-1"),
        author=clinician,
        case_date=TODAY - dt.timedelta(days=210),
        **vcss(12),
        **villalta(15),
    )
    schedule = schedule_of(make_procedure, "post_thrombotic", 200, case=case)
    record(schedule, "6 weeks", nurse, on_day=42, scores={**vcss(9), **villalta(11)})
    record(schedule, "3 months", nurse, on_day=90, scores={**vcss(6), **villalta(7)})
    record(schedule, "6 months", nurse, on_day=182, scores=vcss(4))
    return schedule


def dots(html: str, key: str) -> list[str]:
    figure = re.search(rf'<figure class="fu-trend" data-score="{key}">(.*?)</figure>', html, re.S)
    assert figure, key
    return re.findall(r'class="fu-trend-dot"[^>]*data-value="(\d+)"', figure.group(1))


def test_the_schedule_page_charts_vcss_and_villalta_from_the_baseline(client_for, scored):
    response = client_for("clinician").get(f"/followup/schedules/{scored.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert dots(html, "vcss") == ["12", "9", "6", "4"]
    assert dots(html, "villalta") == ["15", "11", "7"]  # none recorded at 6 months
    assert f'aria-labelledby="trend-{scored.pk}-vcss-title trend-{scored.pk}-vcss-desc"' in html
    desc = re.search(rf'<desc id="trend-{scored.pk}-vcss-desc">(.*?)</desc>', html).group(1)
    start = scored.case.case_date.isoformat()
    assert desc.startswith(f"rVCSS total, 4 values, scale 0–30: Baseline (case) ({start}): 12;")
    six_months = (scored.start_on + dt.timedelta(days=182)).isoformat()
    assert desc.endswith(f"6 months ({six_months}): 4.")
    assert 'fill="#fff"' in re.search(r'<circle class="fu-trend-dot"[^>]*>', html).group(0)
    table = re.search(r'<details class="fu-trend-table">(.*?)</details>', html, re.S).group(1)
    assert "<td>6 weeks</td><td>9</td><td>11</td>" in table
    assert "<td>6 months</td><td>4</td><td>—</td>" in table


def test_the_points_lie_on_the_scale(scored):
    from followup import selectors

    points = selectors.score_trend(scored)
    chart = charts.trend_chart(points, key="vcss", title="rVCSS", start_on=scored.start_on)
    assert [d.value for d in chart.dots] == [12, 9, 6, 4]
    first, *_, last = chart.dots
    assert (first.x, last.x) == (chart.left, chart.right)  # baseline to the last visit
    gaps = {round(b.x - a.x, 6) for a, b in itertools.pairwise(chart.dots)}
    assert len(gaps) == 1  # one point per visit, evenly spaced
    assert first.y == pytest.approx(chart.bottom - (chart.bottom - chart.top) * 12 / 30)
    assert [d.y for d in chart.dots] == sorted(d.y for d in chart.dots)  # falling scores
    assert chart.line.count("L") == 3
    assert [t.label for t in chart.x_ticks] == ["Base", "6 w", "3 m", "6 m"]
    assert chart.show_values


def test_a_schedule_without_scores_says_so(client_for, make_procedure, nurse):
    schedule = schedule_of(make_procedure, "nivl", 60)
    record(schedule, "6 weeks", nurse, on_day=42)
    html = client_for("clinician").get(f"/followup/schedules/{schedule.pk}/").content.decode()
    assert "No complete rVCSS or Villalta score recorded yet." in html
    assert "fu-trend-dot" not in html


def test_the_case_panel_shows_the_trends(rf, scored, clinician, django_assert_max_num_queries):
    request = rf.get("/")
    request.user = clinician
    clinician.has_perm("followup.view_schedule")  # permissions cached, as in a request
    template = Template("{% load followup %}{% followup_case_panel case %}")
    context = Context({"request": request, "case": scored.case})
    # schedules, their planned visits, open escalations, score trends
    with django_assert_max_num_queries(4):
        html = template.render(context)
    assert dots(html, "vcss") == ["12", "9", "6", "4"]
    assert f'id="panel-trend-{scored.pk}-villalta-title"' in html


def test_the_schedule_page_reads_the_trend_in_one_query(
    client_for, scored, django_assert_max_num_queries
):
    """Session, user, permissions (2), schedule, the score trend, visits,
    re-interventions, implants, centre, session save."""
    client = client_for("clinician")
    client.get(f"/followup/schedules/{scored.pk}/")
    with django_assert_max_num_queries(13):
        client.get(f"/followup/schedules/{scored.pk}/")


@pytest.mark.parametrize("value", ["²", "١٢", "99999999999999999999999999", "-1", "1e3", ""])
def test_a_stray_escalation_id_on_the_reintervention_form_is_ignored(client_for, scored, value):
    """``"²".isdigit()`` is True but ``int("²")`` raises: this was a 500."""
    url = f"/followup/schedules/{scored.pk}/reinterventions/new/"
    response = client_for("clinician").get(url, {"escalation": value})
    assert response.status_code == 200
    assert response.context["escalation"] is None
