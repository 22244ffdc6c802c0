"""Failed-log-in throttling (django-axes) behind a reverse proxy.

Axes locks a user out per client address. The address is REMOTE_ADDR unless that is one of
the ``TRUSTED_PROXIES``; then it is the X-Forwarded-For entry the trusted proxies vouch for.
Anyone can send an X-Forwarded-For header, so an attacker must be able neither to dodge the
lockout by changing it nor to lock a clinician out by naming her address in it.
"""

from __future__ import annotations

import base64
from ipaddress import ip_network

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from tests.test_settings import production_env, run
from venousapp.accounts.client_ip import client_ip
from venousapp.env import env_networks

PASSWORD = "correct-horse-battery-staple"  # tests/factories.py
LOGIN = "/accounts/login/"
API = "/api/v1/cases/"
PROXY = "10.0.0.2"
ALICE_AT_HOME = "198.51.100.7"
ALICE_AT_WORK = "198.51.100.8"
ATTACKER = "203.0.113.9"


def client_at(remote_addr: str, forwarded_for: str | None = None) -> Client:
    """A browser whose connection arrives from ``remote_addr`` (the proxy's address when it
    goes through one), sending ``forwarded_for`` as X-Forwarded-For."""
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return Client(**headers)


def via_proxy(client_address: str, spoofed: str | None = None) -> Client:
    """A browser at ``client_address`` behind the proxy, which appends that address to
    whatever X-Forwarded-For the browser sent (nginx ``$proxy_add_x_forwarded_for``)."""
    forwarded = f"{spoofed}, {client_address}" if spoofed else client_address
    return client_at(PROXY, forwarded)


def login(client: Client, password: str) -> int:
    return client.post(LOGIN, {"username": "alice", "password": password}).status_code


def api_get(client: Client, password: str) -> int:
    token = base64.b64encode(f"alice:{password}".encode()).decode()
    return client.get(API, HTTP_AUTHORIZATION=f"Basic {token}").status_code


def fail_five_times(client: Client) -> None:
    for attempt in range(5):
        assert login(client, f"wrong-password-{attempt}") in (200, 429)


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [ip_network(PROXY)]


# --- no trusted proxy (the default): X-Forwarded-For means nothing -------------------------


def test_lockout_default_trusts_no_proxy():
    assert settings.TRUSTED_PROXIES == []


def test_lockout_spoofed_forwarded_for_cannot_dodge_the_lockout(clinician):
    for attempt in range(5):
        login(client_at(ATTACKER, f"192.0.2.{attempt}"), "wrong-password")
    assert login(client_at(ATTACKER, "192.0.2.99"), PASSWORD) == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_lockout_spoofed_forwarded_for_cannot_lock_out_someone_else(clinician):
    fail_five_times(client_at(ATTACKER, ALICE_AT_HOME))
    assert login(client_at(ALICE_AT_HOME), PASSWORD) == 302


# --- behind one trusted proxy ---------------------------------------------------------------


def test_lockout_behind_proxy_locks_out_each_client_separately(clinician, behind_proxy):
    fail_five_times(via_proxy(ALICE_AT_HOME))
    assert login(via_proxy(ALICE_AT_HOME), PASSWORD) == 429
    # Alice at work goes through the same proxy and logs in.
    assert login(via_proxy(ALICE_AT_WORK), PASSWORD) == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ALICE_AT_HOME}


def test_lockout_behind_proxy_failures_elsewhere_do_not_lock_the_user_out(clinician, behind_proxy):
    fail_five_times(via_proxy(ATTACKER))
    assert login(via_proxy(ATTACKER), PASSWORD) == 429
    assert login(via_proxy(ALICE_AT_HOME), PASSWORD) == 302


def test_lockout_behind_proxy_ignores_what_the_client_put_in_front(clinician, behind_proxy):
    for attempt in range(5):
        login(via_proxy(ATTACKER, spoofed=f"192.0.2.{attempt}"), "wrong-password")
    assert login(via_proxy(ATTACKER, spoofed="192.0.2.99"), PASSWORD) == 429
    fail_five_times(via_proxy(ATTACKER, spoofed=ALICE_AT_WORK))
    assert login(via_proxy(ALICE_AT_WORK), PASSWORD) == 302


