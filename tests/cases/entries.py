"""What a clinician types into the case form: a complete, valid entry to start from.

Every field of the form has a value (also those of other lesion entities, which the form
keeps while the user decides and the save clears), so a test that checks "nothing typed is
lost" covers every input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cases.thrombolysis import ABSOLUTE, RELATIVE

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
TICKS = [RELATIVE[2][0], RELATIVE[-1][0]]
ABSOLUTE_TICK = ABSOLUTE[0][0]

PATIENT = {
    "identifier": "A-2002",
    "name": "Erika Mustermann",
    "date_of_birth": "1980-03-15",
    "sex": "female",
}

CASE: dict[str, str | list[str]] = {
    "case_date": "2026-11-02",
    "side": "left",
    "lesion_entity": "acute_thrombotic",
    "nivl_cause": "may_thurner",
    "ivc_filter_related": "false",
    "thrombosis_entity": "descending",
    "symptom_onset_date": "2026-10-27",
    "symptom_severity": "severe",
    "first_episode": "true",
    "phlegmasia": "false",
    "underlying_iliac_lesion": "unknown",
    "ceap": "c3, C4B,S  esi ad po (civ, eiv)",
    "ulcer": "none",
    "venous_claudication": "true",
    "qol_impairment": "moderate",
    "conservative_therapy_months": "4",
    "inflow": "good",
    "stent_thrombosis_risk": "high",
    "long_term_anticoagulation_possible": "true",
    "life_expectancy_years": "25.5",
    "ambulatory": "true",
    "pregnancy": "false",
    "thrombophilia": "true",
    "bleeding_risk_level": "low",
    "contraindications_assessed": "on",
    "thrombolysis_contraindications": TICKS,
    "active_infection": "false",
    "severe_tortuosity": "false",
    "diameter_mismatch": "true",
    "endovascular_contraindication": "false",
    **{f"vcss_{key}": str(i % 4) for i, key in enumerate(VCSS)},
    **{f"villalta_{key}": str((i + 1) % 4) for i, key in enumerate(VILLALTA)},
    "notes": "Swollen left leg since last week.\nNo trauma.",
}

FINDINGS: list[dict[str, str]] = [
    {
        "segment": "CIV",
        "side": "left",
        "finding": "occlusion",
        "area_reduction_pct": "",
        "diameter_reduction_pct": "",
        "reference_diameter_mm": "14.5",
        "lesion_length_mm": "60",
        "imaging_method": "ivus",
    },
    {
        "segment": "EIV",
        "side": "left",
        "finding": "stenosis",
        "area_reduction_pct": "62",
        "diameter_reduction_pct": "40",
        "reference_diameter_mm": "12",
        "lesion_length_mm": "45",
        "imaging_method": "venography",
    },
]


def post_data(
    *,
    patient: Mapping[str, str] | None = None,
    case: Mapping[str, str | list[str]] | None = None,
    findings: Sequence[Mapping[str, str]] | None = None,
    drop: Sequence[str] = (),
) -> dict[str, str | list[str]]:
    """A create-form submission: the valid entry updated with ``patient``/``case`` values,
    the given finding rows (default: two) and without the case fields named in ``drop``."""
    rows = FINDINGS if findings is None else findings
    data: dict[str, str | list[str]] = {
        "findings-TOTAL_FORMS": str(len(rows)),
        "findings-INITIAL_FORMS": "0",
        "findings-MIN_NUM_FORMS": "1",
        "findings-MAX_NUM_FORMS": "1000",
    }
    data |= {f"patient-{k}": v for k, v in {**PATIENT, **(patient or {})}.items()}
    entries = {**CASE, **(case or {})}
    data |= {f"case-{k}": v for k, v in entries.items() if k not in drop}
    for i, row in enumerate(rows):
        data |= {f"findings-{i}-id": "", f"findings-{i}-case": ""}
        data |= {f"findings-{i}-{k}": v for k, v in row.items()}
    return data


def edit_post_data(case, *, case_changes=None, findings=None) -> dict[str, str | list[str]]:
    """An edit-form submission for a stored ``case`` that keeps its patient and its finding
    rows (with their ids) unless ``findings`` is given, and applies ``case_changes``."""
    patient = case.patient
    rows = [
        {
            "id": str(f.pk),
            "segment": f.segment,
            "side": f.side,
            "finding": f.finding,
            "area_reduction_pct": "" if f.area_reduction_pct is None else str(f.area_reduction_pct),
        }
        for f in case.findings.order_by("id")
    ]
    data = post_data(
        patient={
            "identifier": patient.identifier,
            "name": patient.name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "sex": patient.sex,
        },
        case={"lesion_entity": case.lesion_entity, "side": case.side, **(case_changes or {})},
        findings=rows if findings is None else findings,
    )
    initial = sum(1 for row in (rows if findings is None else findings) if row.get("id"))
    data["findings-INITIAL_FORMS"] = str(initial)
    for i, row in enumerate(rows if findings is None else findings):
        data[f"findings-{i}-id"] = row.get("id", "")
        data[f"findings-{i}-case"] = str(case.pk)
    return data
