"""A FHIR R4 Bundle (a Patient, optionally Conditions and Observations) imported as a patient
and a draft case: the patient is created or brought up to date through the case services,
matched by the identifier system the centre configures; what could be mapped of the record
pre-fills one open draft per patient, which a clinician completes on the case form.

A bundle that is not one, or whose content venousapp cannot read (no patient identifier in
the centre's system, a code of venousapp's own systems that does not exist, a value of the
wrong type), is refused as a whole with the reasons; nothing is saved then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pydantic
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle

from cases.services import patient_get_or_create
from interop.mapping import Reading, read_resources
from interop.models import CaseDraft
from venousapp.accounts.models import Person
from venousapp.parsers import nul_at, path_text

# The largest Bundle an import reads (a patient's record with its observations fits easily).
IMPORT_MAX_BYTES = 10 * 1024 * 1024


class ImportRefused(Exception):
    """The bundle cannot be imported; ``reasons`` maps a part of it to what is wrong."""

    def __init__(self, reasons: dict[str, list[str]]) -> None:
        super().__init__(reasons)
        self.reasons = reasons


@dataclass
class ImportResult:
    draft: CaseDraft
    created: bool
    reading: Reading


# A refusal names the part of the Bundle at fault: one of its elements (the API's 400s name
# a field of the request), the message says where inside it.
PARTS = ("resourceType", "type", "entry")


def _part(error: Any) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    return loc[0] if loc and loc[0] in PARTS else "entry"


def _location(error: Any) -> str:
    return ".".join(str(part) for part in error.get("loc", ()))


def parse_bundle(data: Any) -> Bundle:
    """The Bundle in ``data`` (parsed JSON), validated by the FHIR models; ImportRefused
    with the reasons otherwise."""
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        kind = data.get("resourceType") if isinstance(data, dict) else None
        raise ImportRefused(
            {
                "resourceType": [
                    _("Expected a FHIR Bundle, not %(kind)s.") % {"kind": kind or _("nothing")}
                ]
            }
        )
    nul = nul_at(data)
    if nul is not None:
        raise ImportRefused(
            {
                _part({"loc": nul}): [
                    _("%(where)s holds a NUL character, which no record can store.")
                    % {"where": path_text(nul)}
                ]
            }
        )
    try:
        return Bundle.model_validate(data)
    except pydantic.ValidationError as exc:
        reasons: dict[str, list[str]] = {}
        for error in exc.errors()[:20]:
            where = _location(error)
            message = str(error.get("msg", ""))
            reasons.setdefault(_part(error), []).append(f"{where}: {message}" if where else message)
        raise ImportRefused(reasons) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ImportRefused(
            {"entry": [_("A resource venousapp cannot read: %(what)s") % {"what": exc}]}
        ) from None


def _json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _checked(bundle: Bundle, *, identifier_system: str, today: dt.date) -> Reading:
    resources = [entry.resource for entry in bundle.entry or () if entry.resource is not None]
    patients = [r for r in resources if r.get_resource_type() == "Patient"]
    if len(patients) != 1:
        raise ImportRefused({"entry": [_("The bundle must hold exactly one Patient.")]})
    reading = read_resources(resources, today=today, identifier_system=identifier_system)
    reasons: dict[str, list[str]] = {}
    if reading.errors:
        reasons["entry"] = list(reading.errors)
    missing = [
        label
        for name, label in (
            ("identifier", _("an identifier of system %(system)s") % {"system": identifier_system}),
            ("date_of_birth", _("a birth date")),
            ("sex", _("a gender (female, male or other)")),
        )
        if name not in reading.patient
    ]
    if missing:
        reasons.setdefault("entry", []).extend(
            [_("The Patient needs %(what)s.") % {"what": ", ".join(str(m) for m in missing)}]
        )
    if reasons:
        raise ImportRefused(reasons)
    return reading


@transaction.atomic
def fhir_import(*, user: Person, data: Any, now: dt.datetime | None = None) -> ImportResult:
    """Import the Bundle ``data`` for ``user``'s centre (see the module's docstring)."""
    centre = user.centre
    bundle = parse_bundle(data)
    reading = _checked(bundle, identifier_system=centre.patient_system, today=centre.today(now))
    try:
        patient = patient_get_or_create(
            centre=centre, data=dict(reading.patient), user=user, now=now
        )
    except ValidationError as exc:
        raise ImportRefused(
            {"entry": [m for messages in exc.message_dict.values() for m in messages]}
        ) from None
    draft = CaseDraft.objects.select_for_update().filter(patient=patient, case__isnull=True).first()
    created = draft is None
    if draft is None:
        draft = CaseDraft(centre=centre, patient=patient, author=user)
    draft.data = {name: _json(value) for name, value in reading.case.items()}
    draft.findings = [{k: _json(v) for k, v in row.items()} for row in reading.findings]
    draft.mapped = reading.mapped
    draft.not_mapped = reading.not_mapped
    draft.author = user
    draft.full_clean()
    draft.save()
    return ImportResult(draft=draft, created=created, reading=reading)
