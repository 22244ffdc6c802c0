"""Scored rules (guidelines/rules/*.json, read as docs/evaluation.md says), one block per rule:
every criterion true / false / unknown, the boundaries, and the overall status with its
precedence."""

import copy
import json

import pytest

from guidelines.engine import (
    EngineOptions,
    RuleSet,
    compile_ruleset,
    default_ruleset,
    evaluate,
    evaluate_rule,
    load_rule_files,
    normalise_facts,
)
from guidelines.schema import RuleSetError
from tests.guidelines.builders import acute_if, chronic_pto, nivl, statuses, value

SCORED = {
    "SVSAVF-2012-ETR-03",
    "SVSAVF-2012-ETR-04",
    "SVSAVF-2012-ETR-05",
    "ESVS-2021-VT-ETR",
    "ESVS-2021-VT-AC",
    "SIR-2023-AIDVT-SEL",
    "ACCP-2016-CDT",
    "SIR-2014-QI-CONTRA",
    "TRIAL-ATTRACT-FP",
    "SVSAVF-2014-VLU-6.8",
    "SVSAVF-2014-VLU-6.9",
    "ESVS-2015-CVD-STENT",
    "ESVS-2022-CVD-STENT",
    "CIRSE-2014-ICS",
    "ESVS-2022-CVD-NIVL-ASX",
    "ESVS-2022-CVD-IVUS",
    "ESVS-2022-CVD-AT",
    "ESVS-2022-CVD-FU",
    "SIR-2023-CIVO-03",
    "SIR-2023-CIVO-04",
    "SIR-2023-CIVO-05",
    "DEV-IFU-CONTRA",
    "PRACTICE-PREGNANCY-DEFER",
}
HIGH_BLEEDING = {"level": "high", "contraindication_class": "none"}
RELATIVE = {"level": "low", "contraindication_class": "relative"}
CLASS_ONLY_UNKNOWN = {"level": "low"}


def sx(ceap, claudication, qol):
    """The three inputs of 'symptomatic' / 'clinically relevant'."""
    return {"ceap": ceap, "venous_claudication": claudication, "qol_impairment": qol}


def test_rules_holds_every_scored_rule_and_no_info_rule():
    result = evaluate(acute_if())
    assert set(result["rules"]) == SCORED
    assert set(default_ruleset().scored_ids) == SCORED
    assert len(SCORED) == 23  # 22 and PRACTICE-PREGNANCY-DEFER (docs/safety.md#pregnancy)


def test_every_rule_explains_population_first():
    for entry in evaluate(chronic_pto())["rules"].values():
        assert entry["criteria"][0]["id"] == "population"
        for criterion in entry["criteria"]:
            assert set(criterion) == {"id", "label", "status", "inputs"}
            assert criterion["status"] in {"met", "unmet", "unknown"}


# --- 1. SVSAVF-2012-ETR-03 ------------------------------------------------------------------

ETR03 = "SVSAVF-2012-ETR-03"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "consider"),
        ({"symptom_onset_days": 14}, "consider"),
        ({"symptom_onset_days": 15}, "against"),
        ({"symptom_onset_days": 0}, "consider"),
        ({"symptom_onset_days": None}, "insufficient_data:symptom_onset_days"),
        ({"first_episode": False}, "against"),
        ({"first_episode": None}, "insufficient_data:first_episode"),
        ({"bleeding_risk": HIGH_BLEEDING}, "against"),
        ({"bleeding_risk": RELATIVE}, "against"),
        ({"bleeding_risk": None}, "insufficient_data:bleeding_risk"),
        ({"bleeding_risk": CLASS_ONLY_UNKNOWN}, "insufficient_data:bleeding_risk"),
        ({"ambulatory": False}, "against"),
        ({"ambulatory": None}, "insufficient_data:ambulatory"),
        ({"life_expectancy_years": 1}, "consider"),
        ({"life_expectancy_years": 0.9}, "against"),
        ({"life_expectancy_years": None}, "insufficient_data:life_expectancy_years"),
    ],
)
def test_etr03_criteria(overrides, expected):
    assert value(acute_if(**overrides), ETR03) == expected


def test_etr03_criterion_statuses():
    assert statuses(acute_if(first_episode=False, ambulatory=None), ETR03) == {
        "population": "met",
        "onset": "met",
        "first-episode": "unmet",
        "bleeding": "met",
        "ambulatory": "unknown",
        "life-expectancy": "met",
    }


def test_etr03_names_first_unknown_in_listed_order():
    facts = acute_if(symptom_onset_days=None, first_episode=None, ambulatory=None)
    assert value(facts, ETR03) == "insufficient_data:symptom_onset_days"
    facts = acute_if(life_expectancy_years=None, first_episode=None)
    assert value(facts, ETR03) == "insufficient_data:first_episode"


