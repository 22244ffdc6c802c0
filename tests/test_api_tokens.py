"""API tokens for programs: made and revoked on "My account", shown once, stored as a
digest, sent as ``Authorization: Token <token>`` to every API route, refused once revoked,
expired or wrong (401), and refused with the reason while the owner must change her
password (403). A token acts as its owner: her role and her centre, nothing more."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import CaseFactory, PatientFactory

ACCOUNT = "/accounts/me/"
CREATE = "/accounts/me/tokens/"
REVOKE = "/accounts/me/tokens/revoke/"
CASES = "/api/v1/cases/"
EVALUATE = "/api/v1/evaluate"
PASSWORD = "correct-horse-battery-staple"  # tests/factories.py
TEMPORARY = "temporary-pass-4711-given"
FORCED = "Your password was set by an administrator"
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
FACTS = {"lesion_entity": "nivl", "side": "left"}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token_form(page: str) -> dict[str, str]:
    """The creation form's fields as the browser would send them untouched."""
    form = re.search(r'<form[^>]*action="/accounts/me/tokens/"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None, page
    fields = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form.group(1)))
    fields.pop("csrfmiddlewaretoken", None)
    fields.setdefault("name", "")
    for select in re.findall(r'<select[^>]*name="(\w+)"[^>]*>(.*?)</select>', form.group(1), re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select[1])
        fields[select[0]] = chosen.group(1) if chosen else ""
    return fields


def create_token(client: Client, name: str = "Registry export", **choices: str) -> str:
    fields = {**token_form(client.get(ACCOUNT).content.decode()), "name": name, **choices}
    response = client.post(CREATE, fields)
    assert response.status_code == 200, response.content.decode()
    [token] = re.findall(r'id="new-token"[^>]*value="([^"]+)"', response.content.decode())
    return html.unescape(token)


def revoke_forms(page: str) -> dict[str, str]:
    """Token name -> the value its revoke button posts."""
    forms = re.findall(
        r'<form[^>]*action="/accounts/me/tokens/revoke/"[^>]*>(.*?)</form>', page, re.S
    )
    result = {}
    for form in forms:
        digest = re.search(r'name="token" value="([^"]+)"', form)
        label = re.search(r'aria-label="Revoke ([^"]+)"', form)
        assert digest, form
        assert label, form
        result[html.unescape(label.group(1))] = digest.group(1)
    return result


def revoke(client: Client, name: str) -> object:
    """Press the revoke button of the token called ``name`` on "My account"."""
    digest = revoke_forms(client.get(ACCOUNT).content.decode())[name]
    return client.post(REVOKE, {"token": digest})


