"""The pre-filled plan (docs/planning.md): pure, no database."""

from __future__ import annotations

import pytest

from guidelines.engine import evaluate
from planning.proposal import (
    ANTITHROMBOTIC_DEFAULTS,
    Equipment,
    EquipmentSize,
    PlanDefaults,
    PlanRefused,
    access_sites_for,
    anaesthesia_for,
    draft_plan,
    open_contraindications,
    scenario_for,
)
from planning.sizing import Measurement, StentModel, StentSize
from tests.guidelines.builders import acute_if, chronic_pto, nivl

SHEATH = Equipment(
    1,
    "Introducer sheath",
    "sheath",
    sizes=tuple(EquipmentSize(10 + f, f"{f} F", french=f) for f in (6, 8, 10, 12, 14)),
)
EQUIPMENT = [
    SHEATH,
    Equipment(2, "0.035″ stiff-angled wire", "working_wire"),
    Equipment(3, "Asahi Astato 30", "cto_wire", notes="[M] verify"),
    Equipment(4, "MP catheter", "support_catheter"),
    Equipment(5, "CXI", "support_catheter"),
    Equipment(6, "Seeker", "support_catheter"),
    Equipment(7, "IVUS catheter", "ivus"),
    Equipment(
        8,
        "ATLAS PTA",
        "nc_balloon",
        sizes=(
            EquipmentSize(80, "16 × 40 mm", 16, 40),
            EquipmentSize(81, "14 × 40 mm", 14, 40),
            EquipmentSize(82, "22 × 40 mm", 22, 40),
        ),
    ),
    Equipment(9, "Presto", "manometer"),
]
STENTS = [
    StentModel(
        1,
        "Venovo",
        True,
        ("CIV", "EIV", "CFV"),
        tuple(
            StentSize(i, d, length, 9)
            for i, (d, length) in enumerate(
                (d, length) for d in (12, 14, 16) for length in (60, 80, 100, 120)
            )
        ),
    ),
    StentModel(
        2,
        "sinus-XL",
        True,
        ("IVC", "CIV"),
        tuple(
            StentSize(100 + i, d, length, 12)
            for i, (d, length) in enumerate(
                (d, length) for d in (20, 22, 24) for length in (60, 80, 100)
            )
        ),
    ),
]


def measure(segment, side, finding, ref=None, length=None, area=None):
    return Measurement(segment, side, finding, ref, length, area)


def draft(facts, measurements, **kwargs):
    result = evaluate(facts)
    return draft_plan(
        overall=result["overall"],
        planning=result["planning"],
        follow_up_entity=result["follow_up_entity"],
        lesion_entity=facts["lesion_entity"],
        side=facts["side"],
        measurements=measurements,
        stent_catalogue=STENTS,
        equipment=EQUIPMENT,
        **kwargs,
    )


def texts(plan, category=None):
    return [i.text for i in plan.items if category is None or i.category == category]


@pytest.mark.parametrize(
    ("entity", "segments", "expected"),
    [
        ("acute_thrombotic", ["CIV", "EIV"], "acute_thrombus_removal"),
        ("acute_thrombotic", ["IVC", "CIV"], "acute_thrombus_removal"),
        ("nivl", ["CIV"], "nivl_stenting"),
        ("nivl", ["CIV", "IVC"], "nivl_stenting"),
        ("chronic_post_thrombotic", ["CIV", "EIV"], "chronic_recanalization"),
        ("chronic_post_thrombotic", ["IVC", "CIV"], "ivc_reconstruction"),
        ("ivc_occlusion", ["IVC"], "ivc_reconstruction"),
        ("iliocaval_atresia", ["IVC", "CIV"], "ivc_reconstruction"),
    ],
)
def test_scenario_follows_entity_and_segments(entity, segments, expected):
    assert scenario_for(entity, segments) == expected


