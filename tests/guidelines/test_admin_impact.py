"""Impact preview: counts over every stored case, the list limited to the reader's centre,
inline for small cohorts, as a Celery task with progress above the threshold."""

import time

import pytest
from django.urls import reverse

from guidelines import impact
from guidelines.models import ImpactPreview
from guidelines.ruleset import current_ruleset, ruleset_with
from guidelines.services import authoring, impact_previews
from tests.factories import CaseFactory, PatientFactory, UserFactory
from tests.guidelines.rule_admin import (
    ETR03,
    acute_iliofemoral_case,
    onset_draft,
    shipped_rules,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("shipped_rules")


@pytest.fixture
def cohort(centre_a, centre_b, clinician, other_centre_clinician):
    """Five stored cases: onset 5, 18 and 25 days at centre A, 18 days at centre B, and a
    chronic case at centre A."""
    return {
        "a5": acute_iliofemoral_case(centre=centre_a, author=clinician, onset_days=5),
        "a18": acute_iliofemoral_case(
            centre=centre_a, author=clinician, onset_days=18, identifier="A-18"
        ),
        "a25": acute_iliofemoral_case(centre=centre_a, author=clinician, onset_days=25),
        "b18": acute_iliofemoral_case(
            centre=centre_b, author=other_centre_clinician, onset_days=18, identifier="B-18"
        ),
        "chronic": CaseFactory(patient=PatientFactory(centre=centre_a), author=clinician),
    }


@pytest.mark.django_db
def test_raising_the_onset_window_to_21_days_changes_the_18_day_cases(cohort, guideline_admin):
    draft = onset_draft(guideline_admin, days=21)
    result = impact.ruleset_compare(
        before=current_ruleset(),
        after=ruleset_with(draft.definition),
        rule_id=ETR03,
        centre_id=guideline_admin.centre_id,
    )
    assert (result.total, result.rule_changed, result.overall_changed) == (5, 2, 2)
    assert (result.own_total, result.own_rule_changed, result.own_overall_changed) == (4, 1, 1)
    assert dict(result.transitions) == {"against → consider": 2}
    assert dict(result.overall_transitions) == {"anticoagulation_only → etr_candidate": 2}
    assert result.changes == [
        {
            "case_id": cohort["a18"].pk,
            "identifier": "A-18",
            "before": "against",
            "after": "consider",
            "overall_before": "anticoagulation_only",
            "overall_after": "etr_candidate",
        }
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("wanted", ["²", "99999999999999999999", "x"])
def test_the_preview_page_ignores_a_malformed_preview_number(
    client_for, cohort, guideline_admin, wanted
):
    draft = onset_draft(guideline_admin, days=21)
    url = reverse("guidelines:version-impact", args=[ETR03, draft.number])
    assert client_for("guideline_admin").get(url, {"preview": wanted}).status_code == 200


@pytest.mark.django_db
def test_the_preview_page_runs_inline_and_lists_own_centre_cases(
    client_for, cohort, guideline_admin, django_assert_max_num_queries
):
    draft = onset_draft(guideline_admin, days=21)
    client = client_for("guideline_admin")
    url = reverse("guidelines:version-impact", args=[ETR03, draft.number])
    response = client.post(url)
    assert response.status_code == 302
    preview = ImpactPreview.objects.get()
    assert (preview.status, preview.done, preview.total) == ("done", 5, 5)
    html = client.get(response["Location"]).content.decode()
    assert '<dd id="impact-rule-changed">2</dd>' in html
    assert '<dd id="impact-overall-changed">2</dd>' in html
    assert "A-18" in html
    assert "B-18" not in html
    assert reverse("cases:detail", args=[cohort["a18"].pk]) in html
    assert "hx-trigger" not in html  # finished: no more polling


@pytest.mark.django_db
def test_stored_cases_are_read_in_bounded_queries(
    cohort, guideline_admin, django_assert_max_num_queries
):
    for _ in range(10):
        acute_iliofemoral_case(centre=guideline_admin.centre, author=guideline_admin, onset_days=18)
    draft = onset_draft(guideline_admin, days=21)
    before, after = current_ruleset(), ruleset_with(draft.definition)
    # count + (cases, patients via join, findings) per chunk of 4 cases
    with django_assert_max_num_queries(1 + 2 * 4):
        result = impact.ruleset_compare(before=before, after=after, rule_id=ETR03, chunk_size=4)
    assert result.total == 15


@pytest.mark.django_db
def test_progress_is_reported_per_chunk(cohort, guideline_admin):
    draft = onset_draft(guideline_admin, days=21)
    seen = []
    impact.ruleset_compare(
        before=current_ruleset(),
        after=ruleset_with(draft.definition),
        rule_id=ETR03,
        chunk_size=2,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(2, 5), (4, 5), (5, 5)]


@pytest.mark.django_db
def test_information_rules_have_no_impact(guideline_admin, client_for):
    from guidelines.models import Rule

    draft = authoring.rule_version_create_draft(
        rule=Rule.objects.get(rule_id="AUC-2020"), author=guideline_admin
    )
    response = client_for("guideline_admin").post(
        reverse("guidelines:version-impact", args=["AUC-2020", draft.number]), follow=True
    )
    assert "Information rules are not evaluated" in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery
def test_above_the_threshold_a_worker_computes_it_with_progress(
    celery_worker_proc, settings, centre_a, client_for
):
    """With the inline limit lowered to 2 cases the preview of 5 cases is queued, computed by
    a real Celery worker on the test database, and the polled partial shows the result."""
    settings.GUIDELINES_IMPACT_INLINE_MAX = 2
    admin = UserFactory(username="gustav", centre=centre_a, role="guideline_admin")
    for days in (5, 18, 18, 25, 30):
        acute_iliofemoral_case(centre=centre_a, author=admin, onset_days=days)
    draft = onset_draft(admin, days=21)
    client = client_for("anonymous")
    client.force_login(admin)
    response = client.post(reverse("guidelines:version-impact", args=[ETR03, draft.number]))
    preview = ImpactPreview.objects.get()
    page = client.get(response["Location"]).content.decode()
    if preview.status in ("queued", "running"):
        assert 'hx-trigger="every 1s"' in page
        assert "<progress" in page
    deadline = time.monotonic() + 30
    while preview.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        preview.refresh_from_db()
    assert (preview.status, preview.done, preview.total) == ("done", 5, 5)
    assert preview.result["rule_changed"] == 2
    partial = client.get(reverse("guidelines:impact-progress", args=[preview.pk]))
    assert '<dd id="impact-rule-changed">2</dd>' in partial.content.decode()
    assert "hx-trigger" not in partial.content.decode()


@pytest.mark.django_db
def test_a_claimed_preview_is_not_run_twice(cohort, guideline_admin):
    draft = onset_draft(guideline_admin, days=21)
    preview = ImpactPreview.objects.create(
        rule_version=draft, requested_by=guideline_admin, total=5
    )
    assert impact_previews.impact_preview_run(preview_id=preview.pk) is True
    assert impact_previews.impact_preview_run(preview_id=preview.pk) is False
