"""Accounts: log-in with throttling (django-axes), log-out, "my account", password change,
session expiry, the role groups, and login required everywhere (LoginRequiredMiddleware)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern

from venousapp.accounts.models import Role

PASSWORD = "correct-horse-battery-staple"  # tests/factories.py
LOGIN = "/accounts/login/"


def login(client: Client, username: str, password: str) -> object:
    return client.post(LOGIN, {"username": username, "password": password})


def logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


# --- log-in, lockout, log-out ---------------------------------------------------------------


def test_login_page_is_public(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert 'autocomplete="current-password"' in html


def test_login_right_password_logs_in_and_goes_home(client, clinician):
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert logged_in(client)
    assert client.get("/", follow=True).redirect_chain[-1][0] == reverse("cases:list")


def test_login_follows_next_within_the_site(client, clinician):
    response = client.post(f"{LOGIN}?next=/cases/new/", {"username": "alice", "password": PASSWORD})
    assert response["Location"] == "/cases/new/"


def test_login_ignores_next_to_another_site(client, clinician):
    response = client.post(
        LOGIN, {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_login_wrong_password_shows_an_error(client, clinician):
    response = login(client, "alice", "wrong-password")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert not logged_in(client)


def test_login_logged_in_user_is_sent_on(client_for):
    response = client_for("nurse").get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_login_five_wrong_passwords_lock_the_user_at_this_address(client, clinician):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert login(client, "alice", "wrong-password").status_code == 200
    locked = login(client, "alice", "wrong-password")
    assert locked.status_code == 429
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert not logged_in(client)


def test_login_four_wrong_passwords_do_not_lock(client, clinician):
    for _ in range(4):
        login(client, "alice", "wrong-password")
    assert login(client, "alice", PASSWORD).status_code == 302
    assert logged_in(client)


def test_login_lockout_is_per_user_and_address(client, clinician, nurse):
    for _ in range(5):
        login(client, "alice", "wrong-password")
    # The same user from another address, and another user from this address, may log in.
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert login(elsewhere, "alice", PASSWORD).status_code == 302
    assert login(client, "nina", PASSWORD).status_code == 302


def test_logout_by_post_ends_the_session(client_for):
    client = client_for("clinician")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not logged_in(client)
    assert client.get("/cases/").status_code == 302


def test_logout_by_get_is_refused(client_for):
    client = client_for("clinician")
    assert client.get("/accounts/logout/").status_code == 405
    assert logged_in(client)


def test_logout_button_is_on_every_page(client_for):
    html = client_for("nurse").get("/cases/").content.decode()
    assert re.search(r'<form method="post" action="/accounts/logout/"', html)


# --- my account, password ------------------------------------------------------------------


def test_account_page_shows_user_centre_and_roles(client_for):
    html = client_for("guideline_admin").get("/accounts/me/").content.decode()
    assert "gustav" in html
    assert "Centre A" in html
    assert "Guideline admin" in html
    assert reverse("password_change") in html


def test_account_page_updates_name_and_email(client_for, nurse):
    client = client_for("nurse")
    response = client.post(
        "/accounts/me/",
        {"first_name": "Nina", "last_name": "Nightingale", "email": "nina@centre-a.example"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/me/"
    nurse.refresh_from_db()
    assert (nurse.first_name, nurse.last_name, nurse.email) == (
        "Nina",
        "Nightingale",
        "nina@centre-a.example",
    )
    assert "Your account was updated." in client.get("/accounts/me/").content.decode()


def test_account_page_invalid_email_keeps_the_entry(client_for, nurse):
    response = client_for("nurse").post(
        "/accounts/me/", {"first_name": "Nina", "last_name": "", "email": "not-an-address"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert 'value="not-an-address"' in html
    nurse.refresh_from_db()
    assert nurse.email == "nina@example.org"


def test_account_page_cannot_change_username_centre_or_roles(client_for, nurse, centre_b):
    client_for("nurse").post(
        "/accounts/me/",
        {
            "first_name": "",
            "last_name": "",
            "email": "n@example.org",
            "username": "root",
            "centre": centre_b.pk,
            "groups": [Group.objects.get(name="clinician").pk],
            "is_staff": "on",
        },
    )
    nurse.refresh_from_db()
    assert (nurse.username, nurse.centre.code, nurse.is_staff) == ("nina", "centre-a", False)
    assert not nurse.has_role(Role.CLINICIAN)


def test_password_change_page_changes_the_password(client_for, clinician):
    client = client_for("clinician")
    assert client.get("/accounts/password/").status_code == 200
    new = "a-much-longer-new-passphrase"
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    clinician.refresh_from_db()
    assert clinician.check_password(new)
    assert client.get("/accounts/password/done/").status_code == 200
    assert logged_in(client)  # the session survives its own password change


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "wrong-old-password",
            "a-much-longer-new-passphrase",
            "Your old password was entered incorrectly.",
        ),
        (PASSWORD, "short-pw", "This password is too short. It must contain at least 12"),
        (PASSWORD, "123456789012345", "This password is entirely numeric."),
        (PASSWORD, "password12345", "This password is too common."),
    ],
)
def test_password_change_refuses_weak_or_unauthorised_changes(
    client_for, clinician, old, new, message
):
    response = client_for("clinician").post(
        "/accounts/password/", {"old_password": old, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    clinician.refresh_from_db()
    assert clinician.check_password(PASSWORD)


# --- sessions -----------------------------------------------------------------------------


def test_session_settings_expire_with_the_browser_and_after_inactivity():
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_session_cookie_is_a_browser_session_cookie(client, clinician):
    response = login(client, "alice", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == ""
    assert cookie["max-age"] == ""
    assert cookie["httponly"] is True
    assert client.session.get_expire_at_browser_close() is True
    assert client.session.get_expiry_age() == 8 * 60 * 60


# --- roles --------------------------------------------------------------------------------

ROLE_CASE_PERMISSIONS = {
    "clinician": {
        "view_patient",
        "add_patient",
        "change_patient",
        "view_case",
        "add_case",
        "change_case",
    },
    "nurse": {"view_patient", "view_case"},
    "guideline_admin": {"view_patient", "view_case"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ROLE_CASE_PERMISSIONS))
def test_roles_groups_exist_with_their_case_permissions_after_migrations(role):
    group = Group.objects.get(name=role)
    codenames = set(
        group.permissions.filter(content_type__app_label="cases").values_list("codename", flat=True)
    )
    assert codenames == ROLE_CASE_PERMISSIONS[role]


@pytest.mark.django_db
def test_roles_are_exactly_the_role_choices():
    assert {r.value for r in Role} == set(ROLE_CASE_PERMISSIONS)
    assert set(ROLE_CASE_PERMISSIONS) <= set(Group.objects.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("persona", "perm", "granted"),
    [
        ("clinician", "cases.add_case", True),
        ("clinician", "cases.delete_case", False),
        ("nurse", "cases.view_case", True),
        ("nurse", "cases.change_case", False),
        ("guideline_admin", "cases.add_patient", False),
        ("other_centre_clinician", "cases.change_case", True),
    ],
)
def test_roles_give_users_their_permissions(request, persona, perm, granted):
    assert request.getfixturevalue(persona).has_perm(perm) is granted


# --- login required everywhere ------------------------------------------------------------

PUBLIC = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "admin:login",
}
# CDS Hooks (interop): callers are hospital systems that sign each request with their JWT;
# discovery is public, as the CDS Hooks specification has it.
CDS_HOOKS = {"cds-discovery", "cds-service", "cds-feedback"}
SAMPLE_VALUES = {"app_label": "cases"}


def _piece(pattern: object) -> str:
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        text = text.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    return text


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[tuple]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + _piece(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}{p.name}" if p.name else None
            yield prefix + _piece(p.pattern), name, p.callback


def _sample_path(pattern: str) -> str:
    """A path the pattern matches: each named or unnamed group and each converter becomes a
    sample value."""
    path = re.sub(r"\(\?P<(\w+)>[^()]*\)", r"<\1>", pattern)
    path = re.sub(r"\([^()]*\)", "<var>", path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLE_VALUES.get(m.group(1), "1"), path)
    return "/" + path


def project_urls() -> list:
    """Every URL the project resolves, with a sample path (``<pk>`` -> 1)."""
    seen = {}
    for pattern, name, callback in _walk(get_resolver().url_patterns):
        path = _sample_path(pattern)
        seen.setdefault(path, (path, name, callback))
    return list(seen.values())


def test_project_urls_are_all_found_and_resolve_to_their_views():
    urls = project_urls()
    assert len(urls) > 20
    names = {name for _, name, _ in urls}
    assert {"cases:list", "cases:detail", "account", "login", "healthz", "api-schema"} <= names
    for path, name, callback in urls:
        assert resolve(path).func == callback, (path, name)


def test_public_urls_are_only_login_password_reset_and_health(db):
    public = {
        name
        for _, name, callback in project_urls()
        if getattr(callback, "login_required", True) is False and not _is_api(_path_of(name))
    }
    assert public == PUBLIC | CDS_HOOKS


def test_cds_hooks_calls_without_a_signed_token_are_refused(client, db):
    assert client.get(reverse("cds-discovery")).status_code == 200
    for name in ("cds-service", "cds-feedback"):
        path = reverse(name, args=["venousapp-patient-view"])
        response = client.post(path, {}, content_type="application/json")
        assert response.status_code == 401, (name, response.status_code)


def _path_of(name: str | None) -> str:
    return next(path for path, n, _ in project_urls() if n == name)


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        pytest.param(path, name, id=path)
        for path, name, _ in project_urls()
        if name not in PUBLIC | CDS_HOOKS
    ],
)
def test_every_url_redirects_anonymous_users_to_login(client, db, path, name):
    response = client.get(path)
    if _is_api(path):
        # The API answers with JSON instead of a log-in page, naming its scheme.
        assert response.status_code == 401
        return
    assert response.status_code == 302, (path, name)
    location = urlsplit(response["Location"])
    # Admin site views send to the admin's own log-in page, which logs in the same users.
    logins = {LOGIN, "/admin/login/"} if path.startswith("/admin/") else {LOGIN}
    assert location.path in logins
    assert parse_qs(location.query)["next"] == [path]
