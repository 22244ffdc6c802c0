"""The publish workflow: draft → submit (tests must pass) → approval by a second guideline
admin → active; retire; restore as a new version; every change audited; and a publish
reaching a process that is already running."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from guidelines.engine import evaluate
from guidelines.models import Rule, RuleSetState, RuleTestCase, RuleVersion
from guidelines.ruleset import current_rule_versions, current_ruleset
from guidelines.services import authoring
from tests.guidelines.rule_admin import (
    ETR03,
    active_version,
    acute_facts,
    onset_draft,
    publish,
    second_admin,
    shipped_rules,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("shipped_rules")


def _etr03(facts):
    return evaluate(facts, current_ruleset())["rules"].get(ETR03, {}).get("value")


@pytest.fixture
def admin2(centre_a):
    return second_admin(centre_a)


@pytest.mark.django_db
class TestSubmit:
    def test_a_failing_test_case_blocks_submission(self, guideline_admin):
        draft = onset_draft(guideline_admin, days=21)
        authoring.rule_test_case_create(
            version=draft,
            user=guideline_admin,
            name="18 days is now inside the window",
            facts=acute_facts(symptom_onset_days=18),
            expected="against",  # wrong on purpose
        )
        with pytest.raises(ValidationError, match=r"1 of 7 test case.* fail.*18 days"):
            authoring.rule_version_submit(version=draft, user=guideline_admin)
        draft.refresh_from_db()
        assert draft.status == "draft"

    def test_fixing_the_test_case_lets_the_author_submit(self, guideline_admin):
        draft = onset_draft(guideline_admin, days=21)
        case = authoring.rule_test_case_create(
            version=draft,
            user=guideline_admin,
            name="18 days",
            expected="against",
            facts=acute_facts(symptom_onset_days=18),
        )
        authoring.rule_test_case_update(
            test_case=case,
            user=guideline_admin,
            name="18 days",
            facts=case.facts,
            expected="consider",
        )
        authoring.rule_version_submit(version=draft, user=guideline_admin)
        draft.refresh_from_db()
        assert (draft.status, draft.submitted_at is not None) == ("pending", True)
        assert {c.passed for c in draft.test_cases.all()} == {True}

    def test_a_version_without_test_cases_cannot_be_submitted(self, guideline_admin):
        draft = onset_draft(guideline_admin)
        for case in draft.test_cases.all():
            authoring.rule_test_case_delete(test_case=case, user=guideline_admin)
        with pytest.raises(ValidationError, match="no test cases"):
            authoring.rule_version_submit(version=draft, user=guideline_admin)

    def test_only_the_author_changes_a_draft(self, guideline_admin, admin2):
        draft = onset_draft(guideline_admin)
        with pytest.raises(ValidationError, match="Only the author"):
            authoring.rule_version_update(version=draft, user=admin2, change_note="mine now")
        with pytest.raises(ValidationError, match="Only the author"):
            authoring.rule_version_submit(version=draft, user=admin2)

    def test_a_submitted_version_is_frozen(self, guideline_admin):
        draft = onset_draft(guideline_admin)
        authoring.rule_version_submit(version=draft, user=guideline_admin)
        with pytest.raises(ValidationError, match="only drafts can be changed"):
            authoring.rule_version_update(version=draft, user=guideline_admin, change_note="x")

    def test_an_invalid_definition_is_refused_with_its_path(self, guideline_admin):
        draft = authoring.rule_version_create_draft(
            rule=Rule.objects.get(rule_id=ETR03), author=guideline_admin
        )
        definition = dict(
            draft.definition,
            criteria=[
                {"id": "onset", "label": "x", "test": {"input": "onset", "op": "lte", "value": 14}}
            ],
        )
        with pytest.raises(ValidationError) as error:
            authoring.rule_version_update(
                version=draft, user=guideline_admin, definition=definition
            )
        assert (
            error.value.message_dict["definition"]
            == ["criteria[0].test.input: 'onset' is not a known input; did you mean 'dvt_phase'?"]
            or "criteria[0].test.input" in error.value.message_dict["definition"][0]
        )

    def test_clinicians_cannot_draft(self, clinician):
        with pytest.raises(PermissionDenied):
            authoring.rule_version_create_draft(
                rule=Rule.objects.get(rule_id=ETR03), author=clinician
            )


@pytest.mark.django_db
class TestApprove:
    def test_the_author_cannot_approve_their_own_version(self, guideline_admin):
        draft = onset_draft(guideline_admin)
        authoring.rule_version_submit(version=draft, user=guideline_admin)
        with pytest.raises(ValidationError, match="The author cannot approve their own version"):
            authoring.rule_version_approve(version=draft, user=guideline_admin)
        assert active_version().number == 1

    def test_a_second_admin_publishes_it(self, guideline_admin, admin2):
        state = RuleSetState.objects.get().version
        assert _etr03(acute_facts(symptom_onset_days=18)) == "against"
        version = publish(onset_draft(guideline_admin), author=guideline_admin, approver=admin2)

        version.refresh_from_db()
        old = RuleVersion.objects.get(rule__rule_id=ETR03, number=1)
        assert (version.status, version.approver, version.author) == (
            "active",
            admin2,
            guideline_admin,
        )
        assert version.published_at is not None
        assert version.effective_from is not None
        assert (old.status, old.effective_to) == ("superseded", version.effective_from)
        assert RuleSetState.objects.get().version == state + 1
        assert _etr03(acute_facts(symptom_onset_days=18)) == "consider"
        assert current_rule_versions()[ETR03] == 2

    def test_a_failing_test_case_blocks_approval(self, guideline_admin, admin2):
        draft = onset_draft(guideline_admin)
        authoring.rule_version_submit(version=draft, user=guideline_admin)
        # e.g. edited behind the workflow's back: approval re-runs the tests
        RuleTestCase.objects.filter(rule_version=draft).update(expected="recommend")
        with pytest.raises(ValidationError, match="approval is refused"):
            authoring.rule_version_approve(version=draft, user=admin2)
        draft.refresh_from_db()
        assert draft.status == "pending"
        assert active_version().number == 1

    def test_only_pending_versions_are_approved(self, guideline_admin, admin2):
        draft = onset_draft(guideline_admin)
        with pytest.raises(ValidationError, match="only a version awaiting approval"):
            authoring.rule_version_approve(version=draft, user=admin2)

    def test_nurses_cannot_approve(self, guideline_admin, nurse):
        draft = onset_draft(guideline_admin)
        authoring.rule_version_submit(version=draft, user=guideline_admin)
        with pytest.raises(PermissionDenied):
            authoring.rule_version_approve(version=draft, user=nurse)

    def test_a_reviewer_returns_a_version_to_its_author(self, guideline_admin, admin2):
        draft = onset_draft(guideline_admin)
        authoring.rule_version_submit(version=draft, user=guideline_admin)
        with pytest.raises(ValidationError):
            authoring.rule_version_return_to_draft(version=draft, user=admin2, reason="")
        authoring.rule_version_return_to_draft(version=draft, user=admin2, reason="Cite ESVS")
        draft.refresh_from_db()
        assert draft.status == "draft"
        assert draft.history.first().history_change_reason == "Returned to draft: Cite ESVS"


@pytest.mark.django_db
class TestRetireAndRestore:
    def test_retire_removes_the_rule_from_evaluation(self, guideline_admin):
        state = RuleSetState.objects.get().version
        authoring.rule_retire(
            rule=Rule.objects.get(rule_id=ETR03), user=guideline_admin, reason="Local protocol"
        )
        assert ETR03 not in current_ruleset().scored_ids
        assert _etr03(acute_facts()) is None
        rule = Rule.objects.get(rule_id=ETR03)
        assert rule.retired_at is not None
        assert RuleVersion.objects.get(rule=rule, number=1).status == "retired"
        assert RuleSetState.objects.get().version == state + 1
        # the other ETR rules still make the case an ETR candidate
        assert evaluate(acute_facts(), current_ruleset())["overall"] == "etr_candidate"

    def test_retire_needs_a_reason_and_an_active_version(self, guideline_admin):
        rule = Rule.objects.get(rule_id=ETR03)
        with pytest.raises(ValidationError, match="Say why"):
            authoring.rule_retire(rule=rule, user=guideline_admin, reason=" ")
        authoring.rule_retire(rule=rule, user=guideline_admin, reason="x")
        with pytest.raises(ValidationError, match="no active version"):
            authoring.rule_retire(rule=rule, user=guideline_admin, reason="again")

    def test_restore_creates_a_new_draft_that_needs_approval(self, guideline_admin, admin2):
        publish(onset_draft(guideline_admin), author=guideline_admin, approver=admin2)
        v1 = RuleVersion.objects.get(rule__rule_id=ETR03, number=1)
        restored = authoring.rule_version_restore(version=v1, user=admin2)
        assert (restored.number, restored.status, restored.author) == (3, "draft", admin2)
        assert restored.definition == v1.definition
        assert restored.test_cases.count() == v1.test_cases.count()
        assert _etr03(acute_facts(symptom_onset_days=18)) == "consider"  # not yet
        publish(restored, author=admin2, approver=guideline_admin)
        assert _etr03(acute_facts(symptom_onset_days=18)) == "against"
        assert dict(
            RuleVersion.objects.filter(rule__rule_id=ETR03).values_list("number", "status")
        ) == {1: "superseded", 2: "superseded", 3: "active"}

    def test_a_retired_rule_comes_back_through_a_restored_version(self, guideline_admin, admin2):
        rule = Rule.objects.get(rule_id=ETR03)
        authoring.rule_retire(rule=rule, user=guideline_admin, reason="x")
        retired = RuleVersion.objects.get(rule=rule, number=1)
        publish(
            authoring.rule_version_restore(version=retired, user=guideline_admin),
            author=guideline_admin,
            approver=admin2,
        )
        rule.refresh_from_db()
        assert rule.retired_at is None
        assert _etr03(acute_facts()) == "consider"

    def test_active_and_draft_versions_are_not_restored(self, guideline_admin):
        with pytest.raises(ValidationError, match="only superseded or retired"):
            authoring.rule_version_restore(version=active_version(), user=guideline_admin)


@pytest.mark.django_db
def test_every_change_is_audited_with_its_user(guideline_admin, admin2):
    draft = onset_draft(guideline_admin)
    case = authoring.rule_test_case_create(
        version=draft, user=guideline_admin, name="x", facts=acute_facts(), expected="consider"
    )
    case_id = case.pk
    authoring.rule_test_case_delete(test_case=case, user=guideline_admin)
    publish(draft, author=guideline_admin, approver=admin2)
    trail = list(RuleVersion.history.filter(id=draft.pk).order_by("history_id"))
    assert [(h.status, h.history_user) for h in trail] == [
        ("draft", guideline_admin),  # created
        ("draft", guideline_admin),  # edited
        ("pending", guideline_admin),  # submitted
        ("active", admin2),  # approved
    ]
    superseded = RuleVersion.history.filter(rule__rule_id=ETR03, number=1).first()
    assert (superseded.status, superseded.history_user) == ("superseded", admin2)
    deleted = RuleTestCase.history.filter(id=case_id, history_type="-").get()
    assert deleted.history_user == guideline_admin
    assert not RuleTestCase.history.filter(rule_version_id=draft.pk, history_user=None).exists()


_EVALUATOR = """
import json, sys
import django
django.setup()
from guidelines.engine import evaluate
from guidelines.ruleset import current_ruleset
for line in sys.stdin:
    ruleset = current_ruleset()
    result = evaluate(json.loads(line), ruleset)
    print(json.dumps({"version": ruleset.version,
                      "value": result["rules"]["SVSAVF-2012-ETR-03"]["value"]}), flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_a_publish_takes_effect_in_a_running_process_without_restart(centre_a):
    """A separate Python process (as a web or Celery worker would be) keeps running; after a
    committed publish its next evaluation uses the new rule version."""
    from tests.factories import UserFactory

    author = UserFactory(username="gustav", centre=centre_a, role="guideline_admin")
    approver = second_admin(centre_a)
    db = connection.settings_dict
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="venousapp.settings_test",
        DATABASE_URL=(
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", _EVALUATOR],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(settings.BASE_DIR),
    )
    facts = json.dumps(acute_facts(symptom_onset_days=18)) + "\n"

    def ask() -> dict:
        proc.stdin.write(facts)
        proc.stdin.flush()
        line = proc.stdout.readline()
        assert line, "the evaluator process died"
        return json.loads(line)

    try:
        before = ask()
        assert before["value"] == "against"
        publish(onset_draft(author, days=21), author=author, approver=approver)
        after = ask()
        assert after["value"] == "consider"
        assert after["version"] != before["version"]
        assert ask() == after  # and it stays cached until the next publish
    finally:
        proc.stdin.close()
        proc.wait(10)


@pytest.mark.django_db
def test_the_author_withdraws_a_request_without_a_reason(guideline_admin):
    draft = onset_draft(guideline_admin)
    authoring.rule_version_submit(version=draft, user=guideline_admin)
    authoring.rule_version_return_to_draft(version=draft, user=guideline_admin)
    draft.refresh_from_db()
    assert (draft.status, draft.submitted_at) == ("draft", None)
    assert draft.history.first().history_change_reason == "Withdrawn by the author"
