"""The re-evaluation of the stored cases: started by every rule-set change once it is
committed, inline for a few cases and by a Celery worker with progress for many, claimed so a
redelivered task does nothing, correct at the end even when a publish lands mid-run; its
line on the rule pages for every persona; ``manage.py reevaluate_cases``."""

from __future__ import annotations

import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse

from cases.facts import case_facts
from cases.models import Case
from guidelines.engine import evaluate
from guidelines.models import ReEvaluation, ReEvaluationTrigger, Rule, RuleSetState
from guidelines.ruleset import current_ruleset
from guidelines.selectors import REEVALUATION_ABANDONED_AFTER
from guidelines.services import authoring, reevaluation
from guidelines.tasks import reevaluation_task
from tests.conftest import PERSONAS
from tests.factories import UserFactory
from tests.guidelines.rule_admin import (
    ETR03,
    acute_iliofemoral_case,
    onset_draft,
    publish,
    second_admin,
    shipped_rules,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("shipped_rules")


def number() -> int:
    return RuleSetState.objects.get().version


def assert_every_case_current() -> None:
    """Every stored case carries the published rule set's number and the status a live
    evaluation gives now."""
    ruleset = current_ruleset()
    for case in Case.objects.select_related("patient").prefetch_related("findings"):
        assert case.evaluated_ruleset == number(), case
        assert case.overall_status == evaluate(case_facts(case), ruleset)["overall"], case


@pytest.fixture
def cohort(centre_a, centre_b, guideline_admin, other_centre_clinician):
    """Acute iliofemoral DVTs at 5, 18 (twice, one at centre B) and 25 days: a 21-day onset
    window turns the 18-day ones from anticoagulation only into ETR candidates."""
    return [
        acute_iliofemoral_case(centre=centre_a, author=guideline_admin, onset_days=5),
        acute_iliofemoral_case(centre=centre_a, author=guideline_admin, onset_days=18),
        acute_iliofemoral_case(centre=centre_b, author=other_centre_clinician, onset_days=18),
        acute_iliofemoral_case(centre=centre_a, author=guideline_admin, onset_days=25),
    ]


def queued_job(**fields: Any) -> ReEvaluation:
    return ReEvaluation.objects.create(trigger=ReEvaluationTrigger.COMMAND, **fields)


# --- after a publish -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_publish_reevaluates_every_case_once_committed(
    cohort, guideline_admin, centre_a, django_capture_on_commit_callbacks
):
    reevaluation.reevaluation_start(trigger=ReEvaluationTrigger.COMMAND)
    assert {c.overall_status for c in Case.objects.all()} == {
        "etr_candidate",
        "anticoagulation_only",
    }
    admin2 = second_admin(centre_a)
    draft = onset_draft(admin2, days=21)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        publish(draft, author=admin2, approver=guideline_admin)
    # On submit: the in-app notices to the other admins, then their e-mail; the re-evaluation.
    assert len(callbacks) == 3
    job = ReEvaluation.objects.latest("id")
    assert (job.trigger, job.status, job.ruleset) == ("ruleset_change", "done", number())
    assert (job.total, job.done, job.changed) == (4, 4, 2)
    assert job.started_at is not None
    assert job.finished_at is not None
    assert_every_case_current()
    eighteen_days = Case.objects.filter(pk__in=[cohort[1].pk, cohort[2].pk])
    assert {c.overall_status for c in eighteen_days} == {"etr_candidate"}


@pytest.mark.django_db
def test_a_retirement_reevaluates_too(cohort, guideline_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        authoring.rule_retire(
            rule=Rule.objects.get(rule_id=ETR03), user=guideline_admin, reason="Local protocol"
        )
    assert ReEvaluation.objects.get().status == "done"
    assert_every_case_current()


@pytest.mark.django_db
def test_nothing_is_reevaluated_before_the_publish_commits(cohort, guideline_admin, centre_a):
    admin2 = second_admin(centre_a)
    publish(onset_draft(admin2, days=21), author=admin2, approver=guideline_admin)
    assert not ReEvaluation.objects.exists()  # the test's transaction never commits


@pytest.mark.django_db
def test_the_reevaluation_leaves_no_history_row(cohort):
    rows = Case.history.count()
    job = reevaluation.reevaluation_start(trigger=ReEvaluationTrigger.COMMAND)
    assert job.done == 4
    assert Case.history.count() == rows
    RuleSetState.objects.update(version=F("version") + 1)
    reevaluation.reevaluation_start(trigger=ReEvaluationTrigger.COMMAND)
    assert Case.history.count() == rows


@pytest.mark.django_db
def test_cases_are_read_and_written_in_bounded_queries(
    guideline_admin, django_assert_max_num_queries
):
    for _ in range(12):
        acute_iliofemoral_case(centre=guideline_admin.centre, author=guideline_admin, onset_days=9)
    job = queued_job(total=12)
    current_ruleset()  # compiled and cached: not part of the job's reads
    # claim; a pass: rule-set state, count, total, the cases' cursor; per chunk of 4 cases:
    # findings, rule-set state, savepoint, lock, one update per status (one here), release,
    # progress; the empty pass: state, count; finish
    with django_assert_max_num_queries(1 + 4 + 3 * 7 + 2 + 1):
        reevaluation.reevaluation_run(job_id=job.pk, chunk_size=4)
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 12, 12)


