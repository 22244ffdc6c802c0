"""Changes no person made (Celery tasks, management commands, post_migrate) are recorded in the
history under a named system account, never anonymously; that account cannot log in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.db import IntegrityError
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from cases.models import Patient
from venousapp.accounts.models import SYSTEM_USERNAME, User
from venousapp.history import save_with_history


def _history_rows_since(start):
    for model in apps.get_models():
        if model.__name__.startswith("Historical") and hasattr(model, "history_user"):
            yield from model.objects.filter(history_date__gte=start)


def test_changes_without_a_person_name_the_system_account(patient_a, centre_a):
    start = timezone.now()
    patient_a.phone = "+41 44 000 00 00"
    save_with_history(patient_a, user=None, reason="Imported by a nightly task")
    patient_a.phone = "+41 44 000 00 01"
    patient_a.save()  # outside any request and without the helper
    bulk_create_with_history(
        [
            Patient(centre=centre_a, identifier=f"B-{n}", date_of_birth=dt.date(1970, 1, 1))
            for n in range(3)
        ],
        Patient,
    )
    rows = list(_history_rows_since(start))
    system = User.system()
    assert len(rows) >= 5
    assert {row.history_user_id for row in rows} == {system.pk}
    assert system.username == SYSTEM_USERNAME


def test_a_change_by_a_person_still_names_her(patient_a, clinician):
    start = timezone.now()
    save_with_history(patient_a, user=clinician, reason="corrected")
    assert [row.history_user_id for row in _history_rows_since(start)] == [clinician.pk]


def test_the_system_account_cannot_log_in(client, db):
    system = User.system()
    assert User.system().pk == system.pk  # one account, made once
    assert not system.is_active
    assert not system.has_usable_password()
    assert system.centre_id is None
    client.force_login(system)
    response = client.get("/cases/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_every_person_has_a_centre(db):
    with pytest.raises(IntegrityError):
        User.objects.create(username="nobody-in-particular")
