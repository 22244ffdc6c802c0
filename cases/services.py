"""Writes for patients and cases. Every write is atomic, validated and leaves history."""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cases.entities import fields_not_applicable
from cases.models import Case, Patient, SegmentFinding
from venousapp.accounts.models import Centre, User


def patient_get_or_create(*, centre: Centre, data: dict[str, Any]) -> Patient:
    """The centre's patient with this identifier, created when new.

    An existing identifier with a different date of birth is refused: it is either a typo
    or two people under one number, and both must be resolved by a person.
    """
    patient = Patient.objects.filter(centre=centre, identifier=data["identifier"]).first()
    if patient is None:
        patient = Patient(centre=centre, **data)
        patient.full_clean()
        patient.save()
        return patient
    if patient.date_of_birth != data["date_of_birth"]:
        raise ValidationError({"date_of_birth": _(
            "Patient %(identifier)s is already registered with another date of birth; "
            "check the identifier or the date.") % {"identifier": patient.identifier}})
    return patient


def patient_update(*, patient: Patient, data: dict[str, Any]) -> Patient:
    changed = [name for name, value in data.items() if getattr(patient, name) != value]
    if "identifier" in changed and Patient.objects.filter(
            centre_id=patient.centre_id, identifier=data["identifier"]).exists():
        raise ValidationError({"identifier": _(
            "Another patient of this centre has the identifier %(identifier)s.")
            % {"identifier": data["identifier"]}})
    for name in changed:
        setattr(patient, name, data[name])
    if changed:
        patient.full_clean()
        patient.save(update_fields=changed)
    return patient


def _clear_not_applicable(case: Case) -> None:
    for name in fields_not_applicable(case.lesion_entity):
        field = Case._meta.get_field(name)
        setattr(case, name, None if field.null else "")


def _replace_findings(case: Case, findings: Sequence[dict[str, Any]]) -> None:
    if not findings:
        raise ValidationError({"findings": _("Record at least one segment finding.")})
    keep_ids = [data["id"] for data in findings if data.get("id")]
    # Removed rows go first, so a removed "CIV left" can be replaced by a new one.
    for stale in case.findings.exclude(pk__in=keep_ids):
        stale.delete()  # one by one so each deletion is in the history
    for data in findings:
        finding_id = data.get("id")
        row = (case.findings.get(pk=finding_id) if finding_id else SegmentFinding(case=case))
        for name, value in data.items():
            if name != "id":
                setattr(row, name, value)
        row.full_clean()
        row.save()


@transaction.atomic
def case_create(*, patient: Patient, author: User, data: dict[str, Any],
                findings: Sequence[dict[str, Any]]) -> Case:
    case = Case(patient=patient, author=author, **data)
    _clear_not_applicable(case)
    case.full_clean()
    case.save()
    _replace_findings(case, findings)
    return case


@transaction.atomic
def case_update(*, case: Case, data: dict[str, Any],
                findings: Sequence[dict[str, Any]] | None = None) -> Case:
    for name, value in data.items():
        setattr(case, name, value)
    _clear_not_applicable(case)
    case.full_clean()
    case.save()
    if findings is not None:
        _replace_findings(case, findings)
    return case
