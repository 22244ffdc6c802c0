"""The ``evaluate`` management command, through its handler functions (no subprocess)."""

import io
import json

import pytest

from guidelines.engine import default_ruleset, evaluate
from guidelines.management.commands.evaluate import (
    Command,
    InputProblem,
    evaluate_text,
    read_source,
)
from guidelines.ruleset import current_ruleset
from tests.guidelines.builders import acute_if, chronic_pto

pytestmark = pytest.mark.django_db


def test_current_ruleset_is_the_published_rule_set_equal_to_the_shipped_files():
    published = current_ruleset()
    assert published.version.startswith("db:")
    assert published.scored_ids == default_ruleset().scored_ids


def test_single_document_in_single_result_out():
    output = evaluate_text(json.dumps(chronic_pto()), current_ruleset())
    assert json.loads(output) == {**evaluate(chronic_pto()), "warnings": []}
    assert output.startswith('{\n  "overall": "stent_indicated"')


def test_list_in_list_out():
    output = json.loads(evaluate_text(json.dumps([acute_if(), {}, 3]), current_ruleset()))
    assert [item["overall"] for item in output] == ["etr_candidate", "conservative", "conservative"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"age": 40,\n "side": }', "Malformed JSON at line 2 column 10: Expecting value"),
        ("", "Malformed JSON at line 1 column 1: Expecting value"),
        ("[" * 100_000, "Malformed JSON"),
    ],
)
def test_malformed_json_is_reported_with_its_position(text, message):
    with pytest.raises(InputProblem, match=message):
        evaluate_text(text, current_ruleset())


def test_reads_file_or_stdin(tmp_path):
    path = tmp_path / "case.json"
    path.write_text('{"lesion_entity": "nivl"}', encoding="utf-8")
    assert read_source(str(path), io.StringIO("unused")) == '{"lesion_entity": "nivl"}'
    assert read_source("-", io.StringIO("[]")) == "[]"
    with pytest.raises(InputProblem, match="Cannot read"):
        read_source(str(tmp_path / "missing.json"), io.StringIO())
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputProblem, match="Cannot read"):
        read_source(str(binary), io.StringIO())


def test_command_exits_with_status_2_on_bad_input(tmp_path, monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setattr("sys.stdin", io.StringIO("{oops"))
    command = Command(stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError) as caught:
        command.handle(file="-")
    assert caught.value.returncode == 2
    assert str(caught.value).startswith("Malformed JSON at line 1 column 2")
    with pytest.raises(CommandError) as caught:
        command.handle(file=str(tmp_path / "nope.json"))
    assert caught.value.returncode == 2


def test_command_prints_results(tmp_path):
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([chronic_pto()]), encoding="utf-8")
    out = io.StringIO()
    Command(stdout=out, stderr=io.StringIO()).handle(file=str(path))
    assert json.loads(out.getvalue())[0]["overall"] == "stent_indicated"


def test_command_prints_the_warnings_in_the_results_and_on_stderr(tmp_path):
    path = tmp_path / "cases.json"
    documents = [chronic_pto(), chronic_pto(ulcer="actve"), chronic_pto(first_episode=1)]
    path.write_text(json.dumps(documents), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    Command(stdout=out, stderr=err).handle(file=str(path))
    results = json.loads(out.getvalue())
    assert [[w["field"] for w in result["warnings"]] for result in results] == [
        [],
        ["ulcer"],
        ["first_episode"],
    ]
    assert err.getvalue().splitlines() == [
        'Document 1: ulcer: "actve" is not one of: none, healed, active. Read as not recorded.',
        "Document 2: first_episode: 1 is a number, expected true or false. Read as not recorded.",
    ]


def test_command_prints_the_warnings_of_a_single_document_without_a_number():
    lines: list[str] = []
    evaluate_text(json.dumps(chronic_pto(side="up")), current_ruleset(), warn=lines.append)
    assert lines == [
        'side: "up" is not one of: left, right, bilateral. Read as not recorded.',
    ]
