"""`case_facts`: the one bridge from a stored case to the guideline rules.

It returns exactly the input names and vocabularies of the guideline engine
(``guidelines/vocabulary.py``), with ``None`` for anything not recorded; the engine treats
``None`` as unknown (docs/evaluation.md#not-recorded).
"""

from collections.abc import Iterable
from typing import Any

from cases.models import STENTABLE_SEGMENTS, Case, Finding, Segment, SegmentFinding
from cases.thrombolysis import contraindication_class

_SEGMENT_ORDER = {code: i for i, code in enumerate(Segment.values)}
_TRISTATE = {"true": True, "false": False, "unknown": "unknown"}


def segments_involved(findings: Iterable[SegmentFinding]) -> list[str]:
    """Segments with any finding other than normal, in anatomical (CEAP) order."""
    codes = {f.segment for f in findings if f.finding != Finding.NORMAL}
    return sorted(codes, key=_SEGMENT_ORDER.__getitem__)


def worst_obstruction(findings: Iterable[SegmentFinding]) -> dict[str, Any] | None:
    """Worst finding over the stentable segments (IVC, CIV, EIV, CFV).

    An occlusion anywhere wins. Otherwise stenosis, compression and non-occlusive thrombus
    count as a stenosis whose area reduction is the largest measured one; if any of them was
    not measured the area is unknown, because the unmeasured one may be the worst.
    """
    stentable = [
        f for f in findings if f.segment in STENTABLE_SEGMENTS and f.finding != Finding.NORMAL
    ]
    if not stentable:
        return None
    diameters = [
        f.diameter_reduction_pct for f in stentable if f.diameter_reduction_pct is not None
    ]
    if any(f.finding == Finding.OCCLUSION for f in stentable):
        return {"type": "occlusion", "area_reduction_pct": 100, "diameter_reduction_pct": 100}
    areas = [f.area_reduction_pct for f in stentable]
    return {
        "type": "stenosis",
        "area_reduction_pct": None if None in areas else max(a for a in areas if a is not None),
        "diameter_reduction_pct": max(diameters) if diameters else None,
    }


def _text(value: str) -> str | None:
    return value or None


def case_facts(case: Case, findings: Iterable[SegmentFinding] | None = None) -> dict[str, Any]:
    """Facts document for ``case``; pass ``findings`` when they are already loaded."""
    rows = list(case.findings.all() if findings is None else findings)
    segments = segments_involved(rows)
    life = case.life_expectancy_years
    return {
        "age": case.patient.age_on(case.case_date),
        "sex": case.patient.sex,
        "side": case.side or None,
        "lesion_entity": case.lesion_entity or None,
        "nivl_cause": _text(case.nivl_cause),
        "ivc_filter_related": case.ivc_filter_related,
        "thrombosis_entity": _text(case.thrombosis_entity),
        "segments_involved": segments or None,
        "obstruction": worst_obstruction(rows),
        "ceap": _text(case.ceap),
        "ulcer": _text(case.ulcer),
        "venous_claudication": case.venous_claudication,
        "qol_impairment": _text(case.qol_impairment),
        "bleeding_risk": {
            "level": _text(case.bleeding_risk_level),
            "contraindication_class": (
                contraindication_class(case.thrombolysis_contraindications)
                if case.contraindications_assessed
                else None
            ),
            "factors": list(case.thrombolysis_contraindications),
        },
        "life_expectancy_years": float(life) if life is not None else None,
        "ambulatory": case.ambulatory,
        "pregnancy": case.pregnancy,
        "active_infection": case.active_infection,
        "severe_tortuosity": case.severe_tortuosity,
        "diameter_mismatch": case.diameter_mismatch,
        "endovascular_contraindication": case.endovascular_contraindication,
        "symptom_onset_days": case.symptom_onset_days,
        "first_episode": case.first_episode,
        "phlegmasia": case.phlegmasia,
        "symptom_severity": _text(case.symptom_severity),
        "underlying_iliac_lesion": _TRISTATE.get(case.underlying_iliac_lesion),
        "villalta": case.villalta_total,
        "vcss": case.vcss_total,
        "conservative_therapy_months": case.conservative_therapy_months,
        "inflow": _text(case.inflow),
        "stent_thrombosis_risk": _text(case.stent_thrombosis_risk),
        "thrombophilia": case.thrombophilia,
        "long_term_anticoagulation_possible": case.long_term_anticoagulation_possible,
    }
