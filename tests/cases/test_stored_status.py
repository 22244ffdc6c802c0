"""The overall status stored on each case: written by every create and update, equal to a live
evaluation, kept out of the audit trail; the case list reads it, filters on it and evaluates
live only the cases a publish made stale."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from cases import services
from cases.facts import case_facts
from cases.models import EVALUATION_FIELDS, Case, Inflow, LesionEntity
from demo import cases as demo_cases
from guidelines.engine import ENGINE_VERSION, evaluate
from guidelines.models import RuleSetState
from guidelines.ruleset import current_ruleset
from guidelines.selectors import stored_evaluations
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

# Chronic post-thrombotic left CIV occlusion, C4b: stenting indicated; poor inflow makes
# SIR-2023-CIVO-05 advise against it (stent_conflict).
STENT = {
    "case_date": dt.date(2026, 11, 2),
    "side": "left",
    "lesion_entity": "chronic_post_thrombotic",
    "ceap": "C4b,s Es Ad Po",
    "ulcer": "none",
    "venous_claudication": True,
    "qol_impairment": "moderate",
    "life_expectancy_years": Decimal(30),
    "ambulatory": True,
    "conservative_therapy_months": 6,
    "inflow": "good",
    "long_term_anticoagulation_possible": True,
    "bleeding_risk_level": "low",
    "contraindications_assessed": True,
    "thrombolysis_contraindications": [],
    "active_infection": False,
    "severe_tortuosity": False,
    "diameter_mismatch": False,
    "endovascular_contraindication": False,
}
CIV_OCCLUSION = [{"segment": "CIV", "side": "left", "finding": "occlusion"}]


def stent_case(centre: Any, author: Any, **changes: Any) -> Case:
    return services.case_create(
        patient=PatientFactory(centre=centre),
        author=author,
        data={**STENT, **changes},
        findings=CIV_OCCLUSION,
    )


def live(case: Case) -> str:
    stored = Case.objects.select_related("patient").get(pk=case.pk)
    return evaluate(case_facts(stored), current_ruleset())["overall"]


def stored(case: Case) -> tuple[str | None, int | None]:
    row = Case.objects.values_list("overall_status", "evaluated_ruleset").get(pk=case.pk)
    return row[0], row[1]


def ruleset_number() -> int:
    return RuleSetState.objects.get().version


def test_case_create_stores_the_status_of_the_published_rules(centre_a, clinician):
    case = stent_case(centre_a, clinician)
    assert stored(case) == ("stent_indicated", ruleset_number())
    assert stored(case)[0] == live(case)
    assert Case.objects.get(pk=case.pk).evaluated_at is not None


def test_the_status_is_that_of_the_case_as_stored(centre_a, clinician):
    """Callers may pass TextChoices members (the demo does); the engine matches plain strings
    only, as read back from the database, which is what the status must describe."""
    case = stent_case(
        centre_a, clinician, lesion_entity=LesionEntity.CHRONIC_POST_THROMBOTIC, inflow=Inflow.GOOD
    )
    assert stored(case) == ("stent_indicated", ruleset_number())
    assert case.overall_status == "stent_indicated"


def test_case_update_stores_the_new_status(centre_a, clinician):
    case = stent_case(centre_a, clinician)
    services.case_update(case=case, user=case.author, data={"inflow": "poor"})
    assert stored(case) == ("stent_conflict", ruleset_number())
    assert stored(case)[0] == live(case)


def test_changing_only_the_findings_stores_the_new_status(centre_a, clinician):
    case = stent_case(centre_a, clinician)
    services.case_update(
        case=case,
        user=case.author,
        data={},
        findings=[{"segment": "CIV", "side": "left", "finding": "normal"}],
    )
    assert stored(case)[0] == live(case) != "stent_indicated"


def test_the_stored_status_leaves_no_history(centre_a, clinician):
    case = stent_case(centre_a, clinician)
    historical = {f.name for f in Case.history.model._meta.get_fields()}
    assert historical.isdisjoint(EVALUATION_FIELDS)
    assert case.history.count() == 1  # "+": storing the status added no "~"
    services.case_update(case=case, user=case.author, data={"inflow": "poor"})
    assert case.history.count() == 2


def test_a_case_changed_since_it_was_read_keeps_its_own_status(centre_a, clinician):
    """The re-evaluation must not overwrite the status of an edit that happened after it read
    the case: the status it computed belongs to the old facts."""
    case = stent_case(centre_a, clinician)
    read_before_the_edit = Case.objects.get(pk=case.pk)
    services.case_update(case=case, user=case.author, data={"inflow": "poor"})
    written = services.case_evaluations_store(
        evaluations=[(read_before_the_edit, "stent_indicated")],
        ruleset=ruleset_number(),
        engine=ENGINE_VERSION,
    )
    assert written == 0
    assert stored(case)[0] == "stent_conflict"


# --- the case list --------------------------------------------------------------------------


def chip_of(html: str, case: Case) -> str:
    row = re.search(rf'href="/cases/{case.pk}/">#{case.pk}</a>.*?</tr>', html, re.S)
    assert row, f"case {case.pk} is not listed"
    return row.group()


def test_the_list_shows_the_stored_status_without_evaluating(client_for, centre_a, clinician):
    case = stent_case(centre_a, clinician)
    # A stored status a live evaluation would not give: the list must show the stored one.
    Case.objects.filter(pk=case.pk).update(overall_status="conservative")
    html = client_for("clinician").get("/cases/").content.decode()
    row = chip_of(html, case)
    assert "overall-chip overall-conservative" in row
    assert "re-evaluating" not in row


def test_the_list_evaluates_a_stale_case_live_and_says_so(client_for, centre_a, clinician):
    case = stent_case(centre_a, clinician)
    Case.objects.filter(pk=case.pk).update(
        overall_status="conservative", evaluated_ruleset=ruleset_number() - 1
    )
    row = chip_of(client_for("clinician").get("/cases/").content.decode(), case)
    assert "overall-chip overall-stent_indicated" in row
    assert "re-evaluating" in row


def test_the_list_filters_by_the_stored_status(client_for, centre_a, centre_b, clinician):
    indicated = stent_case(centre_a, clinician)
    conflict = stent_case(centre_a, clinician, inflow="poor")
    elsewhere = stent_case(centre_b, clinician)
    client = client_for("clinician")
    response = client.get("/cases/", {"status": "stent_conflict"})
    assert [c.pk for c in response.context["page"]] == [conflict.pk]
    response = client.get("/cases/", {"status": "stent_indicated"})
    assert [c.pk for c in response.context["page"]] == [indicated.pk]
    assert elsewhere.pk not in [c.pk for c in response.context["page"]]
    html = client.get("/cases/").content.decode()
    option = '<option value="stent_conflict">Stenting indicated, but guidelines disagree</option>'
    assert option in html


@pytest.mark.parametrize(
    "params",
    [
        {"status": "nonsense"},
        {"status": ["stent_indicated", "x" * 5000]},
        {"status": "stent_indicated", "entity": "nope"},
        {"q": "A\x00", "status": "stent_indicated"},
    ],
)
def test_a_bad_filter_is_a_form_error_never_a_500(client_for, centre_a, clinician, params):
    case = stent_case(centre_a, clinician)
    response = client_for("clinician").get("/cases/", params)
    assert response.status_code == 200
    assert response.context["filters"].errors
    assert 'class="error-summary" role="alert"' in response.content.decode()
    listed = [c.pk for c in response.context["page"]]
    assert listed == [case.pk]  # the valid fields still filter, the bad one is ignored


def test_the_next_page_link_keeps_the_status_filter(client_for, centre_a, clinician):
    for _ in range(26):
        stent_case(centre_a, clinician)
    html = (
        client_for("clinician")
        .get(reverse("cases:list"), {"status": "stent_indicated"})
        .content.decode()
    )
    assert "?status=stent_indicated&amp;page=2" in html


# --- seed_demo ----------------------------------------------------------------------------


def test_seed_demo_leaves_every_case_with_a_current_status(monkeypatch):
    monkeypatch.delenv(demo_cases.PASSWORD_ENV, raising=False)
    out = StringIO()
    call_command("seed_demo", "--cases", "5", stdout=out, stderr=StringIO())
    assert "Stored the overall status of 5 case(s)" in out.getvalue()  # the synthetic ones
    assert stored_evaluations().stale == 0
    # a demo database from before statuses were stored: `make run` (--once) fills them in
    Case.objects.update(
        overall_status=None, evaluated_ruleset=None, evaluated_engine=None, evaluated_at=None
    )
    call_command("seed_demo", "--once", stdout=StringIO(), stderr=StringIO())
    assert stored_evaluations().stale == 0
