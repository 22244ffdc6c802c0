"""Guideline admin pages: every page × every persona, what they show, the workflow through
the browser forms (without JavaScript) and constant query counts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guidelines.models import ImpactPreview, ReEvaluation, Rule, RuleSetState, RuleVersion
from guidelines.services import authoring
from tests.conftest import PERSONAS
from tests.guidelines.rule_admin import (
    ETR03,
    active_version,
    acute_facts,
    acute_iliofemoral_case,
    onset_draft,
    publish,
    second_admin,
    shipped_rules,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shipped_rules")]

ADMIN_ONLY = {
    "guideline_admin": 200,
    "clinician": 403,
    "nurse": 403,
    "other_centre_clinician": 403,
    "anonymous": 302,
}
READERS = {
    "guideline_admin": 200,
    "clinician": 200,
    "nurse": 200,
    "other_centre_clinician": 200,
    "anonymous": 302,
}


@pytest.fixture
def draft(guideline_admin):
    """Gustav's draft v2 of ETR-03 with one extra test case."""
    version = onset_draft(guideline_admin, days=21)
    authoring.rule_test_case_create(
        version=version,
        user=guideline_admin,
        name="18 days",
        facts=acute_facts(symptom_onset_days=18),
        expected="consider",
    )
    return version


@pytest.fixture
def pages(draft, guideline_admin):
    case = draft.test_cases.last()
    preview = ImpactPreview.objects.create(rule_version=draft, requested_by=guideline_admin)
    v = [ETR03, draft.number]
    return {
        "rule-list": (reverse("guidelines:rule-list"), READERS),
        "rule": (reverse("guidelines:rule", args=[ETR03]), READERS),
        "rule-info": (reverse("guidelines:rule", args=["SVSAVF-2014-VLU-6.10–6.12"]), READERS),
        "version": (reverse("guidelines:version", args=[ETR03, 1]), ADMIN_ONLY),
        "version-edit": (reverse("guidelines:version-edit", args=v), ADMIN_ONLY),
        "version-tests": (reverse("guidelines:version-tests", args=v), ADMIN_ONLY),
        "test-case-edit": (reverse("guidelines:test-case-edit", args=[*v, case.pk]), ADMIN_ONLY),
        "test-case-delete": (
            reverse("guidelines:test-case-delete", args=[*v, case.pk]),
            ADMIN_ONLY,
        ),
        "version-submit": (reverse("guidelines:version-submit", args=v), ADMIN_ONLY),
        "version-approve": (reverse("guidelines:version-approve", args=v), ADMIN_ONLY),
        "version-return": (reverse("guidelines:version-return", args=v), ADMIN_ONLY),
        "version-restore": (reverse("guidelines:version-restore", args=[ETR03, 1]), ADMIN_ONLY),
        "version-impact": (reverse("guidelines:version-impact", args=v), ADMIN_ONLY),
        "impact-progress": (reverse("guidelines:impact-progress", args=[preview.pk]), ADMIN_ONLY),
        "reevaluation": (reverse("guidelines:reevaluation"), ADMIN_ONLY),
        "draft-create": (reverse("guidelines:draft-create", args=[ETR03]), ADMIN_ONLY),
        "retire": (reverse("guidelines:retire", args=[ETR03]), ADMIN_ONLY),
        "export": (reverse("guidelines:export"), ADMIN_ONLY),
        "import": (reverse("guidelines:import"), ADMIN_ONLY),
    }


