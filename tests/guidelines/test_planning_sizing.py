"""Planning block (docs/planning.md#planning-block, docs/planning.md#access,
docs/planning.md#inverted-y-extension, docs/planning.md#default-stent-diameters) and the
follow-up entity (docs/followup.md#follow-up-entity)."""

import pytest

from guidelines.engine import evaluate
from guidelines.planning_block import (
    STENT_DEFAULTS,
    access_options,
    default_diameter_mm,
    follow_up_entity,
    plan,
)
from tests.guidelines.builders import acute_if, chronic_pto, nivl


def test_stent_defaults_follow_section_5_5():
    assert {k: (v.min_mm, v.max_mm, v.typical_mm) for k, v in STENT_DEFAULTS.items()} == {
        "IVC": (18, 24, None),
        "CIV": (14, 18, 16),
        "EIV": (12, 16, 14),
        "CFV": (12, 14, None),
    }


def test_default_diameter_is_typical_value_or_range_midpoint():
    assert default_diameter_mm("CIV") == 16
    assert default_diameter_mm("EIV") == 14
    assert default_diameter_mm("IVC") == 21
    assert default_diameter_mm("CFV") == 13
    for segment, default in STENT_DEFAULTS.items():
        assert default.min_mm <= default_diameter_mm(segment) <= default.max_mm
    with pytest.raises(KeyError):
        default_diameter_mm("FV")


def test_acute_iliofemoral_without_popliteal_thrombus():
    result = evaluate(acute_if())
    assert result["overall"] == "etr_candidate"
    assert result["planning"] == {
        "primary_access": "popliteal_prone",
        "access_options": ["popliteal_prone"],
        "bilateral_access": False,
        "jugular": "optional",
        "bilateral_extension": False,
        "stent_diameter_mm": {"CIV": 16, "EIV": 14, "CFV": 13},
    }
    assert result["follow_up_entity"] == "acute_thrombotic"


def test_acute_iliofemoral_with_thrombosed_popliteal_vein():
    result = evaluate(acute_if(segments_involved=["CIV", "EIV", "CFV", "FV", "POPV"]))
    planning = result["planning"]
    assert planning["primary_access"] == "jugular"
    assert planning["access_options"] == ["jugular", "posterior_tibial"]
    assert planning["jugular"] == "recommended"
    assert planning["bilateral_access"] is False
    assert planning["stent_diameter_mm"] == {"CIV": 16, "EIV": 14, "CFV": 13}


def test_unilateral_nivl_femoral_access_without_bilateral_extension():
    result = evaluate(nivl(segments_involved=["CIV", "IVC"], side="left"))
    planning = result["planning"]
    assert result["overall"] == "stent_indicated"
    assert planning["access_options"] == ["femoral"]
    assert planning["primary_access"] == "femoral"
    assert planning["bilateral_extension"] is False  # a CIV stent protruding into the IVC
    assert planning["bilateral_access"] is True  # IVC involved
    assert result["follow_up_entity"] == "nivl"


def test_unilateral_nivl_confined_to_civ():
    result = evaluate(nivl())
    assert result["planning"] == {
        "primary_access": "femoral",
        "access_options": ["femoral"],
        "bilateral_access": False,
        "jugular": "optional",
        "bilateral_extension": False,
        "stent_diameter_mm": {"CIV": 16},
    }


def test_nivl_with_cfv_disease_uses_access_below_the_disease():
    planning = evaluate(nivl(segments_involved=["CIV", "EIV", "CFV"]))["planning"]
    assert planning["access_options"] == ["femoral_midthigh", "popliteal_prone"]


def test_chronic_pto_reaching_cfv():
    result = evaluate(chronic_pto(segments_involved=["CIV", "EIV", "CFV"]))
    planning = result["planning"]
    assert planning["primary_access"] == "femoral_midthigh"
    assert planning["access_options"] == ["femoral_midthigh", "popliteal_prone"]
    assert planning["stent_diameter_mm"] == {"CIV": 16, "EIV": 14, "CFV": 13}
    assert result["follow_up_entity"] == "post_thrombotic"


def test_chronic_pto_without_cfv_disease():
    planning = evaluate(chronic_pto(segments_involved=["CIV", "EIV"]))["planning"]
    assert planning["access_options"] == ["femoral", "femoral_midthigh", "popliteal_prone"]
    assert planning["primary_access"] == "femoral"


