"""How the engine reads a case where the sources leave the reading open, one named test each.

The tests are named by the readings of docs/evaluation.md they check: c1 not recorded values
(docs/evaluation.md#not-recorded), c2 populations (docs/evaluation.md#populations), c3 criteria
(docs/evaluation.md#criteria), c4 and c15 rule readings (docs/evaluation.md#rule-readings,
docs/evaluation.md#overall-status), c5 the missing field an OR names
(docs/evaluation.md#naming-the-missing-field), c6 compound facts
(docs/evaluation.md#compound-facts), c7 symptoms (docs/evaluation.md#symptoms), c8 CEAP classes
(docs/evaluation.md#ceap-classes), c9 thresholds (docs/evaluation.md#day-14-and-other-thresholds),
c10 segment sets (docs/evaluation.md#segment-sets), c11 the stent thrombosis risk
(docs/evaluation.md#stent-thrombosis-risk), c12 the thrombolysis contraindication output
(docs/evaluation.md#thrombolysis-contraindication), c13 the planning block
(docs/planning.md#planning-block) and c14 the follow-up entity
(docs/followup.md#follow-up-entity).
"""

import pytest

from guidelines.engine import evaluate, normalise_facts
from tests.guidelines.builders import acute_if, chronic_pto, nivl, value

ETR03 = "SVSAVF-2012-ETR-03"
SEGMENT_OR_ENTITY_RULES = (
    "SVSAVF-2012-ETR-03",
    "SVSAVF-2012-ETR-04",
    "ESVS-2021-VT-ETR",
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
    "SIR-2023-CIVO-03",
    "SIR-2023-CIVO-05",
)


@pytest.mark.parametrize("missing", ["<absent>", None, "", "unknown", "  ", "maybe", 1, 0, [], {}])
def test_c1_not_recorded_values(missing):
    facts = acute_if()
    if missing == "<absent>":
        del facts["first_episode"]
    else:
        facts["first_episode"] = missing
    assert value(facts, ETR03) == "insufficient_data:first_episode"


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("TRUE", True), (" False ", False)])
def test_c1_booleans_accept_strings(raw, expected):
    assert normalise_facts({"first_episode": raw})["first_episode"] is expected


def test_c1_booleans_are_not_numbers():
    facts = normalise_facts({"symptom_onset_days": True, "life_expectancy_years": False})
    assert facts["symptom_onset_days"] is None
    assert facts["life_expectancy_years"] is None
    assert value(acute_if(symptom_onset_days=True), ETR03) == "insufficient_data:symptom_onset_days"


def test_c1_values_outside_the_vocabulary_are_not_recorded():
    facts = normalise_facts(
        {
            "lesion_entity": "subacute",
            "side": "both",
            "qol_impairment": 3,
            "segments_involved": ["XYZ", 7],
            "obstruction": {"type": "kinked", "area_reduction_pct": 140},
            "bleeding_risk": {"level": "medium", "contraindication_class": "mild"},
            "symptom_onset_days": -3,
            "ceap": "not ceap",
        }
    )
    assert facts["lesion_entity"] is None
    assert facts["side"] is None
    assert facts["qol_impairment"] is None
    assert facts["segments_involved"] is None
    assert facts["obstruction"] is None
    assert facts["bleeding_risk"] is None
    assert facts["symptom_onset_days"] is None
    assert facts["ceap"] is None


def test_c1_lenient_but_exact_forms():
    facts = normalise_facts(
        {
            "lesion_entity": " Acute_Thrombotic ",
            "segments_involved": "civ, EIV ,cfv,GSVa",
            "symptom_onset_days": "14",
            "obstruction": {"type": "stenosis", "area_reduction_pct": "55%"},
            "bleeding_risk": "low",
            "underlying_iliac_lesion": "unknown",
        }
    )
    assert facts["lesion_entity"] == "acute_thrombotic"
    assert facts["segments_involved"] == ["GSVa", "CIV", "EIV", "CFV"]  # CEAP 2020 order
    assert facts["symptom_onset_days"] == 14
    assert facts["obstruction"] == {
        "type": "stenosis",
        "area_reduction_pct": 55,
        "diameter_reduction_pct": None,
    }
    assert facts["bleeding_risk"] == {
        "level": "low",
        "contraindication_class": None,
        "factors": None,
    }
    assert facts["underlying_iliac_lesion"] is None


