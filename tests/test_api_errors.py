"""Every error under /api/ is JSON with the status the schema documents (venousapp/api.py):
also when Django, not DRF, answers (an unknown path, a body too large, an exception, the
database down)."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client

PASSWORD = "correct-horse-battery-staple"


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def assert_json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body, dict)
    return body


@pytest.fixture
def schema(client_for) -> dict[str, Any]:
    return client_for("clinician").get("/api/schema/", {"format": "json"}).json()


def documented(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return schema["paths"][path][method]["responses"]


def test_unknown_api_path_is_a_json_404(client_for):
    body = assert_json_error(client_for("clinician").get("/api/v1/no-such-thing/"), 404)
    assert body == {"detail": "Not found."}


def test_unknown_page_path_is_still_the_styled_page(client_for):
    response = client_for("clinician").get("/no/such/page/")
    assert response.status_code == 404
    assert 'id="error-404"' in response.content.decode()


@pytest.mark.parametrize("page_number", ["0", "-1", "abc", "99"])
def test_a_page_that_does_not_exist_is_a_documented_json_404(
    client_for, case_a, schema, page_number
):
    response = client_for("clinician").get("/api/v1/cases/", {"page": page_number})
    assert assert_json_error(response, 404) == {"detail": "Invalid page."}
    assert "404" in documented(schema, "/api/v1/cases/", "get")
    parameters = schema["paths"]["/api/v1/cases/"]["get"]["parameters"]
    page_schema = next(p["schema"] for p in parameters if p["name"] == "page")
    assert page_schema["minimum"] == 1


def test_a_body_over_the_upload_limit_is_a_documented_json_413(client_for, settings, schema):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"identifier": "X" * 2000, "date_of_birth": "1970-01-01", "sex": "male"})
    response = client_for("clinician").post(
        "/api/v1/patients/", body, content_type="application/json"
    )
    assert "1000 bytes" in assert_json_error(response, 413)["detail"]
    assert "413" in documented(schema, "/api/v1/patients/", "post")


def test_a_form_body_is_a_documented_json_415(client_for, schema):
    response = client_for("clinician").post("/api/v1/patients/", {"identifier": "X1"})
    assert_json_error(response, 415)
    assert "415" in documented(schema, "/api/v1/patients/", "post")
    assert set(schema["paths"]["/api/v1/patients/"]["post"]["requestBody"]["content"]) == {
        "application/json"
    }


def test_asking_for_html_is_a_json_406(client_for):
    response = client_for("clinician").get("/api/v1/cases/", HTTP_ACCEPT="text/html")
    assert_json_error(response, 406)


def test_an_unhandled_exception_is_a_logged_json_500(clinician, schema, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(clinician)
    with (
        mock.patch("cases.selectors.case_list", side_effect=RuntimeError("boom")),
        caplog.at_level(logging.ERROR, logger="django.request"),
    ):
        response = client.get("/api/v1/cases/")
    body = assert_json_error(response, 500)
    assert "logged" in body["detail"]
    assert "boom" not in response.content.decode()
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)
    assert "500" in documented(schema, "/api/v1/cases/", "get")


def test_the_styled_500_page_stays_for_pages(clinician):
    client = Client(raise_request_exception=False)
    client.force_login(clinician)
    with mock.patch("cases.selectors.case_list", side_effect=RuntimeError("boom")):
        response = client.get("/cases/")
    assert response.status_code == 500
    assert 'id="error-500"' in response.content.decode()


def database_down() -> Any:
    """Every query fails, as with a database server that is down or restarting."""
    failure = OperationalError("server closed the connection unexpectedly")
    return mock.patch.object(connection, "cursor", side_effect=failure)


@pytest.mark.parametrize("login", ["session", "basic"])
def test_database_down_is_a_json_503(clinician, schema, login):
    client = Client(raise_request_exception=False)
    headers = basic("alice") if login == "basic" else {}
    if login == "session":
        client.force_login(clinician)
    with database_down():
        response = client.get("/api/v1/cases/", **headers)
        page = client.get("/api/v1/no-such-thing/", **headers)
    body = assert_json_error(response, 503)
    assert "try again" in body["detail"]
    assert "503" in documented(schema, "/api/v1/cases/", "get")
    assert page.status_code in (404, 503)
    assert page["Content-Type"] == "application/json"


def test_a_locked_out_api_client_is_refused_in_json(clinician):
    client = Client()
    for _ in range(5):
        client.get("/api/v1/cases/", **basic("alice", "wrong"))
    response = client.get("/api/v1/cases/", **basic("alice"))
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("path", "query", "name"),
    [
        ("/api/v1/planning/plans/", {"case": "abc"}, "case"),
        ("/api/v1/planning/devices/", {"kind": "rocket"}, "kind"),
        ("/api/v1/planning/devices/", {"retired": "maybe"}, "retired"),
        ("/api/v1/followup/escalations/", {"open": "yes"}, "open"),
        ("/api/v1/rules/", {"topic": "weather"}, "topic"),
        ("/api/v1/rules/", {"status": "asleep"}, "status"),
    ],
)
def test_an_invalid_query_parameter_is_a_documented_400_naming_it(
    client_for, schema, path, query, name
):
    body = assert_json_error(client_for("clinician").get(path, query), 400)
    assert list(body) == [name]
    assert "400" in documented(schema, path, "get")