@pytest.mark.parametrize(
    "overrides",
    [
        {"lesion_entity": "chronic_post_thrombotic"},
        {"segments_involved": ["FV", "POPV"]},
        {"segments_involved": ["IVC"]},
        {"lesion_entity": None},
        {"segments_involved": None},
    ],
)
def test_etr03_population_is_acute_iliofemoral(overrides):
    assert value(acute_if(**overrides), ETR03) == "not_applicable"


# --- 2. SVSAVF-2012-ETR-04 ------------------------------------------------------------------

ETR04 = "SVSAVF-2012-ETR-04"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (acute_if(phlegmasia=True), "recommend"),
        (acute_if(phlegmasia=True, segments_involved=["FV", "POPV"]), "recommend"),
        (acute_if(phlegmasia=True, bleeding_risk=HIGH_BLEEDING), "recommend"),
        (acute_if(phlegmasia=False), "not_applicable"),
        (acute_if(phlegmasia=None), "not_applicable"),
        (chronic_pto(phlegmasia=True), "not_applicable"),
    ],
)
def test_etr04_phlegmasia_in_acute_dvt(facts, expected):
    assert value(facts, ETR04) == expected


# --- 3. ESVS-2021-VT-ETR --------------------------------------------------------------------

VT_ETR = "ESVS-2021-VT-ETR"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "consider"),
        ({"first_episode": False}, "consider"),
        ({"first_episode": None}, "consider"),
        ({"symptom_onset_days": 14}, "consider"),
        ({"symptom_onset_days": 15}, "against"),
        ({"symptom_onset_days": None}, "insufficient_data:symptom_onset_days"),
        ({"bleeding_risk": HIGH_BLEEDING}, "against"),
        ({"bleeding_risk": None}, "insufficient_data:bleeding_risk"),
        ({"ambulatory": False}, "against"),
        ({"ambulatory": None}, "insufficient_data:ambulatory"),
        ({"life_expectancy_years": 0.9}, "against"),
        ({"life_expectancy_years": 1}, "consider"),
        ({"life_expectancy_years": None}, "insufficient_data:life_expectancy_years"),
        ({"lesion_entity": "nivl"}, "not_applicable"),
    ],
)
def test_vt_etr_criteria_without_first_episode(overrides, expected):
    assert value(acute_if(**overrides), VT_ETR) == expected


# --- 4. SIR-2023-AIDVT-SEL ------------------------------------------------------------------

SIR_SEL = "SIR-2023-AIDVT-SEL"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "consider"),
        ({"symptom_onset_days": 15}, "against"),
        ({"symptom_onset_days": None}, "insufficient_data:symptom_onset_days"),
        ({"bleeding_risk": RELATIVE}, "against"),
        ({"bleeding_risk": None}, "insufficient_data:bleeding_risk"),
        ({"symptom_severity": "moderate", "phlegmasia": False}, "against"),
        ({"symptom_severity": "mild", "phlegmasia": True}, "consider"),
        ({"symptom_severity": None, "phlegmasia": True}, "consider"),
        ({"symptom_severity": "severe", "phlegmasia": None}, "consider"),
        ({"symptom_severity": None, "phlegmasia": False}, "insufficient_data:symptom_severity"),
        ({"symptom_severity": "moderate", "phlegmasia": None}, "insufficient_data:phlegmasia"),
        ({"symptom_severity": None, "phlegmasia": None}, "insufficient_data:symptom_severity"),
        ({"ambulatory": False}, "against"),
        ({"ambulatory": None}, "insufficient_data:ambulatory"),
        ({"life_expectancy_years": 0.9}, "against"),
        ({"life_expectancy_years": None}, "insufficient_data:life_expectancy_years"),
        ({"first_episode": False}, "consider"),
        ({"segments_involved": ["POPV"]}, "not_applicable"),
    ],
)
def test_sir_selection_criteria(overrides, expected):
    assert value(acute_if(**overrides), SIR_SEL) == expected


# --- 5. ACCP-2016-CDT -----------------------------------------------------------------------

ACCP = "ACCP-2016-CDT"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (acute_if(), "against"),
        (acute_if(segments_involved=["FV", "POPV"]), "against"),
        (acute_if(phlegmasia=True), "not_applicable"),
        (acute_if(phlegmasia=None), "not_applicable"),
        (acute_if(segments_involved=["TIBV", "PTV"]), "not_applicable"),
        (acute_if(segments_involved=["IVC"]), "not_applicable"),
        (acute_if(segments_involved=None), "not_applicable"),
        (chronic_pto(phlegmasia=False), "not_applicable"),
    ],
)
def test_accp_against_cdt_in_proximal_dvt_without_phlegmasia(facts, expected):
    assert value(facts, ACCP) == expected


# --- 6. SIR-2014-QI-CONTRA ------------------------------------------------------------------

QI = "SIR-2014-QI-CONTRA"


