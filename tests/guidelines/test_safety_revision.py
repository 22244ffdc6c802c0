"""The safety rules of docs/safety.md, one block per rule (S1 to S4 below), with true, false
and unknown inputs, and hypothesis properties over random fact documents."""

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.thrombolysis import ABSOLUTE_CODES, RELATIVE_CODES
from guidelines.engine import evaluate
from guidelines.vocabulary import CONTRAINDICATION_FACTORS
from tests.guidelines.builders import acute_if, chronic_pto, nivl, value
from tests.guidelines.test_properties import FACTS

PREG = "PRACTICE-PREGNANCY-DEFER"
QI = "SIR-2014-QI-CONTRA"
VT_AC = "ESVS-2021-VT-AC"
ETR_RULES = ("SVSAVF-2012-ETR-03", "ESVS-2021-VT-ETR", "SIR-2023-AIDVT-SEL")
RANK = {"none": 0, "relative": 1, "absolute": 2}


# --- S1: the most severe contraindication class (docs/safety.md#one-contraindication-class)


@pytest.mark.parametrize(
    ("bleeding", "pregnancy", "effective"),
    [
        # the case: a stroke seven weeks ago, class left at "none"
        (
            {
                "level": "low",
                "contraindication_class": "none",
                "factors": ["cerebrovascular_event_3m"],
            },
            False,
            "absolute",
        ),
        (
            {
                "level": "low",
                "contraindication_class": "relative",
                "factors": ["anticoagulation_contraindicated"],
            },
            False,
            "absolute",
        ),
        (
            {"level": "low", "contraindication_class": "absolute", "factors": ["renal_failure"]},
            False,
            "absolute",
        ),
        ({"level": "low", "contraindication_class": "none", "factors": []}, False, "none"),
        ({"level": "low", "contraindication_class": "none", "factors": []}, True, "relative"),
        (
            {"level": "low", "contraindication_class": "none", "factors": ["not-a-code"]},
            False,
            "none",
        ),
        ({"level": "low", "contraindication_class": "absolute"}, True, "absolute"),
        ({"level": "low"}, True, "relative"),
        ({"level": "low"}, False, "unknown"),
        ({"level": "low"}, None, "unknown"),
        ({"level": "low", "factors": ["not-a-code"]}, None, "unknown"),
        (None, True, "relative"),  # pregnancy without a bleeding section
        (None, False, "unknown"),
        (None, "unknown", "unknown"),
    ],
)
def test_s1_the_effective_class_is_the_most_severe_source(bleeding, pregnancy, effective):
    result = evaluate(acute_if(bleeding_risk=bleeding, pregnancy=pregnancy))
    assert result["cdt_contraindication"] == effective
    expected_qi = {
        "absolute": "against",
        "relative": "against",
        "none": "not_applicable",
        "unknown": "insufficient_data:bleeding_risk",
    }[effective]
    assert result["rules"][QI]["value"] == expected_qi
    if effective in ("absolute", "relative"):
        assert result["derived"]["bleeding_ok"] is False
        assert {
            value(acute_if(bleeding_risk=bleeding, pregnancy=pregnancy), r) for r in ETR_RULES
        } == {"against"}


def test_s1_a_recorded_none_next_to_a_ticked_stroke_is_no_etr_candidate():
    facts = acute_if(
        bleeding_risk={
            "level": "low",
            "contraindication_class": "none",
            "factors": ["cerebrovascular_event_3m"],
        }
    )
    result = evaluate(facts)
    assert result["overall"] == "anticoagulation_only"
    assert result["cdt_contraindication"] == "absolute"
    assert result["planning"] is None


def test_s1_pregnant_acute_iliofemoral_dvt_gets_no_thrombolysis():
    for bleeding in (None, {"level": "low", "contraindication_class": "none", "factors": []}):
        result = evaluate(acute_if(pregnancy=True, bleeding_risk=bleeding))
        assert result["overall"] == "anticoagulation_only", bleeding
        assert result["cdt_contraindication"] == "relative"
        assert result["rules"][QI]["value"] == "against"
        assert result["derived"]["etr_candidate"] is False


def test_s1_the_why_of_the_bleeding_criterion_shows_the_pregnancy():
    criteria = evaluate(acute_if(pregnancy=True))["rules"]["SVSAVF-2012-ETR-03"]["criteria"]
    bleeding = next(c for c in criteria if c["id"] == "bleeding")
    assert bleeding["status"] == "unmet"
    assert bleeding["inputs"]["pregnancy"] is True


def test_s1_an_unknown_bleeding_criterion_still_names_bleeding_risk():
    facts = acute_if(bleeding_risk={"level": "low"}, pregnancy=None)
    assert value(facts, "SVSAVF-2012-ETR-03") == "insufficient_data:bleeding_risk"


