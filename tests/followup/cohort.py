"""A small patency cohort written through the services, as nurses and clinicians would:
visit results per stented segment (left CIV and EIV) and re-interventions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from followup.models import Schedule
from followup.services.results import reintervention_record, visit_result_record
from tests.followup.conftest import NOW, TODAY


def record(
    schedule: Schedule,
    label: str,
    user: Any,
    *,
    on_day: int,
    patency: str = "patent",
    isr: int | None = None,
    scores: dict[str, int] | None = None,
    now: dt.datetime = NOW,
) -> None:
    """The result of ``label``'s visit on day ``on_day`` after the procedure."""
    visit_result_record(
        visit=schedule.visits.get(label=label),
        user=user,
        now=now,
        data={"performed_on": schedule.start_on + dt.timedelta(days=on_day), **(scores or {})},
        segments=[
            {"segment": "CIV", "side": "left", "patency": patency, "isr_percent": isr},
            {"segment": "EIV", "side": "left", "patency": "patent"},
        ],
    )


def reintervene(
    schedule: Schedule,
    user: Any,
    *,
    on_day: int,
    for_occlusion: bool,
    successful: bool = True,
    now: dt.datetime = NOW,
) -> None:
    reintervention_record(
        schedule=schedule,
        user=user,
        now=now,
        data={
            "performed_on": schedule.start_on + dt.timedelta(days=on_day),
            "kind": "thrombectomy_lysis" if for_occlusion else "angioplasty",
            "for_occlusion": for_occlusion,
            "successful": successful,
            "segments": ["CIV:left"],
        },
    )


def schedule_of(make_procedure: Callable[..., Any], entity: str, days_ago: int, **kw: Any) -> Any:
    record_ = make_procedure(entity=entity, performed_on=TODAY - dt.timedelta(days=days_ago), **kw)
    return Schedule.objects.get(procedure=record_)


def build_cohort(
    make_procedure: Callable[..., Any], nurse: Any, clinician: Any
) -> dict[str, Schedule]:
    """Centre A, post-thrombotic:

    - ``restored``: patent at 6 weeks, occluded at 3 months (day 90), reopened on day 95,
      patent at 12 months (day 365);
    - ``stenosed``: ISR 70 % at 6 months (day 180), angioplasty on day 190, patent at 12
      months (day 370);
    - ``lost``: occluded at 6 weeks (day 42), the attempt to reopen it failed (day 45);
    - ``new``: a procedure 5 days ago without any result yet (left out of the curves).

    NIVL: ``nivl``: patent at 6 weeks and 6 months (day 182).
    """
    restored = schedule_of(make_procedure, "post_thrombotic", 400)
    record(restored, "6 weeks", nurse, on_day=42)
    record(restored, "3 months", nurse, on_day=90, patency="occluded")
    reintervene(restored, clinician, on_day=95, for_occlusion=True)
    record(restored, "12 months", nurse, on_day=365)
    stenosed = schedule_of(make_procedure, "post_thrombotic", 380)
    record(stenosed, "6 months", nurse, on_day=180, isr=70)
    reintervene(stenosed, clinician, on_day=190, for_occlusion=False)
    record(stenosed, "12 months", nurse, on_day=370)
    lost = schedule_of(make_procedure, "post_thrombotic", 300)
    record(lost, "6 weeks", nurse, on_day=42, patency="occluded")
    reintervene(lost, clinician, on_day=45, for_occlusion=True, successful=False)
    new = schedule_of(make_procedure, "post_thrombotic", 5)
    nivl = schedule_of(make_procedure, "nivl", 200)
    record(nivl, "6 weeks", nurse, on_day=42)
    record(nivl, "6 months", nurse, on_day=182)
    return {"restored": restored, "stenosed": stenosed, "lost": lost, "new": new, "nivl": nivl}