@pytest.mark.parametrize(
    ("bleeding", "expected", "cdt"),
    [
        ({"level": "low", "contraindication_class": "none"}, "not_applicable", "none"),
        ({"level": "high", "contraindication_class": "none"}, "not_applicable", "none"),
        ({"level": "low", "contraindication_class": "relative"}, "against", "relative"),
        ({"level": "high", "contraindication_class": "absolute"}, "against", "absolute"),
        (None, "insufficient_data:bleeding_risk", "unknown"),
        ({"level": "high"}, "insufficient_data:bleeding_risk", "unknown"),
        ({"factors": ["renal_failure"]}, "against", "relative"),
        ({"factors": ["renal_failure", "active_bleeding_or_dic"]}, "against", "absolute"),
        # docs/safety.md#one-contraindication-class: the recorded class never hides a ticked item.
        (
            {"contraindication_class": "none", "factors": ["renal_failure"]},
            "against",
            "relative",
        ),
        ({"factors": ["not-a-code"]}, "insufficient_data:bleeding_risk", "unknown"),
    ],
)
def test_qi_contraindication_rule_and_cdt_output(bleeding, expected, cdt):
    result = evaluate(acute_if(bleeding_risk=bleeding))
    assert result["rules"][QI]["value"] == expected
    assert result["cdt_contraindication"] == cdt


def test_qi_contraindication_not_applicable_for_chronic_cases():
    result = evaluate(chronic_pto(bleeding_risk={"contraindication_class": "absolute"}))
    assert result["rules"][QI]["value"] == "not_applicable"
    assert result["cdt_contraindication"] is None


# --- 7. TRIAL-ATTRACT-FP --------------------------------------------------------------------

FP = "TRIAL-ATTRACT-FP"


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        (["FV"], "against"),
        (["POPV", "TIBV"], "against"),
        (["FV", "POPV", "DFV"], "against"),
        (["CFV", "FV"], "not_applicable"),
        (["IVC", "FV"], "not_applicable"),
        (["TIBV", "PTV"], "not_applicable"),
        (None, "not_applicable"),
    ],
)
def test_attract_fp_against_in_femoropopliteal_only_dvt(segments, expected):
    assert value(acute_if(segments_involved=segments), FP) == expected


def test_attract_fp_needs_acute_entity():
    assert value(chronic_pto(segments_involved=["FV", "POPV"]), FP) == "not_applicable"


# --- 8. ESVS-2021-VT-AC and 9. SVSAVF-2012-ETR-05 ---------------------------------------------

VT_AC = "ESVS-2021-VT-AC"
ETR05 = "SVSAVF-2012-ETR-05"


def test_vt_ac_recommends_anticoagulation_for_etr_candidates():
    assert value(acute_if(), VT_AC) == "recommend"
    assert value(acute_if(symptom_onset_days=20), VT_AC) == "not_applicable"
    assert value(chronic_pto(), VT_AC) == "not_applicable"


def test_vt_ac_follows_phlegmasia_alone():
    facts = acute_if(phlegmasia=True, symptom_onset_days=25, segments_involved=["FV", "POPV"])
    assert value(facts, VT_AC) == "recommend"


@pytest.mark.parametrize(
    ("lesion", "expected"),
    [
        (True, "recommend"),
        ("true", "recommend"),
        (None, "consider"),
        ("unknown", "consider"),
        (False, "not_applicable"),
        ("false", "not_applicable"),
    ],
)
def test_etr05_underlying_lesion_switch(lesion, expected):
    assert value(acute_if(underlying_iliac_lesion=lesion), ETR05) == expected


def test_etr05_needs_etr_candidate_and_no_device_contraindication():
    assert value(acute_if(symptom_onset_days=20), ETR05) == "not_applicable"
    assert value(acute_if(severe_tortuosity=True), ETR05) == "not_applicable"
    # ETR candidate through phlegmasia only, but femoropopliteal: not IF.
    facts = acute_if(phlegmasia=True, segments_involved=["FV", "POPV"])
    assert value(facts, ETR05) == "not_applicable"


# --- 10. SVSAVF-2014-VLU-6.8 ----------------------------------------------------------------

VLU68 = "SVSAVF-2014-VLU-6.8"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "recommend"),
        ({"ceap": "C4b,s"}, "recommend"),
        ({"ceap": "C5,s"}, "recommend"),
        ({"ceap": "C6r,s"}, "recommend"),
        ({"ceap": "C4a,s"}, "not_applicable"),
        ({"ceap": "C4,s"}, "not_applicable"),
        ({"ceap": "C4c,s"}, "not_applicable"),
        ({"ceap": "C3,s"}, "not_applicable"),
        ({"ceap": None}, "insufficient_data:ceap"),
        ({"ceap": "X9"}, "insufficient_data:ceap"),
        ({"obstruction": {"type": "stenosis", "area_reduction_pct": 50}}, "recommend"),
        ({"obstruction": {"type": "stenosis", "area_reduction_pct": 49}}, "not_applicable"),
        ({"obstruction": {"type": "stenosis"}}, "insufficient_data:obstruction"),
        ({"obstruction": None}, "insufficient_data:obstruction"),
        ({"segments_involved": ["CFV", "FV"]}, "not_applicable"),
        ({"segments_involved": ["IVC"]}, "recommend"),
        ({"lesion_entity": "acute_thrombotic"}, "not_applicable"),
        ({"lesion_entity": "nivl"}, "recommend"),
        ({"lesion_entity": "iliocaval_atresia"}, "recommend"),
    ],
)
def test_vlu_6_8_criteria(overrides, expected):
    assert value(chronic_pto(**overrides), VLU68) == expected


