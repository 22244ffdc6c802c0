"""Reads of the follow-up app, always scoped to the reader's centre.

The worklist runs a fixed number of queries however many visits there are, and each reads
only the centre's open visits through the covering partial index ``visit_worklist_open``:
the per-status counts are one aggregate, the page is found by id (``worklist_ids``: an
index-only scan, sorted, sliced) and only then are its rows loaded with their schedule,
procedure, case, patient and last contact attempt in one SELECT (``worklist_rows``). The
status of a row is a SQL ``CASE`` on the centre's local date.

The patency analytics read a centre's schedules, imaging results, segment findings and
re-interventions as plain tuples (no model instances), four queries per chunk of
schedules however many results each has (``patency_histories``), and hand them to the pure
``followup.patency``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext as _

from cases.selectors import patient_match
from followup import charts, patency, surveillance
from followup.models import (
    ContactAttempt,
    Escalation,
    Notification,
    PatencyReport,
    Protocol,
    ReIntervention,
    ResultSegment,
    Schedule,
    Visit,
    VisitResult,
    VisitState,
    VisitStatus,
)
from planning.models import FollowUpEntity
from venousapp.accounts.models import Person
from venousapp.models import JobStatus
from venousapp.params import object_id
from venousapp.sql import quoted

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


# The worklist's sortable columns (venousapp.listing); the default is the oldest target first.
WORKLIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "window": ("target_on", "id"),
    "patient": ("schedule__case__patient__identifier", "target_on", "id"),
    "procedure": ("schedule__start_on", "target_on", "id"),
}
WORKLIST_DEFAULT_SORT = "window"


def _worklist_base(
    *,
    centre_id: int,
    today: dt.date,
    entity: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    query: str = "",
) -> QuerySet[Visit]:
    visits = Visit.objects.filter(
        centre_id=centre_id, state=VisitState.PLANNED, notice_on__lte=today
    )
    if query.strip():
        match = patient_match(query, prefix="schedule__case__patient__")
        case_id = object_id(query.strip().lstrip("#"))
        if case_id is not None:
            match |= Q(schedule__case_id=case_id)
        visits = visits.filter(match)
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
    query: str = "",
    order_by: Sequence[str] = WORKLIST_COLUMNS[WORKLIST_DEFAULT_SORT],
) -> QuerySet[Visit, int]:
    """The ids of ``worklist_due`` (found by ``query``: patient identifier, name or case
    number) in the order asked for (index-only for the default; slice it for a page)."""
    visits = _worklist_base(
        centre_id=centre_id,
        today=today,
        entity=entity,
        date_from=date_from,
        date_to=date_to,
        query=query,
    )
    if status:
        visits = visits.filter(status_filter(status, today))
    return visits.order_by(*order_by).values_list("id", flat=True)


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
    "schedule__case__patient__phone",
    "schedule__case__patient__preferred_contact",
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
    query: str = "",
) -> dict[str, int]:
    """How many open visits have each worklist status (one aggregate query)."""
    visits = _worklist_base(
        centre_id=centre_id,
        today=today,
        entity=entity,
        date_from=date_from,
        date_to=date_to,
        query=query,
    )
    counts = visits.aggregate(
        **{status: Count("id", filter=status_filter(status, today)) for status in WORKLIST_STATUSES}
    )
    counts["all"] = sum(counts.values())
    return counts


def visit_get(*, user: Person, pk: int) -> Visit:
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


def schedule_get(*, user: Person, pk: int) -> Schedule:
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


def schedules_for_case(*, user: Person, case_id: int) -> QuerySet[Schedule]:
    return Schedule.objects.filter(case_id=case_id, centre_id=user.centre_id).select_related(
        "protocol", "procedure"
    )


def schedules_with_next_visit(*, user: Person, case_id: int) -> list[tuple[Schedule, Visit | None]]:
    """The case's schedules, newest first, each with its next planned visit (earliest
    target): two queries whatever the number of visits."""
    schedules = list(
        Schedule.objects.filter(case_id=case_id, centre_id=user.centre_id)
        .select_related("protocol", "centre")
        .order_by("-start_on", "-id")
    )
    upcoming: dict[int, Visit] = {}
    for visit in Visit.objects.filter(
        schedule_id__in=[s.pk for s in schedules], state=VisitState.PLANNED
    ).order_by("schedule_id", "target_on", "sequence"):
        upcoming.setdefault(visit.schedule_id, visit)
    return [(schedule, upcoming.get(schedule.pk)) for schedule in schedules]


def reinterventions(schedule: Schedule) -> QuerySet[ReIntervention]:
    return schedule.reinterventions.select_related("author", "escalation")


def escalation_list(
    *, user: Person, open_only: bool = False, mine: bool = False
) -> QuerySet[Escalation]:
    escalations = Escalation.objects.filter(centre_id=user.centre_id).select_related(
        "visit", "case", "case__patient", "clinician", "acknowledged_by", "decided_by"
    )
    if open_only:
        escalations = escalations.filter(acknowledged_at__isnull=True)
    if mine:
        escalations = escalations.filter(clinician=user)
    return escalations.order_by("acknowledged_at", "-created_at", "-id")


def open_escalations_for_case(*, user: Person, case_id: int) -> list[Escalation]:
    """The case's escalations awaiting acknowledgement, for the case page's note: their id
    and summary only (the escalation list's six joins were most of the case page's
    follow-up panel)."""
    return list(
        Escalation.objects.filter(
            centre_id=user.centre_id, case_id=case_id, acknowledged_at__isnull=True
        )
        .only("id", "summary")
        .order_by("-created_at", "-id")
    )


def escalation_get(*, user: Person, pk: int) -> Escalation:
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


def notification_list(*, user: Person) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def bell_counts(user: Person) -> dict[str, int]:
    """Unread notifications and the user's open escalations, in one query (every page), written
    out in SQL: building it with the ORM cost ten times what the database takes to answer."""
    with connection.cursor() as cursor:
        cursor.execute(BELL_COUNTS, [user.pk, user.pk])
        unread, open_escalations = cursor.fetchone()
    return {"unread": unread, "open_escalations": open_escalations}


BELL_COUNTS = (
    f"SELECT (SELECT COUNT(*) FROM {quoted(Notification)}"  # noqa: S608 (names from the models, values as parameters)
    f" WHERE {quoted(Notification, 'recipient')} = %s"
    f" AND {quoted(Notification, 'read_at')} IS NULL),"
    f" (SELECT COUNT(*) FROM {quoted(Escalation)}"
    f" WHERE {quoted(Escalation, 'clinician')} = %s"
    f" AND {quoted(Escalation, 'acknowledged_at')} IS NULL)"
)


def protocol_list(*, include_retired: bool = False) -> QuerySet[Protocol]:
    protocols = Protocol.objects.prefetch_related("visits").annotate(
        schedule_count=Count("schedules", distinct=True)
    )
    if not include_retired:
        protocols = protocols.filter(retired_at__isnull=True)
    return protocols.order_by("entity", "-version")


def protocol_for(*, entity: str, procedure_id: int | None = None) -> tuple[Protocol | None, bool]:
    """(protocol, applied): the version the procedure's schedule was made from (applied), else
    the entity's active version (None when the entity has none)."""
    if procedure_id is not None:
        schedule = (
            Schedule.objects.filter(procedure_id=procedure_id)
            .select_related("protocol")
            .prefetch_related("protocol__visits")
            .first()
        )
        if schedule is not None:
            return schedule.protocol, True
    if not entity:
        return None, False
    active = (
        Protocol.objects.filter(entity=entity, retired_at__isnull=True)
        .prefetch_related("visits")
        .first()
    )
    return active, False


