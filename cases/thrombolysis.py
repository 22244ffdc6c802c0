"""Contraindications to catheter-directed thrombolysis and the one effective class.

The checklist is the SIR quality-improvement guideline's table (Vedantham et al., JVIR
2014;25:1317–1325, as tabulated in Korean J Radiol 2021, PMC8154777). Its codes are the
``bleeding_risk.factors`` contract of the guideline engine.

:func:`effective_class` is the single reading of a case's thrombolysis contraindication: the
most severe (none < relative < absolute) of the class as recorded, the class the ticked items
imply (any absolute item: absolute, else any relative item: relative) and ``relative`` for a
pregnant patient (pregnancy or lactation is a relative contraindication). A recorded "none"
next to a ticked stroke is therefore absolute, and a pregnant patient is never "none". The
guideline engine, the case form, the API and the case page all use it.

Pure Python: no Django import. Labels are marked for translation with :func:`gettext_noop`
(the message extractor knows the name); whoever shows them translates them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ABSOLUTE",
    "ABSOLUTE_CODES",
    "CLASSES",
    "FACTOR_CODES",
    "LABELS",
    "PREGNANCY_CODE",
    "RELATIVE",
    "RELATIVE_CODES",
    "ContraindicationReading",
    "contraindication_class",
    "effective_class",
    "factors_class",
    "read",
]


def gettext_noop(message: str) -> str:
    """Marks a message for translation without translating it (like Django's)."""
    return message


ABSOLUTE: tuple[tuple[str, str], ...] = (
    (
        "active_bleeding_or_dic",
        gettext_noop("Active internal bleeding or disseminated intravascular coagulation"),
    ),
    (
        "cerebrovascular_event_3m",
        gettext_noop("Cerebrovascular event (including TIA) within 3 months"),
    ),
    (
        "neurosurgery_or_intracranial_trauma_3m",
        gettext_noop(
            "Intracranial or spinal neurosurgery, or intracranial trauma, within 3 months"
        ),
    ),
    (
        "anticoagulation_contraindicated",
        gettext_noop("Absolute contraindication to anticoagulation"),
    ),
)
RELATIVE: tuple[tuple[str, str], ...] = (
    (
        "major_event_10d",
        gettext_noop(
            "Major event within 7–10 days (CPR, major surgery, cataract surgery, obstetric "
            "delivery, organ biopsy, major trauma)"
        ),
    ),
    (
        "intracranial_lesion_or_seizure",
        gettext_noop("Intracranial lesion (incl. tumour) or seizure disorder"),
    ),
    (
        "uncontrolled_hypertension",
        gettext_noop("Uncontrolled hypertension (systolic >180 or diastolic >110 mm Hg)"),
    ),
    (
        "gi_bleeding_or_eye_surgery_3m",
        gettext_noop("Major gastrointestinal bleeding or internal eye surgery within 3 months"),
    ),
    (
        "serious_reaction",
        gettext_noop(
            "Serious allergic or other reaction to thrombolytic, anticoagulant or contrast "
            "agent not controlled by premedication"
        ),
    ),
    ("severe_thrombocytopenia", gettext_noop("Severe thrombocytopenia")),
    (
        "shunt_or_left_heart_thrombus",
        gettext_noop("Known right-to-left cardiac or pulmonary shunt, or left-heart thrombus"),
    ),
    (
        "severe_dyspnoea_or_acute_illness",
        gettext_noop(
            "Severe dyspnoea or acute illness precluding safe performance of the procedure"
        ),
    ),
    ("infected_thrombus", gettext_noop("Suspected infected thrombus")),
    ("renal_failure", gettext_noop("Renal failure (eGFR <60 mL/min)")),
    ("pregnancy_or_lactation", gettext_noop("Pregnancy or lactation")),
    ("severe_hepatic_dysfunction", gettext_noop("Severe hepatic dysfunction")),
    ("bacterial_endocarditis", gettext_noop("Bacterial endocarditis")),
    ("diabetic_haemorrhagic_retinopathy", gettext_noop("Diabetic haemorrhagic retinopathy")),
)
ABSOLUTE_CODES = frozenset(code for code, _label in ABSOLUTE)
RELATIVE_CODES = frozenset(code for code, _label in RELATIVE)
FACTOR_CODES = tuple(code for code, _label in ABSOLUTE + RELATIVE)  # the order of the table
LABELS = dict(ABSOLUTE + RELATIVE)
PREGNANCY_CODE = "pregnancy_or_lactation"
# The recorded pregnancy itself, as a source of the class (not a checklist code).
PREGNANCY_SOURCE = "pregnancy"
PREGNANCY_LABEL = gettext_noop("Pregnancy")
RECORDED_SOURCE = "recorded"

CLASSES = ("none", "relative", "absolute")
_RANK = {klass: rank for rank, klass in enumerate(CLASSES)}


def factors_class(factors: Iterable[object] | None) -> str | None:
    """The class the ticked codes imply: "absolute", "relative", or None when no known code is
    ticked (an empty checklist does not say "none"; unknown strings are ignored)."""
    if not factors:
        return None
    codes = {code for code in factors if isinstance(code, str)}
    if codes & ABSOLUTE_CODES:
        return "absolute"
    if codes & RELATIVE_CODES:
        return "relative"
    return None


def effective_class(
    *, recorded: str | None, factors: Iterable[object] | None, pregnancy: bool | None
) -> str | None:
    """The most severe of the recorded class, the ticks' class and "relative" for a pregnant
    patient; None (unknown) when none of the three says anything.

    ``recorded`` outside none/relative/absolute counts as not recorded.
    """
    best = recorded if recorded in _RANK else None
    implied = factors_class(factors)
    if implied is not None and (best is None or _RANK[implied] > _RANK[best]):
        best = implied
    if pregnancy is True and (best is None or best == "none"):
        best = "relative"
    return best


def contraindication_class(codes: Iterable[str]) -> str:
    """'absolute', 'relative' or 'none' for the ticked items of an assessed checklist (the
    class the case records once the checklist was gone through)."""
    return factors_class(codes) or "none"


@dataclass(frozen=True)
class ContraindicationReading:
    """The effective class with where it comes from, for pages and messages.

    ``sources`` are the codes that set the effective class, in the checklist's order:
    checklist codes, ``"pregnancy"`` (the recorded pregnancy) and ``"recorded"`` (the recorded
    class, when nothing else reaches it). ``understated`` is true when a class was recorded
    and the ticks or the pregnancy make it more severe.
    """

    effective: str | None
    recorded: str | None
    sources: tuple[str, ...]
    understated: bool

    @property
    def labels(self) -> tuple[str, ...]:
        """Untranslated labels of the sources (the recorded class has none)."""
        return tuple(
            PREGNANCY_LABEL if code == PREGNANCY_SOURCE else LABELS[code]
            for code in self.sources
            if code != RECORDED_SOURCE
        )


def read(
    *, recorded: str | None, factors: Iterable[object] | None, pregnancy: bool | None
) -> ContraindicationReading:
    """:func:`effective_class` and its sources (see :class:`ContraindicationReading`)."""
    ticked = [code for code in factors or () if isinstance(code, str)]
    effective = effective_class(recorded=recorded, factors=ticked, pregnancy=pregnancy)
    recorded = recorded if recorded in _RANK else None
    sources: list[str] = []
    if effective in ("absolute", "relative"):
        wanted = ABSOLUTE_CODES if effective == "absolute" else RELATIVE_CODES
        sources = [code for code in FACTOR_CODES if code in wanted and code in ticked]
        if effective == "relative" and pregnancy is True and PREGNANCY_CODE not in sources:
            sources.append(PREGNANCY_SOURCE)
    if not sources and recorded is not None and recorded == effective:
        sources = [RECORDED_SOURCE]
    understated = (
        recorded is not None and effective is not None and _RANK[effective] > _RANK[recorded]
    )
    return ContraindicationReading(effective, recorded, tuple(sources), understated)
