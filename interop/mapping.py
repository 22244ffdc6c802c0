"""FHIR resources read into what venousapp works with: the facts document the guideline
engine evaluates (CDS Hooks) and the patient, case and findings data the case services take
(import). One reading serves both, so a hook and an import understand a record alike.

Every element is either *mapped* (listed with what it became), *not mapped* (listed with why:
a resource type or code this app does not use) or an *error*: a code of one of venousapp's own
code systems that does not exist, or a value of the wrong type for its code. A caller refuses
a reading with errors (import: 400, hook: 412).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from cases import scores
from cases.facts import worst_obstruction
from cases.models import (
    Finding,
    ImagingMethod,
    Segment,
    SegmentFinding,
    SegmentSide,
)
from cases.thrombolysis import FACTOR_CODES
from guidelines.vocabulary import (
    CEAP_SEGMENTS,
    CONTRAINDICATION_CLASSES,
    FACT_FIELDS,
    OBSTRUCTION_TYPES,
    RISK_LEVELS,
)
from interop import codes
from interop.resources import (
    BLEEDING_LEVEL,
    CONTRAINDICATION,
    CONTRAINDICATION_CLASS,
    FINDING_SIDE,
    MEASUREMENTS,
    SCORE_ITEMS,
    SEGMENT_FINDING,
    SIMPLE_FACTS,
    UNDERLYING_ILIAC_CODES,
    WORST_OBSTRUCTION,
)

# Case fields a facts field is stored in, where the two differ only in name or form.
_TRISTATE_FIELD = "underlying_iliac_lesion"


@dataclass
class Reading:
    """What a set of resources said, and what became of each element."""

    patient: dict[str, Any] = field(default_factory=dict)
    case: dict[str, Any] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    mapped: list[dict[str, str]] = field(default_factory=list)
    not_mapped: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    segments: list[tuple[str, str | None]] = field(default_factory=list)  # (segment, finding)

    def map(self, where: str, what: str, value: Any) -> None:
        self.mapped.append({"resource": where, "element": what, "value": str(value)})

    def skip(self, where: str, why: str) -> None:
        self.not_mapped.append({"resource": where, "reason": why})


def _pairs(concept: Any) -> list[tuple[str, str]]:
    if concept is None:
        return []
    return [(c.system or "", c.code or "") for c in concept.coding or ()]


def _local(concept: Any, system: str) -> str | None:
    return next((code for sys, code in _pairs(concept) if sys == system), None)


def _where(resource: Any) -> str:
    return f"{resource.get_resource_type()}/{resource.id or '?'}"


def _number(value: Any) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class Reader:
    """Reads resources of one patient into a :class:`Reading` (``today``: the day ages and
    symptom durations are counted to when the record does not say)."""

    def __init__(self, *, today: dt.date, identifier_system: str | None = None) -> None:
        self.today = today
        self.identifier_system = identifier_system
        self.r = Reading()
        self.scores: dict[str, int] = {}
        self.items: dict[str, dict[str, int]] = {"vcss": {}, "villalta": {}}
        self.bleeding: dict[str, Any] = {}
        self.factors: list[str] = []
        self.obstruction: dict[str, Any] | None = None
        self.rows: list[dict[str, Any]] = []
        self.case_date: dt.date | None = None
        self.onset: dt.date | None = None
        self.birth_date: dt.date | None = None
        self.entity_seen = False

    # --- resources -------------------------------------------------------------------------

    def read(self, resources: list[Any]) -> Reading:
        for resource in resources:
            kind = resource.get_resource_type()
            if kind == "Patient":
                self.patient(resource)
            elif kind == "Condition":
                self.condition(resource)
            elif kind == "Observation":
                self.observation(resource)
            else:
                self.r.skip(
                    _where(resource),
                    _("This resource type is not used by venousapp."),
                )
        self.finish()
        return self.r

    def patient(self, p: Any) -> None:
        where = _where(p)
        if self.r.patient:
            self.r.errors.append(_("The bundle holds more than one Patient."))
            return
        data: dict[str, Any] = {}
        wanted = [i for i in p.identifier or () if i.value]
        if self.identifier_system is not None:
            wanted = [i for i in wanted if i.system == self.identifier_system]
        if wanted:
            data["identifier"] = wanted[0].value
            self.r.map(where, _("hospital identifier"), wanted[0].value)
        if p.gender in ("female", "male", "other"):
            data["sex"] = p.gender
            self.r.facts["sex"] = p.gender
            self.r.map(where, _("sex"), p.gender)
        elif p.gender:
            self.r.skip(
                where, _("Sex “%(value)s” is not recorded by venousapp.") % {"value": p.gender}
            )
        if p.birthDate:
            data["date_of_birth"] = p.birthDate
            self.birth_date = p.birthDate
            self.r.map(where, _("date of birth"), p.birthDate.isoformat())
        for name in (p.name or [])[:1]:
            text = name.text or " ".join([*(name.given or ()), name.family or ""]).strip()
            if text:
                data["name"] = text[:200]
                self.r.map(where, _("name"), text)
                break
        for point in p.telecom or ():
            if point.system == "phone" and point.value and "phone" not in data:
                data["phone"] = point.value[:40]
                self.r.map(where, _("telephone"), point.value)
            elif point.system == "email" and point.value and "email" not in data:
                data["email"] = point.value
                self.r.map(where, _("e-mail"), point.value)
        if p.deceasedBoolean or p.deceasedDateTime:
            self.r.skip(where, _("Deceased status is not recorded by venousapp."))
        self.r.patient = data or {"_present": True}

    def condition(self, c: Any) -> None:
        where = _where(c)
        pairs = _pairs(c.code)
        local_entity = _local(c.code, codes.local_system("lesion_entity"))
        entity = local_entity or codes.entity_of_codings(pairs)
        if local_entity is not None and local_entity not in FACT_FIELDS["lesion_entity"].values:
            self.r.errors.append(
                _("%(where)s: unknown lesion entity code “%(code)s”.")
                % {"where": where, "code": local_entity}
            )
            return
        if c.code is not None and entity is None:
            self.r.skip(where, _("Not a venous lesion venousapp records (code not in its table)."))
            return
        if entity is not None and self.entity_seen:
            self.r.skip(where, _("A second lesion Condition; only the first is used."))
            return
        if entity is not None:
            self.entity_seen = True
            self.r.facts["lesion_entity"] = self.r.case["lesion_entity"] = entity
            self.r.map(where, _("lesion entity"), entity)
        for site in c.bodySite or ():
            local_side = _local(site, codes.local_system("side"))
            side = local_side or codes.side_of_codings(_pairs(site))
            if local_side is not None and local_side not in FACT_FIELDS["side"].values:
                self.r.errors.append(
                    _("%(where)s: unknown side code “%(code)s”.")
                    % {"where": where, "code": local_side}
                )
            elif side:
                self.r.facts["side"] = self.r.case["side"] = side
                self.r.map(where, _("side"), side)
        if c.onsetDateTime is not None:
            onset = c.onsetDateTime
            self.onset = onset.date() if isinstance(onset, dt.datetime) else onset
            self.r.map(where, _("symptom onset"), self.onset.isoformat())
        if c.recordedDate is not None:
            recorded = c.recordedDate
            self.case_date = recorded.date() if isinstance(recorded, dt.datetime) else recorded
            self.r.map(where, _("case date"), self.case_date.isoformat())

    # --- observations ----------------------------------------------------------------------

    def observation(self, o: Any) -> None:
        where = _where(o)
        if o.status in ("entered-in-error", "cancelled"):
            self.r.skip(where, _("Entered in error or cancelled."))
            return
        name = _local(o.code, codes.FACT)
        if name is None and ("http://loinc.org", "82810-3") in _pairs(o.code):
            name = "pregnancy"
        if name is None:
            self.r.skip(where, _("An observation venousapp does not use (code not in its table)."))
            return
        handler = {
            SEGMENT_FINDING: self.segment_finding,
            WORST_OBSTRUCTION: self.worst,
            BLEEDING_LEVEL: self.bleeding_level,
            CONTRAINDICATION_CLASS: self.contraindication_class,
            CONTRAINDICATION: self.contraindication,
            "vcss": self.score,
            "villalta": self.score,
            "pregnancy": self.pregnancy,
            _TRISTATE_FIELD: self.tristate,
        }.get(name)
        if handler is not None:
            handler(o, name, where)
        elif name in SIMPLE_FACTS:
            self.simple(o, name, where)
        else:
            self.r.errors.append(
                _("%(where)s: unknown observation code “%(code)s”.")
                % {"where": where, "code": name}
            )

    def _bad(self, where: str, name: str) -> None:
        self.r.errors.append(
            _("%(where)s: the value does not fit “%(field)s”.") % {"where": where, "field": name}
        )

    def _code(self, o: Any, where: str, name: str, system: str, allowed: Any) -> str | None:
        code = _local(o.valueCodeableConcept, system)
        if code is None or code not in allowed:
            self.r.errors.append(
                _("%(where)s: unknown code “%(code)s” for “%(field)s”.")
                % {"where": where, "code": code or "", "field": name}
            )
            return None
        return code

    def simple(self, o: Any, name: str, where: str) -> None:
        spec = FACT_FIELDS[name]
        value: Any = None
        if spec.kind == "bool" and o.valueBoolean is not None:
            value = o.valueBoolean
        elif spec.kind == "ceap" and o.valueString is not None:
            value = o.valueString
        elif spec.kind == "number" and o.valueInteger is not None:
            value = o.valueInteger
        elif spec.kind == "number" and o.valueQuantity is not None:
            value = _number(o.valueQuantity.value)
        elif spec.kind == "enum" and o.valueCodeableConcept is not None:
            value = self._code(o, where, name, codes.local_system(name), spec.values)
            if value is None:
                return
        if value is None:
            self._bad(where, name)
            return
        self.r.facts[name] = value
        self.r.case[name] = Decimal(str(value)) if name == "life_expectancy_years" else value
        self.r.map(where, str(spec.label), value)

    def tristate(self, o: Any, name: str, where: str) -> None:
        code = self._code(o, where, name, codes.local_system(name), UNDERLYING_ILIAC_CODES)
        if code is not None:
            self.r.facts[name] = {"true": True, "false": False}.get(code, code)
            self.r.case[name] = code
            self.r.map(where, str(FACT_FIELDS[name].label), code)

    def pregnancy(self, o: Any, name: str, where: str) -> None:
        pairs = _pairs(o.valueCodeableConcept)
        if (codes.PREGNANT.system, codes.PREGNANT.code) in pairs:
            value = True
        elif (codes.NOT_PREGNANT.system, codes.NOT_PREGNANT.code) in pairs:
            value = False
        elif o.valueBoolean is not None:
            value = o.valueBoolean
        else:
            self.r.skip(where, _("Pregnancy status other than pregnant / not pregnant."))
            return
        self.r.facts["pregnancy"] = self.r.case["pregnancy"] = value
        self.r.map(where, _("pregnancy"), value)

    def score(self, o: Any, name: str, where: str) -> None:
        system = codes.local_system(name)
        for component in o.component or ():
            key = _local(component.code, system)
            if key == "category":
                continue
            if key is None or key not in SCORE_ITEMS[name] or component.valueInteger is None:
                self.r.errors.append(
                    _("%(where)s: unknown item “%(code)s” of “%(field)s”.")
                    % {"where": where, "code": key or "", "field": name}
                )
                return
            self.items[name][key] = component.valueInteger
        if o.valueInteger is not None:
            self.scores[name] = o.valueInteger
        self.r.map(where, str(FACT_FIELDS[name].label), o.valueInteger)

    def bleeding_level(self, o: Any, name: str, where: str) -> None:
        code = self._code(o, where, name, codes.local_system("risk_level"), RISK_LEVELS)
        if code is not None:
            self.bleeding["level"] = code
            self.r.case["bleeding_risk_level"] = code
            self.r.map(where, _("bleeding risk"), code)

    def contraindication_class(self, o: Any, name: str, where: str) -> None:
        system = codes.local_system("contraindication_class")
        code = self._code(o, where, name, system, CONTRAINDICATION_CLASSES)
        if code is not None:
            self.bleeding["contraindication_class"] = code
            self.r.map(where, _("thrombolysis contraindication class"), code)

    def contraindication(self, o: Any, name: str, where: str) -> None:
        system = codes.local_system("thrombolysis_contraindication")
        code = self._code(o, where, name, system, FACTOR_CODES)
        if code is not None:
            self.factors.append(code)
            self.r.map(where, _("thrombolysis contraindication"), code)

    def worst(self, o: Any, name: str, where: str) -> None:
        obstruction: dict[str, Any] = {}
        if o.valueCodeableConcept is not None:
            kind = self._code(o, where, name, codes.local_system("obstruction"), OBSTRUCTION_TYPES)
            if kind is None:
                return
            obstruction["type"] = kind
        for component in o.component or ():
            key = _local(component.code, codes.FACT)
            if key in ("area_reduction_pct", "diameter_reduction_pct") and component.valueQuantity:
                obstruction[key] = _number(component.valueQuantity.value)
        self.obstruction = obstruction
        self.r.map(where, _("worst obstruction"), obstruction)

    def segment_finding(self, o: Any, name: str, where: str) -> None:
        segment = _local(o.bodySite, codes.SEGMENT) or codes.segment_of_codings(_pairs(o.bodySite))
        if segment not in CEAP_SEGMENTS:
            self.r.errors.append(
                _("%(where)s: unknown venous segment “%(code)s”.")
                % {"where": where, "code": segment or ""}
            )
            return
        finding = None
        if o.valueCodeableConcept is not None:
            finding = self._code(o, where, name, codes.FINDING, Finding.values)
            if finding is None:
                return
        row: dict[str, Any] = {"segment": segment, "finding": finding}
        method = _local(o.method, codes.IMAGING)
        if method is not None and method not in ImagingMethod.values:
            self._bad(where, "imaging_method")
            return
        row["imaging_method"] = method or ""
        for component in o.component or ():
            key = _local(component.code, codes.FACT)
            if key == FINDING_SIDE:
                side = _local(component.valueCodeableConcept, codes.local_system("segment_side"))
                if side not in SegmentSide.values:
                    self._bad(where, "segment_side")
                    return
                row["side"] = side
            elif key in MEASUREMENTS and component.valueQuantity is not None:
                row[key] = _number(component.valueQuantity.value)
        self.r.segments.append((segment, finding))
        self.rows.append(row)
        self.r.map(where, _("segment finding"), f"{segment} {row.get('side', '')} {finding or ''}")

    # --- the facts document and the case data ---------------------------------------------

    def finish(self) -> None:
        r = self.r
        day = self.case_date or self.today
        if self.birth_date is not None:
            years = day.year - self.birth_date.year
            r.facts["age"] = years - (
                (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
            )
        if self.onset is not None:
            r.facts["symptom_onset_days"] = (day - self.onset).days
            r.case["symptom_onset_date"] = self.onset
        r.case["case_date"] = day
        rows = [
            SegmentFinding(
                segment=row["segment"],
                side=row.get("side", ""),
                finding=row["finding"] or Finding.STENOSIS,
                area_reduction_pct=row.get("area_reduction_pct"),
                diameter_reduction_pct=row.get("diameter_reduction_pct"),
            )
            for row in self.rows
        ]
        involved = {s for s, finding in r.segments if finding != Finding.NORMAL}
        if involved:
            r.facts["segments_involved"] = [s for s in CEAP_SEGMENTS if s in involved]
        measured = all(row["finding"] for row in self.rows)
        if self.obstruction is not None:
            r.facts["obstruction"] = self.obstruction
        elif rows and measured:
            r.facts["obstruction"] = worst_obstruction(rows)
        if self.bleeding or self.factors:
            r.facts["bleeding_risk"] = {**self.bleeding, "factors": list(self.factors)}
        if self.factors or "contraindication_class" in self.bleeding:
            r.case["thrombolysis_contraindications"] = list(dict.fromkeys(self.factors))
            r.case["contraindications_assessed"] = True
        for name in ("vcss", "villalta"):
            items = self.items[name]
            prefix = f"{name}_"
            r.case.update({prefix + key: grade for key, grade in items.items()})
            if name in self.scores:
                r.facts[name] = self.scores[name]
            elif items:
                total = (scores.vcss_total if name == "vcss" else scores.villalta_total)(
                    {key: items.get(key) for key in SCORE_ITEMS[name]}
                )
                r.facts[name] = total
        for row in self.rows:
            if row["finding"] and row.get("side") and row["segment"] in Segment.values:
                r.findings.append(dict(row))
            else:
                r.skip(
                    f"{row['segment']}",
                    _("A segment finding without its finding or side cannot be stored."),
                )
        for key in list(r.case):
            if key in FACT_FIELDS and FACT_FIELDS[key].kind == "enum" and r.case[key] is None:
                r.case[key] = ""


def read_resources(
    resources: list[Any], *, today: dt.date, identifier_system: str | None = None
) -> Reading:
    return Reader(today=today, identifier_system=identifier_system).read(resources)
