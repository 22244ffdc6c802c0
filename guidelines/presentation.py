"""Turns an evaluation (docs/evaluation.md#evaluation-contract) into what the case page shows:
the overall status, one card per applicable recommendation with its source and grading, the
"why" of each card, guidelines that disagree side by side, and the missing inputs with a link
to the form field that records them.

The same code renders a signed decision "as of" its signing: :func:`panel` only needs
something that answers ``definition(rule_id)`` and ``sources`` (a :class:`Catalogue`), which
is either the live :class:`~guidelines.engine.RuleSet` or :class:`FrozenCatalogue`, the
definitions stored with the decision.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from cases import thrombolysis
from cases.models import overall_label
from guidelines.definitions import locally_modified
from guidelines.vocabulary import FACT_FIELDS

# One line under the status: what it means for the clinician (docs/evaluation.md#overall-status).
OVERALL_HELP = {
    "contraindicated_defer": _(
        "An indication fired, but a contraindication advises against the procedure now: defer "
        "or choose an alternative."
    ),
    "insufficient_data": _(
        "At least one recommendation cannot be decided; record the missing inputs below."
    ),
    "etr_candidate": _("At least one guideline supports early thrombus removal for this patient."),
    "stent_conflict": _(
        "Stenting is supported, but another guideline advises against it for this patient; "
        "both sides are shown below. A plan needs a recorded reason."
    ),
    "stent_indicated": _("Endovenous stenting is supported by at least one guideline."),
    "anticoagulation_only": _(
        "Acute DVT without a thrombus-removal indication: anticoagulation alone."
    ),
    "conservative": _(
        "No interventional indication: compression, superficial treatment or surveillance."
    ),
}
# Why a case is deferred (overall contraindicated_defer), by the rule that defers it.
DEFER_REASONS = {
    "DEV-IFU-CONTRA": _(
        "The stent maker's instructions advise against a stent (tortuosity, diameter mismatch, "
        "local infection or a general contraindication to endovascular procedures)."
    ),
    "PRACTICE-PREGNANCY-DEFER": _(
        "Elective stenting is deferred during pregnancy; reassess after delivery."
    ),
}
VALUE_LABELS = {
    "recommend": _("Recommended"),
    "consider": _("Consider"),
    "against": _("Against"),
    "not_applicable": _("Not applicable"),
    "insufficient_data": _("Insufficient data"),
}
STATUS_LABELS = {"met": _("met"), "unmet": _("not met"), "unknown": _("unknown")}
WORDS = {None: _("not recorded"), True: _("yes"), False: _("no")}


@functools.cache
def _translated(language: str | None) -> dict[str, dict[Any, str]]:
    """The short labels every card repeats, translated once per language: a card's criteria
    and values translated each label anew, which took longer than building the card."""
    return {
        "status": {key: str(label) for key, label in STATUS_LABELS.items()},
        "value": {key: str(label) for key, label in VALUE_LABELS.items()},
        "word": {key: str(label) for key, label in WORDS.items()},
    }


def _label(kind: str, key: Any) -> str:
    return str(_translated(get_language())[kind].get(key, key))


# Where each facts field is entered on the case form (anchor ids of /cases/<pk>/edit/; a
# field without an entry here is the case form's own ``id_case-<name>``).
FIELD_ANCHORS = {
    "age": "id_patient-date_of_birth",
    "sex": "id_patient-sex",
    "segments_involved": "findings",
    "obstruction": "findings",
    "bleeding_risk": "id_case-bleeding_risk_level",
    "symptom_onset_days": "id_case-symptom_onset_date",
    "vcss": "section-vcss",
    "villalta": "section-villalta",
}
FIELD_LABELS = {
    "segments_involved": _("segment findings"),
    "obstruction": _("IVUS area reduction of the stentable segments"),
    "bleeding_risk": _("bleeding risk and thrombolysis contraindications"),
    "symptom_onset_days": _("symptom onset date"),
    "ceap": _("CEAP classification"),
    "life_expectancy_years": _("life expectancy"),
    "qol_impairment": _("impairment of daily life"),
    "long_term_anticoagulation_possible": _("long-term anticoagulation possible"),
}
# Rule outcomes the criteria may show next to case fields (docs/evaluation.md#rule-outcomes).
OUTCOME_LABELS = {
    "etr_candidate": _("ETR candidate (any ETR rule fired)"),
    "stent_pathway_active": _("stent pathway active"),
    "device_contraindicated": _("device contraindicated (DEV-IFU-CONTRA)"),
}

# The clinical question each scored rule answers. Guidelines that give opposite answers to
# the same question are shown side by side; a rule added later without an entry here falls
# back to its topic's question.
QUESTIONS: dict[str, Promise] = {
    "etr": _("Early thrombus removal"),
    "stent": _("Stenting / venous recanalisation"),
    "care": _("Anticoagulation, imaging and follow-up"),
}
QUESTION_OF_RULE = {
    "SVSAVF-2012-ETR-03": "etr",
    "SVSAVF-2012-ETR-04": "etr",
    "ESVS-2021-VT-ETR": "etr",
    "SIR-2023-AIDVT-SEL": "etr",
    "ACCP-2016-CDT": "etr",
    "SIR-2014-QI-CONTRA": "etr",
    "TRIAL-ATTRACT-FP": "etr",
    "SVSAVF-2012-ETR-05": "stent",
    "SVSAVF-2014-VLU-6.8": "stent",
    "SVSAVF-2014-VLU-6.9": "stent",
    "ESVS-2015-CVD-STENT": "stent",
    "ESVS-2022-CVD-STENT": "stent",
    "CIRSE-2014-ICS": "stent",
    "SIR-2023-CIVO-05": "stent",
    "ESVS-2022-CVD-NIVL-ASX": "stent",
    "DEV-IFU-CONTRA": "stent",
    "PRACTICE-PREGNANCY-DEFER": "stent",
    "ESVS-2021-VT-AC": "care",
    "ESVS-2022-CVD-IVUS": "care",
    "ESVS-2022-CVD-AT": "care",
    "ESVS-2022-CVD-FU": "care",
    "SIR-2023-CIVO-03": "care",
    "SIR-2023-CIVO-04": "care",
}
QUESTION_OF_TOPIC = {
    "acute_dvt": "etr",
    "chronic_obstruction": "stent",
    "device": "stent",
    "stent_pathway": "care",
}
ACCESS_LABELS = {
    "popliteal_prone": _("popliteal (prone)"),
    "femoral": _("femoral"),
    "femoral_midthigh": _("mid-thigh femoral"),
    "jugular": _("jugular"),
    "posterior_tibial": _("posterior tibial"),
}
FOLLOW_UP_LABELS = {
    "acute_thrombotic": _("acute thrombotic"),
    "post_thrombotic": _("post-thrombotic"),
    "ivc_reconstruction": _("IVC reconstruction"),
    "nivl": _("NIVL"),
}
_VALUE_ORDER = {"recommend": 0, "consider": 1, "insufficient_data": 2, "against": 3}
# The definition keys a card shows; a signed decision stores exactly these.
DISPLAY_KEYS = (
    "id",
    "source",
    "recommendation_number",
    "text",
    "population_text",
    "strength",
    "verification",
    "topic",
)


class Catalogue(Protocol):
    """What the panel needs from a rule set: the definitions and the sources."""

    @property
    def sources(self) -> dict[str, Any]: ...

    def definition(self, rule_id: str) -> dict[str, Any]: ...


class FrozenCatalogue:
    """The definitions and sources stored with a signed decision (see
    ``guidelines/decisions/snapshot.py``), so it renders as it was whatever the rules are
    today."""

    def __init__(self, rule_versions: Mapping[str, Any]) -> None:
        self._definitions: dict[str, dict[str, Any]] = {}
        self._sources: dict[str, Any] = {}
        for rule_id, entry in rule_versions.items():
            if not isinstance(entry, Mapping) or not entry.get("definition"):
                continue
            definition = dict(entry["definition"])
            self._definitions[rule_id] = definition
            if entry.get("source"):
                self._sources[definition.get("source", "")] = entry["source"]

    @property
    def sources(self) -> dict[str, Any]:
        return dict(self._sources)

    def definition(self, rule_id: str) -> dict[str, Any]:
        return self._definitions[rule_id]


@functools.cache
def _dom_id(rule_id: str) -> str:
    """The card's element id (read several times per card; rule ids are few)."""
    return "rule-" + "".join(ch if ch.isalnum() or ch == "-" else "_" for ch in rule_id)


