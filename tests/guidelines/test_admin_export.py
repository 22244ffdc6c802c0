"""Export and import of the rule set: a round trip, validation before any write, imported
changes as drafts awaiting approval (never active directly)."""

import copy
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from guidelines.models import GuidelineSource, Rule, RuleSetState, RuleTestCase, RuleVersion
from guidelines.ruleset import current_ruleset
from guidelines.services import transfer
from tests.guidelines.rule_admin import (
    ETR03,
    active_version,
    shipped_rules,  # noqa: F401  (fixture)
    with_onset_limit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shipped_rules")]


def _entry(document, rule_id):
    return next(r for r in document["rules"] if r["rule_id"] == rule_id)


def test_export_holds_sources_active_definitions_and_test_cases():
    document = transfer.ruleset_export()
    assert document["format"] == "venousapp-ruleset"
    assert set(document["sources"]) == set(GuidelineSource.objects.values_list("key", flat=True))
    assert len(document["rules"]) == Rule.objects.count()
    entry = _entry(document, ETR03)
    assert entry["definition"] == active_version().definition
    assert len(entry["test_cases"]) == active_version().test_cases.count()
    json.dumps(document)  # serialisable as is


def test_the_round_trip_changes_nothing(guideline_admin):
    document = transfer.ruleset_export()
    counts = (RuleVersion.objects.count(), RuleTestCase.objects.count())
    report = transfer.ruleset_import(data=document, user=guideline_admin)
    assert {line.action for line in report} == {"unchanged"}
    assert len(report) == Rule.objects.count()
    assert counts == (RuleVersion.objects.count(), RuleTestCase.objects.count())
    assert transfer.ruleset_export()["rules"] == document["rules"]


def test_changed_and_new_rules_become_drafts_never_active(guideline_admin):
    document = transfer.ruleset_export()
    state = RuleSetState.objects.get().version
    entry = _entry(document, ETR03)
    entry["definition"] = with_onset_limit(entry["definition"], 21)
    new = copy.deepcopy(_entry(document, "ESVS-2022-CVD-FU"))
    new["rule_id"] = new["definition"]["id"] = "LOCAL-2026-FU"
    document["rules"].append(new)
    document["sources"]["LOCAL-2026"] = {
        "society": "Our centre",
        "title": "Local protocol",
        "year": 2026,
        "citation": "SOP 12",
        "doi": None,
        "url": None,
    }

    report = {
        line.rule_id: line for line in transfer.ruleset_import(data=document, user=guideline_admin)
    }
    assert report[ETR03].action == "draft"
    assert report["LOCAL-2026-FU"].action == "created"
    assert report["LOCAL-2026"].action == "source-created"
    draft = RuleVersion.objects.get(rule__rule_id=ETR03, number=2)
    assert (draft.status, draft.author) == ("draft", guideline_admin)
    assert draft.definition["criteria"][0]["test"]["value"] == 21
    assert draft.test_cases.count() == len(entry["test_cases"])
    assert RuleVersion.objects.get(rule__rule_id="LOCAL-2026-FU").status == "draft"
    # nothing published: the evaluation is unchanged
    assert RuleSetState.objects.get().version == state
    assert "LOCAL-2026-FU" not in current_ruleset().scored_ids
    assert active_version().number == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d.update(rules=[]), "rules: expected a non-empty list"),
        (lambda d: d["sources"]["SVSAVF-2012"].update(year="soon"), "sources['SVSAVF-2012']"),
        (
            lambda d: d["rules"][2]["definition"]["criteria"][0]["test"].update(input="onset"),
            "'onset' is not a known input",
        ),
        (lambda d: d["rules"][2]["test_cases"][0].update(expected="maybe"), "not a rule value"),
        (lambda d: d["rules"][2]["definition"].update(source="NOWHERE"), "'NOWHERE' is not a key"),
        (lambda d: d["rules"][2]["definition"].update(engine="info"), "info rules"),
        (lambda d: d["rules"].append(copy.deepcopy(d["rules"][2])), "already used"),
    ],
)
def test_an_invalid_import_writes_nothing(guideline_admin, mutate, message):
    document = transfer.ruleset_export()
    document["rules"][2]["definition"] = with_onset_limit(document["rules"][2]["definition"], 21)
    assert document["rules"][2]["rule_id"] == ETR03
    mutate(document)
    counts = (
        Rule.objects.count(),
        RuleVersion.objects.count(),
        RuleTestCase.objects.count(),
        GuidelineSource.objects.count(),
    )
    with pytest.raises(ValidationError) as error:
        transfer.ruleset_import(data=document, user=guideline_admin)
    assert any(message in m for m in error.value.message_dict["file"]), error.value
    assert counts == (
        Rule.objects.count(),
        RuleVersion.objects.count(),
        RuleTestCase.objects.count(),
        GuidelineSource.objects.count(),
    )


def test_export_download_and_import_upload_pages(client_for):
    client = client_for("guideline_admin")
    response = client.get(reverse("guidelines:export"))
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="venousapp-rules-')
    document = json.loads(response.content)
    _entry(document, ETR03)["definition"] = with_onset_limit(
        _entry(document, ETR03)["definition"], 21
    )
    upload = SimpleUploadedFile(
        "rules.json", json.dumps(document).encode(), content_type="application/json"
    )
    response = client.post(reverse("guidelines:import"), {"file": upload})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="import-report"' in html
    assert "draft v2 created" in html
    assert "1 draft(s) created" in html


def test_the_import_page_shows_validation_problems(client_for):
    document = transfer.ruleset_export()
    document["rules"][0]["definition"]["topic"] = "nonsense"
    upload = SimpleUploadedFile("rules.json", json.dumps(document).encode())
    response = client_for("guideline_admin").post(reverse("guidelines:import"), {"file": upload})
    assert response.status_code == 200
    assert any("'nonsense' is not a topic" in e for e in response.context["form"].errors["file"])


def test_an_import_file_with_a_nul_character_is_a_field_error(client_for):
    document = transfer.ruleset_export()
    document["rules"][0]["definition"]["text"] += "\x00"
    upload = SimpleUploadedFile("rules.json", json.dumps(document).encode())
    response = client_for("guideline_admin").post(reverse("guidelines:import"), {"file": upload})
    assert response.status_code == 200
    (error,) = response.context["form"].errors["file"]
    assert "NUL" in error
    assert "rules.0.definition.text" in error
