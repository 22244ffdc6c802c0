"""Complete fact documents for engine tests; tests override single fields.

Each builder returns a fresh dict, so a test can change it freely. ``None`` as an override
value removes the key (the field is then not recorded).
"""

from typing import Any

from guidelines.engine import evaluate

_LOW_BLEEDING = {"level": "low", "contraindication_class": "none", "factors": []}
_NO_DEVICE_PROBLEM = {
    "pregnancy": False,
    "active_infection": False,
    "severe_tortuosity": False,
    "diameter_mismatch": False,
    "endovascular_contraindication": False,
}


def _build(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    facts = {**base, **overrides}
    return {key: value for key, value in facts.items() if value is not None}


def acute_if(**overrides: Any) -> dict[str, Any]:
    """Acute left iliofemoral DVT (CIV, EIV, CFV) meeting every ETR selection criterion."""
    base = {
        "age": 45,
        "sex": "female",
        "side": "left",
        "lesion_entity": "acute_thrombotic",
        "thrombosis_entity": "descending",
        "segments_involved": ["CIV", "EIV", "CFV"],
        "symptom_onset_days": 5,
        "first_episode": True,
        "phlegmasia": False,
        "symptom_severity": "severe",
        "underlying_iliac_lesion": True,
        "bleeding_risk": dict(_LOW_BLEEDING),
        "ambulatory": True,
        "life_expectancy_years": 30,
        "ceap": "C3,s",
        "ulcer": "none",
        "venous_claudication": False,
        "qol_impairment": "moderate",
        **_NO_DEVICE_PROBLEM,
    }
    return _build(base, overrides)


def chronic_pto(**overrides: Any) -> dict[str, Any]:
    """Chronic post-thrombotic left CIV/EIV occlusion with an active ulcer: every stent
    indication rule fires and SIR-2023-CIVO-05 is met."""
    base = {
        "age": 52,
        "sex": "male",
        "side": "left",
        "lesion_entity": "chronic_post_thrombotic",
        "segments_involved": ["CIV", "EIV"],
        "obstruction": {"type": "occlusion", "area_reduction_pct": None},
        "ceap": "C6,s Esi Ad Po",
        "ulcer": "active",
        "venous_claudication": True,
        "qol_impairment": "severe",
        "bleeding_risk": dict(_LOW_BLEEDING),
        "life_expectancy_years": 25,
        "ambulatory": True,
        "vcss": 18,
        "villalta": 16,
        "conservative_therapy_months": 6,
        "inflow": "good",
        "long_term_anticoagulation_possible": True,
        **_NO_DEVICE_PROBLEM,
    }
    return _build(base, overrides)


def nivl(**overrides: Any) -> dict[str, Any]:
    """Symptomatic left May-Thurner compression of the CIV, 70 % area reduction on IVUS."""
    base = {
        "age": 34,
        "sex": "female",
        "side": "left",
        "lesion_entity": "nivl",
        "nivl_cause": "may_thurner",
        "segments_involved": ["CIV"],
        "obstruction": {"type": "stenosis", "area_reduction_pct": 70},
        "ceap": "C3,s Ese Ad Po",
        "ulcer": "none",
        "venous_claudication": True,
        "qol_impairment": "moderate",
        "bleeding_risk": dict(_LOW_BLEEDING),
        "life_expectancy_years": 40,
        "ambulatory": True,
        "conservative_therapy_months": 3,
        "inflow": "good",
        "long_term_anticoagulation_possible": True,
        **_NO_DEVICE_PROBLEM,
    }
    return _build(base, overrides)


def value(facts: object, rule_id: str) -> str:
    return evaluate(facts)["rules"][rule_id]["value"]


def statuses(facts: object, rule_id: str) -> dict[str, str]:
    """{criterion id: met|unmet|unknown} of one rule."""
    entries = evaluate(facts)["rules"][rule_id]["criteria"]
    return {entry["id"]: entry["status"] for entry in entries}
