"""Reads for patients and cases, always scoped to the reader's centre."""

from django.db.models import Prefetch, Q, QuerySet

from cases.models import Case, Patient, SegmentFinding
from venousapp.accounts.models import User
from venousapp.params import object_id


def patient_list(*, user: User) -> QuerySet[Patient]:
    return Patient.objects.filter(centre_id=user.centre_id)


def case_list(*, user: User, query: str = "", entity: str = "", status: str = "") -> QuerySet[Case]:
    """Cases of the user's centre, newest first, with what the list page shows.

    ``status`` filters on the stored overall status, which lags a publish until the
    re-evaluation has reached the case."""
    cases = (
        Case.objects.filter(patient__centre_id=user.centre_id)
        .select_related("patient", "author")
        .prefetch_related(Prefetch("findings", queryset=SegmentFinding.objects.order_by("id")))
    )
    if query:
        match = Q(patient__identifier__istartswith=query.strip())
        case_id = object_id(query)
        if case_id is not None:
            match |= Q(pk=case_id)
        cases = cases.filter(match)
    if entity:
        cases = cases.filter(lesion_entity=entity)
    if status:
        cases = cases.filter(overall_status=status)
    return cases


def case_get(*, user: User, pk: int) -> Case:
    """The case if it belongs to the user's centre; ``Case.DoesNotExist`` otherwise."""
    return (
        Case.objects.select_related("patient", "author", "patient__centre")
        .prefetch_related(Prefetch("findings", queryset=SegmentFinding.objects.order_by("id")))
        .get(pk=pk, patient__centre_id=user.centre_id)
    )
