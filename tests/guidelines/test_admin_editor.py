"""The draft editor and test-case forms: bad input never 500s, errors name what is wrong and
where, what was typed is kept, and the structured editor gets its vocabulary."""

import json

import pytest
from django.urls import reverse

from guidelines.display import editor_vocabulary
from guidelines.forms import field_for_path, split_problem
from guidelines.models import Rule
from guidelines.services import authoring
from tests.guidelines.rule_admin import (
    ETR03,
    acute_facts,
    shipped_rules,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shipped_rules")]


@pytest.fixture
def draft(guideline_admin):
    return authoring.rule_version_create_draft(
        rule=Rule.objects.get(rule_id=ETR03), author=guideline_admin
    )


@pytest.fixture
def client(client_for):
    return client_for("guideline_admin")


def _edit_url(draft):
    return reverse("guidelines:version-edit", args=[ETR03, draft.number])


def _form_data(client, draft) -> dict:
    form = client.get(_edit_url(draft)).context["form"]
    return {name: form[name].value() or "" for name in form.fields}


def test_the_editor_page_carries_the_vocabulary_and_a_json_fallback(client, draft):
    response = client.get(_edit_url(draft))
    html = response.content.decode()
    assert 'id="rule-vocabulary"' in html
    assert 'id="rule-problems"' in html
    assert "js/rule_editor.js" in html
    assert '<textarea name="logic"' in html
    assert "data-rule-editor" in html
    logic = json.loads(response.context["form"]["logic"].value())
    assert set(logic) == {"population", "criteria", "positive", "failure"}
    vocabulary = response.context["vocabulary"]
    inputs = {item["name"]: item for item in vocabulary["inputs"]}
    assert inputs["symptom_onset_days"]["kind"] == "number"
    assert inputs["segments_involved"]["values"][:2] == ["Tel", "Ret"]  # CEAP 2020 order
    assert {"IVC", "CIV"} <= set(inputs["segments_involved"]["values"])
    assert vocabulary["ops"]["set"] == ["contains_any", "contains_none", "contains_all"]
    assert vocabulary["ops"]["bool"] == ["is_true", "is_false", "eq", "ne"]


def test_invalid_json_is_a_field_error_with_its_position_and_the_text_is_kept(client, draft):
    data = _form_data(client, draft)
    broken = data["logic"].replace('"value": 14', '"value": 14,,', 1)
    data["logic"] = broken
    response = client.post(_edit_url(draft), data)
    assert response.status_code == 200
    errors = response.context["form"].errors["logic"]
    assert errors[0].startswith("Invalid JSON at line ")
    assert "column" in errors[0]
    assert "Expecting" in errors[0]
    assert response.context["form"]["logic"].value() == broken
    assert "Invalid JSON at line" in response.content.decode()


def test_schema_problems_are_shown_next_to_the_logic_with_their_path(client, draft):
    data = _form_data(client, draft)
    data["logic"] = data["logic"].replace('"input": "symptom_onset_days"', '"input": "onset"')
    response = client.post(_edit_url(draft), data)
    assert response.status_code == 200
    (error,) = response.context["form"].errors["logic"]
    assert error.startswith("criteria[0].test.input: 'onset' is not a known input")
    assert response.context["problems"] == [
        {"path": "criteria[0].test.input", "message": error.split(": ", 1)[1]}
    ]
    assert data["logic"] in response.content.decode().replace("&quot;", '"')


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda d: d.update(strength_native="", strength_system="ESVS"), None, None),
        (
            lambda d: d.update(
                logic='{"population": {"input": "acute", "op": "is_true"}, '
                '"criteria": [], "positive": "consider", "failure": "against"}'
            ),
            "logic",
            "criteria: give at least one criterion",
        ),
        (
            lambda d: d.update(
                logic='{"population": {"input": "acute", "op": "is_true"}, "foo": 1}'
            ),
            "logic",
            "Unknown key 'foo'",
        ),
        (lambda d: d.update(logic="[1, 2]"), "logic", "Expected an object"),
        (lambda d: d.update(logic=""), "logic", "needs its logic"),
        (lambda d: d.update(text=""), "text", "required"),
        (
            lambda d: d.update(logic=d["logic"].replace('"value": 14', '"value": "14"')),
            "logic",
            "'symptom_onset_days' is a number",
        ),
        (
            lambda d: d.update(logic=d["logic"].replace('"op": "lte"', '"op": "contains_any"')),
            "logic",
            "not an operator for 'symptom_onset_days'",
        ),
    ],
)
def test_bad_input_is_reported_on_its_field(client, draft, change, field, message):
    data = _form_data(client, draft)
    change(data)
    response = client.post(_edit_url(draft), data)
    if field is None:
        assert response.status_code == 302
        return
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors[field]), response.context[
        "form"
    ].errors


