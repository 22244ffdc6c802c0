"""The recommendations panel: the view-model of guidelines/presentation.py (pure, no DB) and
the panel on the case page and the overall status on the case list (issue 3, "Clinician")."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case
from guidelines.engine import default_ruleset, evaluate
from guidelines.presentation import (
    FIELD_ANCHORS,
    FrozenCatalogue,
    field_anchor,
    format_value,
    panel,
    strength_text,
)
from guidelines.vocabulary import FACT_NAMES
from tests.factories import CaseFactory, PatientFactory
from tests.guidelines.builders import acute_if, chronic_pto, nivl
from tests.guidelines.test_decisions import etr_case, stent_case


def make_panel(facts: dict[str, Any]):
    ruleset = default_ruleset()
    return panel(evaluate(facts, ruleset), ruleset)


def group(p: Any, key: str) -> Any:
    return next(g for g in p.groups if g.key == key)


# =============================================================================================
# View-model (pure)


def test_cards_are_the_applicable_scored_rules_only():
    facts = acute_if()
    result = evaluate(facts, default_ruleset())
    p = make_panel(facts)
    applicable = {r for r, v in result["rules"].items() if v["value"] != "not_applicable"}
    assert {c.rule_id for c in p.cards} == applicable
    assert "TRIAL-ATTRACT-FP" not in {c.rule_id for c in p.cards}
    assert p.overall == "etr_candidate"
    assert p.overall_label == "Early thrombus removal candidate"
    assert p.overall_help


def test_acute_etr_disagreement_is_shown_side_by_side():
    p = make_panel(acute_if())
    etr = group(p, "etr")
    assert etr.disagree
    assert [c.rule_id for c in etr.against] == ["ACCP-2016-CDT"]
    assert {"SVSAVF-2012-ETR-03", "ESVS-2021-VT-ETR", "SIR-2023-AIDVT-SEL"} <= {
        c.rule_id for c in etr.supports
    }
    assert [c.rule_id for c in p.conflicts] == ["ACCP-2016-CDT"]
    # Anticoagulation (ESVS-2021-VT-AC) answers another question; it does not disagree.
    assert not group(p, "care").disagree


def test_stent_conflict_puts_sir_civo_05_beside_the_stent_rules():
    p = make_panel(chronic_pto(inflow="poor"))
    assert p.overall == "stent_conflict"
    stent = group(p, "stent")
    assert stent.disagree
    assert [c.rule_id for c in stent.against] == ["SIR-2023-CIVO-05"]
    assert {
        "SVSAVF-2014-VLU-6.8",
        "ESVS-2015-CVD-STENT",
        "ESVS-2022-CVD-STENT",
        "CIRSE-2014-ICS",
    } <= {c.rule_id for c in stent.supports}
    civo = stent.against[0]
    assert civo.failed == ["Good inflow into the CFV from a patent FV and/or DFV"]


def test_no_disagreement_when_every_guideline_supports():
    p = make_panel(chronic_pto())
    assert p.overall == "stent_indicated"
    assert p.conflicts == []
    assert not any(g.disagree for g in p.groups)
    assert p.counts == {"supports": len(p.cards), "against": 0, "undecided": 0}


def test_card_shows_source_grading_citation_and_provisional_badge():
    p = make_panel(chronic_pto())
    cards = {c.rule_id: c for c in p.cards}
    vlu = cards["SVSAVF-2014-VLU-6.8"]
    assert vlu.society.startswith("Society for Vascular Surgery")
    assert vlu.year == 2014
    assert vlu.number == "6.8"
    assert vlu.strength == "Grade 1C"
    assert "J Vasc Surg 2014" in vlu.citation
    assert vlu.link
    assert vlu.link.startswith("https://")
    assert vlu.provisional is False
    esvs = cards["ESVS-2022-CVD-STENT"]
    assert esvs.strength == "Class IIa, Level B"
    assert esvs.provisional is True
    assert cards["SIR-2023-CIVO-03"].strength == "(E, S)"


@pytest.mark.parametrize(
    ("strength", "text"),
    [
        ({"system": "ESVS", "native": "IIa", "level": "A"}, "Class IIa, Level A"),
        ({"system": "ESVS", "native": None, "level": None}, "ESVS class/level not verified"),
        ({"system": "GRADE", "native": "1", "level": "C"}, "Grade 1C"),
        ({"system": "ACCP", "native": "2", "level": "C"}, "Grade 2C"),
        ({"system": "SIR", "native": "S", "level": "E"}, "(E, S)"),
        ({"system": "SIR", "native": None, "level": None}, "SIR grade letters not verified"),
        ({"system": "CIRSE", "native": None, "level": None}, "no class/level stated"),
        (
            {"system": "ASH", "native": "conditional", "level": "low certainty"},
            "conditional, low certainty",
        ),
        ({"system": "NONE", "native": None, "level": None}, "not graded"),
    ],
)
def test_strength_is_written_in_the_societys_own_grading(strength, text):
    assert strength_text(strength) == text


def test_why_lists_every_criterion_population_first_with_the_deciding_values():
    p = make_panel(
        acute_if(
            bleeding_risk={"level": "high", "contraindication_class": "none", "factors": []},
            ambulatory=None,
        )
    )
    card = next(c for c in p.cards if c.rule_id == "ESVS-2021-VT-ETR")
    assert card.value == "against"
    assert card.criteria[0].population
    assert card.criteria[0].status == "met"
    assert len(card.criteria) == 5
    statuses = {c.label: c.status for c in card.criteria[1:]}
    assert list(statuses.values()).count("unmet") == 1
    assert list(statuses.values()).count("unknown") == 1
    inputs = dict(pair for c in card.criteria for pair in c.inputs)
    assert inputs["Lesion entity"] == "acute thrombotic"
    assert inputs["Ambulatory with good functional status"] == "not recorded"
    assert inputs["Days since symptom onset"] == "5"
    assert "level high" in next(v for k, v in inputs.items() if k.startswith("Bleeding"))
    assert card.failed == [c.label for c in card.criteria[1:] if c.status == "unmet"]


def test_missing_inputs_are_listed_with_a_link_target():
    p = make_panel(chronic_pto(obstruction={"type": "stenosis"}, ceap=None))
    assert p.overall == "insufficient_data"
    missing = {m["field"]: m for m in p.missing}
    assert missing["obstruction"]["anchor"] == "findings"
    assert missing["ceap"]["anchor"] == "id_case-ceap"
    undecided = [c for g in p.groups for c in g.undecided]
    assert undecided
    assert all(c.missing_field and c.missing_anchor for c in undecided)


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("ambulatory", None, "not recorded"),
        ("ambulatory", True, "yes"),
        ("first_episode", False, "no"),
        ("life_expectancy_years", 40.0, "40"),
        ("segments_involved", ["CIV", "EIV"], "CIV, EIV"),
        ("obstruction", {"type": "occlusion", "area_reduction_pct": 100}, "occlusion, area 100 %"),
        (
            "obstruction",
            {"type": "stenosis", "area_reduction_pct": None},
            "stenosis, area not measured",
        ),
        ("lesion_entity", "chronic_post_thrombotic", "chronic post thrombotic"),
        ("ceap", "C4b,s Es Ad Po", "C4b,s Es Ad Po"),
    ],
)
def test_case_values_are_written_in_plain_words(name, value, text):
    assert format_value(name, value) == text


def test_frozen_catalogue_renders_without_the_live_rule_set():
    ruleset = default_ruleset()
    result = evaluate(chronic_pto(), ruleset)
    stored = {
        rule_id: {
            "version": 1,
            "definition": {
                "id": rule_id,
                "source": "S",
                "text": f"text of {rule_id}",
                "strength": {"system": "GRADE", "native": "1", "level": "B"},
                "verification": "verified",
            },
            "source": {"society": "Old Society", "year": 1999, "citation": "Old cit."},
        }
        for rule_id in result["rules"]
    }
    p = panel(result, FrozenCatalogue(stored))
    assert {c.text for c in p.cards} == {f"text of {c.rule_id}" for c in p.cards}
    assert {c.society for c in p.cards} == {"Old Society"}
    assert {c.strength for c in p.cards} == {"Grade 1B"}


def test_a_rule_unknown_to_the_catalogue_still_gets_a_card():
    result = evaluate(chronic_pto(), default_ruleset())
    p = panel(result, FrozenCatalogue({}))
    assert len(p.cards) == len(
        [r for r in result["rules"].values() if r["value"] != "not_applicable"]
    )


# =============================================================================================
# Case page


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key == "id" and value:
                self.ids.add(value)


def test_every_field_anchor_exists_on_the_edit_page(client_for, case_a):
    html = client_for("clinician").get(reverse("cases:edit", args=[case_a.pk])).content
    parser = _Ids()
    parser.feed(html.decode())
    names = set(FACT_NAMES) | set(FIELD_ANCHORS)
    missing = sorted(
        f"{n} -> {field_anchor(n)}" for n in names if field_anchor(n) not in parser.ids
    )
    assert missing == []


def test_case_page_shows_status_cards_why_and_both_sides(client_for, patient_a, clinician):
    case = etr_case(patient_a, clinician)
    html = client_for("nurse").get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert re.search(r'id="overall-status".*Early thrombus removal candidate', html, re.S)
    supports = html.split('class="side side-supports"')[1].split('class="side side-against"')[0]
    against = html.split('class="side side-against"')[1].split("</section>")[0]
    assert 'id="rule-ESVS-2021-VT-ETR"' in supports
    assert 'id="rule-ACCP-2016-CDT"' in against
    assert html.count('<details class="why">') == html.count('class="rec-card ')
    assert "provisional" in html
    # A nurse reads: no decision form, the signed decisions are listed.
    assert 'id="decision-form"' not in html
    assert 'id="decisions"' in html


def test_stent_conflict_case_page_shows_civo_05_against(client_for, patient_a, clinician):
    case = stent_case(patient_a, clinician, inflow="poor")
    html = client_for("clinician").get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Stenting indicated, but guidelines disagree" in html
    against = html.split('class="side side-against"')[1].split("</section>")[0]
    assert 'id="rule-SIR-2023-CIVO-05"' in against
    assert 'id="decision-form"' in html


def test_missing_inputs_link_to_the_edit_form_for_clinicians_only(client_for, patient_a, clinician):
    case = stent_case(patient_a, clinician)
    case.ceap = ""
    case.save()
    edit = reverse("cases:edit", args=[case.pk])
    clinician_html = (
        client_for("clinician").get(reverse("cases:detail", args=[case.pk])).content.decode()
    )
    assert f'href="{edit}#id_case-ceap"' in clinician_html
    nurse_html = client_for("nurse").get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="missing-inputs"' in nurse_html
    assert f"{edit}#" not in nurse_html


def test_panel_follows_each_save(client_for, patient_a, clinician):
    case = stent_case(patient_a, clinician)
    client = client_for("clinician")
    url = reverse("cases:detail", args=[case.pk])
    assert "Stenting indicated</strong>" in client.get(url).content.decode()
    case.inflow = "poor"
    case.save()
    assert "Stenting indicated, but guidelines disagree" in client.get(url).content.decode()


# =============================================================================================
# Case list


def test_case_list_shows_each_overall_status_with_constant_queries(
    client_for, centre_a, clinician, patient_a
):
    client = client_for("clinician")
    etr_case(patient_a, clinician)
    client.get("/cases/")

    def count() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/cases/")
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    with_1, html = count()
    assert "overall-chip overall-etr_candidate" in html
    for inflow in ["good"] * 5 + ["poor"] * 4:
        stent_case(PatientFactory(centre=centre_a), clinician, inflow=inflow)
    with_10, html = count()
    assert with_1 == with_10
    assert Case.objects.count() == 10
    assert html.count("overall-chip overall-stent_indicated") == 5
    assert html.count("overall-chip overall-stent_conflict") == 4


def test_case_without_findings_shows_a_status(client_for, patient_a, clinician):
    case = CaseFactory(patient=patient_a, author=clinician, findings=[], ceap="")
    html = client_for("clinician").get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="overall-status"' in html


def test_planning_outline_is_written_in_words():
    p = make_panel(acute_if())
    rows = dict(p.planning_rows)
    assert rows["Primary access"] == "popliteal (prone)"
    assert rows["Follow-up protocol"] == "acute thrombotic"
    assert rows["Bilateral access"] == "no"
    assert make_panel({"age": 50}).planning_rows == []  # conservative: no planning


# =============================================================================================
# The safety rules on the panel (docs/safety.md)


def test_pregnancy_deferral_card_and_reason():
    p = make_panel(nivl(pregnancy=True))
    card = next(c for c in p.cards if c.rule_id == "PRACTICE-PREGNANCY-DEFER")
    assert card.value == "against"
    assert card.provisional
    assert card.society.startswith("Practice consensus")
    assert card.link is None  # no publication to link to
    assert p.any_provisional
    assert p.overall == "contraindicated_defer"
    assert p.overall_reasons == [
        "Elective stenting is deferred during pregnancy; reassess after delivery."
    ]


def test_phlegmasia_card_explains_removal_without_anticoagulation():
    p = make_panel(
        acute_if(
            phlegmasia=True,
            bleeding_risk={"level": "high", "factors": ["anticoagulation_contraindicated"]},
        )
    )
    card = next(c for c in p.cards if c.rule_id == "SVSAVF-2012-ETR-04")
    assert any("mechanical or surgical" in note for note in card.notes)
    assert "ESVS-2021-VT-AC" not in {c.rule_id for c in p.cards}


def test_asymptomatic_nivl_cirse_card_says_it_does_not_count():
    p = make_panel(nivl(ceap="C3,a", venous_claudication=False, qol_impairment="none"))
    cirse = next(c for c in p.cards if c.rule_id == "CIRSE-2014-ICS")
    assert cirse.value == "consider"
    assert any("Does not count toward stenting" in note for note in cirse.notes)
    asx = next(c for c in p.cards if c.rule_id == "ESVS-2022-CVD-NIVL-ASX")
    assert asx.value == "against"
    assert p.overall == "conservative"


def test_ticked_items_are_named_not_coded():
    text = format_value(
        "bleeding_risk",
        {"level": "low", "contraindication_class": "none", "factors": ["cerebrovascular_event_3m"]},
    )
    assert "Cerebrovascular event (including TIA) within 3 months" in text
    assert "cerebrovascular_event_3m" not in text
