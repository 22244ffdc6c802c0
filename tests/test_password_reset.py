"""Password reset by e-mail: Django's reset views under /accounts/password/reset/, reached
from the log-in page without logging in.

The page answers the same whether or not an account has the address (no enumeration), the
request does the same work either way (the e-mail is looked up and sent by a task), requests
are limited per address and per client, and the e-mail carries the link and nothing else.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from ipaddress import ip_network

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client

from tests.factories import UserFactory
from venousapp.accounts import services, tasks

PASSWORD = "correct-horse-battery-staple"  # tests/factories.py
NEW_PASSWORD = "a-much-longer-new-passphrase"
RESET = "/accounts/password/reset/"
SENT = "/accounts/password/reset/sent/"
DONE = "/accounts/password/reset/done/"


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The tasks queued, by argument, instead of being sent to the broker."""
    calls: list[int] = []
    monkeypatch.setattr(tasks.password_reset_mail, "delay", calls.append)
    return calls


@pytest.fixture
def worker(monkeypatch):
    """Run each queued reset e-mail task at once, as the worker would."""
    task = tasks.password_reset_mail
    monkeypatch.setattr(task, "delay", lambda pk: task.apply(args=[pk], throw=True))


def ask(client: Client, email: str, capture) -> object:
    with capture(execute=True):
        return client.post(RESET, {"email": email})


def link_in(message: mail.EmailMessage) -> str:
    links = re.findall(r"https?://\S+", message.body)
    assert len(links) == 1, message.body
    return links[0]


# --- pages -----------------------------------------------------------------------------------


