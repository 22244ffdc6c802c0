"""How the CDS Hooks service records a call: its commit does not wait for the disk, for that
one transaction only; every other write of the same connection (clinical records) still does."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from interop.models import HookCall, IssuedCard
from tests.interop.test_cds_hooks import PREGNANT_ACUTE_DVT, _today, call, ehr, hook_body

__all__ = ["ehr"]  # the fixture, used by name
SET_LOCAL = "SET LOCAL synchronous_commit TO OFF"


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_call_record_is_committed_without_waiting_for_the_disk(client, ehr):
    assert _synchronous_commit() == "on"
    with CaptureQueriesContext(connection) as queries:
        response = call(client, hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre)))
    assert response.status_code == 200, response.content
    sql = [q["sql"] for q in queries.captured_queries]
    assert SET_LOCAL in sql
    assert sql.index(SET_LOCAL) < next(
        i for i, s in enumerate(sql) if s.startswith('INSERT INTO "interop_hookcall"')
    )
    assert _synchronous_commit() == "on"  # the setting ended with the transaction
    (stored,) = HookCall.objects.all()
    assert IssuedCard.objects.filter(call=stored).count() == len(response.json()["cards"])


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_the_commit_still_waits(client, ehr):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        response = call(client, hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre)))
        assert _synchronous_commit() == "on"
    assert response.status_code == 200, response.content
    assert SET_LOCAL not in [q["sql"] for q in queries.captured_queries]