PAGE_NAMES = [
    "rule-list",
    "rule",
    "rule-info",
    "version",
    "version-edit",
    "version-tests",
    "test-case-edit",
    "test-case-delete",
    "version-submit",
    "version-approve",
    "version-return",
    "version-restore",
    "version-impact",
    "impact-progress",
    "reevaluation",
    "draft-create",
    "retire",
    "export",
    "import",
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", PAGE_NAMES)
def test_every_page_for_every_persona(client_for, pages, persona, page):
    url, expected = pages[page]
    response = client_for(persona).get(url)
    assert response.status_code == expected[persona], (page, persona)
    if expected[persona] == 302:
        assert response["Location"].startswith(reverse("login"))


POSTS = [
    "version-edit",
    "version-tests",
    "test-case-edit",
    "test-case-delete",
    "version-run-tests",
    "version-submit",
    "version-approve",
    "version-return",
    "version-restore",
    "version-impact",
    "reevaluation-start",
    "draft-create",
    "retire",
    "import",
]


@pytest.mark.parametrize("persona", ["clinician", "nurse", "other_centre_clinician", "anonymous"])
@pytest.mark.parametrize("page", POSTS)
def test_no_write_for_other_roles(client_for, pages, draft, persona, page):
    urls = {name: url for name, (url, _) in pages.items()}
    urls["version-run-tests"] = reverse("guidelines:version-run-tests", args=[ETR03, 2])
    urls["reevaluation-start"] = reverse("guidelines:reevaluation-start")
    state = RuleSetState.objects.get().version
    history = RuleVersion.history.count()
    response = client_for(persona).post(urls[page], {"reason": "x", "base": 1})
    assert response.status_code == (302 if persona == "anonymous" else 403)
    assert RuleSetState.objects.get().version == state
    assert RuleVersion.history.count() == history
    assert not ReEvaluation.objects.exists()


def test_the_version_pages_404_for_unknown_rules_and_versions(client_for):
    client = client_for("guideline_admin")
    assert client.get(reverse("guidelines:rule", args=["NOPE-1"])).status_code == 404
    assert client.get(reverse("guidelines:version", args=[ETR03, 9])).status_code == 404


def test_a_preview_is_visible_to_its_requester_only(client_for, draft, centre_a):
    other = second_admin(centre_a)
    preview = ImpactPreview.objects.create(rule_version=draft, requested_by=other)
    response = client_for("guideline_admin").get(
        reverse("guidelines:impact-progress", args=[preview.pk])
    )
    assert response.status_code == 404


class TestRuleList:
    def test_lists_every_rule_with_its_active_version_and_badges(self, client_for):
        html = client_for("nurse").get(reverse("guidelines:rule-list")).content.decode()
        assert html.count('<tr id="rule-') == Rule.objects.count()
        row = re.search(r'<tr id="rule-ESVS-2021-VT-ETR">.*?</tr>', html, re.S).group()
        assert "v1" in row
        assert "active" in row
        assert "provisional" in row
        assert "Export JSON" not in html  # nurses read, they do not administer

    @pytest.mark.parametrize(
        ("query", "found"),
        [
            ("pregnancy-defer", {"PRACTICE-PREGNANCY-DEFER"}),
            ("lipodermatosclerosis", set()),
            (
                "limb-threatening",
                {"SVSAVF-2012-ETR-04", "ASH-2020-LYSIS", "PRACTICE-PREGNANCY-DEFER"},
            ),
        ],
    )
    def test_finds_by_id_and_text(self, client_for, query, found):
        html = (
            client_for("guideline_admin")
            .get(reverse("guidelines:rule-list"), {"q": query})
            .content.decode()
        )
        assert set(re.findall(r'<tr id="rule-([^"]+)"', html)) == found

    def test_filters_by_topic_and_status(self, client_for, guideline_admin, draft):
        client = client_for("guideline_admin")
        html = client.get(reverse("guidelines:rule-list"), {"topic": "device"}).content.decode()
        assert html.count('<tr id="rule-') == 2
        assert "DEV-IFU-CONTRA" in html
        assert "PRACTICE-PREGNANCY-DEFER" in html
        html = client.get(reverse("guidelines:rule-list"), {"status": "open"}).content.decode()
        assert html.count('<tr id="rule-') == 1
        assert "1 open draft" in html
        authoring.rule_retire(
            rule=Rule.objects.get(rule_id="ACCP-2016-CDT"), user=guideline_admin, reason="x"
        )
        html = client.get(reverse("guidelines:rule-list"), {"status": "retired"}).content.decode()
        assert html.count('<tr id="rule-') == 1
        assert "ACCP-2016-CDT" in html
        html = client.get(reverse("guidelines:rule-list"), {"status": "active"}).content.decode()
        assert html.count('<tr id="rule-') == Rule.objects.count() - 1


class TestRuleDetail:
    def test_shows_the_active_definition_readably(self, client_for):
        html = client_for("clinician").get(reverse("guidelines:rule", args=[ETR03])).content
        html = html.decode()
        assert "Days since symptom onset ≤ 14" in html
        assert "Symptoms for 14 days or fewer" in html
        assert "Meissner et al. J Vasc Surg 2012" in html
        assert "All criteria met: <strong>Consider</strong>" in html
        assert 'id="versions"' in html
        assert 'id="audit-trail"' not in html  # the trail is for guideline admins
        assert reverse("guidelines:version", args=[ETR03, 1]) not in html

    def test_shows_versions_and_the_audit_trail_to_admins(self, client_for, draft):
        html = (
            client_for("guideline_admin")
            .get(reverse("guidelines:rule", args=[ETR03]))
            .content.decode()
        )
        assert 'id="version-2"' in html
        assert "gustav" in html
        assert 'id="audit-trail"' in html
        assert "Draft created from v1" in html

    def test_a_switch_rule_and_an_info_rule(self, client_for):
        client = client_for("nurse")
        html = client.get(reverse("guidelines:rule", args=["SVSAVF-2012-ETR-05"])).content
        assert b'id="def-switch"' in html
        assert b"unknown \xe2\x86\x92 <strong>Consider" in html
        html = client.get(reverse("guidelines:rule", args=["AUC-2020"])).content.decode()
        assert "information (displayed only)" in html


class TestWorkflowThroughTheForms:
    def test_draft_edit_test_submit_approve(self, client_for, guideline_admin, centre_a):
        author = client_for("guideline_admin")
        response = author.post(
            reverse("guidelines:draft-create", args=[ETR03]),
            {"base": 1, "change_note": "21-day window"},
        )
        assert response.status_code == 302
        draft = RuleVersion.objects.get(rule__rule_id=ETR03, number=2)
        assert response["Location"] == reverse("guidelines:version-edit", args=[ETR03, 2])

        form = author.get(response["Location"]).context["form"]
        data = {name: form[name].value() or "" for name in form.fields}
        data["logic"] = data["logic"].replace('"value": 14', '"value": 21')
        response = author.post(reverse("guidelines:version-edit", args=[ETR03, 2]), data)
        assert response.status_code == 302, response.context["form"].errors
        draft.refresh_from_db()
        assert draft.definition["criteria"][0]["test"]["value"] == 21

        tests_url = reverse("guidelines:version-tests", args=[ETR03, 2])
        author.post(
            tests_url,
            {
                "name": "18 days",
                "expected": "against",
                "facts": '{"lesion_entity": "acute_thrombotic", '
                '"segments_involved": ["CIV"], "symptom_onset_days": 18, '
                '"first_episode": true, "ambulatory": true, '
                '"life_expectancy_years": 10, '
                '"bleeding_risk": {"level": "low", '
                '"contraindication_class": "none"}}',
            },
        )
        response = author.post(reverse("guidelines:version-submit", args=[ETR03, 2]), follow=True)
        html = response.content.decode()
        assert "Submission refused" in html
        assert "1 of 7 test case(s) fail" in html
        assert html.count('class="badge test-fail"') == 1
        draft.refresh_from_db()
        assert draft.status == "draft"

        case = draft.test_cases.get(name="18 days")
        author.post(
            reverse("guidelines:test-case-edit", args=[ETR03, 2, case.pk]),
            {
                "name": "18 days",
                "facts": '{"lesion_entity": "acute_thrombotic", '
                '"segments_involved": ["CIV"], "symptom_onset_days": 18, '
                '"first_episode": true, "ambulatory": true, "life_expectancy_years": 10, '
                '"bleeding_risk": {"level": "low", "contraindication_class": "none"}}',
                "expected": "consider",
            },
        )
        response = author.post(
            reverse("guidelines:version-run-tests", args=[ETR03, 2]), follow=True
        )
        assert "All 7 test case(s) pass." in response.content.decode()
        response = author.post(reverse("guidelines:version-submit", args=[ETR03, 2]), follow=True)
        assert "submitted" in response.content.decode()

        # The author sees no approve button and is refused when posting anyway.
        assert (
            "Approve and publish"
            not in author.get(reverse("guidelines:version", args=[ETR03, 2])).content.decode()
        )
        response = author.post(reverse("guidelines:version-approve", args=[ETR03, 2]), follow=True)
        assert "The author cannot approve their own version" in response.content.decode()

        reviewer = client_for("guideline_admin")
        reviewer.force_login(second_admin(centre_a))
        assert (
            "Approve and publish"
            in reviewer.get(reverse("guidelines:version", args=[ETR03, 2])).content.decode()
        )
        response = reviewer.post(
            reverse("guidelines:version-approve", args=[ETR03, 2]), follow=True
        )
        assert "is now active" in response.content.decode()
        assert active_version().number == 2

    def test_retire_and_restore(self, client_for, guideline_admin):
        client = client_for("guideline_admin")
        response = client.post(reverse("guidelines:retire", args=[ETR03]), {"reason": ""})
        assert response.status_code == 200  # reason required: form shown again
        assert Rule.objects.get(rule_id=ETR03).retired_at is None
        client.post(reverse("guidelines:retire", args=[ETR03]), {"reason": "Local protocol"})
        assert Rule.objects.get(rule_id=ETR03).retired_at is not None
        response = client.post(reverse("guidelines:version-restore", args=[ETR03, 1]))
        assert response["Location"] == reverse("guidelines:version", args=[ETR03, 2])
        assert RuleVersion.objects.get(rule__rule_id=ETR03, number=2).status == "draft"

    def test_a_non_author_is_sent_back_from_the_editor(self, client_for, draft, centre_a):
        client = client_for("guideline_admin")
        client.force_login(second_admin(centre_a))
        response = client.get(reverse("guidelines:version-edit", args=[ETR03, 2]), follow=True)
        assert "only its author can edit a draft" in response.content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


class TestQueryCounts:
    @pytest.mark.parametrize(
        "name", ["rule-list", "rule", "version", "version-tests", "version-edit"]
    )
    def test_admin_pages_run_a_constant_number_of_queries(
        self, client_for, guideline_admin, centre_a, name, django_assert_max_num_queries
    ):
        client = client_for("guideline_admin")
        draft = onset_draft(guideline_admin)
        args = {"rule-list": [], "rule": [ETR03]}.get(name, [ETR03, draft.number])
        url = reverse(f"guidelines:{name}", args=args)
        _queries(client, url)  # warm the rule-set cache
        first = _queries(client, url)
        # more versions, history rows, test cases and drafts of other rules
        admin2 = second_admin(centre_a)
        publish(onset_draft(admin2, days=28), author=admin2, approver=guideline_admin)
        publish(
            authoring.rule_version_restore(
                version=RuleVersion.objects.get(rule__rule_id=ETR03, number=1), user=admin2
            ),
            author=admin2,
            approver=guideline_admin,
        )
        for n in range(3):
            authoring.rule_test_case_create(
                version=draft,
                user=guideline_admin,
                name=f"x{n}",
                facts=acute_facts(),
                expected="consider",
            )
        onset_draft(guideline_admin, rule_id="ESVS-2021-VT-ETR")
        _queries(client, url)
        with django_assert_max_num_queries(first):
            client.get(url)

    def test_the_case_page_reads_the_rule_set_state_once(
        self, client_for, clinician, centre_a, guideline_admin, django_assert_max_num_queries
    ):
        case = acute_iliofemoral_case(centre=centre_a, author=clinician, onset_days=18)
        client = client_for("clinician")
        url = reverse("cases:detail", args=[case.pk])
        _queries(client, url)
        first = _queries(client, url)
        publish(
            onset_draft(guideline_admin), author=guideline_admin, approver=second_admin(centre_a)
        )
        panel = client.get(url).context["panel"]  # recompiles once after the publish
        cards = {card.rule_id: card.value for card in [*panel.cards, *panel.conflicts]}
        assert cards[ETR03] == "consider"
        with django_assert_max_num_queries(first):
            client.get(url)


def test_the_version_page_shows_the_changes_against_the_active_version(client_for, draft):
    html = (
        client_for("guideline_admin")
        .get(reverse("guidelines:version", args=[ETR03, draft.number]))
        .content.decode()
    )
    assert 'id="diff-to-active"' in html
    # side by side in words, the changed criterion marked
    row = re.search(r'<tr class="changed"[^>]*><th scope="row">Criterion 1.*?</tr>', html, re.S)
    assert row is not None
    assert "Days since symptom onset ≤ 14" in row.group(0)
    assert "Days since symptom onset ≤ 21" in row.group(0)
    assert "&quot;value&quot;" not in html.split('id="diff-to-active"')[1].split("</details>")[0]
    same = client_for("guideline_admin").get(reverse("guidelines:version", args=[ETR03, 1]))
    assert 'id="diff-to-active"' not in same.content.decode()


def test_a_user_without_a_role_may_not_read_rules(client, centre_a):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="norole", centre=centre_a))
    assert client.get(reverse("guidelines:rule-list")).status_code == 403
    assert client.get(reverse("guidelines:rule", args=[ETR03])).status_code == 403
    assert client.get("/api/v1/rules/").status_code == 403
