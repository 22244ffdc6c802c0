"""Kept pages (venousapp/pagecache.py): a page is answered again without running its view only
while nothing it was made from has changed, and it is always what the view would answer now.

These tests commit (transactional): the data's generation moves only when a transaction
commits, and no page is kept inside a transaction.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Patient, SegmentFinding
from followup.models import PatencyReport, Visit, VisitState
from interop.models import HookCall
from planning.models import ProcedurePlan
from tests.factories import UserFactory
from tests.generation import while_unchanged
from tests.world import World
from venousapp import generation
from venousapp.accounts.models import Centre
from venousapp.models import DataGeneration, JobStatus

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')
CHECKED = re.compile(r"<input[^>]* checked[ >]")
TOKEN_ANYWHERE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
# A kept answer reads the session and the user (with her centre and the generation), nothing
# else: the floor of every page.
KEPT_QUERIES = 2


@pytest.fixture(autouse=True)
def _empty_cache():
    caches["pages"].clear()
    yield
    caches["pages"].clear()


@pytest.fixture
def world(clinician, nurse, guideline_admin) -> World:
    return World(clinician=clinician, nurse=nurse, guideline_admin=guideline_admin)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(client: Client, url: str, **headers: str) -> tuple[str, int]:
    """The page's text and how many SQL statements answering it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode(), len(queries)


def tokenless(page: str) -> str:
    return TOKEN_ANYWHERE.sub("TOKEN", page)


def finished_report(world: World) -> PatencyReport:
    """A report no worker will change between two requests (a queued one may be taken up by
    the Celery worker of the other tests meanwhile, which rightly makes the page again)."""
    now = timezone.now()
    return PatencyReport.objects.create(
        centre=world.clinician.centre,
        created_by=world.clinician,
        status=JobStatus.FAILED,
        error="Stopped for the test.",
        created_at=now,
        finished_at=now,
    )


ROUTES = {
    "case page": ("clinician", lambda w: f"/cases/{w.case.pk}/"),
    "case list": ("clinician", lambda w: "/cases/"),
    "case list, searched and sorted": ("clinician", lambda w: "/cases/?q=a&sort=-updated"),
    "sign decision": ("clinician", lambda w: f"/cases/{w.case.pk}/decisions/sign/"),
    "decision list": ("clinician", lambda w: f"/cases/{w.decision.case_id}/decisions/"),
    "worklist": ("nurse", lambda w: "/followup/worklist/"),
    "plan": ("clinician", lambda w: f"/planning/plans/{w.plan.pk}/"),
    "patency report": ("clinician", lambda w: f"/followup/patency/?report={finished_report(w).pk}"),
    "API case list": (
        "clinician",
        lambda w: f"/api/v1/cases/?lesion_entity={w.case.lesion_entity}",
    ),
}


def _route(world: World, name: str) -> tuple[Client, str]:
    persona, url = ROUTES[name]
    if name == "worklist":
        assert world.visit
    return logged_in(getattr(world, persona)), url(world)


@pytest.mark.parametrize("name", ROUTES)
def test_page_cache_answers_an_unchanged_page_again_until_a_change_commits(world, name):
    client, url = _route(world, name)
    first, made, again, kept = while_unchanged(lambda: (*get(client, url), *get(client, url)))
    assert kept == KEPT_QUERIES
    assert made > kept
    assert tokenless(again) == tokenless(first)
    Centre.objects.filter(pk=world.clinician.centre_id).update(phone="+49 30 0000")
    _page, queries = get(client, url)
    assert queries > KEPT_QUERIES


def test_page_cache_case_page_shows_a_finding_changed_behind_the_orm(world):
    client = logged_in(world.clinician)
    url = f"/cases/{world.case.pk}/"
    get(client, url)
    finding = world.case.findings.order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SegmentFinding._meta.db_table} SET lesion_length_mm = 137 WHERE id = %s",  # noqa: S608
            [finding.pk],
        )
    page, _queries = get(client, url)
    assert "137" in page


def test_page_cache_worklist_follows_a_visit_done_elsewhere(world):
    client = logged_in(world.nurse)
    visit = world.visit
    first, _queries = get(client, "/followup/worklist/")
    assert f"/followup/visits/{visit.pk}/" in first
    Visit.objects.filter(pk=visit.pk).update(state=VisitState.CANCELLED)
    page, _queries = get(client, "/followup/worklist/")
    assert f"/followup/visits/{visit.pk}/" not in page


def test_page_cache_keeps_nothing_seen_inside_a_transaction(world):
    client = logged_in(world.clinician)
    url = f"/cases/{world.case.pk}/"
    patient = world.case.patient
    with transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(identifier="UNSAVED-77")
        inside, _queries = get(client, url)
        assert "UNSAVED-77" in inside
        transaction.set_rollback(True)
    page, queries = get(client, url)
    assert "UNSAVED-77" not in page
    assert queries > KEPT_QUERIES


def test_page_cache_each_user_has_her_own_page(world, clinician):
    colleague = UserFactory(username="carla", centre=clinician.centre, role="clinician")
    url = f"/cases/{world.case.pk}/"
    alices, _queries = get(logged_in(world.clinician), url)
    carlas, queries = get(logged_in(colleague), url)
    assert queries > KEPT_QUERIES
    assert ">carla ·" in carlas.replace("\n", "")
    assert ">alice ·" in alices.replace("\n", "")