def protocol_get(pk: int) -> Protocol:
    return Protocol.objects.prefetch_related("visits").select_related("created_by").get(pk=pk)


def protocol_versions(protocol: Protocol) -> QuerySet[Protocol]:
    return (
        Protocol.objects.filter(entity=protocol.entity)
        .annotate(schedule_count=Count("schedules"))
        .order_by("-version")
    )


# --- patency analytics ------------------------------------------------------------------------

PATENCY_CHUNK = 2_000  # schedules read per round of queries (bounded memory, progress steps)


def _cohort(centre_id: int, entity: str) -> QuerySet[Schedule]:
    schedules = Schedule.objects.filter(centre_id=centre_id)
    return schedules.filter(entity=entity) if entity else schedules


def patency_cohort_size(*, centre_id: int, entity: str = "") -> int:
    """How many schedules the patency analytics of a centre (one entity, or all) read."""
    return _cohort(centre_id, entity).count()


def patency_histories(
    *, centre_id: int, entity: str = "", first_id: int = 0, last_id: int | None = None
) -> list[patency.History]:
    """The patency histories of the centre's schedules (``entity``, or all) whose ids lie in
    [first_id, last_id]: four queries whatever their number and their results'.

    Only done visits count (a result is recorded with the visit); visit rows carry the
    centre and entity of their schedule, so the result queries need not join it.
    """
    schedules = _cohort(centre_id, entity).filter(pk__gte=first_id)
    visits: dict[str, Any] = {
        "visit__centre_id": centre_id,
        "visit__state": VisitState.DONE,
        "visit__schedule_id__gte": first_id,
    }
    reinterventions = ReIntervention.objects.filter(centre_id=centre_id, schedule_id__gte=first_id)
    if last_id is not None:
        schedules = schedules.filter(pk__lte=last_id)
        visits["visit__schedule_id__lte"] = last_id
        reinterventions = reinterventions.filter(schedule_id__lte=last_id)
    if entity:
        visits["visit__entity"] = entity
        reinterventions = reinterventions.filter(schedule__entity=entity)
    segments: dict[int, list[patency.SegmentStatus]] = defaultdict(list)
    for result_id, state, isr in ResultSegment.objects.filter(
        **{f"result__{k}": v for k, v in visits.items()}
    ).values_list("result_id", "patency", "isr_percent"):
        segments[result_id].append(patency.SegmentStatus(state, isr))
    observations: dict[int, list[patency.Observation]] = defaultdict(list)
    for result_id, schedule_id, performed_on in VisitResult.objects.filter(**visits).values_list(
        "id", "visit__schedule_id", "performed_on"
    ):
        observations[schedule_id].append(
            patency.Observation(performed_on, tuple(segments.get(result_id, ())))
        )
    treatments: dict[int, list[patency.Treatment]] = defaultdict(list)
    for schedule_id, performed_on, for_occlusion, successful in reinterventions.values_list(
        "schedule_id", "performed_on", "for_occlusion", "successful"
    ):
        treatments[schedule_id].append(patency.Treatment(performed_on, for_occlusion, successful))
    return [
        patency.History(
            schedule_id=pk,
            entity=schedule_entity,
            start_on=start_on,
            observations=tuple(observations.get(pk, ())),
            treatments=tuple(treatments.get(pk, ())),
        )
        for pk, schedule_entity, start_on in schedules.order_by("pk").values_list(
            "pk", "entity", "start_on"
        )
    ]