def test_vlu_6_8_explains_ceap_as_recorded():
    entry = evaluate(chronic_pto())["rules"][VLU68]["criteria"][1]
    assert entry == {
        "id": "c-class",
        "label": "CEAP C4b, C5 or C6",
        "status": "met",
        "inputs": {"ceap": "C6,s Esi Ad Po"},
    }


# --- 11. SVSAVF-2014-VLU-6.9 ----------------------------------------------------------------

VLU69 = "SVSAVF-2014-VLU-6.9"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"segments_involved": ["CFV", "FV"]}, "consider"),
        ({"segments_involved": ["POPV"]}, "consider"),
        ({"segments_involved": ["CIV", "EIV"]}, "not_applicable"),
        ({"segments_involved": ["CFV"], "ceap": "C4a,s"}, "not_applicable"),
        ({"segments_involved": ["CFV"], "ceap": "C4b,a"}, "consider"),
        ({"segments_involved": ["CFV"], "ceap": None}, "insufficient_data:ceap"),
        ({"segments_involved": ["CFV"], "lesion_entity": "acute_thrombotic"}, "not_applicable"),
    ],
)
def test_vlu_6_9_infrainguinal_obstruction(overrides, expected):
    assert value(chronic_pto(**overrides), VLU69) == expected


# --- 12. ESVS-2015-CVD-STENT / ESVS-2022-CVD-STENT ------------------------------------------

ESVS_STENT = ("ESVS-2015-CVD-STENT", "ESVS-2022-CVD-STENT")


@pytest.mark.parametrize("rule", ESVS_STENT)
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "consider"),
        ({"obstruction": {"type": "stenosis", "area_reduction_pct": 49}}, "not_applicable"),
        ({"obstruction": None}, "insufficient_data:obstruction"),
        # symptomatic: CEAP s, or claudication, or QoL moderate/severe
        (sx("C6,a", False, "mild"), "not_applicable"),
        (sx("C6", False, "none"), "not_applicable"),
        (sx("C6,a", True, "none"), "consider"),
        (sx("C6,a", False, "moderate"), "consider"),
        (sx("C6,a", None, "mild"), "insufficient_data:ceap"),
        (sx(None, False, "none"), "insufficient_data:ceap"),
        ({"ceap": None, "venous_claudication": True}, "consider"),
        # clinically relevant: C >= C3, or claudication, or QoL moderate/severe
        (sx("C2,s", False, "mild"), "not_applicable"),
        (sx("C3,s", False, "mild"), "consider"),
        (sx("C4,s", False, "mild"), "consider"),
        (sx("C2r,s", False, "none"), "not_applicable"),
        (sx("C2,s", None, "none"), "insufficient_data:ceap"),
        (sx("C2,s", False, "severe"), "consider"),
        ({"segments_involved": ["FV", "POPV"]}, "not_applicable"),
        ({"segments_involved": ["CFV"]}, "consider"),
        ({"lesion_entity": "acute_thrombotic"}, "not_applicable"),
        ({"lesion_entity": "ivc_occlusion", "segments_involved": ["IVC"]}, "consider"),
    ],
)
def test_esvs_stent_criteria(rule, overrides, expected):
    assert value(chronic_pto(**overrides), rule) == expected


def test_esvs_stent_known_false_wins_over_unknown_ceap():
    facts = chronic_pto(ceap=None, obstruction={"type": "stenosis", "area_reduction_pct": 10})
    assert value(facts, "ESVS-2015-CVD-STENT") == "not_applicable"


# --- 13. ESVS-2022-CVD-NIVL-ASX --------------------------------------------------------------

ASX = "ESVS-2022-CVD-NIVL-ASX"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "not_applicable"),
        (sx("C1,a", False, "none"), "against"),
        (sx("C3", False, "mild"), "against"),
        (sx("C3,s", False, "none"), "not_applicable"),
        (sx("C1,a", None, "none"), "insufficient_data:ceap"),
        (sx(None, False, "none"), "insufficient_data:ceap"),
        (sx("C1,a", False, None), "insufficient_data:ceap"),
        (sx(None, None, "severe"), "not_applicable"),
        (
            {"lesion_entity": "chronic_post_thrombotic", **sx("C1,a", False, "none")},
            "not_applicable",
        ),
    ],
)
def test_nivl_asymptomatic_guard(overrides, expected):
    assert value(nivl(**overrides), ASX) == expected


