"""/healthz: database, broker and a real worker round trip; open to anonymous probes."""

import socket

import pytest
from django.test import Client
from django.urls import reverse


def _closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_healthz_without_worker_reports_database_and_broker_ok():
    response = Client().get(reverse("healthz"), {"worker": "skip"})

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert "worker" not in body["checks"]


@pytest.mark.django_db
def test_healthz_needs_no_login_and_is_never_cached():
    response = Client().get(reverse("healthz"), {"worker": "skip"})

    assert response.status_code == 200  # not a redirect to the login page
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(monkeypatch):
    # Celery reads this variable before its configuration, so it overrides REDIS_URL.
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", f"redis://127.0.0.1:{_closed_port()}/0")

    response = Client().get(reverse("healthz"), {"worker": "skip"})

    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_healthz_with_a_real_worker_reports_the_round_trip(celery_worker_proc):
    response = Client().get(reverse("healthz"))

    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] is True
    assert body["checks"]["worker"]["ok"] is True
    assert body["checks"]["worker"]["round_trip_ms"] < 5000
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "broker",
        "worker",
    }
