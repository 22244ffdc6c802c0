"""Ids typed into query strings: never a 500 (venousapp/params.py)."""

import pytest

from venousapp.params import MAX_ID, object_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [("42", 42), (" 42 ", 42), ("#42", 42), (str(MAX_ID), MAX_ID)],
)
def test_object_id_reads_ascii_digits(text, expected):
    assert object_id(text) == expected


@pytest.mark.parametrize(
    "text", ["", "0", "-1", "4.2", "²", "٣", "1²", "abc", str(MAX_ID + 1), "9" * 40, None, 42]
)
def test_object_id_rejects_what_no_primary_key_can_be(text):
    assert object_id(text) is None


@pytest.mark.parametrize("value", ["²", "٣", "99999999999999999999"])
def test_id_parameters_with_odd_digits_are_ignored_by_pages(client_for, case_a, value):
    client = client_for("clinician")
    assert client.get("/cases/", {"q": value}).status_code == 200
    assert client.get("/cases/new/", {"patient": value}).status_code == 200


@pytest.mark.parametrize("value", ["²", "٣", "99999999999999999999", "0", "abc"])
def test_api_id_parameters_with_odd_digits_are_a_400_naming_them(client_for, case_a, value):
    client = client_for("clinician")
    for url in ("/api/v1/planning/plans/", "/api/v1/planning/procedure-records/"):
        response = client.get(url, {"case": value})
        assert response.status_code == 400, url
        assert list(response.json()) == ["case"]


def test_case_list_search_still_finds_a_case_by_number(client_for, case_a):
    response = client_for("clinician").get("/cases/", {"q": f"#{case_a.pk}"})
    assert case_a.patient.identifier in response.content.decode()