def test_c1_coded_values_as_django_choices_read_as_their_codes():
    from django.db import models

    class Entity(models.TextChoices):
        ACUTE = "acute_thrombotic"

    class Segment(models.TextChoices):
        CIV = "CIV"
        EIV = "EIV"

    facts = acute_if(lesion_entity=Entity.ACUTE, segments_involved=[Segment.CIV, Segment.EIV])
    assert evaluate(facts) == evaluate(acute_if(segments_involved=["CIV", "EIV"]))


@pytest.mark.parametrize("document", [None, [], "facts", 3, 2.5, True, [{"lesion_entity": "nivl"}]])
def test_c1_a_non_object_document_is_empty_facts(document):
    assert evaluate(document) == evaluate({})


@pytest.mark.parametrize("field", ["lesion_entity", "segments_involved"])
def test_c2_unknown_population_is_not_applicable(field):
    for facts in (acute_if(**{field: None}), chronic_pto(**{field: None})):
        result = evaluate(facts)
        for rule in SEGMENT_OR_ENTITY_RULES:
            if field == "segments_involved" and rule in {
                "SVSAVF-2012-ETR-04",  # ACUTE only
                "SIR-2014-QI-CONTRA",  # ACUTE only
                "ESVS-2022-CVD-NIVL-ASX",  # entity only
                "SIR-2023-CIVO-03",  # CHRONIC only
                "SIR-2023-CIVO-05",  # CHRONIC only; (b) reads the segments
            }:
                continue
            assert result["rules"][rule]["value"] == "not_applicable", rule


def test_c2_one_line_rule_needs_known_true_condition():
    assert value(acute_if(phlegmasia=None), "SVSAVF-2012-ETR-04") == "not_applicable"
    assert value(chronic_pto(ulcer=None), "SIR-2023-CIVO-04") == "not_applicable"
    assert value(chronic_pto(severe_tortuosity=None), "DEV-IFU-CONTRA") == "not_applicable"


def test_c3_known_false_wins_over_unknown_whatever_the_order():
    # first criterion unknown, last criterion false
    facts = acute_if(symptom_onset_days=None, life_expectancy_years=0.5)
    assert value(facts, ETR03) == "against"
    # first criterion false, later unknown
    facts = acute_if(symptom_onset_days=30, ambulatory=None)
    assert value(facts, ETR03) == "against"


@pytest.mark.parametrize(
    ("phlegmasia", "expected"),
    [(False, "against"), (None, "not_applicable"), (True, "not_applicable")],
)
def test_c4_accp_needs_phlegmasia_recorded_false(phlegmasia, expected):
    assert value(acute_if(phlegmasia=phlegmasia), "ACCP-2016-CDT") == expected


@pytest.mark.parametrize(
    ("severity", "phlegmasia", "expected"),
    [
        ("severe", None, "consider"),
        (None, True, "consider"),
        ("moderate", False, "against"),
        (None, False, "insufficient_data:symptom_severity"),
        (None, None, "insufficient_data:symptom_severity"),
        ("mild", None, "insufficient_data:phlegmasia"),
        ("bad", None, "insufficient_data:symptom_severity"),
    ],
)
def test_c5_severity_or_phlegmasia_is_three_valued(severity, phlegmasia, expected):
    facts = acute_if(symptom_severity=severity, phlegmasia=phlegmasia)
    assert value(facts, "SIR-2023-AIDVT-SEL") == expected


@pytest.mark.parametrize(
    ("bleeding", "expected"),
    [
        ({"level": "low", "contraindication_class": "none"}, True),
        ({"level": "high", "contraindication_class": "none"}, False),
        ({"level": "high"}, False),
        ({"contraindication_class": "relative"}, False),
        ({"level": "low", "contraindication_class": "absolute"}, False),
        ({"level": "low"}, None),
        ({"contraindication_class": "none"}, None),
        ({"level": "low", "factors": ["uncontrolled_hypertension"]}, False),
        (None, None),
    ],
)
def test_c6_bleeding_ok_is_three_valued(bleeding, expected):
    result = evaluate(acute_if(bleeding_risk=bleeding))
    assert result["derived"]["bleeding_ok"] is expected


