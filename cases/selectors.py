"""Reads for patients and cases, always scoped to the reader's centre."""

from collections.abc import Sequence

from django.db.models import Prefetch, Q, QuerySet

from cases.models import STATUS_SORT_KEY, Case, Patient, SegmentFinding
from venousapp.accounts.models import Person
from venousapp.params import object_id


def patient_list(*, user: Person) -> QuerySet[Patient]:
    return Patient.objects.filter(centre_id=user.centre_id)


# The case list's sortable columns (venousapp.listing), each served by an index of the case
# model that starts with the centre (the patient's identifier by the patients' own).
CASE_COLUMNS: dict[str, tuple[str, ...]] = {
    "case": ("id",),
    "patient": ("patient__identifier", "id"),
    "date": ("case_date", "id"),
    "entity": ("lesion_entity", "case_date", "id"),
    "status": ("status_key", "case_date", "id"),
}
CASE_DEFAULT_SORT = "-date"


def patient_match(query: str, prefix: str = "patient__") -> Q:
    """Patients found by what a person types: the start of the hospital identifier, or part
    of the name (any case)."""
    text = query.strip()
    return Q(**{f"{prefix}identifier__istartswith": text}) | Q(**{f"{prefix}name__icontains": text})


def case_list(
    *,
    user: Person,
    query: str = "",
    entity: str = "",
    status: str = "",
    order_by: Sequence[str] = ("-case_date", "-id"),
) -> QuerySet[Case]:
    """Cases of the user's centre, newest first (or ``order_by``, which may name
    ``status_key``: the stored status with the never evaluated first), with what the list
    page shows. ``query`` finds a case by patient identifier, patient name or case number.

    ``status`` filters on the stored overall status, which lags a publish until the
    re-evaluation has reached the case."""
    if order_by and order_by[0].lstrip("-").startswith("patient__"):
        # The same centre, through the patients: they are read in the order of their own
        # index (centre, identifier), each with its cases.
        scope = Q(patient__centre_id=user.centre_id)
    else:
        scope = Q(centre_id=user.centre_id)
    cases = (
        Case.objects.filter(scope)
        .annotate(status_key=STATUS_SORT_KEY)
        .select_related("patient", "author")
        .prefetch_related(Prefetch("findings", queryset=SegmentFinding.objects.order_by("id")))
        .order_by(*order_by)
    )
    if query.strip():
        match = patient_match(query)
        case_id = object_id(query.strip().lstrip("#"))
        if case_id is not None:
            match |= Q(pk=case_id)
        cases = cases.filter(match)
    if entity:
        cases = cases.filter(lesion_entity=entity)
    if status:
        cases = cases.filter(status_key=status)
    return cases


def case_get(*, user: Person, pk: int) -> Case:
    """The case if it belongs to the user's centre; ``Case.DoesNotExist`` otherwise."""
    return (
        Case.objects.select_related("patient", "author", "patient__centre")
        .prefetch_related(Prefetch("findings", queryset=SegmentFinding.objects.order_by("id")))
        .get(pk=pk, centre_id=user.centre_id)
    )
