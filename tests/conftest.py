"""Personas and shared fixtures.

Alice (clinician), Nina (nurse) and Gustav (guideline admin) work at centre A; Bob is a
clinician at centre B and must never see centre A's patients.
"""

import os

import pytest
from django.test import Client

from tests.celery_worker import celery_worker
from tests.factories import CaseFactory, CentreFactory, PatientFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API in tests


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    names = getattr(item, "fixturenames", ())
    return (
        bool(marker and marker.kwargs.get("transaction"))
        or "live_server" in names
        or ("transactional_db" in names)
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Transactional tests (browser, worker) run last and restore the migrated data.

    They flush the database when they end, which removes what data migrations loaded (roles,
    published rules, device catalogue, protocols); ``serialized_rollback`` puts it back for
    each of them, and running them last keeps every other test on the migrated data.
    """
    for item in items:
        if _is_transactional(item):
            item.add_marker(
                pytest.mark.django_db(transaction=True, serialized_rollback=True), append=False
            )
    items.sort(key=lambda item: 1 if _is_transactional(item) else 0)


@pytest.fixture(scope="session", autouse=True)
def _serialized_contents_for_every_context(django_db_setup, django_db_blocker) -> None:
    """Make the serialized copy of the migrated data visible from every execution context.

    Django keeps it on the connection object, and connections are per context (asgiref
    ``Local``). Playwright's sync API runs tests in a greenlet with a context of its own, so a
    browser test sees a fresh connection without the copy: its ``serialized_rollback`` would
    silently restore nothing, and the tests after it would run on a flushed database.
    """
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            contents = getattr(connection, "_test_serialized_contents", None)
            if contents is not None:
                type(connection)._test_serialized_contents = contents


@pytest.fixture
def centre_a(db):
    return CentreFactory(code="centre-a", name="Centre A")


@pytest.fixture
def centre_b(db):
    return CentreFactory(code="centre-b", name="Centre B")


@pytest.fixture
def clinician(centre_a):
    return UserFactory(username="alice", centre=centre_a, role="clinician")


@pytest.fixture
def nurse(centre_a):
    return UserFactory(username="nina", centre=centre_a, role="nurse")


@pytest.fixture
def guideline_admin(centre_a):
    return UserFactory(username="gustav", centre=centre_a, role="guideline_admin")


@pytest.fixture
def other_centre_clinician(centre_b):
    return UserFactory(username="bob", centre=centre_b, role="clinician")


PERSONAS = ["clinician", "nurse", "guideline_admin", "other_centre_clinician", "anonymous"]


@pytest.fixture
def client_for(request, db):
    """client_for("nurse") -> a test client logged in as that persona (or anonymous)."""

    def make(persona: str) -> Client:
        client = Client()
        if persona != "anonymous":
            client.force_login(request.getfixturevalue(persona))
        return client

    return make


@pytest.fixture
def patient_a(centre_a):
    return PatientFactory(centre=centre_a, identifier="A-1001")


@pytest.fixture
def case_a(patient_a, clinician):
    return CaseFactory(patient=patient_a, author=clinician)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def celery_worker_proc(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process consuming the real broker, on the test database."""
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    with celery_worker(
        log_path, settings_module="venousapp.settings_test", worker_args=["--pool=solo"]
    ) as proc:
        yield proc