@pytest.mark.parametrize(
    ("obstruction", "expected"),
    [
        ({"type": "occlusion"}, True),
        ({"type": "occlusion", "area_reduction_pct": 20}, True),
        ({"type": "stenosis", "area_reduction_pct": 50}, True),
        ({"area_reduction_pct": 80}, True),
        ({"type": "stenosis", "area_reduction_pct": 49.9}, False),
        ({"type": "stenosis"}, None),
        ({"area_reduction_pct": 30}, None),
        ({"type": "stenosis", "diameter_reduction_pct": 90}, None),
        (None, None),
    ],
)
def test_c6_significant_obstruction_is_three_valued(obstruction, expected):
    result = evaluate(chronic_pto(obstruction=obstruction))
    assert result["derived"]["significant_obstruction"] is expected


def test_c6_diameter_reduction_is_shown_but_not_used():
    facts = chronic_pto(
        obstruction={"type": "stenosis", "area_reduction_pct": 40, "diameter_reduction_pct": 80}
    )
    result = evaluate(facts)
    assert result["derived"]["significant_obstruction"] is False
    entry = result["rules"]["CIRSE-2014-ICS"]["criteria"][2]
    assert entry["inputs"]["obstruction"]["diameter_reduction_pct"] == 80


def test_c7_esvs_stent_names_ceap_for_unknown_symptoms():
    facts = chronic_pto(ceap="C6", venous_claudication=None, qol_impairment="mild")
    for rule in ("ESVS-2015-CVD-STENT", "ESVS-2022-CVD-STENT"):
        assert value(facts, rule) == "insufficient_data:ceap"
    facts = chronic_pto(ceap="C6,s", venous_claudication=None, qol_impairment=None)
    assert value(facts, "ESVS-2015-CVD-STENT") == "consider"


def test_c7_ceap_without_subscript_is_not_symptomatic_by_ceap():
    facts = chronic_pto(ceap="C6 Esi Ad Po", venous_claudication=False, qol_impairment="mild")
    result = evaluate(facts)
    assert result["derived"]["symptomatic"] is False
    assert result["rules"]["ESVS-2015-CVD-STENT"]["value"] == "not_applicable"


@pytest.mark.parametrize(
    ("ceap", "vlu68", "cirse"),
    [
        ("C6r,s", "recommend", "consider"),
        ("C2r,s", "not_applicable", "not_applicable"),
        ("C4,s", "not_applicable", "consider"),
        ("C4b,s", "recommend", "consider"),
        ("C2,4b,s", "recommend", "consider"),
        ("C3,C4a,s", "not_applicable", "consider"),
        ("c5,s", "recommend", "consider"),
        ("C4b,s Es Ai,p Pr,o", "recommend", "consider"),  # invalid A part, readable C part
        ("Cz,s", "insufficient_data:ceap", "insufficient_data:ceap"),
        ("", "insufficient_data:ceap", "insufficient_data:ceap"),
    ],
)
def test_c8_ceap_classes_are_a_set(ceap, vlu68, cirse):
    facts = chronic_pto(ceap=ceap)
    assert value(facts, "SVSAVF-2014-VLU-6.8") == vlu68
    assert value(facts, "CIRSE-2014-ICS") == cirse


def test_c8_derived_c_classes_keep_the_written_classes():
    assert evaluate(chronic_pto(ceap="C6r,2,s"))["derived"]["c_classes"] == ["C2", "C6r"]
    assert evaluate(chronic_pto(ceap="junk"))["derived"]["c_classes"] is None


@pytest.mark.parametrize(
    ("days", "phase", "onset_met"),
    [
        (0, "acute", True),
        (14, "acute", True),
        (15, "subacute", False),
        (28, "subacute", False),
        (29, "chronic", False),
        (400, "chronic", False),
    ],
)
def test_c9_inclusive_day_threshold_and_phases(days, phase, onset_met):
    result = evaluate(acute_if(symptom_onset_days=days))
    assert result["derived"]["dvt_phase"] == phase
    onset = result["rules"][ETR03]["criteria"][1]
    assert onset["status"] == ("met" if onset_met else "unmet")