def test_a_valid_edit_is_saved_and_audited(client, draft, guideline_admin):
    data = _form_data(client, draft)
    data["logic"] = data["logic"].replace('"value": 14', '"value": 21')
    data["strength_level"] = "C"
    data["change_note"] = "Window 21 days"
    response = client.post(_edit_url(draft), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.definition["criteria"][0]["test"]["value"] == 21
    assert draft.definition["strength"]["level"] == "C"
    assert draft.change_note == "Window 21 days"
    assert draft.history.first().history_user == guideline_admin


def test_a_nul_character_in_the_facts_is_a_field_error_and_nothing_is_saved(client, draft):
    url = reverse("guidelines:version-tests", args=[ETR03, draft.number])
    count = draft.test_cases.count()
    facts = '{"age": 50, "note": "x\\u0000"}'
    response = client.post(url, {"name": "x", "facts": facts, "expected": "consider"})
    assert response.status_code == 200
    assert "NUL" in response.context["form"].errors["facts"][0]
    assert response.context["form"]["facts"].value() == facts
    assert draft.test_cases.count() == count


def test_test_case_form_reports_bad_facts_and_keeps_them(client, draft):
    url = reverse("guidelines:version-tests", args=[ETR03, draft.number])
    response = client.post(url, {"name": "x", "facts": '{"age": }', "expected": "consider"})
    assert response.status_code == 200
    assert (
        response.context["form"].errors["facts"][0].startswith("Invalid JSON at line 1, column 9")
    )
    assert response.context["form"]["facts"].value() == '{"age": }'
    response = client.post(url, {"name": "x", "facts": "[]", "expected": "consider"})
    assert "Expected an object" in response.context["form"].errors["facts"][0]
    response = client.post(url, {"name": "x", "facts": "{}", "expected": "maybe"})
    assert "expected" in response.context["form"].errors
    count = draft.test_cases.count()
    response = client.post(
        url,
        {"name": "ok", "facts": json.dumps(acute_facts()), "expected": "insufficient_data:ceap"},
    )
    assert response.status_code == 302
    assert draft.test_cases.count() == count + 1


def test_an_import_of_invalid_json_names_the_position(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "rules.json",
        b'{"format": "venousapp-ruleset",\n "rules": [}',
        content_type="application/json",
    )
    response = client.post(reverse("guidelines:import"), {"file": upload})
    assert response.status_code == 200
    assert response.context["form"].errors["file"][0].startswith("Invalid JSON at line 2")


def test_problem_paths_map_to_fields():
    assert split_problem("rules[3] (X): criteria[0].test.value: bad") == (
        "criteria[0].test.value",
        "bad",
    )
    assert split_problem("something without a path") == ("", "something without a path")
    assert field_for_path("strength.native") == "strength_native"
    assert field_for_path("switch.test") == "logic"
    assert field_for_path("text") == "text"
    assert field_for_path("id") is None


def test_the_vocabulary_lists_every_input_of_the_schema():
    from guidelines.vocabulary import INPUTS

    assert {item["name"] for item in editor_vocabulary()["inputs"]} == set(INPUTS)
