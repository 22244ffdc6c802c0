"""Above ``FOLLOWUP_PATENCY_INLINE_MAX`` the patency page queues a report that a real Celery
worker (another process, on the test database, consuming a queue of its own) computes while
the page polls its progress."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from followup.models import PatencyReport
from followup.services.clock import centre_today
from tests.followup.cohort import record, reintervene

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_above_the_threshold_a_worker_computes_the_curves_with_progress(
    worker, settings, make_procedure, nurse, clinician, client_for, centre_a
):
    settings.FOLLOWUP_PATENCY_INLINE_MAX = 2
    now = timezone.now()  # the worker does not share a frozen clock
    today = centre_today(centre_a, now)
    for days_ago, occluded in ((400, True), (380, False), (300, False)):
        procedure = make_procedure(
            entity="post_thrombotic",
            performed_on=today - dt.timedelta(days=days_ago),
            now=now - dt.timedelta(days=days_ago),
        )
        schedule = procedure.followup_schedule
        record(schedule, "6 weeks", nurse, on_day=42, now=now)
        record(
            schedule,
            "3 months",
            nurse,
            on_day=90,
            patency="occluded" if occluded else "patent",
            now=now,
        )
        if occluded:
            reintervene(schedule, clinician, on_day=95, for_occlusion=True, now=now)
    client = client_for("clinician")

    page = client.get("/followup/patency/?entity=post_thrombotic")
    assert page.status_code == 200
    report = PatencyReport.objects.get()
    assert (report.entity, report.total, report.created_by) == ("post_thrombotic", 3, clinician)
    html = page.content.decode()
    if page.context["report"].in_progress:
        assert 'hx-trigger="every 1s"' in html
        assert '<progress id="patency-progress"' in html
    deadline = time.monotonic() + 60
    while report.in_progress and time.monotonic() < deadline:
        time.sleep(0.2)
        report.refresh_from_db()
    assert (report.status, report.done, report.total) == ("done", 3, 3), report.error
    assert report.finished_at is not None

    partial = client.get(f"/followup/patency/reports/{report.pk}/?entity=post_thrombotic")
    html = partial.content.decode()
    assert "hx-trigger" not in html  # finished: polling stops
    assert html.count('role="img"') == 1
    assert "Primary patency: 3 schedules, 1 event." in html
    assert "Secondary patency: 3 schedules, 0 events." in html
    rows = client.get(f"/followup/patency.csv?entity=post_thrombotic&report={report.pk}")
    lines = rows.content.decode().splitlines()
    assert lines[1].startswith("post_thrombotic,primary,0,3,0,0,1.000000")
    assert "post_thrombotic,primary,90,3,1,2," in rows.content.decode()
