"""The named clinical scenarios of the tests: a patient, the case inputs, the segment findings
and the symptom onset of one case of each kind the tests reason about.

They belong to the tests, not to the demo of ``make run`` (demo/cases.py, where they were
first written): what a test asserts about a scenario (the overall status, the cards, the
planned stents, the checklist) follows from every value here, so the demo may change
without changing a test. A scenario's case is written through the cases services, as one
typed in the browser: validation runs and every row has its history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from cases import ceap, scores
from cases import services as case_services
from cases.models import (
    Case,
    Finding,
    ImagingMethod,
    Inflow,
    LesionEntity,
    NivlCause,
    QolImpairment,
    RiskLevel,
    Severity,
    Sex,
    Side,
    ThrombosisEntity,
    Ulcer,
    YesNoUnknown,
)
from venousapp.accounts.models import Centre, User


@dataclass(frozen=True)
class Scenario:
    """One case: who the patient is, the case inputs and the imaging rows; the case is dated
    ``days_ago`` days before today, the symptoms began ``onset_days`` before the case."""

    patient: dict[str, Any]
    days_ago: int
    data: dict[str, Any]
    findings: tuple[dict[str, Any], ...]
    onset_days: int | None = None

    @property
    def identifier(self) -> str:
        return str(self.patient["identifier"])

    def case_data(self, today: dt.date) -> dict[str, Any]:
        """The case inputs, dated relative to ``today``."""
        case_date = today - dt.timedelta(days=self.days_ago)
        dates = {"case_date": case_date}
        if self.onset_days is not None:
            dates["symptom_onset_date"] = case_date - dt.timedelta(days=self.onset_days)
        return {**self.data, **dates}


def _ceap(text: str) -> str:
    """The stored form of a CEAP string; fails loudly if a scenario's string is not CEAP."""
    return ceap.parse(text).canonical()


def _f(
    segment: str,
    side: str,
    finding: str,
    *,
    area: int | None = None,
    diameter: int | None = None,
    ref: str | None = None,
    length: int | None = None,
    imaging: str = ImagingMethod.IVUS,
) -> dict[str, Any]:
    """A segment-finding row as ``case_create`` takes it."""
    return {
        "segment": segment,
        "side": side,
        "finding": finding,
        "area_reduction_pct": area,
        "diameter_reduction_pct": diameter,
        "reference_diameter_mm": Decimal(ref) if ref is not None else None,
        "lesion_length_mm": length,
        "imaging_method": imaging,
    }


def _grades(prefix: str, keys: Sequence[str], values: Sequence[int]) -> dict[str, int]:
    return {f"{prefix}_{key}": value for key, value in zip(keys, values, strict=True)}


def _vcss(*values: int) -> dict[str, int]:
    """rVCSS items in the order of ``scores.VCSS_ITEMS`` (pain ... compression)."""
    return _grades("vcss", [item.key for item in scores.VCSS_ITEMS], values)


def _villalta(*values: int) -> dict[str, int]:
    """Villalta items in the order of ``scores.VILLALTA_ITEMS`` (5 symptoms, 6 signs)."""
    return _grades("villalta", [item.key for item in scores.VILLALTA_ITEMS], values)


_NO_DEVICE_CONTRA = {
    "active_infection": False,
    "severe_tortuosity": False,
    "diameter_mismatch": False,
    "endovascular_contraindication": False,
}
_LOW_BLEEDING = {
    "bleeding_risk_level": RiskLevel.LOW,
    "contraindications_assessed": True,
    "thrombolysis_contraindications": [],
}
_L, _R, _M = "left", "right", "midline"
_OCC, _STEN, _THR, _COMP, _NORM = (
    Finding.OCCLUSION,
    Finding.STENOSIS,
    Finding.THROMBUS,
    Finding.COMPRESSION,
    Finding.NORMAL,
)
_DUPLEX, _CT, _VENO = ImagingMethod.DUPLEX, ImagingMethod.CT, ImagingMethod.VENOGRAPHY