def test_page_cache_a_draft_kept_in_the_session_shows_at_once(world):
    """The decision draft lives in the session, which no table counts: the session's contents
    are part of what a kept page must match."""
    client = logged_in(world.clinician)
    url = f"/cases/{world.case.pk}/"
    before, _queries = get(client, url)
    page = client.get(url)
    after = TOKEN.search(page.content.decode()).group(1)
    drafted = client.post(
        f"/cases/{world.case.pk}/decisions/draft/",
        {"after": re.search(r'name="after" value="(\d+)"', before).group(1), "fill": "accepted"},
        headers={"x-csrftoken": after},
    )
    assert drafted.status_code in (200, 204, 302)
    page, queries = get(client, url)
    assert queries > KEPT_QUERIES
    assert len(CHECKED.findall(page)) > len(CHECKED.findall(before))


def test_page_cache_each_answer_has_a_fresh_csrf_token_that_works(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.clinician)
    url = f"/cases/{world.case.pk}/"
    get(client, url)
    tokens = [TOKEN.search(get(client, url)[0]).group(1) for _ in range(2)]
    assert tokens[0] != tokens[1]
    for token in tokens:
        response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
        assert response.status_code == 302
        client.force_login(world.clinician)


def test_page_cache_a_waiting_message_is_shown_not_a_kept_page(world):
    client = logged_in(world.clinician)
    plan = world.signed_plan
    url = f"/planning/plans/{plan.pk}/"

    def step():
        get(client, url)
        redirected = client.get(f"/planning/plans/{plan.pk}/edit/", follow=True)
        assert "The plan is signed; reopen it before changing it." in redirected.content.decode()
        return get(client, url)

    page, queries = while_unchanged(step)
    assert "The plan is signed" not in page
    assert queries == KEPT_QUERIES


def test_page_cache_a_new_day_makes_the_page_again(world):
    assert world.visit
    zone = world.nurse.centre.zone
    evening = dt.datetime.combine(timezone.localdate(), dt.time(23, 30), tzinfo=zone)
    with time_machine.travel(evening, tick=False) as clock:
        client = logged_in(world.nurse)
        get(client, "/followup/worklist/")
        clock.move_to(evening + dt.timedelta(hours=1))
        _page, queries = get(client, "/followup/worklist/")
    assert queries > KEPT_QUERIES


def test_page_cache_patency_computed_now_is_not_kept(world):
    client = logged_in(world.clinician)
    first = client.get("/followup/patency/")
    assert first.status_code == 200
    assert "no-store" in first["Cache-Control"]
    _page, queries = get(client, "/followup/patency/")
    assert queries > KEPT_QUERIES


def test_page_cache_post_is_never_answered_from_a_kept_page(world):
    client = logged_in(world.clinician)
    plan = world.plan
    url = f"/planning/plans/{plan.pk}/"
    get(client, url)
    ProcedurePlan.objects.filter(pk=plan.pk).update(notes="Kept notes")
    page, _queries = get(client, url)
    assert "Kept notes" in page


def test_generation_counts_every_table_but_the_uncounted():
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, array_agg(t.tgname::text ORDER BY t.tgname)
                 FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 LEFT JOIN pg_trigger t
                   ON t.tgrelid = c.oid AND t.tgname LIKE 'venousapp_generation%%'
                WHERE c.relkind = 'r' AND n.nspname = current_schema()
                GROUP BY c.relname"""
        )
        triggers = dict(cursor.fetchall())
    assert "cases_case" in triggers
    assert "followup_visit" in triggers
    assert triggers[HookCall._meta.db_table] == [None]
    for table, names in triggers.items():
        expected = (
            [generation.TRIGGER, generation.TRUNCATE_TRIGGER]
            if generation.counted(table)
            else [None]
        )
        assert names == expected, table
    assert generation.generation_prepare(connection) == []


def test_generation_moves_once_per_committed_transaction(world):
    case = world.case
    start = generation.current()
    with transaction.atomic():
        for length in (10, 20, 30):
            SegmentFinding.objects.filter(case=case).update(lesion_length_mm=length)
        assert generation.current() == start
    assert generation.current() == start + 1
    with transaction.atomic():
        SegmentFinding.objects.filter(case=case).update(lesion_length_mm=40)
        transaction.set_rollback(True)
    assert generation.current() == start + 1
    SegmentFinding.objects.filter(case=case).delete()
    assert generation.current() == start + 2
    SegmentFinding.objects.filter(case=case).delete()  # no row: nothing changed
    assert generation.current() == start + 2


def test_generation_never_comes_back_after_its_row_was_removed():
    before = generation.current()
    DataGeneration.objects.all().delete()
    assert generation.current() is None
    generation.generation_prepare(connection)
    assert generation.current() > before


def test_page_cache_api_answers_the_user_the_api_authenticated(world, other_centre_clinician):
    """A session of one user and a token of another: the API answers the token's user, kept
    answers included."""
    from tests.test_api_tokens import create_token

    token = create_token(logged_in(other_centre_clinician))
    alice = logged_in(world.clinician)
    url = "/api/v1/cases/"
    listed = f'"id":{world.case.pk},'
    assert listed in get(alice, url)[0].replace(" ", "")
    get(alice, url)
    bobs, _queries = get(alice, url, authorization=f"Token {token}")
    assert listed not in bobs.replace(" ", "")
    assert get(alice, url, authorization=f"Token {token}")[0] == bobs
