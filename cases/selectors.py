"""Reads for patients and cases, always scoped to the reader's centre."""

from django.db.models import Prefetch, Q, QuerySet

from cases.models import Case, Patient, SegmentFinding
from venousapp.accounts.models import User


def patient_list(*, user: User) -> QuerySet[Patient]:
    return Patient.objects.filter(centre_id=user.centre_id)


def case_list(*, user: User, query: str = "", entity: str = "") -> QuerySet[Case]:
    """Cases of the user's centre, newest first, with what the list page shows."""
    cases = (
        Case.objects.filter(patient__centre_id=user.centre_id)
        .select_related("patient", "author")
        .prefetch_related(Prefetch("findings", queryset=SegmentFinding.objects.order_by("id")))
    )
    if query:
        cases = cases.filter(
            Q(patient__identifier__istartswith=query.strip()) | Q(pk__in=_int_or_none(query))
        )
    if entity:
        cases = cases.filter(lesion_entity=entity)
    return cases


def _int_or_none(text: str) -> list[int]:
    text = text.strip().lstrip("#")
    return [int(text)] if text.isdigit() else []


def case_get(*, user: User, pk: int) -> Case:
    """The case if it belongs to the user's centre; ``Case.DoesNotExist`` otherwise."""
    return (
        Case.objects.select_related("patient", "author", "patient__centre")
        .prefetch_related(Prefetch("findings", queryset=SegmentFinding.objects.order_by("id")))
        .get(pk=pk, patient__centre_id=user.centre_id)
    )
