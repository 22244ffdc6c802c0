"""What follow-up found: a visit's result with its stented segments (abnormal findings raise an
escalation, ``followup.services.escalations``) and re-interventions on a schedule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from followup import surveillance
from followup.models import (
    RESULT_SEGMENT_FIELDS,
    ReIntervention,
    ResultSegment,
    Schedule,
    Visit,
    VisitKind,
    VisitResult,
    VisitState,
)
from followup.services.clock import centre_today
from followup.services.escalations import escalation_raise
from followup.services.visits import assert_planned, locked_visit, skip_unsent_reminders
from planning.models import ProcedureRecord
from venousapp import dates
from venousapp.accounts.models import User
from venousapp.history import delete_with_history, save_with_history

RESULT_FIELDS = tuple(
    f.name
    for f in VisitResult._meta.get_fields()
    if getattr(f, "concrete", False)
    and f.name not in {"id", "visit", "recorded_by", "recorded_at", "abnormal_reasons"}
)


def stented_segments(procedure: ProcedureRecord) -> list[tuple[str, str]]:
    """(segment, side) of the procedure's implants, cranial to caudal, each once."""
    order = {"IVC": 0, "CIV": 1, "EIV": 2, "CFV": 3}
    keys = {(i.segment, i.side) for i in procedure.implants.all()}
    return sorted(keys, key=lambda k: (order.get(k[0], 9), k[1]))


def _check_segments(
    visit: Visit, segments: Sequence[dict[str, Any]], stented: list[tuple[str, str]]
) -> None:
    keys = [(row.get("segment"), row.get("side")) for row in segments]
    if len(keys) != len(set(keys)):
        raise ValidationError({"segments": _("Each stented segment is recorded once.")})
    unknown = [f"{s} {d}" for s, d in keys if stented and (s, d) not in stented]
    if unknown:
        raise ValidationError(
            {
                "segments": _("Not a stented segment of this procedure: %(s)s.")
                % {"s": ", ".join(unknown)}
            }
        )
    if visit.kind in (VisitKind.DUPLEX, VisitKind.CT_VENOGRAPHY) and stented:
        missing = [f"{s} {d}" for s, d in stented if (s, d) not in keys]
        if missing:
            raise ValidationError(
                {
                    "segments": _("Record every stented segment (missing: %(s)s).")
                    % {"s": ", ".join(missing)}
                }
            )


@transaction.atomic
def visit_result_record(
    *,
    visit: Visit,
    user: User,
    data: dict[str, Any],
    segments: Sequence[dict[str, Any]],
    now: dt.datetime | None = None,
) -> VisitResult:
    """Record (or correct) what a visit found; the visit is done.

    Abnormal findings (``surveillance.assess``) not escalated yet for this visit raise an
    escalation to the responsible clinician, notified on commit.
    """
    now = now or timezone.now()
    visit = locked_visit(visit)
    if visit.state == VisitState.CANCELLED:
        assert_planned(visit)
    procedure = ProcedureRecord.objects.select_related("author", "case__author").get(
        pk=visit.schedule.procedure_id
    )
    stented = stented_segments(procedure)
    _check_segments(visit, segments, stented)
    performed_on = data.get("performed_on")
    if performed_on is None:
        raise ValidationError({"performed_on": _("Enter the date of the visit.")})
    today = centre_today(visit.centre, now)
    dates.check_dates({"performed_on": (performed_on, dates.past_dates(today))})
    if performed_on < visit.schedule.start_on:
        raise ValidationError({"performed_on": _("The visit cannot be before the procedure.")})

    result = VisitResult.objects.filter(visit=visit).first() or VisitResult(
        visit=visit, recorded_by=user, recorded_at=now
    )
    for name in RESULT_FIELDS:
        if name in data:
            setattr(result, name, data[name])
    readings = [
        surveillance.SegmentReading(
            segment=row["segment"],
            side=row["side"],
            patency=row.get("patency") or "",
            in_stent_thrombus=row.get("in_stent_thrombus"),
            isr_percent=row.get("isr_percent"),
            peak_velocity_ratio=row.get("peak_velocity_ratio"),
            compression=row.get("compression"),
        )
        for row in segments
    ]
    assessment = surveillance.assess(
        readings, phasicity=result.phasicity, ulcer_status=result.ulcer_status
    )
    result.abnormal_reasons = assessment.codes
    save_with_history(result, user=user)

    existing = {(s.segment, s.side): s for s in result.segments.all()}
    for row in segments:
        seg = existing.pop((row["segment"], row["side"]), None) or ResultSegment(result=result)
        for name in RESULT_SEGMENT_FIELDS:
            setattr(seg, name, row.get(name))
        save_with_history(seg, user=user)
    for stale in existing.values():
        delete_with_history(stale, user=user)

    if visit.state != VisitState.DONE:
        visit.state = VisitState.DONE
        save_with_history(visit, user=user, update_fields=["state"], reason="result recorded")
        skip_unsent_reminders(visit, now)

    escalated = {code for e in visit.escalations.all() for code in e.reasons}
    reasons = surveillance.new_reasons(assessment.codes, escalated)
    if reasons:
        texts = [a.text for a in assessment.abnormalities if a.code in reasons]
        escalation_raise(
            visit=visit,
            result=result,
            procedure=procedure,
            reasons=reasons,
            texts=texts,
            user=user,
            now=now,
        )
    return result


@transaction.atomic
def reintervention_record(
    *, schedule: Schedule, user: User, data: dict[str, Any], now: dt.datetime | None = None
) -> ReIntervention:
    now = now or timezone.now()
    schedule = Schedule.objects.select_related("procedure", "centre").get(pk=schedule.pk)
    stented = {f"{s}:{d}" for s, d in stented_segments(schedule.procedure)}
    segments = list(data.get("segments") or [])
    errors: dict[str, str] = {}
    unknown = [s for s in segments if s not in stented]
    if unknown:
        errors["segments"] = _("Not a stented segment of this procedure: %(s)s.") % {
            "s": ", ".join(unknown)
        }
    if stented and not segments:
        errors["segments"] = _("Choose the segments treated.")
    performed_on: dt.date | None = data.get("performed_on")
    past = dates.past_dates(centre_today(schedule.centre, now))
    if performed_on is None:
        errors["performed_on"] = _("Enter the date of the re-intervention.")
    elif (problem := past.problem(performed_on)) is not None:
        errors["performed_on"] = problem
    elif performed_on < schedule.start_on:
        errors["performed_on"] = _("The re-intervention cannot be before the procedure.")
    escalation = data.get("escalation")
    if escalation is not None and escalation.visit.schedule_id != schedule.pk:
        errors["escalation"] = _("The escalation belongs to another schedule.")
    if errors or performed_on is None:
        raise ValidationError(errors)
    item = ReIntervention(
        schedule=schedule,
        case_id=schedule.case_id,
        centre_id=schedule.centre_id,
        escalation=escalation,
        performed_on=performed_on,
        kind=data.get("kind", ""),
        for_occlusion=bool(data.get("for_occlusion")),
        successful=data.get("successful", True),
        segments=sorted(segments),
        note=data.get("note", ""),
        author=user,
    )
    save_with_history(item, user=user)
    return item