# --- S2: elective stenting is deferred during pregnancy (docs/safety.md#pregnancy) ----------


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (chronic_pto(pregnancy=True, sex="female"), "against"),
        (nivl(pregnancy=True), "against"),
        (chronic_pto(lesion_entity="ivc_occlusion", pregnancy=True), "against"),
        (chronic_pto(lesion_entity="iliocaval_atresia", pregnancy=True), "against"),
        (chronic_pto(pregnancy=False), "not_applicable"),
        (chronic_pto(pregnancy=None), "not_applicable"),
        (chronic_pto(pregnancy="unknown"), "not_applicable"),
        (acute_if(pregnancy=True), "not_applicable"),
        (chronic_pto(lesion_entity=None, pregnancy=True), "not_applicable"),
    ],
)
def test_s2_pregnancy_rule_values(facts, expected):
    assert value(facts, PREG) == expected


def test_s2_symptomatic_may_thurner_in_pregnancy_is_deferred_without_stents():
    result = evaluate(nivl(pregnancy=True))
    assert result["overall"] == "contraindicated_defer"
    assert result["derived"]["stent_pathway_active"] is False
    assert result["planning"] is None
    assert result["follow_up_entity"] is None
    for rule in ("ESVS-2022-CVD-IVUS", "ESVS-2022-CVD-AT", "ESVS-2022-CVD-FU"):
        assert result["rules"][rule]["value"] == "not_applicable"
    # the indications are still shown as they are
    assert result["rules"]["ESVS-2022-CVD-STENT"]["value"] == "consider"


def test_s2_pregnancy_deferral_outranks_insufficient_data():
    facts = chronic_pto(pregnancy=True, inflow=None)
    result = evaluate(facts)
    assert result["rules"]["SIR-2023-CIVO-05"]["value"] == "insufficient_data:inflow"
    assert result["overall"] == "contraindicated_defer"


def test_s2_pregnancy_without_a_chronic_indication_is_not_a_deferral():
    facts = chronic_pto(
        pregnancy=True,
        ceap="C2,s",
        ulcer="none",
        venous_claudication=False,
        qol_impairment="mild",
        obstruction={"type": "stenosis", "area_reduction_pct": 30},
    )
    result = evaluate(facts)
    assert result["rules"][PREG]["value"] == "against"
    assert result["overall"] == "conservative"


def test_s2_cirse_alone_does_not_defer_an_asymptomatic_nivl_in_pregnancy():
    facts = nivl(pregnancy=True, ceap="C3,a", venous_claudication=False, qol_impairment="none")
    result = evaluate(facts)
    assert result["rules"]["CIRSE-2014-ICS"]["value"] == "consider"
    assert result["overall"] == "conservative"


def test_s2_limb_salvage_in_pregnancy_still_stands():
    result = evaluate(acute_if(pregnancy=True, phlegmasia=True))
    assert result["rules"]["SVSAVF-2012-ETR-04"]["value"] == "recommend"
    assert result["overall"] == "etr_candidate"
    assert result["cdt_contraindication"] == "relative"


# --- S3: asymptomatic NIVL (docs/safety.md#asymptomatic-nivl) -------------------------------


def asymptomatic_nivl(**overrides):
    return nivl(ceap="C3,a", venous_claudication=False, qol_impairment="none", **overrides)


def test_s3_incidental_compression_with_oedema_only_is_conservative():
    result = evaluate(asymptomatic_nivl())
    assert result["rules"]["ESVS-2022-CVD-NIVL-ASX"]["value"] == "against"
    assert result["rules"]["CIRSE-2014-ICS"]["value"] == "consider"  # the card still shows it
    assert result["derived"]["stent_pathway_active"] is False
    assert result["overall"] == "conservative"
    assert result["planning"] is None
    assert result["follow_up_entity"] is None


def test_s3_c4b_keeps_svs_6_8_active_as_a_conflict():
    result = evaluate(nivl(ceap="C4b,a", venous_claudication=False, qol_impairment="none"))
    assert result["rules"]["SVSAVF-2014-VLU-6.8"]["value"] == "recommend"
    assert result["rules"]["ESVS-2022-CVD-NIVL-ASX"]["value"] == "against"
    assert result["overall"] == "stent_conflict"
    assert result["planning"]["stent_diameter_mm"] == {"CIV": 16}
    assert result["follow_up_entity"] == "nivl"


def test_s3_a_healed_ulcer_keeps_svs_6_8_active_as_a_conflict():
    facts = nivl(ceap="C5,a", ulcer="healed", venous_claudication=False, qol_impairment="none")
    result = evaluate(facts)
    assert result["rules"]["SVSAVF-2014-VLU-6.8"]["value"] == "recommend"
    assert result["overall"] == "stent_conflict"