@pytest.mark.django_db
def test_progress_is_written_per_chunk(cohort, monkeypatch):
    seen = []
    store = reevaluation.case_evaluations_store

    def spy(**kwargs: Any) -> int:
        seen.append(ReEvaluation.objects.values_list("done", "total").get())
        return store(**kwargs)

    monkeypatch.setattr(reevaluation, "case_evaluations_store", spy)
    reevaluation.reevaluation_run(job_id=queued_job(total=4).pk, chunk_size=3)
    assert seen == [(0, 4), (3, 4)]
    assert ReEvaluation.objects.values_list("done", "total").get() == (4, 4)


@pytest.mark.django_db
def test_a_second_publish_during_the_run_leaves_every_case_current(
    cohort, guideline_admin, centre_a, monkeypatch
):
    """The first chunk is stored with the rule set of before the second publish; the job
    takes those cases again with the newer one."""
    admin2 = second_admin(centre_a)
    first = onset_draft(admin2, days=21)
    publish(first, author=admin2, approver=guideline_admin)
    store = reevaluation.case_evaluations_store
    published: list[int] = []

    def publish_midway(**kwargs: Any) -> int:
        written = store(**kwargs)
        if not published:
            # 28 days turns the 25-day case into an ETR candidate too
            later = onset_draft(admin2, days=28)
            published.append(publish(later, author=admin2, approver=guideline_admin).number)
        return written

    monkeypatch.setattr(reevaluation, "case_evaluations_store", publish_midway)
    reevaluation.reevaluation_run(job_id=queued_job(total=4).pk, chunk_size=2)
    job = ReEvaluation.objects.get()
    assert published
    assert (job.status, job.ruleset) == ("done", number())
    assert job.done == 6  # 4 cases, then the 2 stored before the second publish again
    assert_every_case_current()
    assert Case.objects.get(pk=cohort[3].pk).overall_status == "etr_candidate"


@pytest.mark.django_db
def test_a_claimed_job_is_not_run_again(cohort):
    job = queued_job(total=4)
    assert reevaluation.reevaluation_run(job_id=job.pk) is True
    Case.objects.update(
        overall_status=None, evaluated_ruleset=None, evaluated_engine=None, evaluated_at=None
    )
    # a redelivered message of the same job: the task finds it claimed and does nothing
    assert reevaluation_task.run(job.pk) is False
    assert set(Case.objects.values_list("evaluated_ruleset", flat=True)) == {None}
    job.refresh_from_db()
    assert (job.status, job.done) == ("done", 4)


@pytest.mark.django_db
def test_a_failure_is_recorded_on_the_job(cohort, monkeypatch, client_for):
    def broken(**kwargs: Any) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr(reevaluation, "case_evaluations_store", broken)
    job = queued_job(total=4)
    with pytest.raises(RuntimeError):
        reevaluation.reevaluation_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "database went away")
    assert job.finished_at is not None
    html = client_for("guideline_admin").get(reverse("guidelines:reevaluation")).content
    assert "The last re-evaluation failed: database went away" in html.decode()


