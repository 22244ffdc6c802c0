"""One patency report per centre and entity at a time: a second request, even at the same
moment, joins the report already queued or running instead of queuing an identical one."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from followup.models import PatencyReport
from followup.services.reports import patency_analytics, patency_report_run
from tests.followup.cohort import build_cohort
from tests.followup.conftest import NOW


@pytest.fixture
def large(settings, make_procedure, nurse, clinician):
    settings.FOLLOWUP_PATENCY_INLINE_MAX = 0  # every cohort goes to the worker
    build_cohort(make_procedure, nurse, clinician)


@pytest.mark.django_db
def test_a_second_request_joins_the_report_in_progress(large, clinician, nurse, centre_a):
    first = patency_analytics(user=clinician, entity="nivl", now=NOW).report
    again = patency_analytics(user=clinician, entity="nivl", refresh=True, now=NOW)
    assert again.report == first
    other_entity = patency_analytics(user=clinician, entity="", now=NOW).report
    assert other_entity != first
    assert PatencyReport.objects.count() == 2
    patency_report_run(report_id=first.pk, now=lambda: NOW)
    fresh = patency_analytics(user=clinician, entity="nivl", refresh=True, now=NOW)
    assert fresh.report != first  # finished: "compute again" queues a new one
    assert PatencyReport.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_the_same_moment_create_one_report(large, clinician):
    reports: list[PatencyReport | None] = [None, None]
    barrier = threading.Barrier(2)

    def visit(index: int) -> None:
        try:
            barrier.wait()
            state = patency_analytics(user=clinician, entity="nivl", refresh=True)
            reports[index] = state.report
        finally:
            connection.close()

    threads = [threading.Thread(target=visit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reports[0] is not None
    assert reports[0] == reports[1]
    assert PatencyReport.objects.count() == 1