def test_lockout_behind_proxy_a_direct_client_is_not_believed(clinician, behind_proxy):
    """A client reaching the app without the proxy may send any header: it is its own
    address that counts."""
    fail_five_times(client_at(ATTACKER, ALICE_AT_HOME))
    assert login(client_at(ATTACKER, ALICE_AT_WORK), PASSWORD) == 429
    assert login(via_proxy(ALICE_AT_HOME), PASSWORD) == 302


def test_lockout_behind_proxy_api_basic_auth_is_per_client(clinician, behind_proxy):
    for _ in range(5):
        assert api_get(via_proxy(ATTACKER), "wrong-password") == 401
    assert api_get(via_proxy(ATTACKER), PASSWORD) == 401
    assert api_get(via_proxy(ALICE_AT_HOME), PASSWORD) == 200


def test_lockout_without_proxy_api_basic_auth_is_per_address(clinician):
    for _ in range(5):
        api_get(client_at(ATTACKER), "wrong-password")
    assert api_get(client_at(ATTACKER), PASSWORD) == 401
    assert api_get(client_at(ALICE_AT_HOME), PASSWORD) == 200


# --- the address, hop by hop ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "remote_addr", "forwarded_for", "expected"),
    [
        ([], "203.0.113.9", "198.51.100.7", "203.0.113.9"),
        (["10.0.0.2"], "203.0.113.9", "198.51.100.7", "203.0.113.9"),
        (["10.0.0.2"], "10.0.0.2", None, "10.0.0.2"),
        (["10.0.0.2"], "10.0.0.2", "", "10.0.0.2"),
        (["10.0.0.2"], "10.0.0.2", "198.51.100.7", "198.51.100.7"),
        (["10.0.0.2"], "10.0.0.2", "192.0.2.1, 198.51.100.7", "198.51.100.7"),
        (["10.0.0.2"], "10.0.0.2", "garbage, 198.51.100.7", "198.51.100.7"),
        # Two proxies in a row (a load balancer in front of nginx), both trusted.
        (["10.0.0.0/24"], "10.0.0.2", "192.0.2.1, 198.51.100.7, 10.0.0.5", "198.51.100.7"),
        # The nearer proxy is trusted, the one before it is not: it is the client.
        (["10.0.0.2"], "10.0.0.2", "198.51.100.7, 10.0.0.5", "10.0.0.5"),
        # A trusted proxy that sent an unreadable entry: the last hop known is kept.
        (["10.0.0.0/24"], "10.0.0.2", "198.51.100.7, not-an-address", "10.0.0.2"),
        (["2001:db8::/64"], "2001:db8::2", "2001:db8:1::7", "2001:db8:1::7"),
        (["10.0.0.2"], "::ffff:10.0.0.2", "::ffff:198.51.100.7", "198.51.100.7"),
    ],
)
def test_client_ip_walks_forwarded_for_only_through_trusted_proxies(
    settings, trusted, remote_addr, forwarded_for, expected
):
    settings.TRUSTED_PROXIES = [ip_network(network) for network in trusted]
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    assert client_ip(RequestFactory().get("/", **headers)) == expected


# --- configuration --------------------------------------------------------------------------


def test_env_networks_reads_addresses_and_networks(monkeypatch):
    monkeypatch.setenv("VENOUS_PROXIES", "10.0.0.2, 172.18.0.0/16,2001:db8::/64")
    assert env_networks("VENOUS_PROXIES", []) == [
        ip_network("10.0.0.2/32"),
        ip_network("172.18.0.0/16"),
        ip_network("2001:db8::/64"),
    ]
    monkeypatch.delenv("VENOUS_PROXIES")
    assert env_networks("VENOUS_PROXIES", []) == []


def test_env_networks_rejects_a_typo(monkeypatch):
    monkeypatch.setenv("VENOUS_PROXIES", "10.0.0.2,nginx")
    with pytest.raises(ImproperlyConfigured, match="VENOUS_PROXIES must list IP addresses"):
        env_networks("VENOUS_PROXIES", [])


def test_settings_trusted_proxies_come_from_the_environment():
    code = "import venousapp.settings as s; print([str(n) for n in s.TRUSTED_PROXIES])"
    result = run(["-c", code], production_env(TRUSTED_PROXIES="172.18.0.1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['172.18.0.1/32']"
    result = run(["-c", "import venousapp.settings"], production_env(TRUSTED_PROXIES="proxy"))
    assert result.returncode != 0
    assert "TRUSTED_PROXIES must list IP addresses" in result.stderr