def with_token(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


def api_get(token: str, path: str = CASES) -> object:
    return Client().get(path, **with_token(token))


def evaluate(token: str) -> object:
    return Client().post(
        EVALUATE, data=json.dumps(FACTS), content_type="application/json", **with_token(token)
    )


# --- made on "My account", shown once, stored as a digest ----------------------------------


def test_api_token_account_page_offers_to_create_one(clinician):
    page = logged_in(clinician).get(ACCOUNT).content.decode()
    assert "API tokens" in page
    assert token_form(page) == {"name": "", "expires_in": "90"}
    assert "You have no API tokens." in page


def test_api_token_is_shown_once_right_after_creation(clinician):
    client = logged_in(clinician)
    fields = {**token_form(client.get(ACCOUNT).content.decode()), "name": "Registry export"}
    response = client.post(CREATE, fields)
    page = response.content.decode()
    [token] = re.findall(r'id="new-token"[^>]*value="([^"]+)"', page)
    assert page.count(token) == 1
    assert "it is not shown again" in page
    assert "no-store" in response["Cache-Control"]
    later = client.get(ACCOUNT).content.decode()
    assert token not in later
    assert token[:15] not in later.replace(token[:15] + "…", "")
    assert "Registry export" in later


def test_api_token_is_stored_only_as_a_digest(clinician):
    client = logged_in(clinician)
    with CaptureQueriesContext(connection) as queries:
        token = create_token(client)
    written = "\n".join(query["sql"] for query in queries.captured_queries)
    assert "INSERT" in written
    assert token not in written
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest FROM accounts_apitoken")
        assert cursor.fetchall() == [(hashlib.sha512(token.encode()).hexdigest(),)]


def test_api_token_is_long_and_random(clinician):
    client = logged_in(clinician)
    first, second = create_token(client, "one"), create_token(client, "two")
    assert first != second
    assert re.fullmatch(r"venous_[0-9a-f]{64}", first)


def test_api_token_needs_a_name_and_keeps_the_choice(clinician):
    client = logged_in(clinician)
    response = client.post(CREATE, {"name": "  ", "expires_in": "365"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required." in page
    assert 'id="new-token"' not in page
    assert token_form(page)["expires_in"] == "365"


def test_api_token_unknown_expiry_is_refused_with_the_name_kept(clinician):
    response = logged_in(clinician).post(CREATE, {"name": "Export", "expires_in": "9999"})
    page = response.content.decode()
    assert "Select a valid choice." in page
    assert token_form(page)["name"] == "Export"


def test_api_token_pages_answer_get_with_the_account_page(clinician):
    client = logged_in(clinician)
    for path in (CREATE, REVOKE):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == ACCOUNT


def test_api_token_pages_need_a_log_in(db):
    for path in (CREATE, REVOKE):
        response = Client().post(path, {"name": "x", "expires_in": "30"})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# --- used on every API route ----------------------------------------------------------------


def test_api_token_authenticates_evaluate_and_the_case_list(clinician, case_a):
    token = create_token(logged_in(clinician))
    response = evaluate(token)
    assert response.status_code == 200, response.content
    assert "overall" in response.json()
    body = api_get(token).json()
    assert [row["id"] for row in body["results"]] == [case_a.pk]
    assert api_get(token, f"/api/v1/cases/{case_a.pk}/").status_code == 200


def test_api_token_sees_only_its_owners_centre(clinician, other_centre_clinician, case_a):
    case_b = CaseFactory(
        patient=PatientFactory(centre=other_centre_clinician.centre, identifier="B-2002"),
        author=other_centre_clinician,
    )
    token = create_token(logged_in(other_centre_clinician))
    body = api_get(token).json()
    assert [row["id"] for row in body["results"]] == [case_b.pk]
    assert api_get(token, f"/api/v1/cases/{case_a.pk}/").status_code == 404


def test_api_token_keeps_its_owners_role(nurse, case_a):
    token = create_token(logged_in(nurse))
    assert api_get(token).status_code == 200
    response = Client().post(
        CASES, data=json.dumps({}), content_type="application/json", **with_token(token)
    )
    assert response.status_code == 403


def test_api_token_last_use_is_shown_and_noted_at_most_once_a_minute(clinician):
    client = logged_in(clinician)
    with time_machine.travel(NOW, tick=False):
        token = create_token(client)
        assert "Never used" in client.get(ACCOUNT).content.decode()
    with (
        time_machine.travel(NOW + dt.timedelta(hours=2), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        for _ in range(5):
            assert api_get(token).status_code == 200
    updates = [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert "Never used" not in client.get(ACCOUNT).content.decode()


def test_api_token_written_nowhere_in_the_logs(clinician, caplog):
    caplog.set_level(logging.DEBUG)
    client = logged_in(clinician)
    token = create_token(client)
    api_get(token)
    evaluate(token)
    api_get(token[:-1] + ("0" if token[-1] != "0" else "1"))
    client.get(ACCOUNT)
    assert caplog.records  # the requests were logged (the 401 at least)
    for record in caplog.records:
        assert token not in record.getMessage()
        assert token not in repr(vars(record))


# --- refused --------------------------------------------------------------------------------


def test_api_token_revoked_answers_401(clinician):
    client = logged_in(clinician)
    token = create_token(client, "CI job")
    keep = create_token(client, "Registry export")
    assert api_get(token).status_code == 200
    response = revoke(client, "CI job")
    assert response.status_code == 302
    page = client.get(ACCOUNT).content.decode()
    assert "The token “CI job” was revoked." in page
    assert "CI job" not in page.replace("The token “CI job” was revoked.", "")
    response = api_get(token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Invalid token."}
    assert api_get(keep).status_code == 200


def test_api_token_cannot_be_revoked_by_someone_else(clinician, nurse):
    token = create_token(logged_in(clinician), "CI job")
    digest = revoke_forms(logged_in(clinician).get(ACCOUNT).content.decode())["CI job"]
    assert logged_in(nurse).post(REVOKE, {"token": digest}).status_code == 404
    assert api_get(token).status_code == 200


def test_api_token_revoke_of_an_unknown_token_answers_404(clinician):
    assert logged_in(clinician).post(REVOKE, {"token": "0" * 128}).status_code == 404
    assert logged_in(clinician).post(REVOKE, {}).status_code == 404


@pytest.mark.parametrize(
    "header",
    [
        "Token venous_" + "0" * 64,
        "Token not-a-token",
        "Token",
        "Token two words",
        "token venous_" + "f" * 64,
    ],
)
def test_api_token_wrong_answers_401(db, header):
    response = Client().get(CASES, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_api_without_credentials_answers_401_naming_the_scheme(db):
    response = Client().get(CASES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_api_token_expired_answers_401(clinician):
    client = logged_in(clinician)
    with time_machine.travel(NOW, tick=False):
        token = create_token(client, expires_in="30")
        page = client.get(ACCOUNT).content.decode()
        assert "Expires" in page
    with time_machine.travel(NOW + dt.timedelta(days=29), tick=False):
        assert api_get(token).status_code == 200
    with time_machine.travel(NOW + dt.timedelta(days=30, seconds=1), tick=False):
        assert api_get(token).status_code == 401


def test_api_token_without_expiry_keeps_working(clinician):
    client = logged_in(clinician)
    with time_machine.travel(NOW, tick=False):
        token = create_token(client, expires_in="")
        assert "Never expires" in client.get(ACCOUNT).content.decode()
    with time_machine.travel(NOW + dt.timedelta(days=800), tick=False):
        assert api_get(token).status_code == 200


def test_api_token_of_an_inactive_user_answers_401(clinician):
    token = create_token(logged_in(clinician))
    clinician.is_active = False
    clinician.save(update_fields=["is_active"])
    assert api_get(token).status_code == 401


def test_api_token_of_a_user_who_must_change_her_password_answers_403(clinician):
    token = create_token(logged_in(clinician))
    admin = type(clinician).objects.create_superuser(
        "root", "root@example.org", PASSWORD, centre=clinician.centre
    )
    response = logged_in(admin).post(
        f"/admin/accounts/user/{clinician.pk}/password/",
        {
            "usable_password": "true",
            "password1": TEMPORARY,
            "password2": TEMPORARY,
            "set-password": "",
        },
    )
    assert response.status_code == 302
    response = api_get(token)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert FORCED in response.json()["detail"]
    assert evaluate(token).status_code == 403


def test_api_token_is_not_a_log_in_for_pages(clinician):
    token = create_token(logged_in(clinician))
    response = Client().get("/cases/", **with_token(token))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- audit and documentation ----------------------------------------------------------------


def test_api_token_creation_and_revocation_are_in_the_history(clinician):
    from venousapp.accounts.models import ApiToken

    client = logged_in(clinician)
    create_token(client, "CI job")
    revoke(client, "CI job")
    rows = ApiToken.history.order_by("history_date")
    assert [(r.history_type, r.name, r.history_user) for r in rows] == [
        ("+", "CI job", clinician),
        ("-", "CI job", clinician),
    ]


def test_api_token_scheme_is_in_the_openapi_schema(clinician):
    schema = logged_in(clinician).get("/api/schema/", {"format": "json"}).json()
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert scheme == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }
    evaluate_post = schema["paths"]["/api/v1/evaluate"]["post"]
    assert {"tokenAuth": []} in evaluate_post["security"]


def test_a_call_reads_only_the_token_it_presents(clinician):
    """knox's own check read every other token of the user on every call (to delete the
    expired ones): a call costs the same whatever the number of tokens, and an expired token
    stays listed as expired until it is revoked or presented."""
    client = logged_in(clinician)
    with time_machine.travel(NOW, tick=False):
        expiring = create_token(client, name="Old script", expires_in="30")
        tokens = [create_token(client, name=f"Script {n}") for n in range(5)]
    with time_machine.travel(NOW + dt.timedelta(days=31), tick=False):
        with CaptureQueriesContext(connection) as queries:
            assert api_get(tokens[0]).status_code == 200
        reads = [q["sql"] for q in queries.captured_queries if "accounts_apitoken" in q["sql"]]
        assert not [sql for sql in reads if 'WHERE "accounts_apitoken"."user_id" =' in sql], reads
        again = logged_in(clinician)
        assert "Old script" in again.get(ACCOUNT).content.decode()
        assert api_get(expiring).status_code == 401
        assert "Old script" not in again.get(ACCOUNT).content.decode()