def test_acute_thrombus_removal_is_planned_prone_from_the_popliteal_vein():
    plan = draft(
        acute_if(), [measure("CIV", "left", "thrombus"), measure("EIV", "left", "thrombus")]
    )
    assert plan.scenario == "acute_thrombus_removal"
    assert plan.positioning == "prone"
    assert [(a.site, a.side) for a in plan.access_sites] == [("popliteal", "left")]
    assert plan.anaesthesia == "sedo_analgesia"
    assert "Positioning: prone (popliteal access)" in texts(plan)
    assert not any("CTO" in t for t in texts(plan, "wire"))  # no occlusion
    assert plan.antithrombotic_regimen == ANTITHROMBOTIC_DEFAULTS["acute_thrombotic"]
    assert plan.follow_up_entity == "acute_thrombotic"


def test_acute_case_with_thrombosed_popliteal_vein_goes_in_from_the_neck():
    facts = acute_if(segments_involved=["CIV", "EIV", "CFV", "FV", "POPV"])
    plan = draft(
        facts, [measure(s, "left", "thrombus") for s in ("CIV", "EIV", "CFV", "FV", "POPV")]
    )
    assert [(a.site, a.side) for a in plan.access_sites] == [("jugular", "right")]
    assert plan.positioning == "supine"


def test_unilateral_nivl_has_one_femoral_access_and_no_bilateral_extension():
    plan = draft(nivl(), [measure("CIV", "left", "compression", 14, 40, 70)])
    assert plan.scenario == "nivl_stenting"
    assert [(a.site, a.side) for a in plan.access_sites] == [("femoral", "left")]
    assert plan.bilateral_access is False
    assert plan.bilateral_extension is False
    assert plan.confluence_technique == ""
    assert plan.jugular == "optional"
    assert "Neck prepared for an optional right internal jugular access" in texts(plan)
    assert [(s.segment, s.side, s.diameter_mm) for s in plan.stents] == [("CIV", "left", 16)]
    assert plan.anaesthesia == "sedo_analgesia"
    assert plan.follow_up_entity == "nivl"
    assert "LMWH for 2–6 weeks" in plan.antithrombotic_regimen


def test_chronic_occlusion_gets_a_cto_wire_and_general_anaesthesia():
    facts = chronic_pto(segments_involved=["CIV", "EIV"])
    plan = draft(
        facts,
        [measure("CIV", "left", "occlusion", 15, 50), measure("EIV", "left", "occlusion", 13, 70)],
    )
    assert plan.scenario == "chronic_recanalization"
    assert plan.anaesthesia == "general"
    assert "chronic occlusion" in plan.anaesthesia_reason
    assert any(t.startswith("CTO wire: Asahi Astato 30 — [M] verify") for t in texts(plan))
    assert plan.follow_up_entity == "post_thrombotic"
    assert plan.antithrombotic_regimen == ANTITHROMBOTIC_DEFAULTS["post_thrombotic"]


def test_ivc_occlusion_with_bilateral_disease_is_an_inverted_y_with_bilateral_and_jugular_access():
    facts = chronic_pto(
        lesion_entity="ivc_occlusion", side="bilateral", segments_involved=["IVC", "CIV", "EIV"]
    )
    findings = [
        measure("IVC", "midline", "occlusion", 20, 80),
        measure("CIV", "left", "occlusion", 15, 50),
        measure("CIV", "right", "occlusion", 15, 45),
        measure("EIV", "left", "occlusion", 13, 90),
        measure("EIV", "right", "stenosis", 13, 60, 70),
    ]
    plan = draft(facts, findings)
    assert plan.scenario == "ivc_reconstruction"
    assert plan.bilateral_extension is True
    assert plan.confluence_technique == "neo_cava"
    assert plan.bilateral_access is True
    assert plan.jugular == "recommended"
    assert [(a.site, a.side) for a in plan.access_sites] == [
        ("femoral", "left"),
        ("femoral", "right"),
        ("jugular", "right"),
    ]
    assert {(s.segment, s.side) for s in plan.stents} == {
        ("IVC", "midline"),
        ("CIV", "left"),
        ("CIV", "right"),
        ("EIV", "left"),
        ("EIV", "right"),
    }
    ivc = next(s for s in plan.stents if s.segment == "IVC")
    assert ivc.device.name == "sinus-XL"
    # sinus-XL needs 12 F here: the plan prepares that sheath on top of 6 F + 10 F.
    sheaths = texts(plan, "sheath")
    assert sheaths[:2] == ["3 × Sheath 6 F", "3 × Sheath 10 F"]
    assert sheaths[2].startswith("Sheath 12 F for sinus-XL")
    assert plan.anaesthesia == "general"
    assert plan.follow_up_entity == "ivc_reconstruction"
    balloons = texts(plan, "balloon")
    assert any(t == "ATLAS PTA 22 × 40 mm (post-dilation: IVC)" for t in balloons)
    assert any("Presto" in t for t in balloons)
    assert len(texts(plan, "catheter")) == 3
    assert any(t.startswith("IVUS") for t in texts(plan, "imaging"))
    assert "Urinary catheter" in texts(plan)
    assert any("heparin 80 IU/kg" in t and "ACT" in t for t in texts(plan, "anticoagulation"))


