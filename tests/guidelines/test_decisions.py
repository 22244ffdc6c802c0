"""Signing a decision: services, pages, the "as of" view, the API, permissions and query
counts (issue 3, "Decision records"; STYLE.md conventions 11 and 12).

Alice (clinician) signs; Nina (nurse) and Gustav (guideline admin) read; Bob (another
centre's clinician) gets 404; anonymous users go to the login page (pages) or get 401 (API).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from cases.facts import case_facts
from cases.models import Case
from guidelines.decisions import services as decision_services
from guidelines.decisions import snapshot as decision_snapshot
from guidelines.decisions.forms import row_prefix
from guidelines.engine import compile_ruleset, evaluate, load_rule_files
from guidelines.models import CardFeedback, Decision, RuleVersion
from guidelines.ruleset import current_rule_versions, current_ruleset
from tests.conftest import PERSONAS
from tests.factories import CaseFactory

NOW = dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.UTC)

_NO_DEVICE_PROBLEM = {
    "pregnancy": False,
    "active_infection": False,
    "severe_tortuosity": False,
    "diameter_mismatch": False,
    "endovascular_contraindication": False,
}


def etr_case(patient: Any, author: Any) -> Case:
    """Acute left iliofemoral DVT, day 4, low bleeding risk: ETR candidate; ACCP 2016 advises
    against CDT, so the ETR question has both sides."""
    return CaseFactory(
        patient=patient,
        author=author,
        case_date=dt.date(2026, 11, 2),
        symptom_onset_date=dt.date(2026, 10, 29),
        side="left",
        lesion_entity="acute_thrombotic",
        thrombosis_entity="descending",
        ceap="C3,s",
        ulcer="none",
        venous_claudication=False,
        qol_impairment="severe",
        symptom_severity="severe",
        first_episode=True,
        phlegmasia=False,
        underlying_iliac_lesion="unknown",
        life_expectancy_years=Decimal(40),
        ambulatory=True,
        bleeding_risk_level="low",
        contraindications_assessed=True,
        thrombolysis_contraindications=[],
        **_NO_DEVICE_PROBLEM,
        findings=[
            {"segment": segment, "side": "left", "finding": "thrombus"}
            for segment in ("CIV", "EIV", "CFV")
        ],
    )


def stent_case(patient: Any, author: Any, inflow: str = "good") -> Case:
    """Chronic post-thrombotic left CIV occlusion, C4b: stenting indicated; poor inflow
    makes SIR-2023-CIVO-05 advise against it (stent_conflict)."""
    return CaseFactory(
        patient=patient,
        author=author,
        lesion_entity="chronic_post_thrombotic",
        ceap="C4b,s Es Ad Po",
        ulcer="none",
        venous_claudication=True,
        qol_impairment="moderate",
        life_expectancy_years=Decimal(30),
        ambulatory=True,
        conservative_therapy_months=6,
        inflow=inflow,
        long_term_anticoagulation_possible=True,
        bleeding_risk_level="low",
        contraindications_assessed=True,
        thrombolysis_contraindications=[],
        **_NO_DEVICE_PROBLEM,
        findings=[{"segment": "CIV", "side": "left", "finding": "occlusion"}],
    )


def cards_of(case: Case) -> dict[str, str]:
    result = evaluate(case_facts(case), current_ruleset())
    return {
        rule_id: result["rules"][rule_id]["value"]
        for rule_id in decision_snapshot.card_rule_ids(result)
    }


def accept_all(case: Case, **overrides: dict[str, str]) -> dict[str, dict[str, str]]:
    rows = {
        rule_id: {"action": "accepted", "reason": "", "comment": ""} for rule_id in cards_of(case)
    }
    for rule_id, row in overrides.items():
        rows[rule_id] = row
    return rows


def post_data(
    case: Case, rows: dict[str, dict[str, str]], comment: str = "", fingerprint: str | None = None
) -> dict[str, str]:
    if fingerprint is None:
        fingerprint = decision_snapshot.evaluation_fingerprint(
            facts=decision_snapshot._frozen(case_facts(case)),
            ruleset_version=current_ruleset().version,
        )
    data = {"evaluation": fingerprint, "comment": comment}
    for rule_id, row in rows.items():
        for name, value in row.items():
            data[f"{row_prefix(rule_id)}-{name}"] = value
    return data


def sign(case: Case, user: Any, **kwargs: Any) -> Decision:
    feedback = kwargs.pop("feedback", None) or accept_all(case)
    return decision_services.decision_sign(
        case=case, signed_by=user, feedback=feedback, now=NOW, **kwargs
    )


@pytest.fixture
def case_etr(patient_a, clinician):
    return etr_case(patient_a, clinician)


@pytest.fixture
def case_other_centre(centre_b, other_centre_clinician):
    from tests.factories import PatientFactory

    return stent_case(PatientFactory(centre=centre_b), other_centre_clinician)


def sign_url(case: Case) -> str:
    return reverse("cases:decisions:sign", args=[case.pk])


def detail_url(decision: Decision) -> str:
    return reverse("cases:decisions:detail", args=[decision.case_id, decision.pk])


# =============================================================================================
# Service


def test_decision_sign_freezes_facts_result_versions_and_feedback(case_etr, clinician):
    override = {
        "action": "overridden",
        "reason": "patient_preference",
        "comment": "Prefers anticoagulation alone.",
    }
    decision = sign(
        case_etr,
        clinician,
        feedback=accept_all(case_etr, **{"ACCP-2016-CDT": override}),
        comment=" Board 3 Nov ",
    )

    ruleset = current_ruleset()
    facts = case_facts(case_etr)
    assert decision.signed_by == clinician
    assert decision.signed_at == NOW
    assert decision.comment == "Board 3 Nov"
    assert decision.facts == decision_snapshot._frozen(facts)
    assert decision.result == decision_snapshot._frozen(evaluate(facts, ruleset))
    assert decision.result["overall"] == "etr_candidate"
    assert decision.ruleset_version == ruleset.version
    # Every scored rule has a version; the card rules also keep what their card showed.
    assert set(decision.rule_versions) == set(ruleset.scored_ids)
    # The published version numbers (the rule set's version when the rules are the files).
    numbers = current_rule_versions()
    assert {r: e["version"] for r, e in decision.rule_versions.items()} == {
        r: numbers.get(r, ruleset.version) for r in ruleset.scored_ids
    }
    accp = decision.rule_versions["ACCP-2016-CDT"]
    assert accp["definition"]["text"] == ruleset.definition("ACCP-2016-CDT")["text"]
    assert accp["source"]["year"] == 2016
    assert "definition" not in decision.rule_versions["TRIAL-ATTRACT-FP"]  # not applicable

    rows = {f.rule_id: f for f in decision.feedback.all()}
    assert set(rows) == set(cards_of(case_etr))
    assert rows["ACCP-2016-CDT"].action == "overridden"
    assert rows["ACCP-2016-CDT"].reason == "patient_preference"
    assert rows["ACCP-2016-CDT"].value == "against"
    assert rows["ESVS-2021-VT-ETR"].action == "accepted"
    assert rows["ESVS-2021-VT-ETR"].value == "consider"
    # Audited: a history row for the decision and for every feedback row.
    assert decision.history.count() == 1
    assert CardFeedback.history.filter(decision_id=decision.pk).count() == len(rows)


def test_decision_records_the_published_rule_version_numbers(case_etr, clinician):
    call_command("load_guidelines", stdout=StringIO())  # idempotent; the migration's rules
    active = dict(
        RuleVersion.objects.filter(status="active").values_list("rule__rule_id", "number")
    )
    decision = sign(case_etr, clinician)
    assert decision.ruleset_version.startswith("db:")
    assert decision.ruleset_version == current_ruleset().version
    assert {r: e["version"] for r, e in decision.rule_versions.items()} == {
        r: active[r] for r in decision.rule_versions
    }


def test_decision_sign_drops_the_reason_of_an_accepted_card(case_etr, clinician):
    feedback = accept_all(
        case_etr, **{"ACCP-2016-CDT": {"action": "accepted", "reason": "anatomy", "comment": "ok"}}
    )
    decision = sign(case_etr, clinician, feedback=feedback)
    row = decision.feedback.get(rule_id="ACCP-2016-CDT")
    assert (row.action, row.reason, row.comment) == ("accepted", "", "ok")


def test_decision_sign_rejects_an_override_without_reason(case_etr, clinician):
    feedback = accept_all(case_etr, **{"ACCP-2016-CDT": {"action": "overridden", "reason": ""}})
    with pytest.raises(ValidationError) as exc:
        sign(case_etr, clinician, feedback=feedback)
    assert exc.value.message_dict == {"ACCP-2016-CDT": ["An override needs a reason."]}
    assert not Decision.objects.exists()


def test_decision_sign_needs_a_row_for_every_card_and_no_other(case_etr, clinician):
    feedback = accept_all(case_etr)
    del feedback["ESVS-2021-VT-ETR"]
    feedback["TRIAL-ATTRACT-FP"] = {"action": "accepted"}
    with pytest.raises(ValidationError) as exc:
        sign(case_etr, clinician, feedback=feedback)
    errors = exc.value.message_dict
    assert errors["ESVS-2021-VT-ETR"] == ["Choose accept or override for this recommendation."]
    assert "TRIAL-ATTRACT-FP" in errors["__all__"][0]
    assert not Decision.objects.exists()


def test_decision_sign_refuses_a_stale_fingerprint(case_etr, clinician):
    with pytest.raises(ValidationError) as exc:
        sign(case_etr, clinician, fingerprint="not-what-was-shown")
    assert exc.value.error_dict["evaluation"][0].code == decision_services.STALE
    assert not Decision.objects.exists()


@pytest.mark.parametrize("persona", ["nurse", "guideline_admin", "other_centre_clinician"])
def test_decision_sign_refuses_users_who_may_not_sign(request, case_etr, persona):
    with pytest.raises(PermissionDenied):
        sign(case_etr, request.getfixturevalue(persona))
    assert not Decision.objects.exists()


def test_rule_versions_fall_back_to_the_rule_set_version():
    ruleset = compile_ruleset(load_rule_files(), version="files:test")
    result = evaluate({"lesion_entity": "nivl", "segments_involved": ["CIV"]}, ruleset)
    snapshot = decision_snapshot.rule_versions_snapshot(
        ruleset=ruleset, result=result, numbers={"ACCP-2016-CDT": 4}
    )
    assert snapshot["ACCP-2016-CDT"] == {"version": 4}
    assert snapshot["SIR-2023-CIVO-03"]["version"] == "files:test"
    assert snapshot["SIR-2023-CIVO-03"]["definition"]["id"] == "SIR-2023-CIVO-03"


# =============================================================================================
# Pages: signing


def test_clinician_signs_from_the_case_page(client_for, case_etr, clinician):
    client = client_for("clinician")
    page = client.get(reverse("cases:detail", args=[case_etr.pk]))
    html = page.content.decode()
    assert 'id="decision-form"' in html
    assert f'name="{row_prefix("ACCP-2016-CDT")}-action"' in html
    rows = accept_all(
        case_etr,
        **{"ACCP-2016-CDT": {"action": "overridden", "reason": "comorbidity", "comment": "Frail"}},
    )

    response = client.post(sign_url(case_etr), post_data(case_etr, rows, "Signed at board"))

    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case_etr.pk]) + "#decisions"
    decision = Decision.objects.get()
    assert decision.signed_by == clinician
    assert decision.comment == "Signed at board"
    assert decision.feedback.get(rule_id="ACCP-2016-CDT").reason == "comorbidity"
    page = client.get(reverse("cases:detail", args=[case_etr.pk]))
    html = page.content.decode()
    assert detail_url(decision) in html
    assert "Decision signed." in html
    # The signed state per card, not blank forms again.
    assert 'id="decision-form"' not in html
    assert 'id="signed-state"' in html
    card = re.search(r'<article[^>]*id="rule-ACCP-2016-CDT".*?</article>', html, re.S)
    assert card is not None
    assert "feedback-stored feedback-overridden" in card.group(0)
    assert "Frail" in card.group(0)
    revise = client.get(reverse("cases:detail", args=[case_etr.pk]), {"revise": "1"})
    assert 'id="decision-form"' in revise.content.decode()


def test_a_change_of_the_case_after_signing_offers_the_form_again(client_for, case_etr):
    client = client_for("clinician")
    client.post(sign_url(case_etr), post_data(case_etr, accept_all(case_etr)))
    assert (
        'id="signed-state"'
        in client.get(reverse("cases:detail", args=[case_etr.pk])).content.decode()
    )
    Case.objects.filter(pk=case_etr.pk).update(life_expectancy_years=15)
    html = client.get(reverse("cases:detail", args=[case_etr.pk])).content.decode()
    assert 'id="signed-state"' not in html
    assert 'id="decision-form"' in html


def test_override_without_reason_is_rejected_and_keeps_every_value(client_for, case_etr):
    client = client_for("clinician")
    rows = accept_all(
        case_etr,
        **{
            "ACCP-2016-CDT": {"action": "overridden", "reason": "", "comment": "typed comment"},
            "ESVS-2021-VT-ETR": {
                "action": "overridden",
                "reason": "anatomy",
                "comment": "second comment",
            },
        },
    )
    response = client.post(sign_url(case_etr), post_data(case_etr, rows, "decision note"))

    assert response.status_code == 200
    assert not Decision.objects.exists()
    html = response.content.decode()
    assert 'id="decision-errors"' in html
    accp = row_prefix("ACCP-2016-CDT")
    assert f'href="#id_{accp}-reason"' in html  # the summary links to the row's reason
    card = re.search(r'<article[^>]*id="rule-ACCP-2016-CDT".*?</article>', html, re.S)
    assert card is not None
    assert "An override needs a reason." in card.group(0)
    assert re.search(r'value="overridden"[^>]*checked', card.group(0))
    assert "typed comment</textarea>" in card.group(0)
    etr = re.search(r'<article[^>]*id="rule-ESVS-2021-VT-ETR".*?</article>', html, re.S)
    assert etr is not None
    assert re.search(r'<option value="anatomy" selected>', etr.group(0))
    assert "second comment</textarea>" in etr.group(0)
    assert "decision note</textarea>" in html


def test_unanswered_card_is_named_in_the_error_summary(client_for, case_etr):
    rows = accept_all(case_etr)
    del rows["ESVS-2021-VT-AC"]
    response = client_for("clinician").post(sign_url(case_etr), post_data(case_etr, rows))
    html = response.content.decode()
    assert "ESVS-2021-VT-AC: Choose accept or override for this recommendation." in html
    assert not Decision.objects.exists()


def test_sign_after_the_case_changed_signs_nothing_and_shows_the_new_panel(client_for, case_etr):
    client = client_for("clinician")
    data = post_data(case_etr, accept_all(case_etr))
    Case.objects.filter(pk=case_etr.pk).update(bleeding_risk_level="high")  # someone edits

    response = client.post(sign_url(case_etr), data)

    assert response.status_code == 200
    assert not Decision.objects.exists()
    html = response.content.decode()
    assert "The case or the rules changed after this page was loaded." in html
    assert "Anticoagulation only" in html  # the panel as it is now


def test_htmx_sign_errors_return_the_panel_partial(client_for, case_etr):
    rows = accept_all(case_etr, **{"ACCP-2016-CDT": {"action": "overridden", "reason": ""}})
    response = client_for("clinician").post(
        sign_url(case_etr), post_data(case_etr, rows), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="recommendations"')
    assert "<html" not in html
    assert "An override needs a reason." in html


def test_htmx_sign_redirects_with_hx_redirect(client_for, case_etr):
    response = client_for("clinician").post(
        sign_url(case_etr),
        post_data(case_etr, accept_all(case_etr)),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("cases:detail", args=[case_etr.pk])
    assert Decision.objects.count() == 1


def test_draft_is_kept_in_the_session_until_signing(client_for, case_etr):
    client = client_for("clinician")
    accp = row_prefix("ACCP-2016-CDT")
    response = client.post(
        reverse("cases:decisions:draft", args=[case_etr.pk]),
        {
            f"{accp}-action": "overridden",
            f"{accp}-reason": "resources",
            f"{accp}-comment": "no CDT team this week",
            "comment": "draft note",
            "after": "0",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204

    html = client.get(reverse("cases:detail", args=[case_etr.pk])).content.decode()
    card = re.search(r'<article[^>]*id="rule-ACCP-2016-CDT".*?</article>', html, re.S)
    assert card is not None
    assert re.search(r'value="overridden"[^>]*checked', card.group(0))
    assert '<option value="resources" selected>' in card.group(0)
    assert "no CDT team this week</textarea>" in card.group(0)
    assert "draft note</textarea>" in html

    client.post(sign_url(case_etr), post_data(case_etr, accept_all(case_etr)))
    assert Decision.objects.count() == 1
    html = client.get(reverse("cases:detail", args=[case_etr.pk])).content.decode()
    assert "no CDT team this week" not in html.split('id="decisions"')[0]


def test_a_late_draft_from_a_page_signed_meanwhile_is_not_kept(client_for, case_etr):
    client = client_for("clinician")
    accp = row_prefix("ACCP-2016-CDT")
    client.post(sign_url(case_etr), post_data(case_etr, accept_all(case_etr)))
    decision = Decision.objects.get()
    late = {f"{accp}-action": "overridden", f"{accp}-comment": "late change", "after": "0"}
    response = client.post(
        reverse("cases:decisions:draft", args=[case_etr.pk]), late, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert f"decision-draft:{case_etr.pk}" not in client.session
    html = client.get(reverse("cases:detail", args=[case_etr.pk]), {"revise": "1"}).content.decode()
    assert "late change" not in html
    assert f'name="after" value="{decision.pk}"' in html


def test_accept_all_fills_only_unanswered_cards(client_for, case_etr):
    client = client_for("clinician")
    accp = row_prefix("ACCP-2016-CDT")
    response = client.post(
        reverse("cases:decisions:draft", args=[case_etr.pk]),
        {
            "fill": "accepted",
            f"{accp}-action": "overridden",
            f"{accp}-reason": "other",
            "after": "0",
        },
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="recommendations"')
    draft = client.session[f"decision-draft:{case_etr.pk}"]["rows"]
    assert draft["ACCP-2016-CDT"]["action"] == "overridden"
    assert {r["action"] for k, r in draft.items() if k != "ACCP-2016-CDT"} == {"accepted"}
    assert set(draft) == set(cards_of(case_etr))


def test_accept_all_without_javascript_returns_to_the_filled_case_page(client_for, case_etr):
    client = client_for("clinician")
    response = client.post(
        reverse("cases:decisions:draft", args=[case_etr.pk]), {"fill": "accepted", "after": "0"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/cases/{case_etr.pk}/#decision-form")
    html = client.get(reverse("cases:detail", args=[case_etr.pk])).content.decode()
    checked = re.findall(r'<input type="radio"[^>]*value="accepted"[^>]*checked', html)
    assert len(checked) == len(cards_of(case_etr))


# =============================================================================================
# Pages: the signed decision "as of"


def _panel_html(html: str) -> str:
    match = re.search(r'<section id="recommendations".*</section>', html, re.S)
    assert match is not None
    return match.group(0)


def test_as_of_view_is_unchanged_after_the_case_is_edited(client_for, case_etr, clinician):
    override = {"action": "overridden", "reason": "bleeding_risk", "comment": "recent fall"}
    decision = sign(
        case_etr, clinician, feedback=accept_all(case_etr, **{"SIR-2023-AIDVT-SEL": override})
    )
    client = client_for("nurse")
    before = client.get(detail_url(decision))
    assert before.status_code == 200
    html = before.content.decode()
    assert 'id="same-today"' in html
    assert 'id="differs-today"' not in html
    assert 'id="facts-changed"' not in html
    assert "Bleeding risk assessment differs" in html
    assert "recent fall" in html

    # The case is edited: bleeding risk becomes high, the ETR rules now advise against.
    case_etr.bleeding_risk_level = "high"
    case_etr.save()

    after = client.get(detail_url(decision)).content.decode()
    assert _panel_html(after) == _panel_html(html)
    differs = re.search(r'id="differs-today".*?</div>\s*</div>', after, re.S)
    assert differs is not None
    text = differs.group(0)
    assert "Early thrombus removal candidate" in text
    assert "Anticoagulation only" in text
    for rule_id in ("SVSAVF-2012-ETR-03", "ESVS-2021-VT-ETR", "SIR-2023-AIDVT-SEL"):
        assert rule_id in text
    facts = re.search(r'id="facts-changed".*?</table>', after, re.S)
    assert facts is not None
    assert "Bleeding risk" in facts.group(0)
    assert "level high" in facts.group(0)


def test_as_of_view_keeps_the_rule_text_after_the_rules_change(
    client_for, case_etr, clinician, monkeypatch
):
    decision = sign(case_etr, clinician)
    definitions = load_rule_files()
    for d in definitions:
        if d["id"] == "ACCP-2016-CDT":
            d["text"] = "A rewritten text published later."
    changed = compile_ruleset(definitions, version="test:2")
    monkeypatch.setattr("guidelines.decisions.views.current_ruleset", lambda: changed)
    monkeypatch.setattr("guidelines.decisions.selectors.current_ruleset", lambda: changed)

    html = client_for("clinician").get(detail_url(decision)).content.decode()

    assert "A rewritten text published later." not in html
    assert escape(current_ruleset().definition("ACCP-2016-CDT")["text"]) in html
    assert 'id="ruleset-changed"' in html
    assert 'id="same-today"' in html  # same values: only the wording changed


def test_decision_of_another_case_is_not_found(client_for, case_etr, clinician, patient_a):
    decision = sign(case_etr, clinician)
    other = stent_case(patient_a, clinician)
    url = reverse("cases:decisions:detail", args=[other.pk, decision.pk])
    assert client_for("clinician").get(url).status_code == 404


def test_decision_list_page_shows_who_when_and_status(client_for, case_etr, clinician):
    sign(case_etr, clinician)
    html = (
        client_for("guideline_admin")
        .get(reverse("cases:decisions:list", args=[case_etr.pk]))
        .content.decode()
    )
    assert "2026-11-03 10:30" in html  # Europe/Berlin
    assert clinician.get_username() in html or clinician.get_full_name() in html
    assert "Early thrombus removal candidate" in html
    assert "0 of" in html


# =============================================================================================
# Permissions: every new page and endpoint × persona

LOGIN = "login"
PAGES: dict[str, tuple[Any, ...]] = {
    "list": (200, 200, 200, 404, LOGIN),
    "detail": (200, 200, 200, 404, LOGIN),
    "sign-get": (200, 403, 403, 404, LOGIN),
    "sign-post": (302, 403, 403, 404, LOGIN),
    "draft-post": (302, 403, 403, 404, LOGIN),
}
API: dict[str, tuple[int, ...]] = {
    "api-list": (200, 200, 200, 404, 401),
    "api-detail": (200, 200, 200, 404, 401),
    "api-sign": (201, 403, 403, 404, 401),
}


def table(expectations: dict[str, tuple[Any, ...]]) -> list[Any]:
    return [
        pytest.param(endpoint, persona, expected, id=f"{endpoint}-{persona}")
        for endpoint, row in expectations.items()
        for persona, expected in zip(PERSONAS, row, strict=True)
    ]


@pytest.mark.parametrize(("endpoint", "persona", "expected"), table(PAGES))
def test_decision_pages_answer_each_persona(
    client_for, case_etr, clinician, endpoint, persona, expected
):
    decision = sign(case_etr, clinician)
    client = client_for(persona)
    before = Decision.objects.count()
    match endpoint:
        case "list":
            response = client.get(reverse("cases:decisions:list", args=[case_etr.pk]))
        case "detail":
            response = client.get(detail_url(decision))
        case "sign-get":
            response = client.get(sign_url(case_etr))
        case "sign-post":
            response = client.post(sign_url(case_etr), post_data(case_etr, accept_all(case_etr)))
        case "draft-post":
            response = client.post(reverse("cases:decisions:draft", args=[case_etr.pk]), {})
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected
    assert Decision.objects.count() == before + (endpoint == "sign-post" and expected == 302)


@pytest.mark.parametrize(("endpoint", "persona", "expected"), table(API))
def test_decision_api_answers_each_persona(
    client_for, case_etr, clinician, endpoint, persona, expected
):
    decision = sign(case_etr, clinician)
    client = client_for(persona)
    base = f"/api/v1/cases/{case_etr.pk}/decisions"
    match endpoint:
        case "api-list":
            response = client.get(base)
        case "api-detail":
            response = client.get(f"{base}/{decision.pk}")
        case "api-sign":
            body = {"feedback": [{"rule_id": r, "action": "accepted"} for r in cards_of(case_etr)]}
            response = client.post(base, body, content_type="application/json")
    assert response.status_code == expected
    assert response["Content-Type"] == "application/json"


def test_other_centre_sees_only_its_own_decisions(
    client_for, case_other_centre, other_centre_clinician
):
    decision = sign(case_other_centre, other_centre_clinician)
    assert client_for("other_centre_clinician").get(detail_url(decision)).status_code == 200
    assert client_for("clinician").get(detail_url(decision)).status_code == 404
    assert (
        client_for("nurse").get(f"/api/v1/cases/{case_other_centre.pk}/decisions").status_code
        == 404
    )


# =============================================================================================
# API


def test_api_sign_then_list_and_detail(client_for, case_etr):
    client = client_for("clinician")
    base = f"/api/v1/cases/{case_etr.pk}/decisions"
    feedback = [{"rule_id": r, "action": "accepted"} for r in cards_of(case_etr)]
    feedback[0] = {
        "rule_id": feedback[0]["rule_id"],
        "action": "overridden",
        "reason": "newer_evidence",
        "comment": "local protocol",
    }

    created = client.post(
        base, {"feedback": feedback, "comment": "via API"}, content_type="application/json"
    )

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["case"] == case_etr.pk
    assert body["signed_by"] == "alice"
    assert body["comment"] == "via API"
    assert body["result"]["overall"] == "etr_candidate"
    assert body["facts"]["lesion_entity"] == "acute_thrombotic"
    assert body["rule_versions"]["ACCP-2016-CDT"] == current_rule_versions().get(
        "ACCP-2016-CDT", current_ruleset().version
    )
    assert {row["rule_id"] for row in body["feedback"]} == set(cards_of(case_etr))
    overridden = [row for row in body["feedback"] if row["action"] == "overridden"]
    assert overridden == [
        {
            "rule_id": feedback[0]["rule_id"],
            "action": "overridden",
            "reason": "newer_evidence",
            "comment": "local protocol",
            "value": cards_of(case_etr)[feedback[0]["rule_id"]],
        }
    ]
    assert body["today"]["differs"] is False

    listed = client.get(base).json()
    assert [row["id"] for row in listed] == [body["id"]]
    assert listed[0]["overall"] == "etr_candidate"
    assert listed[0]["overridden"] == 1
    assert listed[0]["cards"] == len(feedback)

    Case.objects.filter(pk=case_etr.pk).update(first_episode=False)
    today = client.get(f"{base}/{body['id']}").json()["today"]
    assert today["differs"] is True
    assert {"rule_id": "SVSAVF-2012-ETR-03", "then": "consider", "now": "against"} in today[
        "rule_changes"
    ]
    assert today["fact_changes"] == [{"field": "first_episode", "then": True, "now": False}]


def test_api_sign_override_without_reason_names_the_rule(client_for, case_etr):
    feedback = [{"rule_id": r, "action": "accepted"} for r in cards_of(case_etr)]
    feedback[0]["action"] = "overridden"
    response = client_for("clinician").post(
        f"/api/v1/cases/{case_etr.pk}/decisions",
        {"feedback": feedback},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "feedback": {feedback[0]["rule_id"]: ["An override needs a reason."]}
    }
    assert not Decision.objects.exists()


def test_api_sign_rejects_a_rule_given_twice(client_for, case_etr):
    rule_id = next(iter(cards_of(case_etr)))
    feedback = [{"rule_id": rule_id, "action": "accepted"}] * 2
    response = client_for("clinician").post(
        f"/api/v1/cases/{case_etr.pk}/decisions",
        {"feedback": feedback},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "given twice" in str(response.json())


# =============================================================================================
# Query counts


@pytest.mark.parametrize("persona", ["clinician", "nurse"])
def test_case_page_runs_constant_queries_with_1_and_10_decisions(
    client_for, case_etr, clinician, persona
):
    client = client_for(persona)
    url = reverse("cases:detail", args=[case_etr.pk])
    sign(case_etr, clinician)
    client.get(url)  # warm-up: session, content types, permissions

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    with_1 = count()
    for _ in range(9):
        sign(case_etr, clinician)
    with_10 = count()
    assert with_1 == with_10
    html = client.get(url).content.decode()
    assert len(re.findall(rf'href="/cases/{case_etr.pk}/decisions/\d+/"', html)) == 10


def test_decision_detail_runs_the_same_queries_whatever_the_number_of_cards(
    client_for, case_etr, clinician, patient_a
):
    client = client_for("clinician")
    small = sign(stent_case(patient_a, clinician), clinician)
    large = sign(case_etr, clinician)
    client.get(detail_url(small))

    def count(decision: Decision) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(detail_url(decision)).status_code == 200
        return len(ctx.captured_queries)

    assert count(small) == count(large)