SCENARIOS: dict[str, Scenario] = {
    # Acute left iliofemoral DVT, no phlegmasia, low bleeding risk: an ETR candidate.
    "acute": Scenario(
        {
            "identifier": "40118234",
            "name": "Anna Example",
            "sex": Sex.FEMALE,
            "date_of_birth": dt.date(1992, 3, 14),
        },
        days_ago=2,
        onset_days=4,
        data={
            "side": Side.LEFT,
            "lesion_entity": LesionEntity.ACUTE_THROMBOTIC,
            "thrombosis_entity": ThrombosisEntity.DESCENDING,
            "ceap": _ceap("C3,s"),
            "ulcer": Ulcer.NONE,
            "venous_claudication": False,
            "qol_impairment": QolImpairment.SEVERE,
            "symptom_severity": Severity.SEVERE,
            "first_episode": True,
            "phlegmasia": False,
            "underlying_iliac_lesion": YesNoUnknown.UNKNOWN,
            "life_expectancy_years": Decimal(45),
            "ambulatory": True,
            "pregnancy": False,
            "thrombophilia": False,
            **_LOW_BLEEDING,
            **_NO_DEVICE_CONTRA,
            "notes": "Swollen, painful left leg for 4 days after a long-haul flight; "
            "on oral contraception. Duplex and CT venography.",
        },
        findings=(
            _f("CIV", _L, _THR, ref="14.0", length=50, imaging=_CT),
            _f("EIV", _L, _THR, ref="12.0", length=90, imaging=_CT),
            _f("CFV", _L, _THR, ref="12.0", length=40, imaging=_DUPLEX),
            _f("FV", _L, _THR, ref="8.0", length=150, imaging=_DUPLEX),
        ),
    ),
    # Acute right femoropopliteal DVT only (the CFV free): anticoagulation alone.
    "femoropopliteal": Scenario(
        {
            "identifier": "40120917",
            "name": "Bruno Sample",
            "sex": Sex.MALE,
            "date_of_birth": dt.date(1968, 11, 2),
        },
        days_ago=5,
        onset_days=6,
        data={
            "side": Side.RIGHT,
            "lesion_entity": LesionEntity.ACUTE_THROMBOTIC,
            "thrombosis_entity": ThrombosisEntity.ASCENDING,
            "ceap": _ceap("C3,s"),
            "ulcer": Ulcer.NONE,
            "venous_claudication": False,
            "qol_impairment": QolImpairment.MODERATE,
            "symptom_severity": Severity.MODERATE,
            "first_episode": True,
            "phlegmasia": False,
            "underlying_iliac_lesion": YesNoUnknown.NO,
            "life_expectancy_years": Decimal(20),
            "ambulatory": True,
            "pregnancy": False,
            **_LOW_BLEEDING,
            **_NO_DEVICE_CONTRA,
            "notes": "Calf pain after knee arthroscopy three weeks ago; thrombus from the "
            "popliteal to the mid femoral vein, CFV compressible.",
        },
        findings=(
            _f("CFV", _R, _NORM, ref="12.0", imaging=_DUPLEX),
            _f("FV", _R, _THR, ref="7.5", length=180, imaging=_DUPLEX),
            _f("POPV", _R, _THR, ref="7.0", length=80, imaging=_DUPLEX),
        ),
    ),
    # Symptomatic May-Thurner NIVL, left CIV compression (C3,s).
    "nivl": Scenario(
        {
            "identifier": "40127702",
            "name": "Dora Fictional",
            "sex": Sex.FEMALE,
            "date_of_birth": dt.date(1990, 9, 5),
        },
        days_ago=20,
        data={
            "side": Side.LEFT,
            "lesion_entity": LesionEntity.NIVL,
            "nivl_cause": NivlCause.MAY_THURNER,
            "ceap": _ceap("C3,s Ese Ad Po (CIV)"),
            "ulcer": Ulcer.NONE,
            "venous_claudication": True,
            "qol_impairment": QolImpairment.MODERATE,
            "life_expectancy_years": Decimal(50),
            "ambulatory": True,
            "pregnancy": False,
            "thrombophilia": False,
            "conservative_therapy_months": 6,
            "inflow": Inflow.GOOD,
            "long_term_anticoagulation_possible": True,
            **_LOW_BLEEDING,
            **_NO_DEVICE_CONTRA,
            **_vcss(2, 1, 2, 0, 0, 0, 0, 0, 0, 2),
            "notes": "Left leg swelling and heaviness by the evening for two years, worse "
            "despite 6 months of class II stockings. No history of DVT.",
        },
        findings=(
            _f("CIV", _L, _COMP, area=72, diameter=55, ref="14.0", length=25),
            _f("EIV", _L, _NORM, ref="12.0"),
            _f("CFV", _L, _NORM, ref="12.0", imaging=_DUPLEX),
        ),
    ),
    # Chronic post-thrombotic left CIV/EIV occlusion with an active ulcer (C6).
    "chronic": Scenario(
        {
            "identifier": "40104476",
            "name": "Frida Musterfrau",
            "sex": Sex.FEMALE,
            "date_of_birth": dt.date(1971, 4, 17),
        },
        days_ago=14,
        data={
            "side": Side.LEFT,
            "lesion_entity": LesionEntity.CHRONIC_POST_THROMBOTIC,
            "ceap": _ceap("C4b,6,s Esi Ad Pr,o (CIV,EIV)"),
            "ulcer": Ulcer.ACTIVE,
            "venous_claudication": True,
            "qol_impairment": QolImpairment.SEVERE,
            "life_expectancy_years": Decimal(30),
            "ambulatory": True,
            "pregnancy": False,
            "thrombophilia": False,
            "conservative_therapy_months": 14,
            "inflow": Inflow.GOOD,
            "stent_thrombosis_risk": RiskLevel.HIGH,
            "long_term_anticoagulation_possible": True,
            **_LOW_BLEEDING,
            **_NO_DEVICE_CONTRA,
            **_vcss(3, 2, 2, 2, 1, 2, 1, 2, 2, 3),
            **_villalta(2, 1, 3, 1, 1, 2, 2, 2, 1, 2, 1),
            "notes": "Left iliofemoral DVT in 2015, treated with anticoagulation only. "
            "Medial malleolar ulcer for 8 months despite compression.",
        },
        findings=(
            _f("CIV", _L, _OCC, area=100, ref="16.0", length=55, imaging=_VENO),
            _f("EIV", _L, _OCC, area=100, ref="14.0", length=100, imaging=_VENO),
            _f("CFV", _L, _STEN, area=35, diameter=20, ref="13.0", length=30),
            _f("FV", _L, _NORM, ref="8.0", imaging=_DUPLEX),
        ),
    ),
    # Post-thrombotic obstruction reaching the CFV, poor inflow (the FV occluded).
    "poor_inflow": Scenario(
        {
            "identifier": "40108851",
            "name": "Gustav Beispiel",
            "sex": Sex.MALE,
            "date_of_birth": dt.date(1962, 12, 8),
        },
        days_ago=28,
        data={
            "side": Side.RIGHT,
            "lesion_entity": LesionEntity.CHRONIC_POST_THROMBOTIC,
            "ceap": _ceap("C3,4a,s Esi Ad Po (CIV,EIV,CFV,FV)"),
            "ulcer": Ulcer.NONE,
            "venous_claudication": True,
            "qol_impairment": QolImpairment.MODERATE,
            "life_expectancy_years": Decimal(18),
            "ambulatory": True,
            "pregnancy": False,
            "thrombophilia": True,
            "conservative_therapy_months": 24,
            "inflow": Inflow.POOR,
            "stent_thrombosis_risk": RiskLevel.HIGH,
            "long_term_anticoagulation_possible": True,
            **_LOW_BLEEDING,
            **_NO_DEVICE_CONTRA,
            **_vcss(2, 1, 3, 2, 0, 1, 0, 0, 0, 2),
            **_villalta(2, 2, 2, 0, 1, 2, 1, 2, 0, 1, 1),
            "notes": "Two right-sided DVTs (2012, 2019); factor V Leiden heterozygous. "
            "Femoral vein occluded, deep femoral vein small.",
        },
        findings=(
            _f("CIV", _R, _OCC, area=100, ref="15.0", length=50, imaging=_VENO),
            _f("EIV", _R, _OCC, area=100, ref="13.0", length=95, imaging=_VENO),
            _f("CFV", _R, _OCC, area=100, ref="12.0", length=45, imaging=_VENO),
            _f("FV", _R, _OCC, ref="7.0", length=220, imaging=_DUPLEX),
            _f("DFV", _R, _STEN, area=60, ref="5.0", length=40, imaging=_DUPLEX),
        ),
    ),
    # IVC occlusion with bilateral iliac disease: an inverted-Y reconstruction.
    "ivc": Scenario(
        {
            "identifier": "40112630",
            "name": "Hugo Nobody",
            "sex": Sex.MALE,
            "date_of_birth": dt.date(1977, 7, 23),
        },
        days_ago=10,
        data={
            "side": Side.BILATERAL,
            "lesion_entity": LesionEntity.IVC_OCCLUSION,
            "ivc_filter_related": False,
            "ceap": _ceap("C3,4a,5,s Esi Ad Po (IVC,CIV,EIV)"),
            "ulcer": Ulcer.HEALED,
            "venous_claudication": True,
            "qol_impairment": QolImpairment.SEVERE,
            "life_expectancy_years": Decimal(30),
            "ambulatory": True,
            "pregnancy": False,
            "thrombophilia": False,
            "conservative_therapy_months": 18,
            "inflow": Inflow.GOOD,
            "long_term_anticoagulation_possible": True,
            **_LOW_BLEEDING,
            **_NO_DEVICE_CONTRA,
            **_vcss(3, 2, 3, 2, 0, 1, 0, 0, 0, 2),
            **_villalta(2, 2, 3, 1, 1, 3, 1, 2, 0, 2, 1),
            "notes": "Extensive bilateral DVT after a road accident (2016). Swelling of "
            "both legs, venous claudication when climbing stairs.",
        },
        findings=(
            _f("IVC", _M, _OCC, area=100, ref="20.0", length=80, imaging=_VENO),
            _f("CIV", _L, _OCC, area=100, ref="15.0", length=50, imaging=_VENO),
            _f("CIV", _R, _OCC, area=100, ref="15.0", length=45, imaging=_VENO),
            _f("EIV", _L, _OCC, area=100, ref="13.0", length=90, imaging=_VENO),
            _f("EIV", _R, _STEN, area=70, diameter=50, ref="13.0", length=60),
            _f("CFV", _L, _NORM, ref="12.0", imaging=_DUPLEX),
            _f("CFV", _R, _NORM, ref="12.0", imaging=_DUPLEX),
        ),
    ),
    # Post-thrombotic left iliac occlusion, a groin infection: a device contraindication.
    "contraindicated": Scenario(
        {
            "identifier": "40135528",
            "name": "Karl Fakename",
            "sex": Sex.MALE,
            "date_of_birth": dt.date(1958, 5, 29),
        },
        days_ago=3,
        data={
            "side": Side.LEFT,
            "lesion_entity": LesionEntity.CHRONIC_POST_THROMBOTIC,
            "ceap": _ceap("C4a,5,s Esi Ad Po (CIV,EIV)"),
            "ulcer": Ulcer.HEALED,
            "venous_claudication": True,
            "qol_impairment": QolImpairment.SEVERE,
            "life_expectancy_years": Decimal(15),
            "ambulatory": True,
            "pregnancy": False,
            "thrombophilia": False,
            "conservative_therapy_months": 10,
            "inflow": Inflow.GOOD,
            "stent_thrombosis_risk": RiskLevel.HIGH,
            "long_term_anticoagulation_possible": True,
            **_LOW_BLEEDING,
            "active_infection": True,
            "severe_tortuosity": False,
            "diameter_mismatch": False,
            "endovascular_contraindication": False,
            **_vcss(2, 2, 2, 2, 1, 2, 0, 0, 0, 3),
            **_villalta(2, 1, 2, 1, 1, 2, 2, 2, 1, 2, 0),
            "notes": "Infected lymphocele in the left groin at the planned access site; "
            "on antibiotics. Re-assess after the infection has healed.",
        },
        findings=(
            _f("CIV", _L, _OCC, area=100, ref="15.0", length=50, imaging=_VENO),
            _f("EIV", _L, _STEN, area=75, diameter=55, ref="13.0", length=70),
        ),
    ),
}


def scenario_case_create(
    name: str,
    *,
    centre: Centre,
    author: User,
    today: dt.date | None = None,
    identifier: str = "",
    findings: list[dict[str, Any]] | None = None,
    **changes: Any,
) -> Case:
    """The scenario ``name``'s case at ``centre``, dated relative to ``today`` (the local
    date when not given); keyword arguments change case fields, ``identifier`` the
    patient's hospital number, ``findings=[...]`` replaces the segment findings."""
    scenario = SCENARIOS[name]
    patient = case_services.patient_get_or_create(
        centre=centre,
        data={**scenario.patient, **({"identifier": identifier} if identifier else {})},
        user=author,
    )
    case = case_services.case_create(
        patient=patient,
        author=author,
        data={**scenario.case_data(today or timezone.localdate()), **changes},
        findings=findings if findings is not None else [dict(f) for f in scenario.findings],
    )
    return Case.objects.get(pk=case.pk)  # coded values as stored (plain strings)
