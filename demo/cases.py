"""Demo data: two centres, one user per role, realistic cases, and a synthetic generator.

The hand-written cases follow the lesion entities and the inputs of the guideline engine
(``guidelines/vocabulary.py``, docs/evaluation.md) so that a newcomer can open one case of each
kind (and, later, see what the guideline rules make of it). They are written through
``cases.services`` like any case typed in the browser, so validation runs and every row has its
history.

The synthetic generator exists for benchmarks (``seed_demo --cases 100000``). It writes with
``bulk_create`` in batches and, because clinical models must never change without history
(STYLE.md convention 11), creates the matching historical rows with simple_history's
``bulk_create_with_history``. Its values are random but valid: the same rules the services
enforce (coded vocabularies, onset not after the case date, NIVL cause only for NIVL, one
finding per segment and side, inputs of other entities left empty) hold by construction.

Identifiers look like hospital numbers and names are obviously fictitious.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import reset_queries, transaction
from django.db.models import Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from cases import ceap, scores, services
from cases.entities import fields_not_applicable
from cases.models import (
    Case,
    Finding,
    ImagingMethod,
    Inflow,
    LesionEntity,
    NivlCause,
    Patient,
    QolImpairment,
    RiskLevel,
    Severity,
    Sex,
    Side,
    ThrombosisEntity,
    Ulcer,
    YesNoUnknown,
)
from cases.models import SegmentFinding as SegmentFindingModel
from cases.thrombolysis import ABSOLUTE, RELATIVE
from guidelines.models import ReEvaluationTrigger
from guidelines.selectors import stored_evaluations
from guidelines.services.reevaluation import reevaluation_start
from venousapp.accounts.models import Centre, Role, User
from venousapp.accounts.roles import ROLE_PERMISSIONS

DEFAULT_PASSWORD = "venous-demo-2026"  # noqa: S105 - printed for everyone; demo logins only
PASSWORD_ENV = "DEMO_PASSWORD"  # noqa: S105 - the variable's name, not a secret
BATCH_SIZE = 2_000
SYNTHETIC_PREFIX = "9"  # synthetic hospital numbers are "9" + 7 digits: 90000001, ...


@dataclass(frozen=True)
class DemoCentre:
    code: str
    name: str
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    centre: str
    first_name: str
    last_name: str


CENTRE_A = DemoCentre(
    "centre-a",
    "Centre A — University Hospital",
    "Venous clinic, building 4\nHospital Road 1\n10117 Berlin",
    "+49 30 450 00000",
)
CENTRE_B = DemoCentre(
    "centre-b",
    "Centre B — City Hospital",
    "Vascular outpatients\nPark Lane 7\n20095 Hamburg",
    "+49 40 180 00000",
)
CENTRES = (CENTRE_A, CENTRE_B)

USERS = (
    DemoUser("clinician", Role.CLINICIAN, CENTRE_A.code, "Clara", "Demo-Clinician"),
    DemoUser("nurse", Role.NURSE, CENTRE_A.code, "Nora", "Demo-Nurse"),
    DemoUser("guideline_admin", Role.GUIDELINE_ADMIN, CENTRE_A.code, "Gerd", "Demo-Admin"),
    DemoUser("guideline_admin2", Role.GUIDELINE_ADMIN, CENTRE_A.code, "Greta", "Demo-Admin"),
    DemoUser("clinician_b", Role.CLINICIAN, CENTRE_B.code, "Ben", "Demo-Clinician"),
)
# Whose name a centre's demo cases are entered under.
AUTHORS = {CENTRE_A.code: "clinician", CENTRE_B.code: "clinician_b"}


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    centre: str
    password: str


@dataclass
class SeedResult:
    created: bool
    logins: list[Login]
    demo_cases: int = 0
    synthetic_cases: int = 0
    reevaluated_cases: int = 0


@dataclass(frozen=True)
class DemoCase:
    """One hand-written case: who the patient is, the case inputs and the imaging rows."""

    title: str
    centre: str
    patient: dict[str, Any]
    days_ago: int
    data: dict[str, Any]
    findings: tuple[dict[str, Any], ...]
    onset_days: int | None = None  # symptom onset, days before the case date


def canonical_ceap(text: str) -> str:
    """The stored form of a CEAP string; fails loudly if a demo string is not valid CEAP."""
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


_VCSS_KEYS = [item.key for item in scores.VCSS_ITEMS]
_VILLALTA_KEYS = [item.key for item in scores.VILLALTA_ITEMS]


def vcss(*values: int) -> dict[str, int]:
    """rVCSS items in the order of ``scores.VCSS_ITEMS`` (pain ... compression)."""
    return _grades("vcss", _VCSS_KEYS, values)


def villalta(*values: int) -> dict[str, int]:
    """Villalta items in the order of ``scores.VILLALTA_ITEMS`` (5 symptoms, 6 signs)."""
    return _grades("villalta", _VILLALTA_KEYS, values)


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

DEMO_CASES: tuple[DemoCase, ...] = (
    DemoCase(
        "Acute left iliofemoral DVT, no phlegmasia, low bleeding risk: ETR candidate",
        CENTRE_A.code,
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
            "ceap": canonical_ceap("C3,s"),
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
    DemoCase(
        "Acute right femoropopliteal DVT only (CFV free): anticoagulation alone",
        CENTRE_A.code,
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
            "ceap": canonical_ceap("C3,s"),
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
    DemoCase(
        "Acute left iliofemoral DVT with high bleeding risk (surgery 6 days ago)",
        CENTRE_A.code,
        {
            "identifier": "40123388",
            "name": "Clara Placeholder",
            "sex": Sex.FEMALE,
            "date_of_birth": dt.date(1949, 6, 21),
        },
        days_ago=1,
        onset_days=3,
        data={
            "side": Side.LEFT,
            "lesion_entity": LesionEntity.ACUTE_THROMBOTIC,
            "thrombosis_entity": ThrombosisEntity.DESCENDING,
            "ceap": canonical_ceap("C3,s"),
            "ulcer": Ulcer.NONE,
            "venous_claudication": False,
            "qol_impairment": QolImpairment.SEVERE,
            "symptom_severity": Severity.SEVERE,
            "first_episode": True,
            "phlegmasia": False,
            "underlying_iliac_lesion": YesNoUnknown.UNKNOWN,
            "life_expectancy_years": Decimal(8),
            "ambulatory": True,
            "pregnancy": False,
            "bleeding_risk_level": RiskLevel.HIGH,
            "contraindications_assessed": True,
            "thrombolysis_contraindications": ["major_event_10d", "uncontrolled_hypertension"],
            **_NO_DEVICE_CONTRA,
            "notes": "Total hip replacement 6 days ago; blood pressure 190/105 mm Hg.",
        },
        findings=(
            _f("CIV", _L, _THR, ref="13.0", length=45, imaging=_CT),
            _f("EIV", _L, _THR, ref="12.0", length=85, imaging=_CT),
            _f("CFV", _L, _THR, ref="11.5", length=40, imaging=_DUPLEX),
        ),
    ),
    DemoCase(
        "Symptomatic May-Thurner NIVL, left CIV compression (C3,s)",
        CENTRE_A.code,
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
            "ceap": canonical_ceap("C3,s Ese Ad Po (CIV)"),
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
            **vcss(2, 1, 2, 0, 0, 0, 0, 0, 0, 2),
            "notes": "Left leg swelling and heaviness by the evening for two years, worse "
            "despite 6 months of class II stockings. No history of DVT.",
        },
        findings=(
            _f("CIV", _L, _COMP, area=72, diameter=55, ref="14.0", length=25),
            _f("EIV", _L, _NORM, ref="12.0"),
            _f("CFV", _L, _NORM, ref="12.0", imaging=_DUPLEX),
        ),
    ),
    DemoCase(
        "Asymptomatic incidental left CIV compression on CT (NIVL, C0,a)",
        CENTRE_A.code,
        {
            "identifier": "40131045",
            "name": "Emil Testperson",
            "sex": Sex.MALE,
            "date_of_birth": dt.date(1979, 1, 30),
        },
        days_ago=35,
        data={
            "side": Side.LEFT,
            "lesion_entity": LesionEntity.NIVL,
            "nivl_cause": NivlCause.MAY_THURNER,
            "ceap": canonical_ceap("C0,a Ese Ad Po (CIV)"),
            "ulcer": Ulcer.NONE,
            "venous_claudication": False,
            "qol_impairment": QolImpairment.NONE,
            "life_expectancy_years": Decimal(40),
            "ambulatory": True,
            "pregnancy": False,
            "thrombophilia": False,
            "conservative_therapy_months": 0,
            "inflow": Inflow.GOOD,
            **_LOW_BLEEDING,
            **_NO_DEVICE_CONTRA,
            **vcss(0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            "notes": "Referred after an abdominal CT for renal colic described a "
            "compressed left common iliac vein. No leg symptoms.",
        },
        findings=(_f("CIV", _L, _COMP, diameter=60, ref="13.5", length=20, imaging=_CT),),
    ),
    DemoCase(
        "Chronic post-thrombotic left CIV/EIV occlusion with an active ulcer (C6)",
        CENTRE_A.code,
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
            "ceap": canonical_ceap("C4b,6,s Esi Ad Pr,o (CIV,EIV)"),
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
            **vcss(3, 2, 2, 2, 1, 2, 1, 2, 2, 3),
            **villalta(2, 1, 3, 1, 1, 2, 2, 2, 1, 2, 1),
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
    DemoCase(
        "Post-thrombotic obstruction reaching the CFV, poor inflow (FV occluded)",
        CENTRE_A.code,
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
            "ceap": canonical_ceap("C3,4a,s Esi Ad Po (CIV,EIV,CFV,FV)"),
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
            **vcss(2, 1, 3, 2, 0, 1, 0, 0, 0, 2),
            **villalta(2, 2, 2, 0, 1, 2, 1, 2, 0, 1, 1),
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
    DemoCase(
        "IVC occlusion with bilateral iliac disease (inverted-Y reconstruction)",
        CENTRE_A.code,
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
            "ceap": canonical_ceap("C3,4a,5,s Esi Ad Po (IVC,CIV,EIV)"),
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
            **vcss(3, 2, 3, 2, 0, 1, 0, 0, 0, 2),
            **villalta(2, 2, 3, 1, 1, 3, 1, 2, 0, 2, 1),
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
    DemoCase(
        "IVC-filter-related chronic iliocaval occlusion",
        CENTRE_A.code,
        {
            "identifier": "40115593",
            "name": "Ines Dummy",
            "sex": Sex.FEMALE,
            "date_of_birth": dt.date(1966, 2, 11),
        },
        days_ago=42,
        data={
            "side": Side.BILATERAL,
            "lesion_entity": LesionEntity.IVC_OCCLUSION,
            "ivc_filter_related": True,
            "ceap": canonical_ceap("C4a,s Esi Ad Po (IVC,CIV)"),
            "ulcer": Ulcer.NONE,
            "venous_claudication": True,
            "qol_impairment": QolImpairment.MODERATE,
            "life_expectancy_years": Decimal(20),
            "ambulatory": True,
            "pregnancy": False,
            "thrombophilia": False,
            "conservative_therapy_months": 12,
            "inflow": Inflow.GOOD,
            "long_term_anticoagulation_possible": True,
            **_LOW_BLEEDING,
            **_NO_DEVICE_CONTRA,
            **vcss(2, 1, 2, 2, 0, 1, 0, 0, 0, 2),
            "notes": "Retrievable IVC filter placed before spine surgery in 2014 and never "
            "removed; infrarenal IVC occluded around the filter.",
        },
        findings=(
            _f("IVC", _M, _OCC, area=100, ref="20.0", length=70, imaging=_VENO),
            _f("CIV", _L, _OCC, area=100, ref="14.0", length=40, imaging=_VENO),
            _f("CIV", _R, _STEN, area=65, diameter=45, ref="14.0", length=35),
        ),
    ),
    DemoCase(
        "Iliocaval atresia in a young man with bilateral DVT",
        CENTRE_A.code,
        {
            "identifier": "40139917",
            "name": "Jonas Imaginary",
            "sex": Sex.MALE,
            "date_of_birth": dt.date(2002, 10, 1),
        },
        days_ago=7,
        data={
            "side": Side.BILATERAL,
            "lesion_entity": LesionEntity.ILIOCAVAL_ATRESIA,
            "ceap": canonical_ceap("C3,s Ec Ad Po (IVC,CIV,EIV)"),
            "ulcer": Ulcer.NONE,
            "venous_claudication": True,
            "qol_impairment": QolImpairment.SEVERE,
            "life_expectancy_years": Decimal(55),
            "ambulatory": True,
            "pregnancy": False,
            "thrombophilia": False,
            "conservative_therapy_months": 9,
            "inflow": Inflow.GOOD,
            "long_term_anticoagulation_possible": True,
            **_LOW_BLEEDING,
            **_NO_DEVICE_CONTRA,
            **vcss(2, 1, 2, 0, 0, 0, 0, 0, 0, 2),
            **villalta(2, 1, 2, 0, 0, 2, 0, 1, 0, 2, 1),
            "notes": "Bilateral iliofemoral DVT at 21 while playing football; CT: hypoplastic "
            "infrarenal IVC with azygos and lumbar collaterals.",
        },
        findings=(
            _f("IVC", _M, _OCC, area=100, ref="18.0", length=110, imaging=_CT),
            _f("CIV", _L, _OCC, area=100, ref="13.0", length=50, imaging=_VENO),
            _f("CIV", _R, _OCC, area=100, ref="13.0", length=50, imaging=_VENO),
            _f("EIV", _L, _STEN, area=55, ref="12.0", length=40),
            _f("EIV", _R, _STEN, area=50, ref="12.0", length=35),
        ),
    ),
    DemoCase(
        "Post-thrombotic left iliac occlusion, groin infection: device contraindication",
        CENTRE_A.code,
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
            "ceap": canonical_ceap("C4a,5,s Esi Ad Po (CIV,EIV)"),
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
            **vcss(2, 2, 2, 2, 1, 2, 0, 0, 0, 3),
            **villalta(2, 1, 2, 1, 1, 2, 2, 2, 1, 2, 0),
            "notes": "Infected lymphocele in the left groin at the planned access site; "
            "on antibiotics. Re-assess after the infection has healed.",
        },
        findings=(
            _f("CIV", _L, _OCC, area=100, ref="15.0", length=50, imaging=_VENO),
            _f("EIV", _L, _STEN, area=75, diameter=55, ref="13.0", length=70),
        ),
    ),
    DemoCase(
        "Chronic case with missing data (only the essentials recorded)",
        CENTRE_A.code,
        {
            "identifier": "40140264",
            "name": "",
            "sex": Sex.FEMALE,
            "date_of_birth": dt.date(1984, 8, 16),
        },
        days_ago=0,
        data={
            "side": Side.LEFT,
            "lesion_entity": LesionEntity.CHRONIC_POST_THROMBOTIC,
            "notes": "Referral letter only; IVUS and clinical examination pending.",
        },
        findings=(_f("CIV", _L, _STEN, ref="14.0", imaging=_DUPLEX),),
    ),
    DemoCase(
        "Centre B: acute right iliofemoral DVT with phlegmasia",
        CENTRE_B.code,
        {
            "identifier": "CH204581",
            "name": "Lena Placebo",
            "sex": Sex.FEMALE,
            "date_of_birth": dt.date(1987, 12, 3),
        },
        days_ago=1,
        onset_days=2,
        data={
            "side": Side.RIGHT,
            "lesion_entity": LesionEntity.ACUTE_THROMBOTIC,
            "thrombosis_entity": ThrombosisEntity.DESCENDING,
            "ceap": canonical_ceap("C3,s"),
            "ulcer": Ulcer.NONE,
            "qol_impairment": QolImpairment.SEVERE,
            "symptom_severity": Severity.SEVERE,
            "first_episode": True,
            "phlegmasia": True,
            "underlying_iliac_lesion": YesNoUnknown.UNKNOWN,
            "life_expectancy_years": Decimal(45),
            "ambulatory": True,
            "pregnancy": False,
            **_LOW_BLEEDING,
            **_NO_DEVICE_CONTRA,
            "notes": "Blue, tense, painful right leg (phlegmasia cerulea dolens).",
        },
        findings=(
            _f("CIV", _R, _THR, ref="14.0", length=50, imaging=_CT),
            _f("EIV", _R, _THR, ref="12.5", length=90, imaging=_CT),
            _f("CFV", _R, _THR, ref="12.0", length=40, imaging=_DUPLEX),
            _f("FV", _R, _THR, ref="8.0", length=200, imaging=_DUPLEX),
            _f("POPV", _R, _THR, ref="7.0", length=80, imaging=_DUPLEX),
        ),
    ),
    DemoCase(
        "Centre B: symptomatic left NIVL (May-Thurner) with venous claudication",
        CENTRE_B.code,
        {
            "identifier": "CH209934",
            "name": "Max Mustermann",
            "sex": Sex.MALE,
            "date_of_birth": dt.date(1985, 3, 9),
        },
        days_ago=12,
        data={
            "side": Side.LEFT,
            "lesion_entity": LesionEntity.NIVL,
            "nivl_cause": NivlCause.MAY_THURNER,
            "ceap": canonical_ceap("C2,3,s Ese Ad Po (CIV)"),
            "ulcer": Ulcer.NONE,
            "venous_claudication": True,
            "qol_impairment": QolImpairment.MODERATE,
            "life_expectancy_years": Decimal(45),
            "ambulatory": True,
            "pregnancy": False,
            "conservative_therapy_months": 6,
            "inflow": Inflow.GOOD,
            "long_term_anticoagulation_possible": True,
            **_LOW_BLEEDING,
            **_NO_DEVICE_CONTRA,
            **vcss(2, 2, 1, 0, 0, 0, 0, 0, 0, 2),
        },
        findings=(_f("CIV", _L, _COMP, area=68, diameter=50, ref="14.5", length=30),),
    ),
)


# --- centres, roles and users -------------------------------------------------------------


def demo_password(environ: dict[str, str]) -> str:
    return environ.get(PASSWORD_ENV) or DEFAULT_PASSWORD


def demo_exists() -> bool:
    return Centre.objects.filter(code=CENTRE_A.code).exists()


def _role_groups() -> dict[str, Group]:
    """The role groups, with the permissions ``roles.ROLE_PERMISSIONS`` gives them.

    Migrations create them; they are re-granted here (idempotently) because a flushed
    database (``flush``, transactional tests) keeps permissions but loses the groups.
    """
    groups = {}
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        for app_label, codenames in ROLE_PERMISSIONS.get(role.value, {}).items():
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )
        groups[role.value] = group
    return groups


def demo_password_validate(password: str) -> None:
    """Run the password validators for every demo user before anything is written."""
    for spec in USERS:
        validate_password(
            password,
            User(
                username=spec.username,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=f"{spec.username}@demo.invalid",
            ),
        )


def demo_users_create(*, password: str) -> list[Login]:
    """Centres and users of the demo (get-or-create), all with ``password``."""
    centres = {}
    for centre_spec in CENTRES:
        wanted = {
            "name": centre_spec.name,
            "address": centre_spec.address,
            "phone": centre_spec.phone,
        }
        centre, _ = Centre.objects.get_or_create(code=centre_spec.code, defaults=wanted)
        changed = [name for name, value in wanted.items() if getattr(centre, name) != value]
        if changed:
            for name in changed:
                setattr(centre, name, wanted[name])
            centre.save(update_fields=changed)
        centres[centre_spec.code] = centre
    groups = _role_groups()
    # One hash for everyone: the demo password is printed on screen, so a shared salt
    # costs nothing, and hashing once keeps `make run` quick.
    encoded = None
    logins = []
    for spec in USERS:
        user, _ = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "centre": centres[spec.centre],
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@demo.invalid",
            },
        )
        encoded = encoded or make_password(password)
        user.centre = centres[spec.centre]
        user.password = encoded
        user.is_active = True
        user.save(update_fields=["centre", "password", "is_active"])
        user.groups.set([groups[spec.role.value]])
        logins.append(Login(spec.username, str(spec.role.label), spec.centre, password))
    return logins


def demo_logins(*, password: str) -> list[Login]:
    """Logins of an existing demo, with the password shown only if it still works."""
    users = {u.username: u for u in User.objects.filter(username__in=[s.username for s in USERS])}
    works: dict[str, bool] = {}  # encoded hash -> does the password match (hash once)
    logins = []
    for spec in USERS:
        user = users.get(spec.username)
        if user is not None and user.password not in works:
            works[user.password] = user.check_password(password)
        if user is None:
            shown = "(user missing)"
        elif works[user.password]:
            shown = password
        else:
            shown = f"(changed; not {PASSWORD_ENV})"
        logins.append(Login(spec.username, str(spec.role.label), spec.centre, shown))
    return logins


# --- hand-written cases --------------------------------------------------------------------


def demo_contact(identifier: str) -> dict[str, str]:
    """Invented contact details for a demo patient (a reserved test number range)."""
    digits = "".join(ch for ch in identifier if ch.isdigit())[-4:].rjust(4, "0")
    return {
        "phone": f"+49 30 5550 {digits}",
        "address": f"Demo Street {int(digits) % 90 + 1}\n10115 Berlin",
        "preferred_contact": "phone",
        "general_practitioner": "Dr Demo, Family Practice, +49 30 5550 0000",
    }


def demo_cases_create(*, today: dt.date | None = None) -> int:
    """Create the hand-written demo cases that do not exist yet; returns how many were new.

    A demo case is identified by its patient's hospital number, so a second run adds
    nothing (and a case edited by hand is left alone).
    """
    today = today or timezone.localdate()
    centres = {c.code: c for c in Centre.objects.filter(code__in=[s.code for s in CENTRES])}
    authors = {code: User.objects.get(username=username) for code, username in AUTHORS.items()}
    created = 0
    for spec in DEMO_CASES:
        centre = centres[spec.centre]
        with transaction.atomic():
            patient = services.patient_get_or_create(
                centre=centre,
                data={**demo_contact(spec.patient["identifier"]), **spec.patient},
                user=authors[spec.centre],
            )
            if patient.cases.exists():
                continue
            case_date = today - dt.timedelta(days=spec.days_ago)
            data = {**spec.data, "case_date": case_date}
            if spec.onset_days is not None:
                data["symptom_onset_date"] = case_date - dt.timedelta(days=spec.onset_days)
            services.case_create(
                patient=patient,
                author=authors[spec.centre],
                data=data,
                findings=[dict(f) for f in spec.findings],
            )
        created += 1
    return created


# --- synthetic cases -----------------------------------------------------------------------

_ILIOFEMORAL = ("CIV", "EIV", "CFV", "FV", "POPV")
_C_BY_ENTITY: dict[str, tuple[tuple[str, ...], ...]] = {
    LesionEntity.ACUTE_THROMBOTIC: (("3",), ("3", "4a")),
    LesionEntity.CHRONIC_POST_THROMBOTIC: (
        ("3",),
        ("3", "4a"),
        ("4b",),
        ("4a", "5"),
        ("4b", "6"),
        ("2", "3", "4c"),
        ("6r",),
    ),
    LesionEntity.NIVL: (("0",), ("1",), ("2", "3"), ("3",), ("3", "4a")),
    LesionEntity.ILIOCAVAL_ATRESIA: (("3",), ("3", "4a"), ("4b", "5")),
    LesionEntity.IVC_OCCLUSION: (("3",), ("3", "4a"), ("4b", "6"), ("4c", "5")),
}
_E_BY_ENTITY: dict[str, str] = {
    LesionEntity.ACUTE_THROMBOTIC: "Esi",
    LesionEntity.CHRONIC_POST_THROMBOTIC: "Esi",
    LesionEntity.NIVL: "Ese",
    LesionEntity.ILIOCAVAL_ATRESIA: "Ec",
    LesionEntity.IVC_OCCLUSION: "Esi",
}
_CEAP_SEGMENTS = ("IVC", "CIV", "EIV", "CFV", "FV", "POPV")
_ALL_CONTRA = tuple(code for code, _ in ABSOLUTE + RELATIVE)
_REF_MM = {
    "IVC": (18, 24),
    "CIV": (12, 16),
    "EIV": (10, 14),
    "CFV": (10, 13),
    "FV": (6, 9),
    "POPV": (6, 8),
    "DFV": (4, 6),
}


@functools.lru_cache(maxsize=4096)
def _synthetic_ceap(
    classes: tuple[str, ...],
    symptomatic: bool,
    etiology: str,
    pathophysiology: str,
    segments: tuple[str, ...],
) -> str:
    c_part = "C" + ",".join(classes) + (",s" if symptomatic else ",a")
    text = f"{c_part} {etiology} Ad {pathophysiology}"
    if segments:
        text += f" ({','.join(segments)})"
    return canonical_ceap(text)


class SyntheticCaseGenerator:
    """Random but valid cases across every lesion entity, reproducible from ``seed``."""

    def __init__(self, *, seed: int, today: dt.date) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not security
        self.today = today

    def _maybe(self, value: Any, recorded: float = 0.9) -> Any:
        """``value`` most of the time, else "not recorded" (None)."""
        return value if self.rng.random() < recorded else None

    def _finding(self, segment: str, side: str, kind: str) -> SegmentFindingModel:
        rng = self.rng
        lo, hi = _REF_MM.get(segment, (6, 10))
        area = None
        if kind == Finding.OCCLUSION:
            area = 100
        elif kind in (Finding.STENOSIS, Finding.COMPRESSION):
            area = self._maybe(rng.randint(30, 95), 0.85)
        diameter = None if area is None or area == 100 else max(0, area - rng.randint(10, 25))
        imaging = (
            rng.choice((ImagingMethod.DUPLEX, ImagingMethod.CT))
            if kind == Finding.THROMBUS
            else rng.choice(
                (
                    ImagingMethod.IVUS,
                    ImagingMethod.IVUS,
                    ImagingMethod.VENOGRAPHY,
                    ImagingMethod.DUPLEX,
                )
            )
        )
        return SegmentFindingModel(
            segment=segment,
            side=side,
            finding=kind,
            area_reduction_pct=area,
            diameter_reduction_pct=diameter,
            reference_diameter_mm=Decimal(rng.randint(lo * 2, hi * 2)) / 2,
            lesion_length_mm=None if kind == Finding.NORMAL else rng.randint(15, 200),
            imaging_method=imaging,
        )

    def _findings(self, entity: str, side: str) -> list[SegmentFindingModel]:
        rng = self.rng
        limb_sides = [Side.LEFT, Side.RIGHT] if side == Side.BILATERAL else [side]
        rows: dict[tuple[str, str], SegmentFindingModel] = {}

        def add(segment: str, seg_side: str, kind: str) -> None:
            rows.setdefault((segment, seg_side), self._finding(segment, seg_side, kind))

        if entity == LesionEntity.ACUTE_THROMBOTIC:
            for limb in limb_sides:
                segments: tuple[str, ...]
                if rng.random() < 0.3:  # femoropopliteal only
                    segments = _ILIOFEMORAL[3:]
                    add("CFV", limb, Finding.NORMAL)
                else:
                    segments = _ILIOFEMORAL[rng.randint(0, 2) : rng.randint(3, 5)]
                for segment in segments:
                    add(segment, limb, Finding.THROMBUS)
            if rng.random() < 0.1:
                add("IVC", "midline", Finding.THROMBUS)
        elif entity == LesionEntity.CHRONIC_POST_THROMBOTIC:
            for limb in limb_sides:
                start = rng.randint(0, 1)
                for segment in _ILIOFEMORAL[start : rng.randint(start + 1, 4)]:
                    add(segment, limb, rng.choice((Finding.OCCLUSION, Finding.STENOSIS)))
        elif entity == LesionEntity.NIVL:
            for limb in limb_sides:
                add("CIV", limb, Finding.COMPRESSION)
                if rng.random() < 0.2:
                    add("EIV", limb, Finding.COMPRESSION)
        else:  # iliocaval atresia, IVC occlusion: caval plus (mostly bilateral) iliac disease
            add("IVC", "midline", Finding.OCCLUSION)
            for limb in (Side.LEFT, Side.RIGHT):
                add("CIV", limb, rng.choice((Finding.OCCLUSION, Finding.STENOSIS)))
                if rng.random() < 0.5:
                    add("EIV", limb, rng.choice((Finding.OCCLUSION, Finding.STENOSIS)))
        return list(rows.values())

    def case(self, *, patient: Patient, author: User) -> tuple[Case, list[SegmentFindingModel]]:
        rng = self.rng
        entity = rng.choice(LesionEntity.values)
        if entity in (LesionEntity.ILIOCAVAL_ATRESIA, LesionEntity.IVC_OCCLUSION):
            side = Side.BILATERAL
        else:
            side = rng.choice((Side.LEFT, Side.LEFT, Side.RIGHT, Side.BILATERAL))
        findings = self._findings(entity, side)
        case_date = self.today - dt.timedelta(days=rng.randint(0, 3 * 365))
        involved = {f.segment for f in findings if f.finding != Finding.NORMAL}
        classes = rng.choice(_C_BY_ENTITY[entity])
        symptomatic = classes != ("0",) and rng.random() < 0.9
        pathophysiology = rng.choice(("Po", "Po", "Pr,o"))
        segments = tuple(s for s in _CEAP_SEGMENTS if s in involved)
        ulcer = (
            Ulcer.ACTIVE
            if {"6", "6r"} & set(classes)
            else Ulcer.HEALED
            if "5" in classes
            else Ulcer.NONE
        )
        contra = rng.sample(_ALL_CONTRA, rng.randint(1, 2)) if rng.random() < 0.15 else []
        case = Case(
            patient=patient,
            centre_id=patient.centre_id,
            author=author,
            case_date=case_date,
            side=side,
            lesion_entity=entity,
            nivl_cause=rng.choice(NivlCause.values) if entity == LesionEntity.NIVL else "",
            ivc_filter_related=(
                rng.random() < 0.3 if entity == LesionEntity.IVC_OCCLUSION else None
            ),
            thrombosis_entity=(
                rng.choice(ThrombosisEntity.values)
                if entity == LesionEntity.ACUTE_THROMBOTIC
                else ""
            ),
            symptom_onset_date=(
                case_date - dt.timedelta(days=rng.randint(0, 28))
                if entity == LesionEntity.ACUTE_THROMBOTIC
                else None
            ),
            ceap=(
                _synthetic_ceap(
                    classes, symptomatic, _E_BY_ENTITY[entity], pathophysiology, segments
                )
                if rng.random() < 0.95
                else ""
            ),
            ulcer=ulcer,
            venous_claudication=self._maybe(rng.random() < 0.4),
            qol_impairment=self._maybe(rng.choice(QolImpairment.values)) or "",
            symptom_severity=rng.choice(Severity.values),
            first_episode=self._maybe(rng.random() < 0.8),
            phlegmasia=self._maybe(rng.random() < 0.05),
            underlying_iliac_lesion=rng.choice(YesNoUnknown.values),
            life_expectancy_years=self._maybe(Decimal(rng.randint(1, 60))),
            ambulatory=self._maybe(rng.random() < 0.9),
            pregnancy=(self._maybe(rng.random() < 0.03) if patient.sex == Sex.FEMALE else False),
            thrombophilia=self._maybe(rng.random() < 0.15),
            conservative_therapy_months=self._maybe(rng.randint(0, 36)),
            inflow=self._maybe(rng.choice(Inflow.values)) or "",
            stent_thrombosis_risk=rng.choice(("", "", *RiskLevel.values)),
            long_term_anticoagulation_possible=self._maybe(rng.random() < 0.85),
            active_infection=self._maybe(rng.random() < 0.03),
            severe_tortuosity=self._maybe(rng.random() < 0.03),
            diameter_mismatch=self._maybe(rng.random() < 0.03),
            endovascular_contraindication=self._maybe(rng.random() < 0.03),
            bleeding_risk_level=(
                RiskLevel.HIGH if contra else self._maybe(RiskLevel.LOW, 0.9) or ""
            ),
            contraindications_assessed=bool(contra) or rng.random() < 0.85,
            thrombolysis_contraindications=contra,
            **{f"vcss_{key}": rng.randint(0, 3) for key in _VCSS_KEYS},
            **{f"villalta_{key}": rng.randint(0, 3) for key in _VILLALTA_KEYS},
        )
        if ulcer != Ulcer.ACTIVE:  # ulcer items describe an active ulcer only
            case.vcss_ulcer_number = case.vcss_ulcer_duration = case.vcss_ulcer_size = 0
        for name in fields_not_applicable(entity):  # as services.case_create does
            setattr(case, name, None if Case._meta.get_field(name).null else "")
        return case, findings

    def patient(self, *, centre: Centre, identifier: str) -> Patient:
        rng = self.rng
        age_days = rng.randint(18 * 365, 85 * 365)
        return Patient(
            centre=centre,
            identifier=identifier,
            name="",
            date_of_birth=self.today - dt.timedelta(days=age_days),
            sex=rng.choice((Sex.FEMALE, Sex.MALE)),
        )


def _next_synthetic_number(centre: Centre) -> int:
    last = Patient.objects.filter(
        centre=centre, identifier__regex=rf"^{SYNTHETIC_PREFIX}[0-9]{{7}}$"
    ).aggregate(last=Max("identifier"))["last"]
    return int(last[1:]) + 1 if last else 1


def _chunks(total: int, size: int) -> Iterator[int]:
    done = 0
    while done < total:
        yield min(size, total - done)
        done += size


def synthetic_cases_create(
    *,
    centre: Centre,
    author: User,
    count: int,
    seed: int = 2026,
    today: dt.date | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """``count`` synthetic cases at ``centre``, one new patient each, with history rows.

    Every batch of ``batch_size`` cases is one transaction: patients, cases and findings
    are bulk-created together with their historical rows, so a batch is either fully there
    (and audited) or not at all.
    """
    today = today or timezone.localdate()
    number = _next_synthetic_number(centre)
    # Reproducible for a given seed and database state; a second run continues with other
    # cases instead of repeating the first run's under new numbers.
    generator = SyntheticCaseGenerator(seed=seed * 10**8 + number, today=today)
    if number + count - 1 > 9_999_999:
        raise ValueError("Synthetic hospital numbers are exhausted at this centre.")
    reason = "seed_demo --cases (synthetic)"
    done = 0
    for size in _chunks(count, batch_size):
        with transaction.atomic():
            now = timezone.now()
            patients = [
                generator.patient(centre=centre, identifier=f"{SYNTHETIC_PREFIX}{n:07d}")
                for n in range(number, number + size)
            ]
            number += size
            patients = bulk_create_with_history(
                patients,
                Patient,
                batch_size=batch_size,
                default_change_reason=reason,
                default_date=now,
            )
            cases, findings_per_case = [], []
            for patient in patients:
                case, findings = generator.case(patient=patient, author=author)
                cases.append(case)
                findings_per_case.append(findings)
            cases = bulk_create_with_history(
                cases, Case, batch_size=batch_size, default_change_reason=reason, default_date=now
            )
            rows = []
            for case, findings in zip(cases, findings_per_case, strict=True):
                for finding in findings:
                    finding.case = case
                    rows.append(finding)
            bulk_create_with_history(
                rows,
                SegmentFindingModel,
                batch_size=batch_size,
                default_change_reason=reason,
                default_date=now,
            )
        done += size
        reset_queries()  # with DEBUG=true Django keeps every (huge) INSERT in memory
        if progress:
            progress(done)
    return done


# --- the whole seed -----------------------------------------------------------------------


@dataclass
class SeedOptions:
    password: str
    once: bool = False
    synthetic: int = 0
    seed: int = 2026
    synthetic_centre: str = CENTRE_A.code
    progress: Callable[[int], None] | None = None
    timings: dict[str, float] = field(default_factory=dict)


def stored_statuses_refresh(options: SeedOptions) -> int:
    """Store the overall status of the cases that lack a current one, here and now; returns
    how many were evaluated. Synthetic cases are bulk-created without it, and a demo database
    from before statuses were stored has none, so ``make run`` would list them unevaluated."""
    if not stored_evaluations().stale:
        return 0
    started = time.perf_counter()
    job = reevaluation_start(trigger=ReEvaluationTrigger.COMMAND, inline=True)
    options.timings["reevaluation"] = time.perf_counter() - started
    return job.done


def demo_seed(options: SeedOptions) -> SeedResult:
    """Everything ``manage.py seed_demo`` does, callable from tests and other code."""
    if options.once and demo_exists():
        return SeedResult(
            created=False,
            logins=demo_logins(password=options.password),
            reevaluated_cases=stored_statuses_refresh(options),
        )
    demo_password_validate(options.password)
    with transaction.atomic():  # all or nothing, so `--once` never sees half a demo
        logins = demo_users_create(password=options.password)
        demo_cases = demo_cases_create()
    created = 0
    if options.synthetic:
        centre = Centre.objects.filter(code=options.synthetic_centre).first()
        if centre is None:
            raise ValueError(f"There is no centre with the code {options.synthetic_centre!r}.")
        author = (
            User.objects.filter(centre=centre, groups__name=Role.CLINICIAN).order_by("pk").first()
        )
        if author is None:
            raise ValueError(f"No clinician at {centre.code} to author synthetic cases.")
        started = time.perf_counter()
        created = synthetic_cases_create(
            centre=centre,
            author=author,
            count=options.synthetic,
            seed=options.seed,
            progress=options.progress,
        )
        options.timings["synthetic"] = time.perf_counter() - started
    return SeedResult(
        created=True,
        logins=logins,
        demo_cases=demo_cases,
        synthetic_cases=created,
        reevaluated_cases=stored_statuses_refresh(options),
    )