@dataclass
class Criterion:
    id: str
    label: str
    status: str
    status_label: str
    values: Mapping[str, Any]  # the case values it read, by input name
    population: bool

    @functools.cached_property
    def inputs(self) -> list[tuple[str, str]]:
        """The values it read as the "why" shows them, worked out when first shown (a CDS
        Hooks card's detail does not show them)."""
        return [
            (input_label(name), format_value(name, value)) for name, value in self.values.items()
        ]


@dataclass
class RuleShown:
    """What a card shows of its rule version and source, whatever the case (worked out once
    per rule set and language; never changed once made)."""

    text: str
    society: str
    year: int | None
    number: str | None
    strength: str
    citation: str
    link: str | None
    link_label: str
    provisional: bool
    question: str
    locally_modified: bool = False


@dataclass(kw_only=True)
class Card(RuleShown):
    """One recommendation card: its rule as shown (``RuleShown``) and this case's result."""

    rule_id: str
    value: str
    value_label: str
    criteria: list[Criterion] = field(default_factory=list)
    missing_field: str | None = None
    missing_label: str | None = None
    missing_anchor: str | None = None
    # What the clinician must know about this card in this case (plain words).
    notes: list[str] = field(default_factory=list)
    # Filled by the views: the row of the decision form (case page) or the stored
    # feedback (signed decision).
    form: Any = None
    feedback: Any = None

    @property
    def failed(self) -> list[str]:
        """Labels of the selection criteria known not to be met: the page says which failed
        (docs/evaluation.md#rule-values)."""
        return [c.label for c in self.criteria if c.status == "unmet" and not c.population]

    @property
    def criteria_counts(self) -> dict[str, int]:
        counts = {"met": 0, "unmet": 0, "unknown": 0}
        for c in self.criteria:
            counts[c.status] = counts.get(c.status, 0) + 1
        return counts

    @property
    def dom_id(self) -> str:
        return _dom_id(self.rule_id)


