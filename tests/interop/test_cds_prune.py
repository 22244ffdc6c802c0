"""The record of CDS Hooks calls does not grow for ever: a call whose token has expired is
kept ``CDS_HOOKS_CALLS_KEEP_DAYS`` for the feedback on its cards, then removed by a daily task."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from interop import cds_hooks, tasks
from interop.models import HookCall
from tests.interop.test_cds_hooks import PREGNANT_ACUTE_DVT, SERVICE, _today, call, ehr, hook_body

__all__ = ["ehr"]  # the fixture, used by name


def _answered(client, ehr) -> list[dict]:
    response = call(client, hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre)))
    assert response.status_code == 200, response.content
    return response.json()["cards"]


def test_calls_are_kept_for_the_retention_period_then_pruned_with_their_cards(
    client, ehr, settings
):
    settings.CDS_HOOKS_CALLS_KEEP_DAYS = 30
    start = timezone.now()
    with time_machine.travel(start - dt.timedelta(days=31)):
        _answered(client, ehr)
    with time_machine.travel(start - dt.timedelta(days=29)):
        kept_cards = _answered(client, ehr)
    _answered(client, ehr)
    assert HookCall.objects.count() == 3

    assert cds_hooks.calls_prune(now=start) == 1
    assert HookCall.objects.count() == 2
    kept = HookCall.objects.order_by("called_at").first()
    assert set(kept.cards) == {card["uuid"] for card in kept_cards}
    assert cds_hooks.calls_prune(now=start) == 0


def test_a_call_whose_token_has_not_expired_is_kept(client, ehr, settings):
    settings.CDS_HOOKS_CALLS_KEEP_DAYS = 1
    _answered(client, ehr)
    HookCall.objects.update(
        called_at=timezone.now() - dt.timedelta(days=2),
        expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
    assert cds_hooks.calls_prune() == 0  # its jti must still be refused a second time


def test_feedback_on_a_pruned_card_is_refused(client, ehr, settings):
    settings.CDS_HOOKS_CALLS_KEEP_DAYS = 1
    card = _answered(client, ehr)[0]
    assert cds_hooks.calls_prune(now=timezone.now() + dt.timedelta(days=2)) == 1
    body = {"feedback": [{"card": card["uuid"], "outcome": "accepted"}]}
    assert call(client, body, path=f"{SERVICE}/feedback").status_code == 400


def test_the_daily_task_prunes_and_is_scheduled(client, ehr, settings):
    settings.CDS_HOOKS_CALLS_KEEP_DAYS = 1
    _answered(client, ehr)
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        assert tasks.calls_prune.apply(throw=True).result == 1
    entry = PeriodicTask.objects.get(task="interop.calls_prune")
    assert entry.enabled
    assert (entry.interval.every, entry.interval.period) == (1, "days")


def test_the_admin_shows_a_call_and_its_cards_read_only(client, ehr, centre_a):
    cards = _answered(client, ehr)
    root = get_user_model().objects.create_superuser(
        "root", "root@example.org", "x", centre=centre_a
    )
    client.force_login(root)
    page = client.get(f"/admin/interop/hookcall/{HookCall.objects.get().pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert cards[0]["uuid"] in html
    assert 'name="jti"' not in html
