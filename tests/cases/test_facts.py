"""`case_facts` (cases/facts.py), field by field, for every lesion entity.

The facts document is the one bridge to the guideline rules, so its keys and vocabularies are
those of the engine's vocabulary (guidelines/vocabulary.py) and anything not recorded is None
(docs/evaluation.md#not-recorded). Most tests build
unsaved model instances and pass the findings in, so they need no database.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from cases import services
from cases.facts import case_facts, segments_involved, worst_obstruction
from cases.models import Case, Patient, SegmentFinding
from cases.thrombolysis import ABSOLUTE, RELATIVE

FACT_KEYS = {
    "age",
    "sex",
    "side",
    "lesion_entity",
    "nivl_cause",
    "ivc_filter_related",
    "thrombosis_entity",
    "segments_involved",
    "obstruction",
    "ceap",
    "ulcer",
    "venous_claudication",
    "qol_impairment",
    "bleeding_risk",
    "life_expectancy_years",
    "ambulatory",
    "pregnancy",
    "active_infection",
    "severe_tortuosity",
    "diameter_mismatch",
    "endovascular_contraindication",
    "symptom_onset_days",
    "first_episode",
    "phlegmasia",
    "symptom_severity",
    "underlying_iliac_lesion",
    "villalta",
    "vcss",
    "conservative_therapy_months",
    "inflow",
    "stent_thrombosis_risk",
    "thrombophilia",
    "long_term_anticoagulation_possible",
}
ABS = [code for code, _ in ABSOLUTE]
REL = [code for code, _ in RELATIVE]
NOT_RECORDED_BLEEDING = {"level": None, "contraindication_class": None, "factors": []}


def make_case(**fields: Any) -> Case:
    patient = Patient(
        identifier="P-1",
        date_of_birth=fields.pop("date_of_birth", dt.date(1975, 4, 12)),
        sex=fields.pop("sex", "female"),
    )
    fields.setdefault("case_date", dt.date(2026, 11, 2))
    fields.setdefault("side", "left")
    fields.setdefault("lesion_entity", "chronic_post_thrombotic")
    return Case(patient=patient, **fields)


def row(segment: str, finding: str, side: str = "left", **measures: Any) -> SegmentFinding:
    return SegmentFinding(segment=segment, side=side, finding=finding, **measures)


def scores(prefix: str, keys: list[str], grade: int) -> dict[str, int]:
    return {f"{prefix}_{key}": grade for key in keys}


VCSS = [
    "pain",
    "varicose_veins",
    "oedema",
    "pigmentation",
    "inflammation",
    "induration",
    "ulcer_number",
    "ulcer_duration",
    "ulcer_size",
    "compression",
]
VILLALTA = [
    "pain",
    "cramps",
    "heaviness",
    "paraesthesia",
    "pruritus",
    "pretibial_oedema",
    "skin_induration",
    "hyperpigmentation",
    "redness",
    "venous_ectasia",
    "calf_compression_pain",
]


def not_recorded(**recorded: Any) -> dict[str, Any]:
    """The facts of a case with nothing optional recorded, updated with ``recorded``."""
    facts: dict[str, Any] = dict.fromkeys(FACT_KEYS)
    facts["bleeding_risk"] = dict(NOT_RECORDED_BLEEDING)
    facts.update(recorded)
    return facts


def test_case_facts_keys_are_exactly_the_engine_inputs():
    assert set(case_facts(make_case(), [])) == FACT_KEYS


def test_case_facts_nothing_recorded_is_none():
    case = make_case(lesion_entity="nivl", side="right", sex="male")
    assert case_facts(case, []) == not_recorded(
        age=51, sex="male", side="right", lesion_entity="nivl"
    )


def test_case_facts_acute_thrombotic_field_by_field():
    case = make_case(
        lesion_entity="acute_thrombotic",
        side="left",
        case_date=dt.date(2026, 11, 2),
        symptom_onset_date=dt.date(2026, 10, 19),
        thrombosis_entity="descending",
        first_episode=True,
        phlegmasia=False,
        symptom_severity="severe",
        underlying_iliac_lesion="unknown",
        ceap="C3,s Esi Ad Po",
        ulcer="none",
        venous_claudication=None,
        qol_impairment="severe",
        life_expectancy_years=Decimal("30.0"),
        ambulatory=True,
        pregnancy=False,
        thrombophilia=False,
        active_infection=False,
        severe_tortuosity=False,
        diameter_mismatch=False,
        endovascular_contraindication=False,
        bleeding_risk_level="low",
        contraindications_assessed=True,
        thrombolysis_contraindications=[],
        **scores("villalta", VILLALTA, 1),
    )
    findings = [
        row("CFV", "thrombus", area_reduction_pct=70),
        row("CIV", "occlusion"),
        row("FV", "thrombus"),
    ]
    assert case_facts(case, findings) == {
        "age": 51,
        "sex": "female",
        "side": "left",
        "lesion_entity": "acute_thrombotic",
        "nivl_cause": None,
        "ivc_filter_related": None,
        "thrombosis_entity": "descending",
        "segments_involved": ["CIV", "CFV", "FV"],
        "obstruction": {
            "type": "occlusion",
            "area_reduction_pct": 100,
            "diameter_reduction_pct": 100,
        },
        "ceap": "C3,s Esi Ad Po",
        "ulcer": "none",
        "venous_claudication": None,
        "qol_impairment": "severe",
        "bleeding_risk": {"level": "low", "contraindication_class": "none", "factors": []},
        "life_expectancy_years": 30.0,
        "ambulatory": True,
        "pregnancy": False,
        "active_infection": False,
        "severe_tortuosity": False,
        "diameter_mismatch": False,
        "endovascular_contraindication": False,
        "symptom_onset_days": 14,
        "first_episode": True,
        "phlegmasia": False,
        "symptom_severity": "severe",
        "underlying_iliac_lesion": "unknown",
        "villalta": 11,
        "vcss": None,
        "conservative_therapy_months": None,
        "inflow": None,
        "stent_thrombosis_risk": None,
        "thrombophilia": False,
        "long_term_anticoagulation_possible": None,
    }


@pytest.mark.parametrize(
    ("onset", "days"),
    [
        (dt.date(2026, 11, 2), 0),
        (dt.date(2026, 11, 1), 1),
        (dt.date(2026, 10, 19), 14),
        (dt.date(2026, 10, 5), 28),
        (dt.date(2025, 11, 2), 365),
        (None, None),
    ],
)
def test_case_facts_symptom_onset_days_counts_back_from_the_case_date(onset, days):
    case = make_case(lesion_entity="acute_thrombotic", symptom_onset_date=onset)
    assert case_facts(case, [])["symptom_onset_days"] == days


@pytest.mark.parametrize(
    ("stored", "fact"),
    [("true", True), ("false", False), ("unknown", "unknown"), ("", None)],
)
def test_case_facts_underlying_iliac_lesion_is_three_valued(stored, fact):
    case = make_case(lesion_entity="acute_thrombotic", underlying_iliac_lesion=stored)
    assert case_facts(case, [])["underlying_iliac_lesion"] == fact


@pytest.mark.parametrize("value", [True, False, None])
def test_case_facts_acute_booleans_keep_not_recorded_apart_from_no(value):
    case = make_case(lesion_entity="acute_thrombotic", first_episode=value, phlegmasia=value)
    facts = case_facts(case, [])
    assert facts["first_episode"] is value
    assert facts["phlegmasia"] is value


def test_case_facts_chronic_post_thrombotic_field_by_field():
    case = make_case(
        lesion_entity="chronic_post_thrombotic",
        side="bilateral",
        sex="male",
        ceap="C4b,s Esi Ad Po (CIV,EIV,CFV)",
        ulcer="healed",
        venous_claudication=True,
        qol_impairment="moderate",
        conservative_therapy_months=6,
        inflow="good",
        stent_thrombosis_risk="high",
        long_term_anticoagulation_possible=True,
        bleeding_risk_level="high",
        life_expectancy_years=Decimal("12.5"),
        **scores("vcss", VCSS, 1),
        **scores("villalta", VILLALTA, 2),
    )
    findings = [
        row("CIV", "stenosis", area_reduction_pct=55, diameter_reduction_pct=30),
        row("EIV", "stenosis", area_reduction_pct=65, diameter_reduction_pct=45),
        row("CIV", "normal", side="right"),
    ]
    assert case_facts(case, findings) == not_recorded(
        age=51,
        sex="male",
        side="bilateral",
        lesion_entity="chronic_post_thrombotic",
        segments_involved=["CIV", "EIV"],
        obstruction={"type": "stenosis", "area_reduction_pct": 65, "diameter_reduction_pct": 45},
        ceap="C4b,s Esi Ad Po (CIV,EIV,CFV)",
        ulcer="healed",
        venous_claudication=True,
        qol_impairment="moderate",
        bleeding_risk={"level": "high", "contraindication_class": None, "factors": []},
        life_expectancy_years=12.5,
        vcss=10,
        villalta=22,
        conservative_therapy_months=6,
        inflow="good",
        stent_thrombosis_risk="high",
        long_term_anticoagulation_possible=True,
    )


@pytest.mark.parametrize(
    "cause", ["may_thurner", "tumour", "cyst", "retroperitoneal_fibrosis", "other_extrinsic"]
)
def test_case_facts_nivl_reports_the_nivl_cause(cause):
    case = make_case(lesion_entity="nivl", nivl_cause=cause, thrombophilia=True, ulcer="active")
    findings = [row("CIV", "compression", area_reduction_pct=62)]
    assert case_facts(case, findings) == not_recorded(
        age=51,
        sex="female",
        side="left",
        lesion_entity="nivl",
        nivl_cause=cause,
        thrombophilia=True,
        ulcer="active",
        segments_involved=["CIV"],
        obstruction={"type": "stenosis", "area_reduction_pct": 62, "diameter_reduction_pct": None},
    )


def test_case_facts_iliocaval_atresia_field_by_field():
    case = make_case(lesion_entity="iliocaval_atresia", side="bilateral", ambulatory=True)
    findings = [
        row("IVC", "occlusion", side="midline"),
        row("CIV", "occlusion", side="left"),
        row("CIV", "occlusion", side="right"),
    ]
    assert case_facts(case, findings) == not_recorded(
        age=51,
        sex="female",
        side="bilateral",
        lesion_entity="iliocaval_atresia",
        ambulatory=True,
        segments_involved=["IVC", "CIV"],
        obstruction={"type": "occlusion", "area_reduction_pct": 100, "diameter_reduction_pct": 100},
    )


@pytest.mark.parametrize("filter_related", [True, False, None])
def test_case_facts_ivc_occlusion_reports_ivc_filter_related(filter_related):
    case = make_case(
        lesion_entity="ivc_occlusion", side="bilateral", ivc_filter_related=filter_related
    )
    findings = [row("IVC", "occlusion", side="midline"), row("EIV", "stenosis", side="right")]
    assert case_facts(case, findings) == not_recorded(
        age=51,
        sex="female",
        side="bilateral",
        lesion_entity="ivc_occlusion",
        ivc_filter_related=filter_related,
        segments_involved=["IVC", "EIV"],
        obstruction={"type": "occlusion", "area_reduction_pct": 100, "diameter_reduction_pct": 100},
    )


def test_segments_involved_are_in_anatomical_order_without_normal_segments():
    findings = [
        row("POPV", "thrombus"),
        row("EIV", "stenosis"),
        row("IVC", "compression", side="midline"),
        row("CFV", "normal"),
        row("CIV", "occlusion", side="right"),
        row("CIV", "stenosis", side="left"),
        row("IIV", "thrombus"),
    ]
    assert segments_involved(findings) == ["IVC", "CIV", "IIV", "EIV", "POPV"]


def test_case_facts_segments_involved_is_none_when_every_segment_is_normal():
    facts = case_facts(make_case(), [row("CIV", "normal"), row("EIV", "normal")])
    assert facts["segments_involved"] is None
    assert facts["obstruction"] is None


def test_obstruction_occlusion_wins_over_a_measured_stenosis():
    findings = [row("CIV", "stenosis", area_reduction_pct=90), row("CFV", "occlusion")]
    assert worst_obstruction(findings) == {
        "type": "occlusion",
        "area_reduction_pct": 100,
        "diameter_reduction_pct": 100,
    }


def test_obstruction_occlusion_wins_over_an_unmeasured_stenosis():
    findings = [row("CIV", "stenosis"), row("EIV", "occlusion")]
    assert worst_obstruction(findings)["type"] == "occlusion"


def test_obstruction_stenosis_takes_the_largest_measured_area():
    findings = [
        row("CIV", "stenosis", area_reduction_pct=40, diameter_reduction_pct=50),
        row("EIV", "compression", area_reduction_pct=72, diameter_reduction_pct=20),
        row("CFV", "thrombus", area_reduction_pct=55),
    ]
    assert worst_obstruction(findings) == {
        "type": "stenosis",
        "area_reduction_pct": 72,
        "diameter_reduction_pct": 50,
    }


def test_obstruction_area_unknown_when_any_stentable_stenosis_is_unmeasured():
    findings = [row("CIV", "stenosis", area_reduction_pct=80), row("EIV", "stenosis")]
    assert worst_obstruction(findings) == {
        "type": "stenosis",
        "area_reduction_pct": None,
        "diameter_reduction_pct": None,
    }


def test_obstruction_ignores_non_stentable_segments():
    findings = [
        row("FV", "occlusion"),
        row("POPV", "occlusion"),
        row("IIV", "stenosis"),
        row("CIV", "stenosis", area_reduction_pct=45),
    ]
    assert worst_obstruction(findings) == {
        "type": "stenosis",
        "area_reduction_pct": 45,
        "diameter_reduction_pct": None,
    }


def test_obstruction_ignores_normal_stentable_segments():
    findings = [row("EIV", "normal"), row("CIV", "stenosis", area_reduction_pct=45)]
    assert worst_obstruction(findings)["area_reduction_pct"] == 45


def test_obstruction_is_none_with_only_non_stentable_disease():
    facts = case_facts(make_case(), [row("FV", "occlusion"), row("POPV", "thrombus")])
    assert facts["segments_involved"] == ["FV", "POPV"]
    assert facts["obstruction"] is None


def test_case_facts_bleeding_risk_class_is_none_while_not_assessed():
    case = make_case(bleeding_risk_level="low", contraindications_assessed=False)
    assert case_facts(case, [])["bleeding_risk"] == {
        "level": "low",
        "contraindication_class": None,
        "factors": [],
    }


@pytest.mark.parametrize(
    ("ticks", "klass"),
    [
        ([], "none"),
        ([REL[0]], "relative"),
        ([REL[0], ABS[0]], "absolute"),
    ],
)
def test_case_facts_bleeding_risk_class_is_derived_from_the_ticks_when_assessed(ticks, klass):
    case = make_case(
        bleeding_risk_level="high",
        contraindications_assessed=True,
        thrombolysis_contraindications=ticks,
    )
    assert case_facts(case, [])["bleeding_risk"] == {
        "level": "high",
        "contraindication_class": klass,
        "factors": ticks,
    }


def test_case_facts_vcss_and_villalta_only_when_complete():
    case = make_case(**scores("vcss", VCSS[:-1], 2), **scores("villalta", VILLALTA[1:], 1))
    facts = case_facts(case, [])
    assert facts["vcss"] is None
    assert facts["villalta"] is None
    case.vcss_compression = 0
    case.villalta_pain = 3
    facts = case_facts(case, [])
    assert facts["vcss"] == 18
    assert facts["villalta"] == 13


@pytest.mark.parametrize(
    ("case_date", "age"),
    [
        (dt.date(2026, 4, 11), 50),
        (dt.date(2026, 4, 12), 51),
        (dt.date(2026, 4, 13), 51),
        (dt.date(2026, 1, 1), 50),
        (dt.date(2026, 12, 31), 51),
    ],
)
def test_case_facts_age_is_on_the_case_date(case_date, age):
    case = make_case(date_of_birth=dt.date(1975, 4, 12), case_date=case_date)
    assert case_facts(case, [])["age"] == age


def test_case_facts_life_expectancy_is_a_float():
    facts = case_facts(make_case(life_expectancy_years=Decimal("0.5")), [])
    assert facts["life_expectancy_years"] == 0.5
    assert isinstance(facts["life_expectancy_years"], float)


@pytest.mark.django_db
def test_case_facts_reads_stored_findings_when_none_are_passed(case_a):
    facts = case_facts(case_a)
    assert facts["segments_involved"] == ["CIV"]
    assert facts["obstruction"]["type"] == "occlusion"


@pytest.mark.django_db
def test_case_facts_after_entity_change_reports_no_stale_inputs(case_a):
    """Saving clears inputs of another entity, so they never reach the rules."""
    services.case_update(
        case=case_a,
        user=case_a.author,
        data={
            "lesion_entity": "acute_thrombotic",
            "symptom_onset_date": dt.date(2026, 10, 30),
            "first_episode": True,
            "phlegmasia": True,
            "conservative_therapy_months": 6,
            "inflow": "poor",
            "vcss_pain": 2,
        },
    )
    assert case_facts(case_a)["symptom_onset_days"] == 3
    services.case_update(
        case=case_a, user=case_a.author, data={"lesion_entity": "nivl", "nivl_cause": "may_thurner"}
    )
    case = Case.objects.get(pk=case_a.pk)
    facts = case_facts(case)
    assert facts["lesion_entity"] == "nivl"
    assert facts["nivl_cause"] == "may_thurner"
    assert facts["symptom_onset_days"] is None
    assert facts["first_episode"] is None
    assert facts["phlegmasia"] is None
    assert facts["conservative_therapy_months"] is None
    assert facts["inflow"] is None