@dataclass(frozen=True)
class Column:
    """Cards shown together: one side of a question the guidelines disagree on ("supports",
    "against"), the cards of that question that cannot be decided yet ("undecided"), or all
    the cards of a question they agree on ("")."""

    side: str
    cards: list[Card]


@dataclass
class Group:
    """The cards that answer one clinical question."""

    key: str
    title: str
    supports: list[Card]
    against: list[Card]
    undecided: list[Card]

    @property
    def disagree(self) -> bool:
        return bool(self.supports and self.against)

    @property
    def cards(self) -> list[Card]:
        return [*self.supports, *self.undecided, *self.against]

    @property
    def columns(self) -> list[Column]:
        """The cards in the order and blocks the panel shows them, so that the page writes
        every card in one loop."""
        if not self.disagree:
            return [Column("", self.cards)]
        columns = [Column("supports", self.supports), Column("against", self.against)]
        if self.undecided:
            columns.append(Column("undecided", self.undecided))
        return columns


@dataclass
class Panel:
    overall: str
    overall_label: str
    overall_help: str
    overall_reasons: list[str]
    cards: list[Card]
    groups: list[Group]
    missing: list[dict[str, str]]
    cdt_contraindication: str | None
    planning: dict[str, Any] | None
    follow_up_entity: str | None

    @property
    def any_provisional(self) -> bool:
        return any(card.provisional for card in self.cards)

    @property
    def against_cards(self) -> list[Card]:
        """Every card advising against (a plan over them needs a recorded reason)."""
        return [card for card in self.cards if card.value == "against"]

    @property
    def conflicts(self) -> list[Card]:
        """Cards that advise against what another card of the same question supports."""
        return [card for group in self.groups if group.disagree for card in group.against]

    @property
    def planning_rows(self) -> list[tuple[str, str]]:
        """The planning block (docs/planning.md#planning-block) as label and plain text."""
        plan = self.planning
        if not plan:
            return []

        def access(code: Any) -> str:
            return str(ACCESS_LABELS.get(code, code))

        yes, no = str(_("yes")), str(_("no"))
        sizes = plan.get("stent_diameter_mm") or {}
        return [
            (str(_("Primary access")), access(plan.get("primary_access"))),
            (
                str(_("Access options")),
                ", ".join(access(c) for c in plan.get("access_options") or []) or "—",
            ),
            (str(_("Bilateral access")), yes if plan.get("bilateral_access") else no),
            (str(_("Jugular access")), str(plan.get("jugular") or "—")),
            (
                str(_("Bilateral (inverted-Y) extension")),
                yes if plan.get("bilateral_extension") else no,
            ),
            (
                str(_("Stent diameters")),
                ", ".join(f"{seg} {mm} mm" for seg, mm in sizes.items()) or "—",
            ),
            (
                str(_("Follow-up protocol")),
                str(
                    FOLLOW_UP_LABELS.get(self.follow_up_entity or "", self.follow_up_entity or "—")
                ),
            ),
        ]

    @property
    def counts(self) -> dict[str, int]:
        out = {"supports": 0, "against": 0, "undecided": 0}
        for group in self.groups:
            out["supports"] += len(group.supports)
            out["against"] += len(group.against)
            out["undecided"] += len(group.undecided)
        return out


