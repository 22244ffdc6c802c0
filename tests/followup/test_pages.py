"""Follow-up pages as the nurse and the clinician use them: the contact log (htmx), result
entry with the case form's score widgets, the invitation letter, escalations on every page
until acknowledged, notifications and the bell, protocol revision."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache

from cases import scores
from cases.forms import CaseForm
from followup import notifications, tasks
from followup.forms import VisitResultForm
from followup.models import Escalation, Notification, Protocol, Visit
from followup.services.results import reintervention_record, visit_result_record
from tests.followup.conftest import NOW, TODAY
from tests.followup.test_permissions import SEGMENT_POST, protocol_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def visit(schedule) -> Visit:
    return schedule.visits.get(label="3 months")


def result_post(**changes: Any) -> dict[str, Any]:
    return {
        "result-performed_on": TODAY.isoformat(),
        "result-phasicity": "phasic",
        **SEGMENT_POST,
        **changes,
    }


def test_nurse_logs_a_call_with_htmx_and_sees_it_listed(client_for, visit):
    client = client_for("nurse")
    response = client.post(
        f"/followup/visits/{visit.pk}/contacts/",
        {"method": "phone", "outcome": "no_answer", "note": "Try later"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert next(t.name for t in response.templates) == "followup/_contacts.html"
    html = response.content.decode()
    assert "Phone call</strong>: No answer" in html
    assert "Try later" in html
    bad = client.post(
        f"/followup/visits/{visit.pk}/contacts/", {"method": "fax"}, headers={"HX-Request": "true"}
    )
    assert "field-error" in bad.content.decode()


def test_result_form_uses_the_case_forms_score_labels_and_grades(client_for, visit):
    response = client_for("nurse").get(f"/followup/visits/{visit.pk}/result/")
    assert response.status_code == 200
    html = response.content.decode()
    form = response.context["form"]
    case_form = CaseForm()
    for item in scores.VCSS_ITEMS:
        name = f"vcss_{item.key}"
        assert form.fields[name].label == case_form.fields[name].label == item.label
        assert list(form.fields[name].choices) == list(case_form.fields[name].choices)
    for item in scores.VILLALTA_ITEMS:
        name = f"villalta_{item.key}"
        assert list(form.fields[name].choices) == list(case_form.fields[name].choices)
    assert "0 – None" in html
    assert 'data-segment="CIV left"' in html
    assert 'data-segment="EIV left"' in html
    assert set(VisitResultForm.Meta.fields) >= {
        "ulcer_status",
        "compression_use",
        "pain_vas",
        "antithrombotic_adherence",
        "inflow_cfv",
        "inflow_fv",
        "inflow_dfv",
        "phasicity",
        "contralateral_iliac",
    }


def test_recording_an_abnormal_duplex_warns_and_escalates(client_for, visit, clinician):
    client = client_for("nurse")
    response = client.post(
        f"/followup/visits/{visit.pk}/result/",
        result_post(**{"segments-0-isr_percent": "60", "result-vcss_pain": "2"}),
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Abnormal findings were sent to the responsible clinician" in html
    assert "In-stent restenosis ≥ 50 %" in html
    escalation = Escalation.objects.get()
    assert escalation.clinician == clinician
    visit.refresh_from_db()
    assert visit.state == "done"
    assert visit.result.vcss_pain == 2


@pytest.mark.django_db(transaction=True)  # on_commit runs as in production, inside the request
def test_a_broker_down_never_fails_the_save_and_the_sweep_sends_later(
    client_for, visit, clinician, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.deliver_escalation_notice, "delay", broker_down)
    response = client_for("nurse").post(
        f"/followup/visits/{visit.pk}/result/",
        result_post(**{"segments-0-isr_percent": "60"}),
        follow=True,
    )
    assert response.status_code == 200
    assert "Abnormal findings were sent to the responsible clinician" in response.content.decode()
    escalation = Escalation.objects.get()
    assert mail.outbox == []
    later = NOW + notifications.CLAIM_TIMEOUT + dt.timedelta(minutes=1)
    notifications.reminders_sweep(now=later, dispatcher=notifications.deliver_inline)
    sent = [m for m in mail.outbox if "abnormal follow-up finding" in m.subject]
    assert [m.to for m in sent] == [[clinician.email]]
    assert Notification.objects.filter(escalation=escalation, recipient=clinician).exists()


def test_a_result_with_errors_keeps_the_input_and_lists_the_errors(client_for, visit):
    response = client_for("nurse").post(
        f"/followup/visits/{visit.pk}/result/",
        result_post(**{"segments-0-isr_percent": "150", "result-pain_vas": "12"}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert 'value="150"' in html
    visit.refresh_from_db()
    assert visit.state == "planned"


def test_reschedule_and_close_from_the_visit_page(client_for, visit, nurse):
    client = client_for("nurse")
    target = TODAY + dt.timedelta(days=9)
    response = client.post(
        f"/followup/visits/{visit.pk}/reschedule/",
        {"target_on": target.isoformat(), "reason": "In hospital"},
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.target_on == target
    response = client.post(
        f"/followup/visits/{visit.pk}/reschedule/", {"target_on": target.isoformat(), "reason": ""}
    )
    assert response.status_code == 400
    client.post(f"/followup/visits/{visit.pk}/close/", {"reason": "Declined further visits"})
    visit.refresh_from_db()
    assert (visit.state, visit.close_reason) == ("cancelled", "Declined further visits")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def letter_text(client: Any, visit: Visit, path: Any) -> tuple[str, str]:
    response = client.get(f"/followup/visits/{visit.pk}/letter.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    path.write_bytes(response.content)
    pdftotext, pdfinfo = shutil.which("pdftotext"), shutil.which("pdfinfo")
    text = subprocess.run(
        [pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    info = subprocess.run([pdfinfo, str(path)], capture_output=True, text=True, check=True).stdout
    return text, info


def test_invitation_letter_is_an_a4_pdf_with_the_window(client_for, visit, tmp_path):
    client = client_for("nurse")
    text, info = letter_text(client, visit, tmp_path / "overdue.pdf")
    assert "595.276 x 841.89 pts (A4)" in info
    assert "Invitation to your follow-up examination" in text
    assert visit.schedule.case.patient.identifier in text
    # Overdue on TODAY: the letter asks for a date before the window closes.
    assert "As soon as possible, at the latest on" in text
    assert visit.latest_on.strftime("%-d %B %Y") in text
    later = visit.schedule.visits.get(label="6 months")
    text, _ = letter_text(client, later, tmp_path / "later.pdf")
    assert f"Preferably on {later.target_on.strftime('%A, %-d %B %Y')}" in " ".join(text.split())
    assert later.earliest_on.strftime("%-d %B %Y") in text


def test_invitation_letter_has_the_address_block_and_the_clinic_phone(client_for, visit, tmp_path):
    centre = visit.schedule.centre
    centre.address = "Klinikum Mitte, Gefäßzentrum\nRingstraße 1, 10117 Berlin"
    centre.phone = "+49 30 450 0000"
    centre.save()
    patient = visit.schedule.case.patient
    patient.name = "Erika Mustermann"
    patient.address = "Lindenweg 4\n12345 Musterstadt"
    patient.save()
    text, _ = letter_text(client_for("nurse"), visit, tmp_path / "letter.pdf")
    flat = " ".join(text.split())
    assert "Lindenweg 4" in text
    assert "12345 Musterstadt" in text
    assert "Please call our clinic on +49 30 450 0000" in flat
    assert "Ringstraße 1, 10117 Berlin" in flat


def raise_escalation(visit: Visit, nurse: Any) -> Escalation:
    visit_result_record(
        visit=visit,
        user=nurse,
        now=NOW,
        data={"performed_on": TODAY},
        segments=[
            {"segment": "CIV", "side": "left", "patency": "occluded"},
            {"segment": "EIV", "side": "left", "patency": "patent"},
        ],
    )
    return Escalation.objects.get()


def test_open_escalations_show_on_the_clinicians_pages_until_acknowledged(
    client_for, visit, nurse, case_a
):
    escalation = raise_escalation(visit, nurse)
    client = client_for("clinician")
    home = client.get("/", follow=True)
    assert 'id="escalation-banner"' in home.content.decode()
    case_page = client.get(f"/cases/{visit.schedule.case_id}/")
    assert 'id="escalation-banner"' in case_page.content.decode()
    assert (
        'id="escalation-banner"'
        not in client_for("nurse").get("/followup/worklist/").content.decode()
    )
    page = client.get(f"/followup/escalations/{escalation.pk}/").content.decode()
    assert "Stent occlusion (CIV left)" in page
    response = client.post(f"/followup/escalations/{escalation.pk}/acknowledge/", follow=True)
    assert 'id="escalation-banner"' not in response.content.decode()
    escalation.refresh_from_db()
    assert escalation.acknowledged_at == NOW
    assert 'id="escalation-banner"' not in client.get("/", follow=True).content.decode()


def test_decide_reimage_from_the_page_adds_a_visit(client_for, visit, nurse):
    escalation = raise_escalation(visit, nurse)
    response = client_for("clinician").post(
        f"/followup/escalations/{escalation.pk}/decide/",
        {"decision": "reimage", "reimage_kind": "ct_venography", "note": "CT to confirm"},
    )
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.reimage_visit.kind == "ct_venography"
    decide_reintervene = client_for("clinician").post(
        f"/followup/escalations/{escalation.pk}/decide/", {"decision": "reintervene"}
    )
    assert decide_reintervene["Location"].endswith(
        f"/reinterventions/new/?escalation={escalation.pk}"
    )


def test_a_decided_escalation_shows_its_decision_not_a_blank_form(client_for, visit, nurse):
    escalation = raise_escalation(visit, nurse)
    client = client_for("clinician")
    url = f"/followup/escalations/{escalation.pk}/"
    assert 'id="decision-form"' in client.get(url).content.decode()
    client.post(f"{url}decide/", {"decision": "observe", "note": "Asymptomatic; recheck."})
    page = client.get(url).content.decode()
    assert 'id="decision-form"' not in page
    assert 'id="decision-recorded"' in page
    assert "Asymptomatic; recheck." in page
    change = client.get(url, {"change": "1"}).content.decode()
    assert 'id="decision-form"' in change
    assert "Record the changed decision" in change


def test_the_bell_counts_unread_notifications_and_opening_one_reads_it(client_for, visit, nurse):
    note = Notification.objects.create(
        recipient=nurse,
        kind="window_open",
        title="Due now",
        url=f"/followup/visits/{visit.pk}/",
        visit=visit,
        created_at=NOW,
    )
    client = client_for("nurse")
    page = client.get("/followup/worklist/").content.decode()
    assert 'id="bell-count"' in page
    assert "Notifications, 1 unread" in page
    listed = client.get("/followup/notifications/").content.decode()
    assert "Due now" in listed
    response = client.post(f"/followup/notifications/{note.pk}/open/")
    assert response["Location"] == f"/followup/visits/{visit.pk}/"
    note.refresh_from_db()
    assert note.read_at == NOW
    assert 'id="bell-count"' not in client.get("/followup/worklist/").content.decode()


def test_the_bell_shows_a_new_notification_on_the_next_page(client_for, visit, nurse):
    client = client_for("nurse")
    assert 'id="bell-count"' not in client.get("/followup/notifications/").content.decode()
    Notification.objects.create(recipient=nurse, kind="digest", title="Later", created_at=NOW)
    # The counts are read for each page, not kept in the session (which is written only
    # every few minutes).
    assert 'id="bell-count"' in client.get("/followup/worklist/").content.decode()


def test_a_notification_never_redirects_off_site(client_for, nurse):
    note = Notification.objects.create(
        recipient=nurse, kind="digest", title="x", url="https://evil.example/", created_at=NOW
    )
    response = client_for("nurse").post(f"/followup/notifications/{note.pk}/open/")
    assert response["Location"] == "/followup/notifications/"


def test_guideline_admin_revises_a_protocol_as_a_new_version(client_for, guideline_admin):
    protocol = Protocol.objects.get(entity="nivl", retired_at__isnull=True)
    client = client_for("guideline_admin")
    form = client.get(f"/followup/protocols/{protocol.pk}/revise/")
    assert form.context["visits"].initial[1]["label"] == "6 weeks"
    response = client.post(f"/followup/protocols/{protocol.pk}/revise/", protocol_post(protocol))
    new = Protocol.objects.get(entity="nivl", retired_at__isnull=True)
    assert response["Location"] == f"/followup/protocols/{new.pk}/"
    assert new.version == protocol.version + 1
    assert [v.label for v in new.visits.all()] == ["6 weeks"]
    assert new.created_by == guideline_admin
    old = client.get(f"/followup/protocols/{protocol.pk}/revise/")
    assert old.status_code == 302  # a superseded version is not edited
    empty = protocol_post(new)
    empty["visits-0-DELETE"] = "on"
    assert client.post(f"/followup/protocols/{new.pk}/revise/", empty).status_code == 400


def test_schedule_page_lists_visits_and_reinterventions(client_for, schedule, clinician):
    reintervention_record(
        schedule=schedule,
        user=clinician,
        now=NOW,
        data={
            "performed_on": TODAY,
            "kind": "restenting",
            "for_occlusion": False,
            "segments": ["CIV:left"],
        },
    )
    page = client_for("clinician").get(f"/followup/schedules/{schedule.pk}/").content.decode()
    assert "Before discharge" in page
    assert "Year 5" in page
    assert "Re-stenting" in page
    assert "stenosis, not occluded" in page


def test_case_panel_lists_the_schedule_and_open_escalations(rf, visit, nurse, clinician):
    from django.template import Context, Template

    escalation = raise_escalation(visit, nurse)
    request = rf.get("/")
    request.user = clinician
    html = Template("{% load followup %}{% followup_case_panel case %}").render(
        Context({"request": request, "case": visit.schedule.case})
    )
    assert f"/followup/schedules/{visit.schedule_id}/" in html
    assert f"/followup/escalations/{escalation.pk}/" in html
    request.user = nurse
    assert "awaiting acknowledgement" in Template(
        "{% load followup %}{% followup_case_panel case %}"
    ).render(Context({"request": request, "case": visit.schedule.case}))