def test_c9_acute_case_past_day_28_is_not_reclassified():
    result = evaluate(acute_if(symptom_onset_days=60))
    assert result["derived"]["dvt_phase"] == "chronic"
    assert result["rules"]["SIR-2023-CIVO-03"]["value"] == "not_applicable"
    assert result["rules"]["ACCP-2016-CDT"]["value"] == "against"
    assert result["overall"] == "anticoagulation_only"


def test_c9_inclusive_area_and_life_expectancy():
    assert (
        value(
            chronic_pto(obstruction={"type": "stenosis", "area_reduction_pct": 50}),
            ("CIRSE-2014-ICS"),
        )
        == "consider"
    )
    assert value(acute_if(life_expectancy_years=1), ETR03) == "consider"
    assert value(acute_if(life_expectancy_years=0.99), ETR03) == "against"


@pytest.mark.parametrize(
    ("segments", "iliofemoral", "fp_only", "proximal"),
    [
        (["CIV"], True, False, True),
        (["EIV"], True, False, True),
        (["CFV"], True, False, True),
        (["IIV"], False, False, False),
        (["IVC"], False, False, False),
        (["FV"], False, True, True),
        (["POPV"], False, True, True),
        (["FV", "IIV"], False, True, True),
        (["FV", "IVC"], False, False, False),
        (["DFV"], False, False, False),
        (["TIBV", "MUSV"], False, False, False),
    ],
)
def test_c10_segment_sets_are_exactly_as_documented(segments, iliofemoral, fp_only, proximal):
    derived = evaluate(acute_if(segments_involved=segments))["derived"]
    assert derived["iliofemoral"] is iliofemoral
    assert derived["femoropopliteal_only"] is fp_only
    assert derived["proximal"] is proximal


def test_c10_iliocaval_is_iliofemoral_with_ivc():
    derived = evaluate(acute_if(segments_involved=["IVC", "CIV"]))["derived"]
    assert derived["iliofemoral"] is True
    assert derived["iliocaval"] is True


@pytest.mark.parametrize(
    ("facts", "risk"),
    [
        (chronic_pto(), "high"),
        (chronic_pto(lesion_entity="ivc_occlusion"), "high"),
        (chronic_pto(lesion_entity="iliocaval_atresia"), "high"),
        (chronic_pto(stent_thrombosis_risk="low"), "low"),
        (nivl(), "low"),
        (nivl(thrombophilia=False), "low"),
        (nivl(thrombophilia=True), "high"),
        (nivl(thrombophilia="true"), "high"),
        (nivl(thrombophilia=True, stent_thrombosis_risk="low"), "low"),
        (nivl(stent_thrombosis_risk="high"), "high"),
        ({}, None),
    ],
)
def test_c11_stent_thrombosis_risk_default_and_override(facts, risk):
    assert evaluate(facts)["derived"]["stent_thrombosis_risk"] == risk


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (acute_if(), "none"),
        (
            acute_if(bleeding_risk={"level": "high", "contraindication_class": "relative"}),
            "relative",
        ),
        (acute_if(bleeding_risk={"contraindication_class": "absolute"}), "absolute"),
        (acute_if(bleeding_risk=None), "unknown"),
        (acute_if(bleeding_risk={"level": "low"}), "unknown"),
        (chronic_pto(), None),
        (acute_if(lesion_entity=None), None),
    ],
)
def test_c12_cdt_contraindication_output(facts, expected):
    assert evaluate(facts)["cdt_contraindication"] == expected


def test_c13_side_unrecorded_is_not_bilateral():
    planning = evaluate(chronic_pto(side=None, segments_involved=["CIV", "EIV"]))["planning"]
    assert planning["bilateral_access"] is False
    assert planning["bilateral_extension"] is False
    assert planning["jugular"] == "optional"


def test_c13_sizes_for_every_involved_stentable_segment_only():
    facts = chronic_pto(
        side="bilateral", segments_involved=["IVC", "CIV", "EIV", "CFV", "FV", "POPV", "IIV"]
    )
    sizes = evaluate(facts)["planning"]["stent_diameter_mm"]
    assert sizes == {"IVC": 21, "CIV": 16, "EIV": 14, "CFV": 13}