def field_anchor(name: str) -> str:
    return FIELD_ANCHORS.get(name, f"id_case-{name}")


def field_label(name: str) -> str:
    """What to record, for a missing input ("symptom onset date")."""
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    return input_label(name).lower()


def input_label(name: str) -> str:
    """What a case value is, next to the value ("Days since symptom onset: 4")."""
    if name in OUTCOME_LABELS:
        return str(OUTCOME_LABELS[name])
    spec = FACT_FIELDS.get(name)
    return spec.label if spec else name.replace("_", " ").capitalize()


def format_value(name: str, value: Any) -> str:
    """A case value as the "why" shows it: plain words, "not recorded" for unknown."""
    if value is None or value == "" or value == []:
        return _label("word", None)
    if value is True:
        return _label("word", True)
    if value is False:
        return _label("word", False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.isidentifier() and value.islower():
        return value.replace("_", " ")  # a vocabulary code: acute_thrombotic
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        if name == "obstruction":
            parts = [str(value.get("type") or _("type not recorded"))]
            if value.get("area_reduction_pct") is not None:
                parts.append(str(_("area %(n)s %%")) % {"n": value["area_reduction_pct"]})
            elif value.get("type") != "occlusion":
                parts.append(str(_("area not measured")))
            return ", ".join(parts)
        if name == "bleeding_risk":
            level = value.get("level") or _("not recorded")
            klass = value.get("contraindication_class") or _("not assessed")
            text = str(_("level %(level)s, thrombolysis contraindication %(klass)s")) % {
                "level": level,
                "klass": klass,
            }
            if value.get("factors"):
                ticked = [
                    gettext(thrombolysis.LABELS[code]) if code in thrombolysis.LABELS else code
                    for code in value["factors"]
                ]
                text += "; " + str(_("ticked: %(items)s")) % {"items": "; ".join(ticked)}
            return text
        return "; ".join(f"{k.replace('_', ' ')} {format_value(k, v)}" for k, v in value.items())
    return str(value)


def strength_text(strength: Mapping[str, Any]) -> str:
    """The recommendation's strength in its society's own grading
    (docs/evaluation.md#recommendation-strength)."""
    system = strength.get("system")
    native, level = strength.get("native"), strength.get("level")
    if system == "ESVS":
        if not native:
            return str(_("ESVS class/level not verified"))
        return f"Class {native}" + (f", Level {level}" if level else "")
    if system in ("GRADE", "ACCP"):
        if not native:
            return str(_("grade not stated"))
        return f"Grade {native}{level or ''}"
    if system == "SIR":
        if not native:
            return str(_("SIR grade letters not verified"))
        return f"({level}, {native})" if level else f"({native})"
    if system == "CIRSE":
        return str(native or _("no class/level stated"))
    if native and level:
        return f"{native}, {level}"
    return str(native or _("not graded"))


def _link(source: Mapping[str, Any]) -> tuple[str | None, str]:
    """The DOI, else the source's own address; none for a source without either (practice
    consensus has no publication to link to)."""
    if source.get("doi"):
        return f"https://doi.org/{source['doi']}", f"doi:{source['doi']}"
    if source.get("url"):
        return str(source["url"]), str(_("source"))
    return None, ""


def _criteria(result: Mapping[str, Any]) -> list[Criterion]:
    out = []
    for entry in result.get("criteria", []):
        inputs = entry.get("inputs") or {}
        out.append(
            Criterion(
                id=entry.get("id", ""),
                label=entry.get("label", ""),
                status=entry.get("status", "unknown"),
                status_label=_label("status", entry.get("status")),
                values=inputs,
                population=entry.get("id") == "population",
            )
        )
    return out


def _question(rule_id: str, definition: Mapping[str, Any]) -> str:
    return QUESTION_OF_RULE.get(rule_id) or QUESTION_OF_TOPIC.get(
        definition.get("topic", ""), "care"
    )


def _rule_shown(rule_id: str, catalogue: Catalogue, sources: Mapping[str, Any]) -> RuleShown:
    try:
        definition = catalogue.definition(rule_id)
    except KeyError:  # a rule the catalogue no longer knows: show what the result says
        definition = {"text": str(_("(rule text not available)")), "verification": ""}
    source = sources.get(definition.get("source", ""), {})
    link, link_label = _link(source)
    return RuleShown(
        text=definition.get("text", ""),
        society=source.get("society", ""),
        year=source.get("year"),
        number=definition.get("recommendation_number"),
        strength=strength_text(definition.get("strength") or {}),
        citation=source.get("citation", ""),
        link=link,
        link_label=link_label,
        provisional=definition.get("verification") != "verified",
        question=_question(rule_id, definition),
        # A signed decision keeps only what a card shows, not enough to compare.
        locally_modified=not isinstance(catalogue, FrozenCatalogue)
        and "id" in definition
        and locally_modified(definition),
    )


# What the cards show of each rule, worked out once per compiled rule set (a publish compiles
# a new one) and language rather than on every page. Keyed by the rule set object itself, so
# that a rule set compiled later never finds another one's entries; the last few are kept.
_SHOWN_KEEP = 4
_shown: list[tuple[Catalogue, dict[tuple[str, str | None], RuleShown]]] = []


def _rule_shown_cached(rule_id: str, catalogue: Catalogue, sources: Mapping[str, Any]) -> RuleShown:
    if isinstance(catalogue, FrozenCatalogue):  # one signed decision's: shown once
        return _rule_shown(rule_id, catalogue, sources)
    entries = next((known for owner, known in _shown if owner is catalogue), None)
    if entries is None:
        entries = {}
        _shown.append((catalogue, entries))
        del _shown[:-_SHOWN_KEEP]
    key = (rule_id, get_language())
    shown = entries.get(key)
    if shown is None:
        shown = entries[key] = _rule_shown(rule_id, catalogue, sources)
    return shown


def _card(
    rule_id: str, result: Mapping[str, Any], catalogue: Catalogue, sources: Mapping[str, Any]
) -> Card:
    shown = _rule_shown_cached(rule_id, catalogue, sources)
    base, _sep, missing = result["value"].partition(":")
    return Card(
        **vars(shown),
        rule_id=rule_id,
        value=base,
        value_label=_label("value", base),
        criteria=_criteria(result),
        missing_field=missing or None,
        missing_label=field_label(missing) if missing else None,
        missing_anchor=field_anchor(missing) if missing else None,
    )


def _notes(cards: list[Card], result: Mapping[str, Any]) -> None:
    """Card notes that depend on the rest of the result (docs/safety.md#asymptomatic-nivl,
    docs/safety.md#anticoagulation-contraindicated)."""
    derived = result.get("derived") or {}
    values = {rule_id: r["value"] for rule_id, r in result["rules"].items()}
    for card in cards:
        if card.rule_id == "SVSAVF-2012-ETR-04" and derived.get("anticoagulation_contraindicated"):
            card.notes.append(
                str(
                    _(
                        "Anticoagulation is contraindicated in this patient: thrombus removal "
                        "then means mechanical or surgical removal without thrombolysis, and "
                        "no anticoagulation advice is given."
                    )
                )
            )
        if card.rule_id == "CIRSE-2014-ICS" and values.get("ESVS-2022-CVD-NIVL-ASX") == "against":
            card.notes.append(
                str(
                    _(
                        "Does not count toward stenting here: for an asymptomatic non-thrombotic "
                        "iliac vein lesion the newer ESVS 2022 recommendation against stenting "
                        "prevails."
                    )
                )
            )


def panel(result: Mapping[str, Any], catalogue: Catalogue) -> Panel:
    """The recommendations panel for one evaluation result: the cards of the applicable
    rules (value ≠ not_applicable), grouped by clinical question, supporting before
    undecided before advising against."""
    sources = catalogue.sources
    cards = [
        _card(rule_id, r, catalogue, sources)
        for rule_id, r in result["rules"].items()
        if r["value"] != "not_applicable"
    ]
    cards.sort(key=lambda c: (_VALUE_ORDER.get(c.value, 9), c.rule_id))
    _notes(cards, result)
    groups = []
    for key, title in QUESTIONS.items():
        mine = [c for c in cards if c.question == key]
        if mine:
            groups.append(
                Group(
                    key=key,
                    title=str(title),
                    supports=[c for c in mine if c.value in ("recommend", "consider")],
                    against=[c for c in mine if c.value == "against"],
                    undecided=[
                        c for c in mine if c.value not in ("recommend", "consider", "against")
                    ],
                )
            )
    missing = [
        {"field": name, "label": field_label(name), "anchor": field_anchor(name)}
        for name in result.get("missing", [])
    ]
    overall = result["overall"]
    reasons = []
    if overall == "contraindicated_defer":
        reasons = [
            str(text)
            for rule_id, text in DEFER_REASONS.items()
            if result["rules"].get(rule_id, {}).get("value") == "against"
        ]
    return Panel(
        overall=overall,
        overall_label=overall_label(overall),
        overall_help=str(OVERALL_HELP.get(overall, "")),
        overall_reasons=reasons,
        cards=[card for group in groups for card in group.cards],
        groups=groups,
        missing=missing,
        cdt_contraindication=result.get("cdt_contraindication"),
        planning=result.get("planning"),
        follow_up_entity=result.get("follow_up_entity"),
    )