@pytest.mark.django_db
def test_many_stale_cases_go_to_celery(
    cohort, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.GUIDELINES_REEVALUATION_INLINE_MAX = 3
    queued: list[int] = []
    monkeypatch.setattr(reevaluation_task, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        job = reevaluation.reevaluation_start(trigger=ReEvaluationTrigger.COMMAND)
    assert (job.status, job.total, queued) == ("queued", 4, [job.pk])
    settings.GUIDELINES_REEVALUATION_INLINE_MAX = 4
    job = reevaluation.reevaluation_start(trigger=ReEvaluationTrigger.COMMAND)
    assert (job.status, job.done, queued) == ("done", 4, [job.pk - 1])


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery
def test_above_the_threshold_a_worker_reevaluates_with_progress(
    celery_worker_proc, settings, centre_a, client_for
):
    """With the inline limit lowered to 2 cases, the publish queues the job; a real Celery
    worker runs it on the test database and the polled line shows the progress."""
    settings.GUIDELINES_REEVALUATION_INLINE_MAX = 2
    admin = UserFactory(username="gustav", centre=centre_a, role="guideline_admin")
    for days in (5, 18, 18, 25, 30):
        acute_iliofemoral_case(centre=centre_a, author=admin, onset_days=days)
    reevaluation.reevaluation_start(trigger=ReEvaluationTrigger.COMMAND, inline=True)
    admin2 = second_admin(centre_a)
    publish(onset_draft(admin2, days=21), author=admin2, approver=admin)  # commits
    job = ReEvaluation.objects.latest("id")
    assert job.trigger == "ruleset_change"
    client = client_for("anonymous")
    client.force_login(admin)
    url = reverse("guidelines:reevaluation")
    partial = client.get(url).content.decode()
    if "being re-evaluated" in partial:  # else the worker was quicker than this request
        assert 'hx-trigger="every 2s"' in partial
        assert "<progress" in partial
    deadline = time.monotonic() + 30
    while job.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    assert (job.status, job.done, job.total, job.changed) == ("done", 5, 5, 2)
    assert_every_case_current()
    partial = client.get(url).content.decode()
    assert "Stored cases: 5 up to date" in partial
    assert "hx-trigger" not in partial


# --- the command ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_reevaluates_here_and_prints_counts_and_time(cohort, settings):
    settings.GUIDELINES_REEVALUATION_INLINE_MAX = 0  # the command runs inline regardless
    out = StringIO()
    call_command("reevaluate_cases", stdout=out)
    text = out.getvalue()
    assert f"Rule set {number()}: 0 stored case(s) up to date, 4 to re-evaluate." in text
    assert f"Re-evaluated 4 case(s) with rule set {number()} in " in text
    assert "cases/s" in text
    assert_every_case_current()
    out = StringIO()
    call_command("reevaluate_cases", stdout=out)
    assert "Re-evaluated 0 case(s)" in out.getvalue()


# --- the line on the rule pages ----------------------------------------------------------------

READ = {
    "guideline_admin": 200,
    "clinician": 403,
    "nurse": 403,
    "other_centre_clinician": 403,
    "anonymous": 302,
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_progress_line_for_every_persona(client_for, cohort, persona):
    response = client_for(persona).get(reverse("guidelines:reevaluation"))
    assert response.status_code == READ[persona]
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    if response.status_code == 200:
        assert "Stored cases: 0 up to date, 4 not yet re-evaluated" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_starting_by_hand_for_every_persona(client_for, cohort, persona):
    response = client_for(persona).post(reverse("guidelines:reevaluation-start"))
    expected = {**READ, "guideline_admin": 302}
    assert response.status_code == expected[persona]
    if persona == "guideline_admin":
        assert response["Location"] == reverse("guidelines:rule-list")
        job = ReEvaluation.objects.get()
        assert (job.trigger, job.requested_by.username, job.status) == ("manual", "gustav", "done")
        assert_every_case_current()
    else:
        assert not ReEvaluation.objects.exists()
        assert set(Case.objects.values_list("evaluated_ruleset", flat=True)) == {None}


@pytest.mark.django_db
def test_starting_by_hand_is_get_proof_and_answers_htmx_with_the_line(client_for, cohort):
    client = client_for("guideline_admin")
    assert client.get(reverse("guidelines:reevaluation-start")).status_code == 405
    response = client.post(reverse("guidelines:reevaluation-start"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="reevaluation"')
    assert "Stored cases: 4 up to date" in html
    assert "4 cases brought to rule set" in html


@pytest.mark.django_db
def test_starting_by_hand_while_a_job_runs_starts_nothing(client_for, cohort):
    queued_job(total=4)
    client_for("guideline_admin").post(reverse("guidelines:reevaluation-start"))
    assert ReEvaluation.objects.count() == 1


@pytest.mark.django_db
def test_the_rule_pages_show_the_line_to_admins_and_poll_while_a_job_runs(client_for, cohort):
    admin = client_for("guideline_admin")
    for url in (reverse("guidelines:rule-list"), reverse("guidelines:version", args=[ETR03, 1])):
        html = admin.get(url).content.decode()
        assert "Stored cases: 0 up to date, 4 not yet re-evaluated" in html
        assert 'id="reevaluate-now"' in html
        assert "hx-trigger" not in html
    queued_job(total=4, done=1)
    html = admin.get(reverse("guidelines:rule-list")).content.decode()
    assert "Stored cases: 0 up to date, 4 being re-evaluated" in html
    assert '<progress id="reevaluation-progress" value="1" max="4">25 %</progress>' in html
    assert 'hx-get="/guidelines/reevaluation/" hx-trigger="every 2s"' in html
    assert 'id="reevaluate-now"' not in html
    html = client_for("nurse").get(reverse("guidelines:rule-list")).content.decode()
    assert "Stored cases" not in html


@pytest.mark.django_db
def test_a_job_abandoned_long_ago_no_longer_counts_as_running(client_for, cohort):
    job = queued_job(total=4)
    ReEvaluation.objects.filter(pk=job.pk).update(
        created_at=job.created_at - 2 * REEVALUATION_ABANDONED_AFTER
    )
    html = client_for("guideline_admin").get(reverse("guidelines:reevaluation")).content
    assert b"hx-trigger" not in html
    assert b'id="reevaluate-now"' in html