# --- 14. CIRSE-2014-ICS ---------------------------------------------------------------------

CIRSE = "CIRSE-2014-ICS"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "consider"),
        ({"ceap": "C3"}, "consider"),
        ({"ceap": "C2,s"}, "not_applicable"),
        ({"ceap": "C2r,s"}, "not_applicable"),
        ({"ceap": "C4,s"}, "consider"),
        ({"ceap": "C4a,s"}, "consider"),
        ({"ceap": "C4c,a"}, "consider"),
        ({"ceap": "C6r,s"}, "consider"),
        ({"ceap": "C1,s"}, "not_applicable"),
        ({"ceap": None}, "insufficient_data:ceap"),
        ({"obstruction": {"type": "stenosis", "area_reduction_pct": 49}}, "not_applicable"),
        ({"obstruction": {"type": "stenosis", "area_reduction_pct": 50}}, "consider"),
        ({"obstruction": {"area_reduction_pct": 30}}, "insufficient_data:obstruction"),
        ({"segments_involved": ["DFV"]}, "not_applicable"),
    ],
)
def test_cirse_criteria(overrides, expected):
    assert value(chronic_pto(**overrides), CIRSE) == expected


# --- 15./16. SIR-2023-CIVO-03 and -04 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (chronic_pto(), "recommend"),
        (nivl(), "recommend"),
        (chronic_pto(lesion_entity="ivc_occlusion"), "recommend"),
        (chronic_pto(lesion_entity="iliocaval_atresia", segments_involved=None), "recommend"),
        (acute_if(), "not_applicable"),
        (chronic_pto(lesion_entity=None), "not_applicable"),
    ],
)
def test_civo_03_optimise_conservative_therapy(facts, expected):
    assert value(facts, "SIR-2023-CIVO-03") == expected


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (chronic_pto(ulcer="active"), "recommend"),
        (acute_if(ulcer="active"), "recommend"),
        ({"ulcer": "active"}, "recommend"),
        (chronic_pto(ulcer="healed"), "not_applicable"),
        (chronic_pto(ulcer=None), "not_applicable"),
        (chronic_pto(ulcer="none", ceap="C6,s"), "not_applicable"),
    ],
)
def test_civo_04_ulcer_care(facts, expected):
    assert value(facts, "SIR-2023-CIVO-04") == expected


# --- 17. SIR-2023-CIVO-05 -------------------------------------------------------------------

CIVO05 = "SIR-2023-CIVO-05"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (chronic_pto(), "consider"),
        (chronic_pto(qol_impairment="moderate"), "consider"),
        (chronic_pto(qol_impairment="mild"), "against"),
        (chronic_pto(qol_impairment="none"), "against"),
        (chronic_pto(qol_impairment=None), "insufficient_data:qol_impairment"),
        (chronic_pto(obstruction={"type": "stenosis", "area_reduction_pct": 40}), "against"),
        (chronic_pto(obstruction=None), "insufficient_data:obstruction"),
        (chronic_pto(segments_involved=["FV", "POPV"]), "against"),
        (chronic_pto(segments_involved=None), "insufficient_data:segments_involved"),
        (chronic_pto(inflow="poor"), "against"),
        (chronic_pto(inflow=None), "insufficient_data:inflow"),
        # (d) post-thrombotic defaults to high stent-thrombosis risk
        (chronic_pto(long_term_anticoagulation_possible=False), "against"),
        (
            chronic_pto(long_term_anticoagulation_possible=None),
            "insufficient_data:long_term_anticoagulation_possible",
        ),
        (
            chronic_pto(long_term_anticoagulation_possible=False, stent_thrombosis_risk="low"),
            "consider",
        ),
        # NIVL defaults to low risk, so (d) holds without anticoagulation ...
        (nivl(long_term_anticoagulation_possible=False), "consider"),
        (nivl(long_term_anticoagulation_possible=None), "consider"),
        # ... unless thrombophilia is recorded or the risk is recorded high
        (nivl(long_term_anticoagulation_possible=False, thrombophilia=True), "against"),
        (nivl(long_term_anticoagulation_possible=False, stent_thrombosis_risk="high"), "against"),
        (acute_if(), "not_applicable"),
    ],
)
def test_civo_05_criteria(facts, expected):
    assert value(facts, CIVO05) == expected


def test_civo_05_order_and_false_wins():
    facts = chronic_pto(qol_impairment=None, inflow=None)
    assert value(facts, CIVO05) == "insufficient_data:qol_impairment"
    facts = chronic_pto(qol_impairment=None, inflow="poor")
    assert value(facts, CIVO05) == "against"
    assert statuses(facts, CIVO05) == {
        "population": "met",
        "life-interference": "unknown",
        "obstruction": "met",
        "inflow": "unmet",
        "anticoagulation": "met",
    }


# --- 18. DEV-IFU-CONTRA ---------------------------------------------------------------------

DEV = "DEV-IFU-CONTRA"


