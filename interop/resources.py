"""FHIR R4 resources (the R4B models of fhir.resources) built from what venousapp knows: a
facts document, or a stored case with its segment findings and scores.

The clinical content goes where a hospital system looks for it: the lesion entity is a
Condition (coded per ``interop.codes``, with laterality and onset), every other input of the
guideline rules an Observation coded with the facts field it is (``codes.FACT``) and, where
one exists, its standard code. :mod:`interop.mapping` reads them back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference

from cases import scores
from guidelines.vocabulary import FACT_FIELDS
from interop import codes

# Facts fields exchanged as one Observation each, valued by their kind (bool, number, enum,
# the CEAP text). The rest have a resource or an Observation of their own.
SIMPLE_FACTS = tuple(
    name
    for name, field in FACT_FIELDS.items()
    if field.kind in ("bool", "number", "enum", "ceap")
    and name
    not in (
        "age",
        "sex",
        "side",
        "lesion_entity",
        "symptom_onset_days",
        "vcss",
        "villalta",
        "underlying_iliac_lesion",
        "pregnancy",
    )
)
UNDERLYING_ILIAC_CODES = ("true", "false", "unknown")
# Observation codes (``codes.FACT``) beyond the simple facts.
SEGMENT_FINDING = "segment_finding"
WORST_OBSTRUCTION = "worst_obstruction"
BLEEDING_LEVEL = "bleeding_risk_level"
CONTRAINDICATION_CLASS = "thrombolysis_contraindication_class"
CONTRAINDICATION = "thrombolysis_contraindication"
MEASUREMENTS = {  # segment finding components: field -> UCUM unit
    "area_reduction_pct": "%",
    "diameter_reduction_pct": "%",
    "reference_diameter_mm": "mm",
    "reference_area_mm2": "mm2",
    "lesion_length_mm": "mm",
}
FINDING_SIDE = "segment_side"


def day(value: dt.date | None) -> Any:
    """A FHIR dateTime of date precision: FHIR and the models take a date where the models'
    types say datetime."""
    return value


def coding(c: codes.Coding) -> Coding:
    return Coding(system=c.system, code=c.code, display=c.display)


def local(system: str, code: str, display: str | None = None) -> Coding:
    return Coding(system=system, code=code, display=display)


def concept(*codings: Coding, text: str | None = None) -> CodeableConcept:
    return CodeableConcept(coding=list(codings) or None, text=text)


def fact_code(name: str) -> CodeableConcept:
    """Observation.code of facts field (or observation kind) ``name``."""
    field = FACT_FIELDS.get(name)
    label = field.label if field else name.replace("_", " ")
    standard = [coding(c) for c in codes.OBSERVATION_CODINGS.get(name, ())]
    return concept(*standard, local(codes.FACT, name, label), text=label)


def enum_value(name: str, code: str) -> CodeableConcept:
    return concept(local(codes.local_system(name), code, code.replace("_", " ")))


def quantity(value: Any, unit: str) -> Quantity:
    return Quantity(value=Decimal(str(value)), unit=unit, system=codes.UCUM, code=unit)


def _value(name: str, value: Any) -> dict[str, Any]:
    kind = FACT_FIELDS[name].kind
    if kind == "bool":
        return {"valueBoolean": value}
    if kind == "ceap":
        return {"valueString": value}
    if kind == "enum":
        return {"valueCodeableConcept": enum_value(name, value)}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"valueInteger": value}
    unit = "a" if name == "life_expectancy_years" else "1"
    return {"valueQuantity": quantity(value, unit)}


class Writer:
    """Builds the resources of one patient, numbering them in a Bundle's local ids."""

    def __init__(self, *, patient_id: str, today: dt.date, subject: str | None = None) -> None:
        self.patient_id = patient_id
        self.today = today
        self.count = 0
        self.subject = Reference(reference=subject or f"Patient/{patient_id}")

    def next_id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.count}"

    def observation(self, name: str, **fields: Any) -> Observation:
        return Observation(
            id=self.next_id("obs"),
            status="final",
            category=[
                concept(local(codes.OBSERVATION_CATEGORY, "exam", "Exam"))
                if name != SEGMENT_FINDING
                else concept(local(codes.OBSERVATION_CATEGORY, "imaging", "Imaging"))
            ],
            code=fact_code(name),
            subject=self.subject,
            effectiveDateTime=day(self.today),
            **fields,
        )

    def patient(
        self,
        *,
        sex: str | None,
        birth_date: dt.date | None,
        identifier: tuple[str, str] | None = None,
        name: str = "",
        phone: str = "",
        email: str = "",
    ) -> Patient:
        telecom = [ContactPoint(system="phone", value=phone)] if phone else []
        if email:
            telecom.append(ContactPoint(system="email", value=email))
        return Patient(
            id=self.patient_id,
            identifier=[
                Identifier(
                    system=identifier[0],
                    value=identifier[1],
                    type=concept(local(codes.IDENTIFIER_TYPE, "MR", "Medical record number")),
                )
            ]
            if identifier
            else None,
            gender=sex,
            birthDate=birth_date,
            name=[HumanName(text=name)] if name else None,
            telecom=telecom or None,
        )

    def condition(
        self,
        *,
        entity: str | None,
        side: str | None,
        onset: dt.date | None,
        recorded: dt.date | None,
        entity_label: str = "",
    ) -> Condition:
        code = None
        if entity:
            code = concept(
                *(coding(c) for c in codes.LESION_ENTITY_CODINGS.get(entity, ())),
                local(codes.local_system("lesion_entity"), entity, entity_label or None),
                text=entity_label or entity.replace("_", " "),
            )
        body_site = None
        if side:
            body_site = [
                concept(
                    *(coding(c) for c in codes.SIDE_CODINGS[side]),
                    local(codes.local_system("side"), side),
                    text=side,
                )
            ]
        return Condition(
            id=self.next_id("condition"),
            clinicalStatus=concept(local(codes.CONDITION_CLINICAL, "active", "Active")),
            verificationStatus=concept(
                local(codes.CONDITION_VERIFICATION, "confirmed", "Confirmed")
            ),
            code=code,
            bodySite=body_site,
            subject=self.subject,
            onsetDateTime=day(onset),
            recordedDate=day(recorded),
        )

    def fact(self, name: str, value: Any) -> Observation:
        if name == "pregnancy":
            answer = codes.PREGNANT if value else codes.NOT_PREGNANT
            return self.observation(name, valueCodeableConcept=concept(coding(answer)))
        if name == "underlying_iliac_lesion":
            code = value if isinstance(value, str) else ("true" if value else "false")
            return self.observation(name, valueCodeableConcept=enum_value(name, code))
        return self.observation(name, **_value(name, value))

    def score(
        self,
        name: str,
        total: int | None,
        items: Mapping[str, int | None],
        category: str | None = None,
    ) -> Observation:
        components = [
            ObservationComponent(
                code=concept(local(codes.local_system(name), key, key.replace("_", " "))),
                valueInteger=grade,
            )
            for key, grade in items.items()
            if grade is not None
        ]
        if category:
            components.append(
                ObservationComponent(
                    code=concept(local(codes.local_system(name), "category", "category")),
                    valueString=category,
                )
            )
        return self.observation(
            name,
            valueInteger=total,
            component=components or None,
            dataAbsentReason=None
            if total is not None
            else concept(
                local(
                    "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                    "not-performed",
                    "Not Performed",
                )
            ),
        )

    def segment_finding(
        self,
        *,
        segment: str,
        side: str | None = None,
        finding: str | None = None,
        method: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Observation:
        components = []
        if side:
            components.append(
                ObservationComponent(
                    code=concept(local(codes.FACT, FINDING_SIDE, "segment side")),
                    valueCodeableConcept=concept(local(codes.local_system("segment_side"), side)),
                )
            )
        for key, unit in MEASUREMENTS.items():
            value = (values or {}).get(key)
            if value is not None:
                components.append(
                    ObservationComponent(
                        code=concept(local(codes.FACT, key, key.replace("_", " "))),
                        valueQuantity=quantity(value, unit),
                    )
                )
        return self.observation(
            SEGMENT_FINDING,
            bodySite=concept(
                *(coding(c) for c in codes.SEGMENT_CODINGS.get(segment, ())),
                local(codes.SEGMENT, segment),
                text=segment,
            ),
            valueCodeableConcept=concept(local(codes.FINDING, finding)) if finding else None,
            method=concept(local(codes.IMAGING, method)) if method else None,
            component=components or None,
        )

    def worst_obstruction(self, obstruction: Mapping[str, Any]) -> Observation:
        components = [
            ObservationComponent(
                code=concept(local(codes.FACT, key, key.replace("_", " "))),
                valueQuantity=quantity(obstruction[key], "%"),
            )
            for key in ("area_reduction_pct", "diameter_reduction_pct")
            if obstruction.get(key) is not None
        ]
        kind = obstruction.get("type")
        return self.observation(
            WORST_OBSTRUCTION,
            valueCodeableConcept=concept(local(codes.local_system("obstruction"), kind))
            if kind
            else None,
            component=components or None,
        )

    def bleeding(self, bleeding: Mapping[str, Any] | None) -> list[Observation]:
        if not bleeding:
            return []
        out = []
        if bleeding.get("level"):
            out.append(
                self.observation(
                    BLEEDING_LEVEL,
                    valueCodeableConcept=enum_value("risk_level", bleeding["level"]),
                )
            )
        if bleeding.get("contraindication_class"):
            out.append(
                self.observation(
                    CONTRAINDICATION_CLASS,
                    valueCodeableConcept=enum_value(
                        "contraindication_class", bleeding["contraindication_class"]
                    ),
                )
            )
        out.extend(
            self.observation(
                CONTRAINDICATION,
                valueCodeableConcept=enum_value("thrombolysis_contraindication", factor),
            )
            for factor in bleeding.get("factors") or ()
        )
        return out

    def simple_facts(self, facts: Mapping[str, Any]) -> list[Observation]:
        names = (*SIMPLE_FACTS, "underlying_iliac_lesion", "pregnancy")
        return [self.fact(name, facts[name]) for name in names if facts.get(name) is not None]


def birth_date_for_age(age: int, today: dt.date) -> dt.date:
    """A birth date that makes a patient ``age`` on ``today`` (1 January of the year)."""
    return dt.date(today.year - age, 1, 1)


def facts_resources(
    facts: Mapping[str, Any], *, today: dt.date, patient_id: str = "patient"
) -> list[Any]:
    """The resources a hospital record would hold for a facts document (CDS Hooks prefetch,
    tests and benchmarks): Patient, the lesion Condition, one Observation per input."""
    writer = Writer(patient_id=patient_id, today=today)
    age = facts.get("age")
    out: list[Any] = [
        writer.patient(
            sex=facts.get("sex"),
            birth_date=birth_date_for_age(int(age), today) if age is not None else None,
        )
    ]
    onset_days = facts.get("symptom_onset_days")
    if facts.get("lesion_entity") or facts.get("side") or onset_days is not None:
        out.append(
            writer.condition(
                entity=facts.get("lesion_entity"),
                side=facts.get("side"),
                onset=today - dt.timedelta(days=onset_days) if onset_days is not None else None,
                recorded=today,
            )
        )
    out.extend(writer.simple_facts(facts))
    out.extend(writer.segment_finding(segment=s) for s in facts.get("segments_involved") or ())
    if facts.get("obstruction"):
        out.append(writer.worst_obstruction(facts["obstruction"]))
    out.extend(writer.bleeding(facts.get("bleeding_risk")))
    for name in ("vcss", "villalta"):
        if facts.get(name) is not None:
            out.append(writer.score(name, facts[name], {}))
    return out


def finding_observations(writer: Writer, findings: Iterable[Any]) -> list[Observation]:
    return [
        writer.segment_finding(
            segment=f.segment,
            side=f.side,
            finding=f.finding,
            method=f.imaging_method or None,
            values={key: getattr(f, key) for key in MEASUREMENTS},
        )
        for f in findings
    ]


def score_observations(writer: Writer, case: Any) -> list[Observation]:
    out = []
    vcss = case.vcss_values()
    if case.vcss_total is not None or any(v is not None for v in vcss.values()):
        out.append(writer.score("vcss", case.vcss_total, vcss))
    villalta = case.villalta_values()
    if case.villalta_total is not None or any(v is not None for v in villalta.values()):
        category = case.villalta_category
        out.append(writer.score("villalta", case.villalta_total, villalta, category))
    return out


SCORE_ITEMS: dict[str, Sequence[str]] = {
    "vcss": [item.key for item in scores.VCSS_ITEMS],
    "villalta": [item.key for item in scores.VILLALTA_ITEMS],
}