def test_password_reset_login_page_links_to_it(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert f'href="{RESET}"' in html
    assert "Forgot your password?" in html


@pytest.mark.parametrize("path", [RESET, SENT, DONE])
def test_password_reset_pages_are_public_and_styled(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<article class="narrow">' in html
    assert 'href="/accounts/login/"' in html


def test_password_reset_form_asks_for_the_email_address(client, db):
    html = client.get(RESET).content.decode()
    assert 'type="email"' in html
    assert 'autocomplete="email"' in html
    assert "<label" in html


def test_password_reset_invalid_address_keeps_the_entry(client, db, queued):
    response = client.post(RESET, {"email": "alice-at-example.org"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert 'value="alice-at-example.org"' in html
    assert queued == []


def test_password_reset_logged_in_user_may_use_it_too(client_for, clinician, queued):
    assert client_for("clinician").get(RESET).status_code == 200


# --- end to end ------------------------------------------------------------------------------


def test_password_reset_end_to_end(
    client, clinician, patient_a, worker, django_capture_on_commit_callbacks
):
    patient_a.name = "Erika Mustermann"
    patient_a.save(update_fields=["name"])
    response = ask(client, "alice@example.org", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == SENT
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    message = mail.outbox[0]
    assert message.subject == "Reset your venousapp password"
    link = link_in(message)
    assert link.startswith(f"{settings.SITE_URL}/accounts/password/reset/")
    # The link and nothing about the account or any patient.
    for text in (message.body, message.alternatives[0][0]):
        assert "alice" not in text.replace("alice@example.org", "")
        assert patient_a.identifier not in text
        assert "Mustermann" not in text
    assert f'href="{link}"' in message.alternatives[0][0]

    path = link.removeprefix(settings.SITE_URL)
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    form_url = form_page.redirect_chain[-1][0]
    assert form_url.endswith("/set-password/")
    assert 'name="new_password1"' in form_page.content.decode()
    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == DONE
    clinician.refresh_from_db()
    assert clinician.check_password(NEW_PASSWORD)
    assert SESSION_KEY not in client.session  # she logs in herself

    login = client.post("/accounts/login/", {"username": "alice", "password": NEW_PASSWORD})
    assert login.status_code == 302
    # The link works once.
    again = Client().get(path, follow=True)
    assert "The link is invalid or has expired" in again.content.decode()


def test_password_reset_weak_new_password_is_refused(
    client, clinician, worker, django_capture_on_commit_callbacks
):
    ask(client, "alice@example.org", django_capture_on_commit_callbacks)
    path = link_in(mail.outbox[0]).removeprefix(settings.SITE_URL)
    form_url = client.get(path, follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    assert "This password is too short." in response.content.decode()
    clinician.refresh_from_db()
    assert clinician.check_password(PASSWORD)


def test_password_reset_address_is_matched_without_regard_to_case(
    client, clinician, worker, django_capture_on_commit_callbacks
):
    ask(client, " ALICE@Example.org ", django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]


def test_password_reset_forged_link_is_refused(client, clinician):
    html = client.get("/accounts/password/reset/MQ/forged-token/", follow=True).content
    assert "The link is invalid or has expired" in html.decode()


# --- no enumeration --------------------------------------------------------------------------


def test_password_reset_answers_the_same_whether_or_not_the_address_exists(
    client, clinician, centre_a, queued, django_capture_on_commit_callbacks
):
    UserFactory(username="ida", email="ida@example.org", centre=centre_a, is_active=False)
    UserFactory(username="una", email="una@example.org", centre=centre_a, password=None)
    answers = {}
    for email in ("alice@example.org", "nobody@example.org", "ida@example.org", "una@example.org"):
        response = ask(Client(), email, django_capture_on_commit_callbacks)
        page = Client().get(response["Location"]).content.decode()
        page = re.sub(r'"X-CSRFToken": "\w+"', "", page)  # a new token on every page
        answers[email] = (response.status_code, response["Location"], response.content, page)
    assert len(set(answers.values())) == 1
    # The request does the same whatever the address: it queues one task and sends nothing.
    assert len(queued) == 4
    assert mail.outbox == []


def test_password_reset_mail_only_to_active_accounts_with_a_password(
    client, clinician, centre_a, worker, django_capture_on_commit_callbacks
):
    UserFactory(username="ida", email="ida@example.org", centre=centre_a, is_active=False)
    UserFactory(username="una", email="una@example.org", centre=centre_a, password=None)
    for email in ("nobody@example.org", "ida@example.org", "una@example.org"):
        ask(Client(), email, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_password_reset_task_run_twice_sends_once(
    client, clinician, queued, django_capture_on_commit_callbacks
):
    ask(client, "alice@example.org", django_capture_on_commit_callbacks)
    [request_id] = queued
    assert tasks.password_reset_mail.apply(args=[request_id], throw=True).result == 1
    assert tasks.password_reset_mail.apply(args=[request_id], throw=True).result == 0
    assert len(mail.outbox) == 1


def test_password_reset_broker_down_still_answers(
    client, clinician, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args: object) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.password_reset_mail, "delay", broker_down)
    with caplog.at_level(logging.ERROR):
        response = ask(client, "alice@example.org", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == SENT
    assert "broker unreachable" in caplog.text


# --- rate limits -----------------------------------------------------------------------------


def test_password_reset_limit_per_address(
    clinician, worker, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC), tick=False)
    for n in range(services.RESETS_PER_ADDRESS):
        client = Client(REMOTE_ADDR=f"198.51.100.{n}")
        ask(client, "alice@example.org", django_capture_on_commit_callbacks)
    refused = ask(
        Client(REMOTE_ADDR="198.51.100.99"), "Alice@example.org", django_capture_on_commit_callbacks
    )
    assert refused.status_code == 429
    html = refused.content.decode()
    assert "Too many password reset requests" in html
    assert 'value="Alice@example.org"' in html
    assert len(mail.outbox) == services.RESETS_PER_ADDRESS
    # An hour later she may ask again.
    time_machine.shift(services.RESET_WINDOW)
    again = ask(Client(), "alice@example.org", django_capture_on_commit_callbacks)
    assert again.status_code == 302
    assert len(mail.outbox) == services.RESETS_PER_ADDRESS + 1


def test_password_reset_limit_per_address_is_the_same_for_unknown_addresses(
    db, queued, django_capture_on_commit_callbacks
):
    for n in range(services.RESETS_PER_ADDRESS):
        ask(
            Client(REMOTE_ADDR=f"198.51.100.{n}"),
            "nobody@example.org",
            django_capture_on_commit_callbacks,
        )
    refused = ask(Client(), "nobody@example.org", django_capture_on_commit_callbacks)
    assert refused.status_code == 429


def test_password_reset_limit_per_client(clinician, queued, django_capture_on_commit_callbacks):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(services.RESETS_PER_CLIENT):
        assert (
            ask(client, f"someone{n}@example.org", django_capture_on_commit_callbacks).status_code
            == 302
        )
    assert ask(client, "alice@example.org", django_capture_on_commit_callbacks).status_code == 429
    assert len(queued) == services.RESETS_PER_CLIENT
    # Another client may still ask for Alice.
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert (
        ask(elsewhere, "alice@example.org", django_capture_on_commit_callbacks).status_code == 302
    )


def test_password_reset_limit_per_client_behind_a_trusted_proxy(
    settings, clinician, queued, django_capture_on_commit_callbacks
):
    settings.TRUSTED_PROXIES = [ip_network("10.0.0.2")]
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    for n in range(services.RESETS_PER_CLIENT):
        ask(attacker, f"someone{n}@example.org", django_capture_on_commit_callbacks)
    assert ask(attacker, "x@example.org", django_capture_on_commit_callbacks).status_code == 429
    alice = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert ask(alice, "alice@example.org", django_capture_on_commit_callbacks).status_code == 302