@pytest.mark.parametrize(
    "field",
    ["severe_tortuosity", "diameter_mismatch", "active_infection", "endovascular_contraindication"],
)
def test_device_contraindication_any_item(field):
    assert value(chronic_pto(**{field: True}), DEV) == "against"
    assert value(acute_if(**{field: True}), DEV) == "against"
    assert value(chronic_pto(**{field: "true"}), DEV) == "against"


def test_device_contraindication_unrecorded_is_not_applicable():
    facts = chronic_pto(
        severe_tortuosity=None,
        diameter_mismatch=None,
        active_infection=None,
        endovascular_contraindication=None,
    )
    assert value(facts, DEV) == "not_applicable"
    assert value(chronic_pto(), DEV) == "not_applicable"


# --- 19. ESVS-2022-CVD-IVUS / -AT / -FU -------------------------------------------------------

PATHWAY_RULES = ("ESVS-2022-CVD-IVUS", "ESVS-2022-CVD-AT", "ESVS-2022-CVD-FU")


@pytest.mark.parametrize("rule", PATHWAY_RULES)
def test_stent_pathway_rules(rule):
    assert value(chronic_pto(), rule) == "consider"
    assert value(acute_if(), rule) == "consider"  # via ETR-05
    assert value(acute_if(underlying_iliac_lesion=False), rule) == "not_applicable"
    assert value(chronic_pto(active_infection=True), rule) == "not_applicable"
    assert value(chronic_pto(obstruction={"type": "stenosis", "area_reduction_pct": 20}), rule) == (
        "not_applicable"
    )


def test_stent_pathway_active_needs_an_indication_rule():
    # Only SIR-2023-CIVO-05 fires (ceap C2 without s: no ESVS/CIRSE/6.8), still a stent pathway.
    facts = chronic_pto(
        ceap="C2", venous_claudication=False, qol_impairment="severe", segments_involved=["CIV"]
    )
    result = evaluate(facts)
    assert result["rules"]["CIRSE-2014-ICS"]["value"] == "not_applicable"
    assert result["rules"][CIVO05]["value"] == "consider"
    assert result["derived"]["stent_pathway_active"] is True


# --- Overall status and precedence ------------------------------------------------------------


def test_overall_contraindicated_defer_with_stent_indication():
    assert evaluate(chronic_pto(severe_tortuosity=True))["overall"] == "contraindicated_defer"


def test_overall_contraindicated_defer_with_etr_candidate():
    result = evaluate(acute_if(active_infection=True))
    assert result["derived"]["etr_candidate"] is True
    assert result["overall"] == "contraindicated_defer"
    assert result["planning"] is None
    assert result["follow_up_entity"] is None


def test_overall_contraindicated_defer_outranks_insufficient_data():
    result = evaluate(chronic_pto(diameter_mismatch=True, inflow=None))
    assert result["rules"][CIVO05]["value"] == "insufficient_data:inflow"
    assert result["overall"] == "contraindicated_defer"


def test_overall_device_contraindication_without_indication_is_not_defer():
    facts = chronic_pto(
        severe_tortuosity=True, obstruction={"type": "stenosis", "area_reduction_pct": 10}
    )
    assert evaluate(facts)["overall"] == "conservative"


def test_overall_insufficient_data_outranks_etr_candidate():
    result = evaluate(acute_if(first_episode=None))
    assert result["derived"]["etr_candidate"] is True
    assert result["overall"] == "insufficient_data"
    assert result["missing"] == ["first_episode"]
    assert result["planning"] is None


def test_overall_etr_candidate():
    result = evaluate(acute_if())
    assert result["overall"] == "etr_candidate"


def test_overall_stent_conflict():
    result = evaluate(chronic_pto(inflow="poor"))
    assert result["rules"][CIVO05]["value"] == "against"
    assert result["derived"]["stent_pathway_active"] is True
    assert result["overall"] == "stent_conflict"
    assert result["planning"] is not None


def test_overall_stent_indicated():
    assert evaluate(chronic_pto())["overall"] == "stent_indicated"


def test_overall_anticoagulation_only():
    facts = acute_if(symptom_onset_days=20, bleeding_risk=HIGH_BLEEDING)
    result = evaluate(facts)
    assert result["derived"]["etr_candidate"] is False
    assert result["overall"] == "anticoagulation_only"
    assert result["planning"] is None
    assert evaluate(acute_if(segments_involved=["FV", "POPV"]))["overall"] == (
        "anticoagulation_only"
    )


def test_overall_conservative():
    facts = chronic_pto(obstruction={"type": "stenosis", "area_reduction_pct": 30})
    assert evaluate(facts)["overall"] == "conservative"
    assert evaluate({})["overall"] == "conservative"


def test_overall_insufficient_data_lists_missing_fields():
    result = evaluate(chronic_pto(obstruction=None, inflow=None))
    assert result["overall"] == "insufficient_data"
    assert result["missing"] == ["obstruction"]
    result = evaluate(chronic_pto(inflow=None, ceap=None))
    assert result["missing"] == ["ceap", "inflow"]


