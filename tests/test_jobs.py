"""The one background-job runner (venousapp.jobs.job_run) over the one job model
(venousapp.models.BackgroundJob): claimed once, progress visible, done or failed."""

from __future__ import annotations

import pytest
from django.utils import timezone

from followup.models import PatencyReport
from venousapp.jobs import job_run
from venousapp.models import JobStatus


@pytest.fixture
def report(clinician):
    return PatencyReport.objects.create(
        centre=clinician.centre, created_by=clinician, created_at=timezone.now()
    )


def test_a_job_runs_once_and_stores_what_its_work_returns(report):
    seen = []

    def work(pk, progress):
        progress(3, 4)
        seen.append(PatencyReport.objects.values_list("status", "done", "total").get(pk=pk))
        return {"result": {"answer": 42}, "done": 4}

    assert job_run(PatencyReport, report.pk, work) is True
    assert seen == [(JobStatus.RUNNING, 3, 4)]
    report.refresh_from_db()
    assert (report.status, report.result, report.done, report.percent) == (
        "done",
        {"answer": 42},
        4,
        100,
    )
    assert job_run(PatencyReport, report.pk, work) is False  # a redelivered task does nothing
    assert len(seen) == 1


def test_a_failing_job_is_marked_failed_and_the_error_is_raised(report):
    def work(pk, progress):
        raise RuntimeError("the cohort could not be read")

    with pytest.raises(RuntimeError):
        job_run(PatencyReport, report.pk, work)
    report.refresh_from_db()
    assert (report.status, report.error) == ("failed", "the cohort could not be read")
    assert report.finished_at is not None
    assert not report.in_progress


@pytest.mark.parametrize(
    ("status", "done", "total", "percent"),
    [("queued", 0, 0, 0), ("running", 1, 3, 33), ("running", 5, 4, 100), ("done", 0, 0, 100)],
)
def test_the_progress_bar_shows_the_share_done(status, done, total, percent):
    assert PatencyReport(status=status, done=done, total=total).percent == percent


def test_every_job_model_names_the_celery_task_that_runs_it():
    from django.apps import apps

    from venousapp import jobs
    from venousapp.models import BackgroundJob

    models = [m for m in apps.get_models() if issubclass(m, BackgroundJob)]
    assert {m._meta.label for m in models} >= {
        "followup.PatencyReport",
        "guidelines.ImpactPreview",
        "guidelines.ReEvaluation",
    }
    for model in models:
        assert jobs.task(model.task_name).name == model.task_name


def test_a_small_job_runs_now_and_a_large_one_is_sent_once_committed(
    report, monkeypatch, django_capture_on_commit_callbacks
):
    from venousapp import jobs

    sent = []
    monkeypatch.setattr(jobs.task(PatencyReport.task_name), "delay", sent.append)
    ran = []

    def run(pk):
        ran.append(pk)
        PatencyReport.objects.filter(pk=pk).update(status=JobStatus.DONE)

    small = jobs.job_start(report, inline=True, run=run)
    assert (ran, sent, small.status, small.enqueued_at) == ([report.pk], [], "done", None)

    large = PatencyReport(centre=report.centre, created_by=report.created_by, entity="nutcracker")
    large.created_at = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_start(large, inline=False, run=run)
        assert sent == []  # not before the row is committed
    assert (ran, sent) == ([report.pk], [large.pk])
    assert large.status == "queued"
    assert large.enqueued_at is not None


def test_the_inline_limit_is_a_setting(settings):
    from venousapp import jobs

    settings.FOLLOWUP_PATENCY_INLINE_MAX = 10
    assert jobs.runs_inline(10, "FOLLOWUP_PATENCY_INLINE_MAX")
    assert not jobs.runs_inline(11, "FOLLOWUP_PATENCY_INLINE_MAX")
