"""Plans and the safety rules (docs/safety.md#plans-that-need-a-reason): none from a deferred
case, and a recorded reason for a plan over guideline advice against it (stored, audited,
printed)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from planning import services
from planning.models import ProcedurePlan

REASON = "Discussed in the venous board: symptoms disabling, patient informed."


def _create_url(case) -> str:
    return reverse("planning:plan-create", args=[case.pk])


# --- no plan from a deferred case ------------------------------------------------------------


def test_no_plan_for_a_pregnant_patient_with_a_symptomatic_compression(
    make_case, clinician, client_for
):
    case = make_case("nivl", pregnancy=True)
    assert case.overall_status == "contraindicated_defer"
    with pytest.raises(ValidationError) as excinfo:
        services.plan_create(case=case, author=clinician, indication_override_reason=REASON)
    assert excinfo.value.code == "not_plannable"
    client = client_for("clinician")
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Plan the procedure" not in page
    assert "Elective stenting is deferred during pregnancy" in page
    assert 'data-rule="PRACTICE-PREGNANCY-DEFER"' in page
    response = client.post(_create_url(case), {"indication_override_reason": REASON})
    assert response.status_code == 200
    assert not ProcedurePlan.objects.exists()


# --- a reason when a guideline advises against ---------------------------------------------


def test_a_conflict_case_needs_a_reason_and_keeps_what_was_typed(make_case, clinician, client_for):
    case = make_case("poor_inflow")  # stent_conflict: SIR-2023-CIVO-05 against (poor inflow)
    client = client_for("clinician")
    page = client.get(_create_url(case)).content.decode()
    assert 'id="advice-against"' in page
    assert "SIR-2023-CIVO-05" in page
    response = client.post(_create_url(case), {"indication_override_reason": "   "})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "indication_override_reason" in errors
    assert "SIR-2023-CIVO-05" in errors["indication_override_reason"][0]
    assert not ProcedurePlan.objects.exists()

    response = client.post(_create_url(case), {"indication_override_reason": REASON})
    assert response.status_code == 302
    plan = ProcedurePlan.objects.get()
    assert plan.indication_override_reason == REASON
    assert [a["rule_id"] for a in plan.guideline_snapshot["against"]] == ["SIR-2023-CIVO-05"]
    created = plan.history.get(history_type="+")
    assert created.indication_override_reason == REASON
    assert created.history_user == clinician
    detail = client.get(reverse("planning:plan-detail", args=[plan.pk])).content.decode()
    assert REASON in detail
    assert "Planned although a guideline advises against it" in detail


def test_the_reason_is_kept_when_another_error_refuses_the_plan(make_case, client_for):
    case = make_case("poor_inflow")
    client = client_for("clinician")
    long_reason = "x" * 4001
    response = client.post(_create_url(case), {"indication_override_reason": long_reason})
    assert response.status_code == 200
    assert long_reason in response.content.decode()


def test_an_etr_plan_answers_the_accp_advice_against(make_case, clinician):
    case = make_case("acute")
    with pytest.raises(ValidationError) as excinfo:
        services.plan_create(case=case, author=clinician)
    (error,) = excinfo.value.error_dict["indication_override_reason"]
    assert error.code == "reason_required"
    assert "ACCP-2016-CDT" in error.messages[0]
    plan = services.plan_create(case=case, author=clinician, indication_override_reason=REASON)
    assert plan.guideline_status == "etr_candidate"
    assert "ACCP-2016-CDT" in [a["rule_id"] for a in plan.guideline_snapshot["against"]]


def test_a_plan_nobody_advises_against_needs_no_reason(make_case, clinician, client_for):
    case = make_case("nivl")
    page = client_for("clinician").get(_create_url(case)).content.decode()
    assert 'id="advice-against"' not in page
    plan = services.plan_create(case=case, author=clinician, indication_override_reason="ignored")
    assert plan.indication_override_reason == ""
    assert plan.guideline_snapshot["against"] == []


def test_api_names_the_reason_field(make_case, client_for):
    case = make_case("poor_inflow")
    client = client_for("clinician")
    answer = client.post(
        "/api/v1/planning/plans/", {"case": case.pk}, content_type="application/json"
    )
    assert answer.status_code == 400
    assert "indication_override_reason" in answer.json()
    answer = client.post(
        "/api/v1/planning/plans/",
        {"case": case.pk, "indication_override_reason": REASON},
        content_type="application/json",
    )
    assert answer.status_code == 201
    assert answer.json()["indication_override_reason"] == REASON