# --- Worked example: the contract example of docs/evaluation.md#example ----------------------


def test_worked_example_reproduces_the_documented_contract_example():
    """docs/evaluation.md#example: chronic post-thrombotic C6 limb, stent indicated, femoral
    mid-thigh access.

    The example's access list ([femoral_midthigh, popliteal_prone]) is the one for a chronic
    lesion *with CFV disease*, so the case involves the CFV, which the planning block then also
    sizes (13 mm, docs/planning.md#planning-block). Every value the example shows is reproduced.
    """
    facts = chronic_pto(segments_involved=["CIV", "EIV", "CFV"])
    result = evaluate(facts)
    assert result["overall"] == "stent_indicated"
    assert result["cdt_contraindication"] is None
    vlu = result["rules"]["SVSAVF-2014-VLU-6.8"]
    assert vlu["value"] == "recommend"
    assert {"id": "c-class", "status": "met", "inputs": {"ceap": "C6,s Esi Ad Po"}}.items() <= (
        vlu["criteria"][1].items()
    )
    assert result["derived"]["dvt_phase"] is None
    assert result["derived"]["iliofemoral"] is False
    assert result["derived"]["significant_obstruction"] is True
    planning = result["planning"]
    assert planning["primary_access"] == "femoral_midthigh"
    assert planning["access_options"] == ["femoral_midthigh", "popliteal_prone"]
    assert planning["bilateral_access"] is False
    assert planning["jugular"] == "optional"
    assert planning["bilateral_extension"] is False
    assert {"CIV": 16, "EIV": 14}.items() <= planning["stent_diameter_mm"].items()
    assert planning["stent_diameter_mm"] == {"CIV": 16, "EIV": 14, "CFV": 13}
    assert result["follow_up_entity"] == "post_thrombotic"
    assert set(result) == {
        "overall",
        "cdt_contraindication",
        "rules",
        "derived",
        "planning",
        "follow_up_entity",
        "missing",
    }
    json.dumps(result, allow_nan=False)


def test_worked_example_without_cfv_gives_example_sizes():
    planning = evaluate(chronic_pto())["planning"]
    assert planning["stent_diameter_mm"] == {"CIV": 16, "EIV": 14}
    assert planning["access_options"] == ["femoral", "femoral_midthigh", "popliteal_prone"]


def test_derived_block_keys_and_values():
    derived = evaluate(acute_if())["derived"]
    assert derived == {
        "dvt_phase": "acute",
        "iliofemoral": True,
        "iliocaval": False,
        "femoropopliteal_only": False,
        "proximal": True,
        "c_classes": ["C3"],
        "symptomatic": True,
        "clinically_relevant": True,
        "significant_obstruction": None,
        "bleeding_ok": True,
        "contraindication_class": "none",
        "anticoagulation_contraindicated": False,
        "stent_thrombosis_risk": "high",
        "etr_candidate": True,
        "stent_pathway_active": True,
        "device_contraindicated": False,
    }


# --- API: options, rule sets, evaluate_rule, purity -----------------------------------------------


def test_severe_threshold_option():
    facts = chronic_pto(obstruction={"type": "stenosis", "area_reduction_pct": 55})
    assert evaluate(facts)["derived"]["significant_obstruction"] is True
    strict = evaluate(facts, options=EngineOptions(severe_threshold=61))
    assert strict["derived"]["significant_obstruction"] is False
    assert strict["rules"]["SVSAVF-2014-VLU-6.8"]["value"] == "not_applicable"


@pytest.mark.parametrize("threshold", [0, -1, 101, float("nan"), "50", True])
def test_severe_threshold_must_be_a_percentage(threshold):
    with pytest.raises(ValueError, match="severe_threshold"):
        EngineOptions(severe_threshold=threshold)


def test_evaluate_does_not_mutate_facts():
    facts = chronic_pto(segments_involved="CIV, EIV")
    before = copy.deepcopy(facts)
    evaluate(facts)
    assert facts == before


def test_default_ruleset_is_compiled_once_and_immutable():
    ruleset = default_ruleset()
    assert default_ruleset() is ruleset
    assert isinstance(ruleset, RuleSet)
    assert ruleset.version.startswith("files:")
    assert len(ruleset.definitions) == 38
    with pytest.raises(AttributeError):
        ruleset.version = "x"


def test_compile_ruleset_with_a_subset_of_rules():
    definitions = [
        d for d in load_rule_files() if d["id"] in {"DEV-IFU-CONTRA", "ESVS-2022-CVD-FU"}
    ]
    ruleset = compile_ruleset(definitions, version="test-1")
    result = evaluate(chronic_pto(), ruleset)
    assert set(result["rules"]) == {"DEV-IFU-CONTRA", "ESVS-2022-CVD-FU"}
    assert result["rules"]["ESVS-2022-CVD-FU"]["value"] == "not_applicable"
    assert result["overall"] == "conservative"
    assert ruleset.version == "test-1"