def test_ivc_occlusion_bilateral_with_civ_is_an_inverted_y():
    facts = chronic_pto(
        lesion_entity="ivc_occlusion", side="bilateral", segments_involved=["IVC", "CIV"]
    )
    result = evaluate(facts)
    planning = result["planning"]
    assert result["overall"] == "stent_indicated"
    assert planning["bilateral_extension"] is True
    assert planning["bilateral_access"] is True
    assert planning["jugular"] == "recommended"
    assert planning["stent_diameter_mm"] == {"IVC": 21, "CIV": 16}
    assert result["follow_up_entity"] == "ivc_reconstruction"


def test_ivc_only_bilateral_disease_is_not_an_extension():
    facts = chronic_pto(lesion_entity="ivc_occlusion", side="bilateral", segments_involved=["IVC"])
    planning = evaluate(facts)["planning"]
    assert planning["bilateral_extension"] is False
    assert planning["bilateral_access"] is True
    assert planning["jugular"] == "recommended"


def test_bilateral_iliac_disease_without_ivc():
    planning = evaluate(chronic_pto(side="bilateral"))["planning"]
    assert planning["bilateral_access"] is True
    assert planning["jugular"] == "recommended"
    assert planning["bilateral_extension"] is False


def test_side_unrecorded_is_not_bilateral():
    facts = chronic_pto(lesion_entity="ivc_occlusion", side=None, segments_involved=["IVC", "CIV"])
    planning = evaluate(facts)["planning"]
    assert planning["bilateral_extension"] is False
    assert planning["bilateral_access"] is True  # IVC involved
    assert planning["jugular"] == "recommended"


def test_etr_candidate_without_stent():
    result = evaluate(acute_if(underlying_iliac_lesion=False))
    assert result["overall"] == "etr_candidate"
    assert result["planning"]["primary_access"] == "popliteal_prone"
    assert result["planning"]["stent_diameter_mm"] == {}
    assert result["follow_up_entity"] is None


def test_etr_candidate_by_phlegmasia_without_iliac_disease():
    result = evaluate(acute_if(phlegmasia=True, segments_involved=["FV", "POPV", "TIBV"]))
    assert result["overall"] == "etr_candidate"
    assert result["planning"]["access_options"] == ["jugular", "posterior_tibial"]
    assert result["planning"]["stent_diameter_mm"] == {}
    assert result["follow_up_entity"] is None


def test_stent_conflict_gets_planning():
    result = evaluate(chronic_pto(qol_impairment="mild"))
    assert result["overall"] == "stent_conflict"
    assert result["planning"]["stent_diameter_mm"] == {"CIV": 16, "EIV": 14}
    assert result["follow_up_entity"] == "post_thrombotic"


@pytest.mark.parametrize(
    "facts",
    [
        chronic_pto(severe_tortuosity=True),
        acute_if(symptom_onset_days=30),
        chronic_pto(obstruction={"type": "stenosis", "area_reduction_pct": 10}),
        chronic_pto(inflow=None),
    ],
)
def test_no_planning_outside_planning_statuses(facts):
    result = evaluate(facts)
    assert result["overall"] not in {"etr_candidate", "stent_indicated", "stent_conflict"}
    assert result["planning"] is None
    assert result["follow_up_entity"] is None


def test_plan_function_directly():
    planning, entity = plan(
        lesion_entity="iliocaval_atresia",
        segments=["IVC", "CIV", "EIV"],
        side="bilateral",
        stent_pathway_active=True,
    )
    assert planning["bilateral_extension"] is True
    assert planning["stent_diameter_mm"] == {"IVC": 21, "CIV": 16, "EIV": 14}
    assert entity == "ivc_reconstruction"
    planning, entity = plan(
        lesion_entity="acute_thrombotic", segments=None, side=None, stent_pathway_active=False
    )
    assert planning["access_options"] == ["popliteal_prone"]
    assert planning["stent_diameter_mm"] == {}
    assert entity is None


def test_access_and_follow_up_helpers():
    assert access_options("ivc_occlusion", {"IVC"}) == [
        "femoral",
        "femoral_midthigh",
        "popliteal_prone",
    ]
    assert follow_up_entity(None, set()) is None
    assert follow_up_entity("chronic_post_thrombotic", {"IVC"}) == "ivc_reconstruction"
