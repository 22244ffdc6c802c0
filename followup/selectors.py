"""Reads of the follow-up app, always scoped to the reader's centre.

The worklist runs a fixed number of queries however many visits there are, and each reads
only the centre's open visits through the covering partial index ``visit_worklist_open``:
the per-status counts are one aggregate, the page is found by id (``worklist_ids``: an
index-only scan, sorted, sliced) and only then are its rows loaded with their schedule,
procedure, case, patient and last contact attempt in one SELECT (``worklist_rows``). The
status of a row is a SQL ``CASE`` on the centre's local date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from followup import surveillance
from followup.models import (
    ContactAttempt,
    Escalation,
    Notification,
    Protocol,
    ReIntervention,
    Schedule,
    Visit,
    VisitState,
    VisitStatus,
)
from venousapp.accounts.models import User

WORKLIST_STATUSES = surveillance.OPEN_STATUSES


def status_expression(today: dt.date) -> Case:
    """``surveillance.visit_status`` in SQL."""
    return Case(
        When(state=VisitState.DONE, then=Value(VisitStatus.DONE.value)),
        When(state=VisitState.CANCELLED, then=Value(VisitStatus.CANCELLED.value)),
        When(latest_on__lt=today, then=Value(VisitStatus.MISSED.value)),
        When(target_on__lt=today, then=Value(VisitStatus.OVERDUE.value)),
        When(earliest_on__lte=today, then=Value(VisitStatus.DUE.value)),
        When(notice_on__lte=today, then=Value(VisitStatus.DUE_SOON.value)),
        default=Value(VisitStatus.UPCOMING.value),
        output_field=CharField(),
    )


def status_filter(status: str, today: dt.date) -> Q:
    """Each worklist status as plain date ranges (index friendly), for open visits."""
    match status:
        case surveillance.DUE_SOON:
            return Q(notice_on__lte=today, earliest_on__gt=today)
        case surveillance.DUE:
            return Q(earliest_on__lte=today, target_on__gte=today)
        case surveillance.OVERDUE:
            return Q(target_on__lt=today, latest_on__gte=today)
        case surveillance.MISSED:
            return Q(latest_on__lt=today)
    raise ValueError(f"Unknown worklist status {status!r}.")


def _worklist_base(
    *,
    centre_id: int,
    today: dt.date,
    entity: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Visit]:
    visits = Visit.objects.filter(
        centre_id=centre_id, state=VisitState.PLANNED, notice_on__lte=today
    )
    if entity:
        visits = visits.filter(entity=entity)
    if date_from:
        visits = visits.filter(target_on__gte=date_from)
    if date_to:
        visits = visits.filter(target_on__lte=date_to)
    return visits


def worklist_due(
    *,
    centre_id: int,
    today: dt.date,
    status: str = "",
    entity: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Visit]:
    """Open visits of a centre that are due soon, due, overdue or missed on ``today`` (the
    centre's local date), oldest target first, with everything a worklist row shows."""
    visits = _worklist_base(
        centre_id=centre_id, today=today, entity=entity, date_from=date_from, date_to=date_to
    )
    if status:
        visits = visits.filter(status_filter(status, today))
    return (
        visits.annotate(status=status_expression(today))
        .select_related(
            "schedule",
            "schedule__case",
            "schedule__case__patient",
            "schedule__procedure",
            "last_contact",
        )
        .order_by("target_on", "id")
    )


def worklist_ids(
    *,
    centre_id: int,
    today: dt.date,
    status: str = "",
    entity: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Visit, int]:
    """The ids of ``worklist_due`` in its order (index-only; slice it for a page)."""
    visits = _worklist_base(
        centre_id=centre_id, today=today, entity=entity, date_from=date_from, date_to=date_to
    )
    if status:
        visits = visits.filter(status_filter(status, today))
    return visits.order_by("target_on", "id").values_list("id", flat=True)


# What a worklist row (page or API) shows; the wide case and procedure rows stay unread.
_ROW_FIELDS = (
    *(f.name for f in Visit._meta.concrete_fields if f.name != "last_contact"),
    "last_contact",
    "schedule__id",
    "schedule__case",
    "schedule__procedure",
    "schedule__entity",
    "schedule__start_on",
    "schedule__case__id",
    "schedule__case__patient",
    "schedule__case__patient__id",
    "schedule__case__patient__identifier",
    "schedule__case__patient__name",
    "last_contact__id",
    "last_contact__method",
    "last_contact__outcome",
    "last_contact__attempted_at",
)


def worklist_rows(ids: list[int], today: dt.date) -> list[Visit]:
    """The visits of a worklist page, in the order of ``ids``, with what a row shows."""
    rows = {
        v.pk: v
        for v in Visit.objects.filter(pk__in=ids)
        .annotate(status=status_expression(today))
        .select_related("schedule", "schedule__case__patient", "last_contact")
        .only(*_ROW_FIELDS)
    }
    return [rows[pk] for pk in ids if pk in rows]


def worklist_counts(
    *,
    centre_id: int,
    today: dt.date,
    entity: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, int]:
    """How many open visits have each worklist status (one aggregate query)."""
    visits = _worklist_base(
        centre_id=centre_id, today=today, entity=entity, date_from=date_from, date_to=date_to
    )
    counts = visits.aggregate(
        **{status: Count("id", filter=status_filter(status, today)) for status in WORKLIST_STATUSES}
    )
    counts["all"] = sum(counts.values())
    return counts


def visit_get(*, user: User, pk: int) -> Visit:
    """The visit if it belongs to the user's centre; ``Visit.DoesNotExist`` otherwise."""
    return Visit.objects.select_related(
        "schedule",
        "schedule__case",
        "schedule__case__patient",
        "schedule__protocol",
        "schedule__procedure",
        "schedule__procedure__author",
        "centre",
        "last_contact",
    ).get(pk=pk, centre_id=user.centre_id)


def visit_contacts(visit: Visit) -> QuerySet[ContactAttempt]:
    return visit.contacts.select_related("by").order_by("-attempted_at", "-id")


def schedule_get(*, user: User, pk: int) -> Schedule:
    return Schedule.objects.select_related(
        "case",
        "case__patient",
        "procedure",
        "procedure__author",
        "protocol",
        "centre",
    ).get(pk=pk, centre_id=user.centre_id)


def schedule_visits(schedule: Schedule, today: dt.date) -> QuerySet[Visit]:
    return (
        schedule.visits.annotate(status=status_expression(today))
        .select_related("result", "last_contact")
        .order_by("target_on", "sequence")
    )


def schedules_for_case(*, user: User, case_id: int) -> QuerySet[Schedule]:
    return Schedule.objects.filter(case_id=case_id, centre_id=user.centre_id).select_related(
        "protocol", "procedure"
    )


def reinterventions(schedule: Schedule) -> QuerySet[ReIntervention]:
    return schedule.reinterventions.select_related("author", "escalation")


def escalation_list(
    *, user: User, open_only: bool = False, mine: bool = False
) -> QuerySet[Escalation]:
    escalations = Escalation.objects.filter(centre_id=user.centre_id).select_related(
        "visit", "case", "case__patient", "clinician", "acknowledged_by", "decided_by"
    )
    if open_only:
        escalations = escalations.filter(acknowledged_at__isnull=True)
    if mine:
        escalations = escalations.filter(clinician=user)
    return escalations.order_by("acknowledged_at", "-created_at", "-id")


def escalation_get(*, user: User, pk: int) -> Escalation:
    return Escalation.objects.select_related(
        "visit",
        "visit__schedule",
        "visit__schedule__procedure",
        "result",
        "case",
        "case__patient",
        "clinician",
        "acknowledged_by",
        "decided_by",
        "reimage_visit",
    ).get(pk=pk, centre_id=user.centre_id)


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def bell_counts(user: User) -> dict[str, int]:
    """Unread notifications and the user's open escalations, in one query (every page)."""
    unread = (
        Notification.objects.filter(recipient_id=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("recipient_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    open_escalations = (
        Escalation.objects.filter(clinician_id=OuterRef("pk"), acknowledged_at__isnull=True)
        .order_by()
        .values("clinician_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    row: Any = User.objects.filter(pk=user.pk).annotate(
        unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0),
        open_escalations=Coalesce(Subquery(open_escalations, output_field=IntegerField()), 0),
    ).values("unread", "open_escalations").first() or {"unread": 0, "open_escalations": 0}
    return {"unread": row["unread"], "open_escalations": row["open_escalations"]}


def protocol_list(*, include_retired: bool = False) -> QuerySet[Protocol]:
    protocols = Protocol.objects.prefetch_related("visits").annotate(
        schedule_count=Count("schedules", distinct=True)
    )
    if not include_retired:
        protocols = protocols.filter(retired_at__isnull=True)
    return protocols.order_by("entity", "-version")


def protocol_get(pk: int) -> Protocol:
    return Protocol.objects.prefetch_related("visits").select_related("created_by").get(pk=pk)


def protocol_versions(protocol: Protocol) -> QuerySet[Protocol]:
    return (
        Protocol.objects.filter(entity=protocol.entity)
        .annotate(schedule_count=Count("schedules"))
        .order_by("-version")
    )
