"""A password an administrator sets is temporary: its owner must choose her own at the next
log-in. Until she has, every page sends her to the password change page and the API answers
403 with the reason; changing it there, or resetting it by e-mail, lifts the requirement.
The demo logins of ``make run`` are shared on purpose and are not forced to change."""

from __future__ import annotations

import base64
import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client

from demo import cases as demo_cases
from tests.factories import UserFactory
from tests.test_accounts import project_urls
from venousapp.accounts import tasks
from venousapp.accounts.models import User

TEMPORARY = "temporary-pass-4711-given"
OWN = "my-own-longer-passphrase"
PASSWORD = "correct-horse-battery-staple"  # tests/factories.py
LOGIN = "/accounts/login/"
CHANGE = "/accounts/password/"
API = "/api/v1/cases/"
MESSAGE = "Your password was set by an administrator"


@pytest.fixture
def admin(centre_a):
    return UserFactory(username="root", centre=centre_a, is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def carla(admin_client, centre_a) -> User:
    """A clinician the administrator created in the admin, as the add form is posted."""
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "carla",
            "usable_password": "true",
            "password1": TEMPORARY,
            "password2": TEMPORARY,
            "email": "carla@example.org",
            "centre": centre_a.pk,
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content.decode()
    carla = User.objects.get(username="carla")
    carla.groups.add(Group.objects.get(name="clinician"))
    return carla


def logged_in_as(username: str, password: str) -> Client:
    client = Client()
    response = client.post(LOGIN, {"username": username, "password": password})
    assert response.status_code == 302
    return client


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def change_own_password(client: Client, old: str, new: str) -> object:
    return client.post(CHANGE, {"old_password": old, "new_password1": new, "new_password2": new})


# --- who must change ------------------------------------------------------------------------


def test_forced_change_user_created_in_the_admin_must_change(carla):
    assert carla.must_change_password is True
    assert carla.check_password(TEMPORARY)


def test_forced_change_password_set_in_the_admin_must_be_changed(admin_client, clinician):
    response = admin_client.post(
        f"/admin/accounts/user/{clinician.pk}/password/",
        {
            "usable_password": "true",
            "password1": TEMPORARY,
            "password2": TEMPORARY,
            "set-password": "",
        },
    )
    assert response.status_code == 302
    clinician.refresh_from_db()
    assert clinician.check_password(TEMPORARY)
    assert clinician.must_change_password is True


def test_forced_change_not_when_the_admin_disables_password_log_in(admin_client, clinician):
    response = admin_client.post(
        f"/admin/accounts/user/{clinician.pk}/password/",
        {"usable_password": "false", "password1": "", "password2": "", "unset-password": ""},
    )
    assert response.status_code == 302
    clinician.refresh_from_db()
    assert not clinician.has_usable_password()
    assert clinician.must_change_password is False


def test_forced_change_admin_sees_and_can_set_the_requirement(admin_client, clinician):
    html = admin_client.get(f"/admin/accounts/user/{clinician.pk}/change/").content.decode()
    assert 'name="must_change_password"' in html
    assert "Must choose a new password at the next log-in" in html


def test_forced_change_not_for_users_who_chose_their_password(clinician):
    client = logged_in_as("alice", PASSWORD)
    assert client.get("/cases/").status_code == 200


def test_forced_change_not_for_the_shared_demo_logins(db):
    logins = demo_cases.demo_users_create(password=demo_cases.DEFAULT_PASSWORD)
    assert not User.objects.filter(must_change_password=True).exists()
    client = logged_in_as(logins[0].username, demo_cases.DEFAULT_PASSWORD)
    assert client.get("/cases/").status_code == 200


# --- until she has changed it ---------------------------------------------------------------


def test_forced_change_login_leads_to_the_password_change_page(carla):
    client = Client()
    response = client.post(LOGIN, {"username": "carla", "password": TEMPORARY}, follow=True)
    assert response.redirect_chain[-1][0] == CHANGE
    html = response.content.decode()
    assert MESSAGE in html
    assert 'name="old_password"' in html


def _forced_paths() -> list:
    public = {"login", "healthz", "admin:login", "logout", "password_change"}
    return [
        pytest.param(path, id=path)
        for path, name, callback in project_urls()
        if name not in public
        and getattr(callback, "login_required", True)
        and not path.startswith("/api/")
    ]


@pytest.mark.parametrize("path", _forced_paths())
def test_forced_change_every_page_redirects_to_the_password_change_page(carla, path):
    response = logged_in_as("carla", TEMPORARY).get(path)
    assert response.status_code == 302, path
    assert response["Location"] == CHANGE


def test_forced_change_she_can_log_out(carla):
    client = logged_in_as("carla", TEMPORARY)
    response = client.post("/accounts/logout/")
    assert response["Location"] == LOGIN


def test_forced_change_api_basic_auth_answers_403_with_the_reason(carla):
    response = Client().get(API, **basic("carla", TEMPORARY))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert MESSAGE in response.json()["detail"]


def test_forced_change_api_in_the_session_answers_403_with_the_reason(carla):
    response = logged_in_as("carla", TEMPORARY).get(API)
    assert response.status_code == 403
    assert MESSAGE in response.json()["detail"]


def test_forced_change_same_password_again_is_refused(carla):
    client = logged_in_as("carla", TEMPORARY)
    response = change_own_password(client, TEMPORARY, TEMPORARY)
    assert response.status_code == 200
    assert "The new password must differ from the old one." in response.content.decode()
    carla.refresh_from_db()
    assert carla.must_change_password is True


# --- once she has ---------------------------------------------------------------------------


def test_forced_change_choosing_her_own_password_lifts_the_requirement(carla):
    client = logged_in_as("carla", TEMPORARY)
    response = change_own_password(client, TEMPORARY, OWN)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    carla.refresh_from_db()
    assert carla.must_change_password is False
    assert client.get("/cases/").status_code == 200
    assert Client().get(API, **basic("carla", OWN)).status_code == 200


def test_forced_change_password_reset_by_email_lifts_the_requirement(
    carla, monkeypatch, django_capture_on_commit_callbacks
):
    task = tasks.password_reset_mail
    monkeypatch.setattr(task, "delay", lambda pk: task.apply(args=[pk], throw=True))
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "carla@example.org"})
    [link] = re.findall(r"https?://\S+", mail.outbox[0].body)
    form_url = client.get(re.sub(r"^https?://[^/]+", "", link), follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": OWN, "new_password2": OWN})
    carla.refresh_from_db()
    assert carla.check_password(OWN)
    assert carla.must_change_password is False
    assert logged_in_as("carla", OWN).get("/cases/").status_code == 200