def test_defaults_are_configurable():
    plan = draft(
        nivl(),
        [measure("CIV", "left", "compression", 14, 40)],
        defaults=PlanDefaults(heparin_iu_per_kg=100, act_target_s=None),
    )
    assert plan.heparin_iu_per_kg == 100
    assert plan.act_target_s is None
    assert "Unfractionated heparin 100 IU/kg IV after access; ACT checks" in texts(plan)


def test_the_act_target_says_in_words_that_it_is_a_practice_value():
    plan = draft(
        nivl(),
        [measure("CIV", "left", "compression", 14, 40)],
        defaults=PlanDefaults(heparin_iu_per_kg=80, act_target_s=250),
    )
    (text,) = texts(plan, "anticoagulation")
    assert "ACT checks (target 250 s; a practice value, not set by the guidelines)" in text
    assert "[" not in text


@pytest.mark.parametrize(
    "overall",
    ["conservative", "anticoagulation_only", "insufficient_data", "contraindicated_defer"],
)
def test_no_plan_outside_the_planning_statuses(overall):
    with pytest.raises(PlanRefused):
        draft_plan(
            overall=overall,
            planning=None,
            follow_up_entity=None,
            lesion_entity="nivl",
            side="left",
            measurements=[],
            stent_catalogue=[],
            equipment=[],
        )


def test_anaesthesia_for_long_recanalization():
    long = [
        measure("CIV", "left", "stenosis", length=90),
        measure("EIV", "left", "stenosis", length=90),
    ]
    assert anaesthesia_for("nivl", long, False)[0] == "general"
    assert anaesthesia_for("nivl", long[:1], False)[0] == "sedo_analgesia"
    assert anaesthesia_for("nivl", long[:1], True)[0] == "general"


def test_contralateral_femoral_access_when_only_the_ivc_makes_access_bilateral():
    planning = {"primary_access": "femoral", "bilateral_access": True, "jugular": "recommended"}
    sites = access_sites_for(
        planning,
        "left",
        [measure("CIV", "left", "compression"), measure("IVC", "midline", "compression")],
    )
    assert [(a.site, a.side) for a in sites] == [
        ("femoral", "left"),
        ("femoral", "right"),
        ("jugular", "right"),
    ]


def test_open_contraindications_count_only_recorded_values():
    assert open_contraindications({"active_infection": None, "inflow": None}) == []
    found = open_contraindications(
        {
            "active_infection": True,
            "severe_tortuosity": True,
            "diameter_mismatch": True,
            "endovascular_contraindication": True,
            "pregnancy": True,
            "inflow": "poor",
            "long_term_anticoagulation_possible": False,
        }
    )
    assert [code for code, _ in found] == [
        "severe_tortuosity",
        "diameter_mismatch",
        "active_infection",
        "endovascular_contraindication",
        "pregnancy",
        "inflow",
        "long_term_anticoagulation_possible",
    ]
