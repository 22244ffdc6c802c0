"""The background job every app's long work is a row of (venousapp/jobs.py runs them)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    """The life of a background job row."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


IN_PROGRESS = (JobStatus.QUEUED, JobStatus.RUNNING)


class BackgroundJob(models.Model):
    """A piece of work done by a Celery worker (or inline when it is small), with its progress
    (``done`` of ``total``) as a row the page polls. Derived data, not a clinical record: it
    keeps no history. ``venousapp.jobs.job_run`` claims, runs and closes it."""

    #: The name of the Celery task that runs a job of this model.
    task_name: ClassVar[str]

    status = models.CharField(
        _("status"), max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    enqueued_at = models.DateTimeField(_("last sent to a worker"), null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS

    @property
    def percent(self) -> int:
        """For the progress bar: 100 once done, else the share done (0 while the total is
        not known yet)."""
        if self.status == JobStatus.DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0


class DataGeneration(models.Model):
    """How many committed transactions have changed the data: one row, counted by database
    triggers (``venousapp.generation``). A page kept for one generation is shown again only
    while the number has not moved (``venousapp.pagecache``)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    number = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="one_generation")]

    def __str__(self) -> str:
        return str(self.number)