def test_c13_planning_without_stent_has_no_sizes_and_no_follow_up():
    result = evaluate(acute_if(underlying_iliac_lesion=False))
    assert result["overall"] == "etr_candidate"
    assert result["derived"]["stent_pathway_active"] is False
    assert result["planning"]["stent_diameter_mm"] == {}
    assert result["follow_up_entity"] is None


@pytest.mark.parametrize(
    ("facts", "entity"),
    [
        (acute_if(), "acute_thrombotic"),
        (acute_if(segments_involved=["IVC", "CIV", "EIV"]), "acute_thrombotic"),
        (chronic_pto(), "post_thrombotic"),
        (chronic_pto(segments_involved=["IVC", "CIV"]), "ivc_reconstruction"),
        (nivl(), "nivl"),
        (nivl(segments_involved=["CIV", "IVC"]), "nivl"),
        (
            chronic_pto(lesion_entity="ivc_occlusion", segments_involved=["IVC"]),
            "ivc_reconstruction",
        ),
        (
            chronic_pto(lesion_entity="iliocaval_atresia", segments_involved=["CIV"]),
            ("ivc_reconstruction"),
        ),
    ],
)
def test_c14_follow_up_entity_mapping(facts, entity):
    result = evaluate(facts)
    assert result["derived"]["stent_pathway_active"] is True
    assert result["follow_up_entity"] == entity


def test_c15_etr04_population_is_acute_not_iliofemoral():
    facts = acute_if(phlegmasia=True, segments_involved=["POPV", "TIBV"])
    result = evaluate(facts)
    assert result["rules"]["SVSAVF-2012-ETR-04"]["value"] == "recommend"
    assert result["derived"]["iliofemoral"] is False
    assert result["overall"] == "etr_candidate"


def test_c15_device_rule_is_evaluated_for_acute_cases():
    result = evaluate(acute_if(endovascular_contraindication=True))
    assert result["rules"]["DEV-IFU-CONTRA"]["value"] == "against"
    assert result["overall"] == "contraindicated_defer"


def test_c15_contraindicated_defer_outranks_insufficient_data():
    result = evaluate(acute_if(severe_tortuosity=True, first_episode=None))
    assert result["missing"] == ["first_episode"]
    assert result["overall"] == "contraindicated_defer"


def test_c15_insufficient_data_outranks_other_statuses():
    result = evaluate(chronic_pto(long_term_anticoagulation_possible=None))
    assert result["derived"]["stent_pathway_active"] is True
    assert result["overall"] == "insufficient_data"


def test_c15_civo_04_reads_ulcer_not_ceap():
    assert value(chronic_pto(ceap="C6,s", ulcer="healed"), "SIR-2023-CIVO-04") == "not_applicable"
    assert value(chronic_pto(ceap="C2,s", ulcer="active"), "SIR-2023-CIVO-04") == "recommend"


@pytest.mark.parametrize("segments", [["GSVa"], ["Tel", "SSV"], ["TPV", "CPV"]])
def test_c1_superficial_and_perforator_segments_are_recorded_segments(segments):
    """segments_involved holds CEAP 2020 abbreviations, not only deep ones; a list without a
    deep segment is recorded, and involves no stentable segment (docs/evaluation.md#rule-readings:
    SIR-2023-CIVO-05 (b) is unmet)."""
    assert normalise_facts({"segments_involved": segments})["segments_involved"] == segments
    result = evaluate(chronic_pto(segments_involved=segments, obstruction={"type": "occlusion"}))
    assert result["rules"]["SIR-2023-CIVO-05"]["value"] == "against"
    assert result["overall"] == "conservative"
    assert evaluate(acute_if(segments_involved=segments))["overall"] == "anticoagulation_only"


def test_c15_civo_05_b_false_without_stentable_segment():
    facts = chronic_pto(segments_involved=["FV", "POPV"], obstruction={"type": "occlusion"})
    result = evaluate(facts)
    assert result["rules"]["SIR-2023-CIVO-05"]["value"] == "against"
    assert result["rules"]["SIR-2023-CIVO-05"]["criteria"][2]["status"] == "unmet"
