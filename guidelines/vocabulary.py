"""The closed vocabulary of the guideline engine (docs/evaluation.md).

Everything a rule may read is declared here: the case facts (field names, allowed values,
numeric ranges), the derived values and the three rule outcomes
(`etr_candidate`, `device_contraindicated`, `stent_pathway_active`) that later rules read.
The rule schema (`guidelines/schema.py`) validates rule definitions against it and the engine
(`guidelines/engine.py`) normalises facts with it, so a value outside this vocabulary is
"not recorded" everywhere (docs/evaluation.md#not-recorded). Pure Python: no Django import.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases import thrombolysis, vocabulary
from cases.ceap import SEGMENTS

# ---------------------------------------------------------------------------------------------
# Coded values

# Lesion entities, segment sets and overall statuses are the case's own (cases/vocabulary.py).
ACUTE_ENTITY = vocabulary.ACUTE_ENTITY
CHRONIC_ENTITIES = vocabulary.CHRONIC_ENTITIES
FEMOROPOPLITEAL_SEGMENTS = vocabulary.FEMOROPOPLITEAL_SEGMENTS
ILIOFEMORAL_SEGMENTS = vocabulary.ILIOFEMORAL_SEGMENTS
LESION_ENTITIES = vocabulary.LESION_ENTITIES
OVERALL_STATUSES = vocabulary.OVERALL_STATUSES
PLANNING_STATUSES = vocabulary.PLANNING_STATUSES
STENTABLE_SEGMENTS = vocabulary.STENTABLE_SEGMENTS

SEXES = ("female", "male", "other")
SIDES = ("left", "right", "bilateral")
NIVL_CAUSES = ("may_thurner", "tumour", "cyst", "retroperitoneal_fibrosis", "other_extrinsic")
THROMBOSIS_ENTITIES = ("ascending", "descending", "transfascial")
ULCER_STATES = ("none", "healed", "active")
QOL_LEVELS = ("none", "mild", "moderate", "severe")
SEVERITIES = ("mild", "moderate", "severe")
INFLOW_STATES = ("good", "poor")
RISK_LEVELS = ("low", "high")
CONTRAINDICATION_CLASSES = thrombolysis.CLASSES
OBSTRUCTION_TYPES = ("occlusion", "stenosis")
DVT_PHASES = ("acute", "subacute", "chronic")

# CEAP 2020 anatomic segment abbreviations (Lurie 2020) in anatomic order (superficial, deep,
# perforator); `segments_involved` holds these, the rules test the deep ones.
CEAP_SEGMENTS = tuple(SEGMENTS)

# CEAP 2020 clinical classes; rules test membership (docs/evaluation.md#ceap-classes).
CEAP_CLASSES = ("C0", "C1", "C2", "C2r", "C3", "C4", "C4a", "C4b", "C4c", "C5", "C6", "C6r")
# "C >= C3" / "C3-C6": a bare C4 counts; C6r is read as C6 by the parser's
# threshold mapping before this set is consulted.
CEAP_C3_OR_WORSE = frozenset({"C3", "C4", "C4a", "C4b", "C4c", "C5", "C6"})

# ---------------------------------------------------------------------------------------------
# Bleeding-risk contraindications to catheter-directed thrombolysis (SIR 2014 checklist): the
# checklist codes and the effective class (docs/safety.md#one-contraindication-class) live with
# the case data in ``cases/thrombolysis.py``.

ABSOLUTE_CODES = thrombolysis.ABSOLUTE_CODES
RELATIVE_CODES = thrombolysis.RELATIVE_CODES
CONTRAINDICATION_FACTORS = thrombolysis.FACTOR_CODES
ANTICOAGULATION_CONTRAINDICATED = "anticoagulation_contraindicated"


# ---------------------------------------------------------------------------------------------
# Rule values (docs/evaluation.md#rule-values), overall status, planning codes

RULE_VALUES = ("recommend", "consider", "against", "not_applicable")
INSUFFICIENT_DATA = "insufficient_data"
ACCESS_CODES = ("popliteal_prone", "femoral", "femoral_midthigh", "jugular", "posterior_tibial")
FOLLOW_UP_ENTITIES = ("nivl", "acute_thrombotic", "post_thrombotic", "ivc_reconstruction")
STRENGTH_SYSTEMS = ("ESVS", "GRADE", "SIR", "CIRSE", "ACCP", "ASH", "NONE")
STRENGTH_NORMALISED = ("strong", "weak", "not_graded")
VERIFICATION_STATES = ("verified", "provisional")
TOPICS = {
    "acute_dvt": "Acute iliofemoral DVT: thrombus removal and related",
    "chronic_obstruction": "Chronic obstruction (PTO, NIVL, IVC occlusion, atresia)",
    "stent_pathway": "Peri- and post-stenting care",
    "device": "Contraindications to stenting (device, pregnancy)",
}

# ---------------------------------------------------------------------------------------------
# Case facts. Kind tells the engine how to normalise a value.


@dataclass(frozen=True)
class FactField:
    """One case facts field. `values` for enums, `minimum`/`maximum` for numbers."""

    name: str
    kind: str  # bool | number | enum | segments | ceap | obstruction | bleeding_risk
    label: str
    values: tuple[str, ...] = ()
    minimum: float = 0.0
    maximum: float = float("inf")


FACT_FIELDS: dict[str, FactField] = {
    f.name: f
    for f in (
        FactField("age", "number", "Age (years)", maximum=130),
        FactField("sex", "enum", "Sex", SEXES),
        FactField("side", "enum", "Side", SIDES),
        FactField("lesion_entity", "enum", "Lesion entity", LESION_ENTITIES),
        FactField("nivl_cause", "enum", "Cause of the NIVL", NIVL_CAUSES),
        FactField("ivc_filter_related", "bool", "IVC-filter related"),
        FactField("thrombosis_entity", "enum", "Entity of thrombosis", THROMBOSIS_ENTITIES),
        FactField("segments_involved", "segments", "Segments involved", CEAP_SEGMENTS),
        FactField("obstruction", "obstruction", "Obstruction (type, IVUS area reduction)"),
        FactField("ceap", "ceap", "CEAP classification"),
        FactField("ulcer", "enum", "Ulcer", ULCER_STATES),
        FactField("venous_claudication", "bool", "Venous claudication"),
        FactField("qol_impairment", "enum", "Quality-of-life impairment", QOL_LEVELS),
        FactField(
            "bleeding_risk", "bleeding_risk", "Bleeding risk / thrombolysis contraindications"
        ),
        FactField("life_expectancy_years", "number", "Life expectancy (years)", maximum=150),
        FactField("ambulatory", "bool", "Ambulatory with good functional status"),
        FactField("pregnancy", "bool", "Pregnancy"),
        FactField("active_infection", "bool", "Active local infection (access or target site)"),
        FactField("severe_tortuosity", "bool", "Severe vessel tortuosity"),
        FactField("diameter_mismatch", "bool", "Severe diameter mismatch"),
        FactField(
            "endovascular_contraindication",
            "bool",
            "General contraindication to endovascular procedures",
        ),
        FactField("symptom_onset_days", "number", "Days since symptom onset", maximum=36500),
        FactField("first_episode", "bool", "First DVT episode"),
        FactField("phlegmasia", "bool", "Phlegmasia (limb-threatening venous ischaemia)"),
        FactField("symptom_severity", "enum", "Symptom severity", SEVERITIES),
        FactField("underlying_iliac_lesion", "bool", "Underlying iliac lesion after clearance"),
        FactField("villalta", "number", "Villalta score", maximum=33),
        FactField("vcss", "number", "Revised VCSS", maximum=30),
        FactField(
            "conservative_therapy_months", "number", "Months of conservative therapy", maximum=1200
        ),
        FactField("inflow", "enum", "Inflow into the CFV", INFLOW_STATES),
        FactField("stent_thrombosis_risk", "enum", "Risk of stent thrombosis", RISK_LEVELS),
        FactField("thrombophilia", "bool", "Thrombophilia"),
        FactField(
            "long_term_anticoagulation_possible", "bool", "Long-term anticoagulation possible"
        ),
    )
}
FACT_NAMES = tuple(FACT_FIELDS)

# ---------------------------------------------------------------------------------------------
# What a rule expression may test ("inputs" of the rule DSL).


@dataclass(frozen=True)
class InputSpec:
    """A value a rule leaf may test.

    kind: bool | number | enum | set. `values` lists the allowed values (enum) or elements
    (set). `fields` are the case fields the value comes from: the first *unrecorded* one is
    named in ``insufficient_data:<field>`` when a leaf on this input is unknown, and all of them
    are shown as the criterion's inputs. `origin`: fact | derived | outcome.
    """

    name: str
    kind: str
    fields: tuple[str, ...]
    values: tuple[str, ...] = ()
    origin: str = "fact"
    description: str = ""
    also_shown: tuple[str, ...] = ()  # shown next to the value, never named as missing


def _fact_inputs() -> dict[str, InputSpec]:
    specs: dict[str, InputSpec] = {}
    for f in FACT_FIELDS.values():
        if f.kind in ("bool", "number", "enum"):
            specs[f.name] = InputSpec(f.name, f.kind, (f.name,), f.values, "fact", f.label)
    specs["segments_involved"] = InputSpec(
        "segments_involved",
        "set",
        ("segments_involved",),
        CEAP_SEGMENTS,
        "fact",
        "Segments involved (CEAP 2020 abbreviations)",
    )
    obstruction = ("obstruction",)
    bleeding = ("bleeding_risk",)
    for spec in (
        InputSpec("obstruction.type", "enum", obstruction, OBSTRUCTION_TYPES, "fact", "Type"),
        InputSpec("obstruction.area_reduction_pct", "number", obstruction, (), "fact", "IVUS area"),
        InputSpec("obstruction.diameter_reduction_pct", "number", obstruction, (), "fact", "Diam."),
        InputSpec("bleeding_risk.level", "enum", bleeding, RISK_LEVELS, "fact", "Bleeding risk"),
        InputSpec(
            "bleeding_risk.contraindication_class",
            "enum",
            bleeding,
            CONTRAINDICATION_CLASSES,
            "fact",
            "Thrombolysis contraindication class as recorded",
        ),
        InputSpec(
            "bleeding_risk.factors",
            "set",
            bleeding,
            CONTRAINDICATION_FACTORS,
            "fact",
            "Thrombolysis checklist items",
        ),
    ):
        specs[spec.name] = spec
    # The effective value (entity default, docs/evaluation.md#stent-thrombosis-risk) replaces
    # the raw field for rules.
    del specs["stent_thrombosis_risk"]
    return specs


_LE = ("lesion_entity",)
_LE_SEG = ("lesion_entity", "segments_involved")
_SYMPTOMS = ("ceap", "venous_claudication", "qol_impairment")

DERIVED_INPUTS: dict[str, InputSpec] = {
    s.name: s
    for s in (
        InputSpec("acute", "bool", _LE, origin="derived", description="lesion_entity is acute"),
        InputSpec("chronic", "bool", _LE, origin="derived", description="lesion_entity in CHRONIC"),
        InputSpec("iliofemoral", "bool", _LE_SEG, origin="derived", description="iliofemoral (IF)"),
        InputSpec("iliocaval", "bool", _LE_SEG, origin="derived", description="IF with IVC"),
        InputSpec("femoropopliteal_only", "bool", _LE_SEG, origin="derived", description="FP_only"),
        InputSpec("proximal", "bool", _LE_SEG, origin="derived", description="IF or FP_only"),
        InputSpec("c_classes", "set", ("ceap",), CEAP_CLASSES, "derived", "CEAP clinical classes"),
        InputSpec(
            "ceap_symptomatic", "bool", ("ceap",), origin="derived", description="CEAP subscript s"
        ),
        InputSpec(
            "symptomatic",
            "bool",
            _SYMPTOMS,
            origin="derived",
            description="CEAP s or venous claudication or QoL impairment moderate/severe",
        ),
        InputSpec(
            "clinically_relevant",
            "bool",
            _SYMPTOMS,
            origin="derived",
            description="C >= C3 or venous claudication or QoL impairment moderate/severe",
        ),
        InputSpec(
            "significant_obstruction",
            "bool",
            ("obstruction",),
            origin="derived",
            description="occlusion, or area reduction >= severe_threshold",
        ),
        InputSpec(
            "bleeding_ok",
            "bool",
            ("bleeding_risk",),
            origin="derived",
            description="bleeding risk low and the effective contraindication class none",
            also_shown=("pregnancy",),
        ),
        InputSpec(
            "contraindication_class",
            "enum",
            ("bleeding_risk",),
            CONTRAINDICATION_CLASSES,
            "derived",
            "effective class: the most severe of the recorded class, the ticked checklist "
            "items and relative for a pregnancy",
            also_shown=("pregnancy",),
        ),
        InputSpec(
            "anticoagulation_contraindicated",
            "bool",
            ("bleeding_risk",),
            origin="derived",
            description="the checklist item 'absolute contraindication to anticoagulation' is "
            "ticked (false when it is not)",
        ),
        InputSpec(
            "stent_thrombosis_risk",
            "enum",
            ("stent_thrombosis_risk", "lesion_entity", "thrombophilia"),
            RISK_LEVELS,
            "derived",
            "recorded risk, else the entity default",
        ),
        InputSpec(
            "dvt_phase",
            "enum",
            ("symptom_onset_days",),
            DVT_PHASES,
            "derived",
            "acute <=14 d, subacute 15-28 d, chronic >28 d",
        ),
    )
}

# Rule outcomes that later rules may read, with the rules they are computed from. The
# computation itself is code in guidelines/engine.py (docs/evaluation.md#rule-outcomes); the
# rule ids are declared here so the rule-set loader can order rules and reject dependency
# cycles.
OUTCOME_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "etr_candidate": (
        "SVSAVF-2012-ETR-03",
        "SVSAVF-2012-ETR-04",
        "ESVS-2021-VT-ETR",
        "SIR-2023-AIDVT-SEL",
    ),
    "device_contraindicated": ("DEV-IFU-CONTRA",),
    "stent_pathway_active": (
        "SVSAVF-2014-VLU-6.8",
        "ESVS-2015-CVD-STENT",
        "ESVS-2022-CVD-STENT",
        "CIRSE-2014-ICS",
        "SIR-2023-CIVO-05",
        "SVSAVF-2012-ETR-05",
        "DEV-IFU-CONTRA",
        "ESVS-2022-CVD-NIVL-ASX",
        "PRACTICE-PREGNANCY-DEFER",
    ),
}
OUTCOME_INPUTS: dict[str, InputSpec] = {
    name: InputSpec(name, "bool", (name,), origin="outcome", description=f"from {', '.join(ids)}")
    for name, ids in OUTCOME_DEPENDENCIES.items()
}

INPUTS: dict[str, InputSpec] = {**_fact_inputs(), **DERIVED_INPUTS, **OUTCOME_INPUTS}

# Operators per input kind; is_true/is_false take no value.
OPS_BY_KIND: dict[str, frozenset[str]] = {
    "bool": frozenset({"is_true", "is_false", "eq", "ne"}),
    "number": frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in"}),
    "enum": frozenset({"eq", "ne", "in", "not_in"}),
    "set": frozenset({"contains_any", "contains_none", "contains_all"}),
}
ALL_OPS = frozenset().union(*OPS_BY_KIND.values())
