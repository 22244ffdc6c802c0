"""Reviewing rule versions: a submitted version reaches the other guideline admins (in the app,
by e-mail, on their home page); a version that differs from the shipped rule files is
flagged "locally modified" wherever it is shown; the author sees no approve button."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from followup import notifications, tasks
from followup.models import NoticeMail, Notification
from guidelines.services import authoring
from tests.guidelines.rule_admin import (
    ETR03,
    acute_iliofemoral_case,
    onset_draft,
    publish,
    second_admin,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_admin(centre_a):
    return second_admin(centre_a)


def test_submitting_tells_the_other_admins_in_app_and_by_mail(
    guideline_admin, other_admin, django_capture_on_commit_callbacks, monkeypatch
):
    task = tasks.deliver_notice_mail
    monkeypatch.setattr(task, "delay", lambda mail_id: task.apply(args=[mail_id]))
    draft = onset_draft(guideline_admin)
    with django_capture_on_commit_callbacks(execute=True):
        authoring.rule_version_submit(version=draft, user=guideline_admin)
    notices = Notification.objects.filter(kind="approval")
    assert [n.recipient for n in notices] == [other_admin]
    notice = notices.get()
    assert notice.url == reverse("guidelines:version", args=[ETR03, draft.number])
    sent = NoticeMail.objects.get(notice=notice)
    assert (sent.outcome, sent.sent_at is not None) == ("sent", True)
    assert [m.to for m in mail.outbox] == [[other_admin.email]]
    assert f"{ETR03} v{draft.number} awaits your approval" in mail.outbox[0].subject
    # a redelivered task sends nothing more
    assert notifications.notice_mail_send(sent.pk) == "nothing to do"
    assert len(mail.outbox) == 1


def test_a_broker_down_at_submission_delays_the_mail_but_loses_nothing(
    guideline_admin, other_admin, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    for task in (tasks.deliver_notice_mail, tasks.deliver_reminders):
        monkeypatch.setattr(task, "delay", broker_down)
    draft = onset_draft(guideline_admin)
    with django_capture_on_commit_callbacks(execute=True):
        authoring.rule_version_submit(version=draft, user=guideline_admin)
    draft.refresh_from_db()
    assert draft.status == "pending"
    assert Notification.objects.filter(kind="approval", recipient=other_admin).exists()
    assert mail.outbox == []
    # the broker is back: the periodic sweep sends the copy its message never carried
    later = timezone.now() + notifications.CLAIM_TIMEOUT + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.reminders_sweep(now=later, dispatcher=notifications.deliver_inline)
    assert [m.to for m in mail.outbox] == [[other_admin.email]]


def test_the_other_admins_home_page_lists_what_awaits_them(
    client, guideline_admin, other_admin, django_capture_on_commit_callbacks
):
    draft = onset_draft(guideline_admin)
    with django_capture_on_commit_callbacks(execute=False):
        authoring.rule_version_submit(version=draft, user=guideline_admin)
    client.force_login(other_admin)
    home = client.get("/", follow=True)
    assert home.redirect_chain[-1][0] == reverse("guidelines:rule-list")
    html = home.content.decode()
    assert 'id="awaiting-approval"' in html
    assert f"{ETR03} v{draft.number}" in html
    client.force_login(guideline_admin)  # the author: nothing awaits her own approval
    assert 'id="awaiting-approval"' not in client.get("/", follow=True).content.decode()


def test_the_author_sees_no_approve_button(
    client, guideline_admin, other_admin, django_capture_on_commit_callbacks
):
    draft = onset_draft(guideline_admin)
    with django_capture_on_commit_callbacks(execute=False):
        authoring.rule_version_submit(version=draft, user=guideline_admin)
    url = reverse("guidelines:version", args=[ETR03, draft.number])
    client.force_login(guideline_admin)
    assert "Approve and publish" not in client.get(url).content.decode()
    client.force_login(other_admin)
    assert "Approve and publish" in client.get(url).content.decode()


def test_a_locally_modified_rule_is_flagged_everywhere(
    client_for, guideline_admin, other_admin, centre_a, clinician
):
    clinician_client = client_for("clinician")
    case = acute_iliofemoral_case(centre=centre_a, author=clinician, onset_days=5)
    case_url = reverse("cases:detail", args=[case.pk])
    assert "locally modified" not in clinician_client.get(case_url).content.decode()
    draft = onset_draft(guideline_admin, days=21)
    published = publish(draft, author=guideline_admin, approver=other_admin)
    admin = client_for("guideline_admin")
    for url in (
        reverse("guidelines:rule-list"),
        reverse("guidelines:rule", args=[ETR03]),
        reverse("guidelines:version", args=[ETR03, published.number]),
    ):
        assert "locally modified" in admin.get(url).content.decode(), url
    card_page = clinician_client.get(case_url).content.decode()
    start = card_page.index('id="rule-SVSAVF-2012-ETR-03"')
    assert "locally modified" in card_page[start : card_page.index("</article>", start)]
    other = reverse("guidelines:rule", args=["ESVS-2021-VT-ETR"])
    assert "locally modified" not in admin.get(other).content.decode()