def _id_chunks(centre_id: int, entity: str, size: int) -> Iterator[tuple[int, int, int]]:
    """(first id, last id, count) of consecutive runs of ``size`` schedule ids (one query)."""
    ids = list(_cohort(centre_id, entity).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), size):
        part = ids[start : start + size]
        yield part[0], part[-1], len(part)


def patency_analysis(
    *,
    centre_id: int,
    entity: str = "",
    chunk_size: int = PATENCY_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> patency.Analysis:
    """Kaplan–Meier curves of every endpoint for ``entity`` (or each entity) of the centre.

    Reads the schedules in chunks of ``chunk_size`` (1 + 4 queries per chunk) and reports
    ``progress(done, total)`` after each.
    """
    chunks = list(_id_chunks(centre_id, entity, chunk_size))
    total = sum(count for _first, _last, count in chunks)
    histories: list[patency.History] = []
    for first, last, _n in chunks:
        histories += patency_histories(
            centre_id=centre_id, entity=entity, first_id=first, last_id=last
        )
        if progress:
            progress(len(histories), total)
    entities = [entity] if entity else [e.value for e in FollowUpEntity]
    return patency.analyse(histories, entities=entities)


def patency_report_get(*, user: Person, pk: int) -> PatencyReport:
    """A report of the user's centre; ``PatencyReport.DoesNotExist`` otherwise."""
    return PatencyReport.objects.get(pk=pk, centre_id=user.centre_id)


def patency_report_current(
    *, centre_id: int, entity: str, fresh_since: dt.datetime, running_since: dt.datetime
) -> PatencyReport | None:
    """The newest report of the centre for ``entity`` still worth showing: one still being
    computed (requested after ``running_since``; older ones are presumed lost) or one
    finished after ``fresh_since``."""
    return (
        PatencyReport.objects.filter(centre_id=centre_id, entity=entity)
        .filter(
            Q(
                status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
                created_at__gte=running_since,
            )
            | Q(status=JobStatus.DONE, finished_at__gte=fresh_since)
        )
        .order_by("-created_at", "-id")
        .first()
    )


def patency_report_latest_done(*, centre_id: int, entity: str) -> PatencyReport | None:
    return (
        PatencyReport.objects.filter(centre_id=centre_id, entity=entity, status=JobStatus.DONE)
        .order_by("-finished_at", "-id")
        .first()
    )


# --- score trends -----------------------------------------------------------------------------

_SCORE_FIELDS = tuple(
    f.name for f in VisitResult._meta.concrete_fields if f.name.startswith(("vcss_", "villalta_"))
)


def _score_points(case: Any, results: list[VisitResult]) -> list[charts.ScorePoint]:
    """By date; the baseline is the case's scores, on the case date (normally before the
    procedure, but a case recorded afterwards is drawn where its date puts it)."""
    points = []
    if case.vcss_total is not None or case.villalta_total is not None:
        points.append(
            charts.ScorePoint(
                on=case.case_date,
                label=_("Baseline (case)"),
                vcss=case.vcss_total,
                villalta=case.villalta_total,
                baseline=True,
            )
        )
    for result in sorted(results, key=lambda r: (r.performed_on, r.visit.target_on)):
        points.append(
            charts.ScorePoint(
                on=result.performed_on,
                label=result.visit.label,
                vcss=result.vcss_total,
                villalta=result.villalta_total,
            )
        )
    return sorted(points, key=lambda p: (p.on, not p.baseline))


def _score_results(**filters: Any) -> QuerySet[VisitResult]:
    return (
        VisitResult.objects.filter(visit__state=VisitState.DONE, **filters)
        .select_related("visit")
        .only(
            "performed_on",
            "visit__label",
            "visit__target_on",
            "visit__schedule_id",
            *_SCORE_FIELDS,
        )
    )


def score_trend(schedule: Schedule) -> list[charts.ScorePoint]:
    """rVCSS and Villalta totals of a schedule: the case's (baseline) if scored, then each
    visit result's, by date (one query; the case comes with the schedule)."""
    return _score_points(schedule.case, list(_score_results(visit__schedule_id=schedule.pk)))


def score_trends_for_case(
    *, user: Person, case: Any, schedule_ids: list[int]
) -> dict[int, list[charts.ScorePoint]]:
    """``score_trend`` of each of the case's schedules listed, in one query."""
    by_schedule: dict[int, list[VisitResult]] = {pk: [] for pk in schedule_ids}
    for result in _score_results(
        visit__schedule_id__in=schedule_ids, visit__centre_id=user.centre_id
    ):
        by_schedule[result.visit.schedule_id].append(result)
    return {pk: _score_points(case, results) for pk, results in by_schedule.items()}
