"""Which case inputs apply to which lesion entity.

The case form shows only these sections, and saving clears inputs that do not apply so a
stale answer from a previously chosen entity can never reach the guideline rules.
"""

from cases import vocabulary
from cases.models import LesionEntity

ACUTE_ONLY = (
    "thrombosis_entity",
    "symptom_onset_date",
    "first_episode",
    "phlegmasia",
    "symptom_severity",
    "underlying_iliac_lesion",
)
CHRONIC_ONLY = (
    "conservative_therapy_months",
    "inflow",
    "stent_thrombosis_risk",
    "long_term_anticoagulation_possible",
)
VCSS_FIELDS = (
    "vcss_pain",
    "vcss_varicose_veins",
    "vcss_oedema",
    "vcss_pigmentation",
    "vcss_inflammation",
    "vcss_induration",
    "vcss_ulcer_number",
    "vcss_ulcer_duration",
    "vcss_ulcer_size",
    "vcss_compression",
)
NIVL_ONLY = ("nivl_cause",)
IVC_ONLY = ("ivc_filter_related",)

CHRONIC_ENTITIES = frozenset(LesionEntity(code) for code in vocabulary.CHRONIC_ENTITIES)


def fields_not_applicable(entity: str) -> tuple[str, ...]:
    """Case fields that have no meaning for ``entity``."""
    hidden: list[str] = []
    if entity != LesionEntity.ACUTE_THROMBOTIC:
        hidden += ACUTE_ONLY
    if entity not in CHRONIC_ENTITIES:
        hidden += CHRONIC_ONLY + VCSS_FIELDS
    if entity != LesionEntity.NIVL:
        hidden += NIVL_ONLY
    if entity != LesionEntity.IVC_OCCLUSION:
        hidden += IVC_ONLY
    return tuple(hidden)


# Sections of the case form, their fields, and the entities they apply to (None = all).
ENTITY_GROUPS: dict[str, frozenset[str]] = {
    "acute": frozenset({LesionEntity.ACUTE_THROMBOTIC}),
    "chronic": CHRONIC_ENTITIES,
    "nivl": frozenset({LesionEntity.NIVL}),
    "ivc": frozenset({LesionEntity.IVC_OCCLUSION}),
}
