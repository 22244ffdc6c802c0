"""Nothing stays "queued" or "running" for ever (venousapp.jobs): the sweep sends a job left
queued again, and marks failed a job whose worker was lost, so it can be started again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guidelines import tasks
from guidelines.models import ReEvaluation, ReEvaluationTrigger
from guidelines.services import reevaluation, resume
from venousapp import jobs
from venousapp.models import JobStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    messages: list[int] = []
    monkeypatch.setattr(tasks.reevaluation_task, "delay", messages.append)
    return messages


def job(**fields) -> ReEvaluation:
    return ReEvaluation.objects.create(trigger=ReEvaluationTrigger.COMMAND, **fields)


def test_a_queued_job_is_sent_again_once_its_message_is_overdue_and_only_then(
    sent, django_capture_on_commit_callbacks
):
    now = timezone.now()
    fresh = job(enqueued_at=now - dt.timedelta(seconds=30))
    lost = job(enqueued_at=now - jobs.REQUEUE_AFTER - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        resumed = resume.jobs_resume(now=now)["reevaluations"]
    assert (resumed.requeued, resumed.failed) == (1, 0)
    assert sent == [lost.pk]
    lost.refresh_from_db()
    assert lost.enqueued_at == now  # the next sweep leaves it to this message
    with django_capture_on_commit_callbacks(execute=True):
        assert resume.jobs_resume(now=now)["reevaluations"].requeued == 0
    fresh.refresh_from_db()
    assert fresh.status == JobStatus.QUEUED


def test_a_job_running_past_its_time_limit_lost_its_worker_and_is_marked_failed(sent):
    now = timezone.now()
    limit = dt.timedelta(seconds=tasks.reevaluation_task.time_limit)
    running = job(status=JobStatus.RUNNING, started_at=now - limit + dt.timedelta(minutes=1))
    lost = job(status=JobStatus.RUNNING, started_at=now - limit - dt.timedelta(seconds=1))
    assert resume.jobs_resume(now=now)["reevaluations"].failed == 1
    lost.refresh_from_db()
    running.refresh_from_db()
    assert (lost.status, lost.finished_at, lost.error) == ("failed", now, jobs.LOST_WORKER)
    assert running.status == "running"
    assert sent == []


def test_a_broker_down_when_a_job_starts_fails_nothing_and_leaves_it_queued(
    monkeypatch, django_capture_on_commit_callbacks, guideline_admin
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.reevaluation_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        started = reevaluation.reevaluation_start(trigger=ReEvaluationTrigger.MANUAL, inline=False)
    started.refresh_from_db()
    assert started.status == JobStatus.QUEUED
    assert started.enqueued_at is not None