def test_compile_ruleset_rejects_invalid_definitions():
    bad = [*load_rule_files(), {"id": "X"}]
    with pytest.raises(RuleSetError) as caught:
        compile_ruleset(bad)
    assert any(problem.startswith("rules[38] (X): ") for problem in caught.value.problems)


def _definition(rule_id):
    return next(d for d in load_rule_files() if d["id"] == rule_id)


def test_evaluate_rule_single_rule():
    result = evaluate_rule(_definition(ETR03), acute_if(first_episode=False))
    assert result["value"] == "against"
    assert [c["status"] for c in result["criteria"]] == ["met", "met", "unmet", "met", "met", "met"]


def test_evaluate_rule_computes_outcomes_with_the_default_rule_set():
    assert evaluate_rule(_definition(VT_AC), acute_if())["value"] == "recommend"
    assert evaluate_rule(_definition(VT_AC), chronic_pto())["value"] == "not_applicable"


def test_evaluate_rule_uses_given_context():
    result = evaluate_rule(_definition(VT_AC), chronic_pto(), context={"etr_candidate": True})
    assert result["value"] == "recommend"
    result = evaluate_rule(
        _definition(ETR05),
        acute_if(),
        context={"etr_candidate": True, "device_contraindicated": True},
    )
    assert result["value"] == "not_applicable"


def test_evaluate_rule_rejects_info_rules_and_invalid_definitions():
    with pytest.raises(RuleSetError, match="info rules"):
        evaluate_rule(_definition("SVSAVF-2012-ETR-01"), acute_if())
    broken = {**_definition(ETR03), "population": {"input": "nope", "op": "is_true"}}
    with pytest.raises(RuleSetError, match=r"population\.input: 'nope' is not a known input"):
        evaluate_rule(broken, acute_if())


def test_normalise_facts_has_every_field():
    facts = normalise_facts({"age": 40, "junk": 1})
    assert facts["age"] == 40
    assert "junk" not in facts
    assert facts["lesion_entity"] is None
    assert len(facts) == 33


def test_outcome_dependencies_match_the_engine_code():
    """vocabulary.OUTCOME_DEPENDENCIES (used to order rules) names the rules engine.py reads."""
    from guidelines import engine
    from guidelines.vocabulary import OUTCOME_DEPENDENCIES

    stent_rules = {rule for rule, _ in engine._STENT_INDICATIONS} | {
        engine._DEVICE_RULE,
        engine._PREGNANCY_RULE,
        engine._NIVL_ASX,
    }
    assert set(OUTCOME_DEPENDENCIES["stent_pathway_active"]) == stent_rules
    assert OUTCOME_DEPENDENCIES["device_contraindicated"] == (engine._DEVICE_RULE,)
    assert set(OUTCOME_DEPENDENCIES["etr_candidate"]) == set(engine._ETR_RULES)
    assert set(engine._OUTCOMES) == set(OUTCOME_DEPENDENCIES)


def test_every_input_is_a_fact_a_derived_value_or_an_outcome():
    """The compiled rules read an input from the normalised facts, from the values _derive
    gives (by position, in the order of engine._DERIVED_INPUTS) or from the rule outcomes."""
    from guidelines import engine
    from guidelines.vocabulary import INPUTS, OUTCOME_INPUTS

    derived = engine._DERIVED_INPUTS
    assert len(set(derived)) == len(derived)
    assert set(derived) == set(INPUTS) - engine._FACT_INPUTS - set(OUTCOME_INPUTS)
    values, _block = engine._derive(normalise_facts({}), 50.0)
    assert len(values) == len(derived)


def test_a_deeply_nested_criterion_compiles_and_names_its_first_unrecorded_field():
    """Each part of an expression is a statement of its own in the compiled rule set, so no
    nesting limit of the Python parser applies (225 levels here)."""
    test = {
        "any": [
            {"input": "symptom_severity", "op": "eq", "value": "severe"},
            {"input": "phlegmasia", "op": "is_true"},
        ]
    }
    for level in range(150):
        if level % 2:
            test = {"not": {"not": test}}
        else:
            test = {"all": [test, {"input": "ambulatory", "op": "is_true"}]}
    deep = {**_definition(SIR_SEL), "criteria": [{"id": "deep", "label": "Deep", "test": test}]}
    others = [d for d in load_rule_files() if d["id"] != SIR_SEL]
    ruleset = compile_ruleset([*others, deep], version="deep")
    facts = acute_if(symptom_severity=None, phlegmasia=None)
    result = evaluate(facts, ruleset)["rules"][SIR_SEL]
    assert result["value"] == "insufficient_data:symptom_severity"
    assert evaluate_rule(deep, facts)["value"] == "insufficient_data:symptom_severity"
    assert evaluate_rule(deep, acute_if(phlegmasia=True))["value"] == "consider"
