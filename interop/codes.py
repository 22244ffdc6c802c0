"""Codings of what venousapp exchanges in FHIR, as one table with the source of each row.

Standard codes (ICD-10, SNOMED CT, LOINC) are listed only where the code is certain to exist
with that meaning; a concept without one is exchanged under venousapp's own code systems
(``LOCAL``), whose codes are the stable codes of the app's vocabularies (``cases.models``,
``guidelines.vocabulary``). Nothing is coded by guesswork: a concept missing from the
standard columns is simply sent with text and the local code.
"""

from __future__ import annotations

from dataclasses import dataclass

ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# venousapp's own code systems: one per vocabulary, named after it.
LOCAL = "urn:venousapp:fhir:CodeSystem:"
FACT = LOCAL + "fact"  # Observation.code: which input of the guideline rules
SEGMENT = LOCAL + "ceap-segment"  # CEAP 2020 deep venous segments
FINDING = LOCAL + "segment-finding"
IMAGING = LOCAL + "imaging-method"
RULE = LOCAL + "rule"  # PlanDefinition actions and GuidanceResponse: the rule ids


def local_system(vocabulary: str) -> str:
    """The code system of one of the app's vocabularies (a facts field's codes)."""
    return LOCAL + vocabulary.replace("_", "-")


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str
    source: str  # where the code and its meaning were taken from


_ICD10_WHO = "WHO ICD-10 (2019), chapter IX and XVII"
_SNOMED_INT = "SNOMED CT International Edition"
_LOINC = "LOINC (Regenstrief)"

# Lesion entity (Condition.code). ICD-10 codes are the WHO classification, whose three- and
# four-character codes ICD-10-GM shares; the finer ICD-10-GM subdivisions are left out.
LESION_ENTITY_CODINGS: dict[str, tuple[Coding, ...]] = {
    "acute_thrombotic": (
        Coding(
            ICD10,
            "I80.2",
            "Phlebitis and thrombophlebitis of other deep vessels of lower extremities",
            _ICD10_WHO,
        ),
        Coding(SNOMED, "128053003", "Deep venous thrombosis", _SNOMED_INT),
    ),
    "chronic_post_thrombotic": (Coding(ICD10, "I87.0", "Postthrombotic syndrome", _ICD10_WHO),),
    "nivl": (Coding(ICD10, "I87.1", "Compression of vein", _ICD10_WHO),),
    "iliocaval_atresia": (
        Coding(ICD10, "Q26.8", "Other congenital malformations of great veins", _ICD10_WHO),
    ),
    "ivc_occlusion": (Coding(ICD10, "I82.2", "Embolism and thrombosis of vena cava", _ICD10_WHO),),
}

# Body sites of the venous segments; only the inferior vena cava has a certain SNOMED CT code
# here, every segment has its CEAP 2020 abbreviation (``SEGMENT``).
SEGMENT_CODINGS: dict[str, tuple[Coding, ...]] = {
    "IVC": (Coding(SNOMED, "64131007", "Inferior vena cava structure", _SNOMED_INT),),
}

# Laterality qualifiers (Condition.bodySite next to the site).
SIDE_CODINGS: dict[str, tuple[Coding, ...]] = {
    "left": (Coding(SNOMED, "7771000", "Left", _SNOMED_INT),),
    "right": (Coding(SNOMED, "24028007", "Right", _SNOMED_INT),),
    "bilateral": (Coding(SNOMED, "51440002", "Right and left", _SNOMED_INT),),
}

# Observation codes with a standard equivalent, by facts field.
OBSERVATION_CODINGS: dict[str, tuple[Coding, ...]] = {
    "pregnancy": (Coding(LOINC, "82810-3", "Pregnancy status", _LOINC),),
}

# Answers of the pregnancy status observation.
PREGNANT = Coding(SNOMED, "77386006", "Pregnant", _SNOMED_INT)
NOT_PREGNANT = Coding(SNOMED, "60001007", "Not pregnant", _SNOMED_INT)


def entity_of_codings(codings: list[tuple[str, str]]) -> str | None:
    """The lesion entity a standard (system, code) pair stands for, if any."""
    for entity, known in LESION_ENTITY_CODINGS.items():
        for coding in known:
            if (coding.system, coding.code) in codings:
                return entity
    return None


def side_of_codings(codings: list[tuple[str, str]]) -> str | None:
    for side, known in SIDE_CODINGS.items():
        if any((c.system, c.code) in codings for c in known):
            return side
    return None


def segment_of_codings(codings: list[tuple[str, str]]) -> str | None:
    for segment, known in SEGMENT_CODINGS.items():
        if any((c.system, c.code) in codings for c in known):
            return segment
    return None