def test_s3_symptomatic_nivl_is_unchanged():
    result = evaluate(nivl())
    assert result["rules"]["ESVS-2022-CVD-NIVL-ASX"]["value"] == "not_applicable"
    assert result["overall"] == "stent_indicated"


def test_s3_unknown_symptoms_stay_insufficient():
    facts = nivl(ceap="C3", venous_claudication=None, qol_impairment=None)
    assert value(facts, "ESVS-2022-CVD-NIVL-ASX") == "insufficient_data:ceap"
    assert evaluate(facts)["overall"] == "insufficient_data"


def test_s3_a_device_contraindication_with_only_cirse_is_no_deferral():
    result = evaluate(asymptomatic_nivl(severe_tortuosity=True))
    assert result["overall"] == "conservative"


# --- S4: no anticoagulation advice against a ticked contraindication to it
# (docs/safety.md#anticoagulation-contraindicated) -------------------------------------------


PHLEGMASIA_NO_AC = {"level": "high", "factors": ["anticoagulation_contraindicated"]}


def test_s4_phlegmasia_with_anticoagulation_contraindicated():
    result = evaluate(acute_if(phlegmasia=True, bleeding_risk=PHLEGMASIA_NO_AC))
    assert result["rules"]["SVSAVF-2012-ETR-04"]["value"] == "recommend"
    assert result["rules"][VT_AC]["value"] == "not_applicable"
    assert result["derived"]["anticoagulation_contraindicated"] is True
    assert result["cdt_contraindication"] == "absolute"
    assert result["overall"] == "etr_candidate"


@pytest.mark.parametrize(
    "bleeding",
    [
        {"level": "high", "factors": ["renal_failure"]},
        {"level": "high", "contraindication_class": "absolute"},
        {"level": "high"},
        None,
    ],
)
def test_s4_other_contraindications_keep_the_anticoagulation_advice(bleeding):
    result = evaluate(acute_if(phlegmasia=True, bleeding_risk=bleeding))
    assert result["derived"]["anticoagulation_contraindicated"] is False
    assert result["rules"][VT_AC]["value"] == "recommend"


def test_s4_no_etr_candidate_no_anticoagulation_card():
    facts = acute_if(symptom_onset_days=30, bleeding_risk=PHLEGMASIA_NO_AC)
    assert value(facts, VT_AC) == "not_applicable"


# --- properties over random fact documents ------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _class_rank(result):
    klass = result["derived"]["contraindication_class"]
    return -1 if klass is None else RANK[klass]


@PROPERTY_SETTINGS
@given(FACTS, st.sampled_from(CONTRAINDICATION_FACTORS))
def test_property_adding_a_factor_never_lowers_the_class(facts, code):
    before = evaluate(facts)
    more = copy.deepcopy(facts)
    bleeding = more.get("bleeding_risk")
    if not isinstance(bleeding, dict):
        bleeding = {}
    factors = bleeding.get("factors")
    bleeding["factors"] = [*factors, code] if isinstance(factors, list) else [code]
    more["bleeding_risk"] = bleeding
    after = evaluate(more)
    assert _class_rank(after) >= _class_rank(before)
    assert _class_rank(after) >= (2 if code in ABSOLUTE_CODES else 1)
    assert code in ABSOLUTE_CODES | RELATIVE_CODES


@PROPERTY_SETTINGS
@given(FACTS)
def test_property_pregnancy_never_yields_class_none(facts):
    result = evaluate({**facts, "pregnancy": True})
    assert result["derived"]["contraindication_class"] in ("relative", "absolute")
    assert result["cdt_contraindication"] in (None, "relative", "absolute")


@PROPERTY_SETTINGS
@given(
    FACTS,
    st.sampled_from(["chronic_post_thrombotic", "nivl", "iliocaval_atresia", "ivc_occlusion"]),
)
def test_property_a_pregnant_chronic_case_never_gets_planning(facts, entity):
    result = evaluate({**facts, "pregnancy": True, "lesion_entity": entity})
    assert result["planning"] is None
    assert result["follow_up_entity"] is None
    assert result["derived"]["stent_pathway_active"] is False


_NOT_ADVANCED = st.sampled_from(["C0,a", "C1,a", "C2,a", "C3,a", "C4a,a", "C4c,a", "C2r,a", "C3"])


@PROPERTY_SETTINGS
@given(FACTS, _NOT_ADVANCED)
def test_property_asymptomatic_nivl_without_c4b_c5_c6_never_gets_planning(facts, ceap):
    result = evaluate({**facts, "lesion_entity": "nivl", "ceap": ceap})
    if result["rules"]["ESVS-2022-CVD-NIVL-ASX"]["value"] == "against":
        assert result["planning"] is None
        assert result["overall"] in ("conservative", "insufficient_data")
