"""Every planning page and API endpoint for every persona (STYLE.md convention 12).

Alice (clinician), Nina (nurse) and Gustav (guideline admin) work at centre A, Bob
(other_centre_clinician) at centre B. Clinicians write plans, ticks and procedure records;
nurses read; guideline admins read and keep the catalogue and checklist templates; another
centre's plans are 404; anonymous users go to the login page (pages) or get 401 (API).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from planning import forms, services
from planning.models import ChecklistTemplate, Device, ProcedurePlan, ProcedureRecord
from tests.conftest import PERSONAS
from tests.planning.forms_data import form_data, formset_data

LOGIN = "login"

PAGES: dict[str, tuple[Any, ...]] = {
    "plan-create-get": (200, 403, 403, 404, LOGIN),
    "plan-create-post": (302, 403, 403, 404, LOGIN),
    "plan-detail": (200, 200, 200, 404, LOGIN),
    "plan-edit-get": (200, 403, 403, 404, LOGIN),
    "plan-edit-post": (302, 403, 403, 404, LOGIN),
    "plan-stents-get": (200, 403, 403, 404, LOGIN),
    "plan-stents-post": (302, 403, 403, 404, LOGIN),
    "plan-stents-propose": (302, 403, 403, 404, LOGIN),
    "plan-sign-get": (200, 403, 403, 404, LOGIN),
    "plan-sign-post": (302, 403, 403, 404, LOGIN),
    "plan-reopen": (302, 403, 403, 404, LOGIN),
    "plan-pdf": (200, 200, 200, 404, LOGIN),
    "plan-history": (200, 200, 200, 404, LOGIN),
    "item-add": (302, 403, 403, 404, LOGIN),
    "item-tick": (302, 403, 403, 404, LOGIN),
    "item-tick-htmx": (200, 403, 403, 404, LOGIN),
    "item-untick": (302, 403, 403, 404, LOGIN),
    "item-edit-get": (200, 403, 403, 404, LOGIN),
    "item-edit-post": (302, 403, 403, 404, LOGIN),
    "item-remove": (302, 403, 403, 404, LOGIN),
    "record-create-get": (200, 403, 403, 404, LOGIN),
    "record-create-post": (302, 403, 403, 404, LOGIN),
    "record-detail": (200, 200, 200, 404, LOGIN),
    "record-edit-get": (200, 403, 403, 404, LOGIN),
    "record-edit-post": (302, 403, 403, 404, LOGIN),
    "record-complete": (302, 403, 403, 404, LOGIN),
    "catalogue": (200, 200, 200, 200, LOGIN),
    "device-create-get": (403, 403, 200, 403, LOGIN),
    "device-create-post": (403, 403, 302, 403, LOGIN),
    "device-edit-get": (403, 403, 200, 403, LOGIN),
    "device-edit-post": (403, 403, 302, 403, LOGIN),
    "device-retire": (403, 403, 302, 403, LOGIN),
    "device-history": (200, 200, 200, 200, LOGIN),
    "templates": (200, 200, 200, 200, LOGIN),
    "template-create-get": (403, 403, 200, 403, LOGIN),
    "template-create-post": (403, 403, 302, 403, LOGIN),
    "template-edit-get": (403, 403, 200, 403, LOGIN),
    "template-edit-post": (403, 403, 302, 403, LOGIN),
    "template-retire": (403, 403, 302, 403, LOGIN),
    "template-history": (200, 200, 200, 200, LOGIN),
    "case-detail": (200, 200, 200, 404, LOGIN),
}

API: dict[str, tuple[int, ...]] = {
    "devices-list": (200, 200, 200, 200, 401),
    "devices-retrieve": (200, 200, 200, 200, 401),
    "devices-create": (403, 403, 201, 403, 401),
    "devices-partial_update": (403, 403, 200, 403, 401),
    "devices-retire": (403, 403, 200, 403, 401),
    "devices-restore": (403, 403, 200, 403, 401),
    "sizes-retrieve": (200, 200, 200, 200, 401),
    "sizes-create": (403, 403, 201, 403, 401),
    "sizes-partial_update": (403, 403, 200, 403, 401),
    "sizes-retire": (403, 403, 200, 403, 401),
    "plans-list": (200, 200, 200, 200, 401),
    "plans-retrieve": (200, 200, 200, 404, 401),
    "plans-create": (201, 403, 403, 400, 401),
    "plans-partial_update": (200, 403, 403, 404, 401),
    "plans-sign": (200, 403, 403, 404, 401),
    "plans-reopen": (200, 403, 403, 404, 401),
    "items-retrieve": (200, 200, 200, 404, 401),
    "items-tick": (200, 403, 403, 404, 401),
    "items-untick": (200, 403, 403, 404, 401),
    "records-list": (200, 200, 200, 200, 401),
    "records-retrieve": (200, 200, 200, 404, 401),
    "records-create": (201, 403, 403, 400, 401),
    "records-partial_update": (200, 403, 403, 404, 401),
    "records-complete": (200, 403, 403, 404, 401),
}


def table(expectations: dict[str, tuple[Any, ...]]) -> list[Any]:
    return [
        pytest.param(endpoint, persona, expected, id=f"{endpoint}-{persona}")
        for endpoint, row in expectations.items()
        for persona, expected in zip(PERSONAS, row, strict=True)
    ]


@pytest.fixture
def world(make_case, clinician):
    """A draft NIVL plan, a signed IVC plan with its (open) procedure record, in centre A."""
    nivl = services.plan_create(case=make_case("nivl"), author=clinician)
    ivc = services.plan_create(case=make_case("ivc"), author=clinician)
    services.plan_sign(plan=ivc, user=clinician)
    record = services.procedure_record_create(
        case=ivc.case,
        plan=ivc,
        author=clinician,
        data={
            "performed_on": "2026-11-20",
            "operators": "Alice",
            "access_used": "left CFV",
            "antithrombotic_regimen": "LMWH",
            "follow_up_entity": "ivc_reconstruction",
            "technical_success": True,
        },
    )
    return {
        "plan": nivl,
        "signed": ivc,
        "record": record,
        "item": nivl.items.first(),
        "device": Device.objects.get(code="venovo"),
        "template": ChecklistTemplate.objects.get(scenario="nivl_stenting"),
        "clinician": clinician,
    }


def request_page(client: Client, endpoint: str, w: dict[str, Any]) -> Any:
    plan, item, record = w["plan"], w["item"], w["record"]
    device, template = w["device"], w["template"]
    url = reverse
    match endpoint:
        case "plan-create-get":
            return client.get(url("planning:plan-create", args=[plan.case_id]))
        case "plan-create-post":
            return client.post(url("planning:plan-create", args=[plan.case_id]))
        case "plan-detail":
            return client.get(url("planning:plan-detail", args=[plan.pk]))
        case "plan-edit-get":
            return client.get(url("planning:plan-edit", args=[plan.pk]))
        case "plan-edit-post":
            data = form_data(forms.PlanForm(instance=plan, prefix="plan"), notes="edited")
            data.update(formset_data(forms.AccessSiteFormSet(instance=plan, prefix="access")))
            return client.post(url("planning:plan-edit", args=[plan.pk]), data)
        case "plan-stents-get":
            return client.get(url("planning:plan-stents", args=[plan.pk]))
        case "plan-stents-post":
            data = formset_data(forms.PlannedStentFormSet(instance=plan, prefix="stents"))
            return client.post(url("planning:plan-stents", args=[plan.pk]), data)
        case "plan-stents-propose":
            return client.post(url("planning:plan-stents-propose", args=[plan.pk]))
        case "plan-sign-get":
            return client.get(url("planning:plan-sign", args=[plan.pk]))
        case "plan-sign-post":
            return client.post(url("planning:plan-sign", args=[plan.pk]), {"override_reason": ""})
        case "plan-reopen":
            return client.post(url("planning:plan-reopen", args=[w["signed"].pk]))
        case "plan-pdf":
            return client.get(url("planning:plan-pdf", args=[plan.pk]))
        case "plan-history":
            return client.get(url("planning:plan-history", args=[plan.pk]))
        case "item-add":
            return client.post(
                url("planning:item-add", args=[plan.pk]),
                {"phase": "time_out", "category": "other", "text": "New"},
            )
        case "item-tick":
            return client.post(url("planning:item-tick", args=[item.pk]))
        case "item-tick-htmx":
            return client.post(url("planning:item-tick", args=[item.pk]), HTTP_HX_REQUEST="true")
        case "item-untick":
            return client.post(url("planning:item-untick", args=[item.pk]))
        case "item-edit-get":
            return client.get(url("planning:item-edit", args=[item.pk]))
        case "item-edit-post":
            return client.post(url("planning:item-edit", args=[item.pk]), {"text": "Changed"})
        case "item-remove":
            return client.post(url("planning:item-remove", args=[item.pk]))
        case "record-create-get":
            return client.get(url("planning:record-create", args=[plan.pk]))
        case "record-create-post":
            data = {
                "record-performed_on": "2026-11-21",
                "record-operators": "Alice",
                "record-access_used": "left CFV",
                "record-technical_success": "true",
                "record-antithrombotic_regimen": "LMWH 4 weeks",
                "record-follow_up_entity": "nivl",
                "implants-TOTAL_FORMS": "0",
                "implants-INITIAL_FORMS": "0",
            }
            return client.post(url("planning:record-create", args=[plan.pk]), data)
        case "record-detail":
            return client.get(url("planning:record-detail", args=[record.pk]))
        case "record-edit-get":
            return client.get(url("planning:record-edit", args=[record.pk]))
        case "record-edit-post":
            data = form_data(
                forms.ProcedureRecordForm(instance=record, prefix="record"), operators="Alice, Bert"
            )
            data["record-technical_success"] = "true"
            data.update(formset_data(forms.ImplantFormSet(instance=record, prefix="implants")))
            return client.post(url("planning:record-edit", args=[record.pk]), data)
        case "record-complete":
            return client.post(url("planning:record-complete", args=[record.pk]))
        case "catalogue":
            return client.get(url("planning:catalogue"))
        case "device-create-get":
            return client.get(url("planning:device-create"))
        case "device-create-post":
            data = form_data(
                forms.DeviceForm(prefix="device"),
                code="new-sheath",
                kind="sheath",
                name="New sheath",
                evidence="M",
                position="5",
            )
            data.update({"sizes-TOTAL_FORMS": "0", "sizes-INITIAL_FORMS": "0"})
            return client.post(url("planning:device-create"), data)
        case "device-edit-get":
            return client.get(url("planning:device-edit", args=[device.pk]))
        case "device-edit-post":
            data = form_data(forms.DeviceForm(instance=device, prefix="device"), notes="checked")
            data.update(formset_data(forms.DeviceSizeFormSet(instance=device, prefix="sizes")))
            return client.post(url("planning:device-edit", args=[device.pk]), data)
        case "device-retire":
            return client.post(url("planning:device-retire", args=[device.pk]))
        case "device-history":
            return client.get(url("planning:device-history", args=[device.pk]))
        case "templates":
            return client.get(url("planning:templates"))
        case "template-create-get":
            return client.get(url("planning:template-create"))
        case "template-create-post":
            # One active template per scenario: the new one replaces a retired one.
            services.checklist_template_retire(template=template, user=w["clinician"])
            data = form_data(
                forms.ChecklistTemplateForm(prefix="template"),
                scenario="nivl_stenting",
                name="NIVL stenting, day-case variant",
            )
            data.update(
                {
                    "items-TOTAL_FORMS": "1",
                    "items-INITIAL_FORMS": "0",
                    "items-MIN_NUM_FORMS": "0",
                    "items-MAX_NUM_FORMS": "1000",
                    "items-0-phase": "preparation",
                    "items-0-position": "10",
                    "items-0-text": "Discharge the same day if the access site is dry.",
                }
            )
            return client.post(url("planning:template-create"), data)
        case "template-edit-get":
            return client.get(url("planning:template-edit", args=[template.pk]))
        case "template-edit-post":
            data = form_data(
                forms.ChecklistTemplateForm(instance=template, prefix="template"),
                name="NIVL stenting (v2)",
            )
            data.update(formset_data(forms.TemplateItemFormSet(instance=template, prefix="items")))
            return client.post(url("planning:template-edit", args=[template.pk]), data)
        case "template-retire":
            return client.post(url("planning:template-retire", args=[template.pk]))
        case "template-history":
            return client.get(url("planning:template-history", args=[template.pk]))
        case "case-detail":
            return client.get(url("cases:detail", args=[plan.case_id]))
    raise AssertionError(endpoint)


def assert_answer(response: Any, expected: Any) -> None:
    if expected == LOGIN:
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == "/accounts/login/"
        assert parse_qs(location.query) == {"next": [response.request["PATH_INFO"]]}
    else:
        assert response.status_code == expected, response.content[:2000]


@pytest.mark.parametrize(("endpoint", "persona", "expected"), table(PAGES))
def test_planning_pages_answer_each_persona(client_for, world, endpoint, persona, expected):
    response = request_page(client_for(persona), endpoint, world)
    assert_answer(response, expected)
    if expected == 302 and endpoint.endswith("-post"):
        # A successful form post redirects to a page, never back to the form with errors.
        assert response["Location"].startswith("/")


def test_page_writes_take_effect(client_for, world):
    client = client_for("clinician")
    plan = world["plan"]
    request_page(client, "plan-edit-post", world)
    plan.refresh_from_db()
    assert plan.notes == "edited"
    request_page(client, "item-tick", world)
    world["item"].refresh_from_db()
    assert world["item"].ticked_by.username == "alice"
    request_page(client, "record-create-post", world)
    assert ProcedureRecord.objects.filter(plan=plan).exists()
    response = request_page(client_for("guideline_admin"), "device-edit-post", world)
    assert response.status_code == 302
    world["device"].refresh_from_db()
    assert world["device"].notes == "checked"


def api_call(client: Client, endpoint: str, w: dict[str, Any]) -> Any:
    plan, item, record, device = w["plan"], w["item"], w["record"], w["device"]
    size = device.sizes.first()
    base = "/api/v1/planning"
    post = lambda path, data=None: client.post(path, data or {}, content_type="application/json")  # noqa: E731
    patch = lambda path, data: client.patch(path, data, content_type="application/json")  # noqa: E731
    match endpoint:
        case "devices-list":
            return client.get(f"{base}/devices/")
        case "devices-retrieve":
            return client.get(f"{base}/devices/{device.pk}/")
        case "devices-create":
            return post(
                f"{base}/devices/",
                {
                    "code": "api-wire",
                    "kind": "wire",
                    "name": "API wire",
                    "planner_use": "working_wire",
                },
            )
        case "devices-partial_update":
            return patch(f"{base}/devices/{device.pk}/", {"notes": "IFU checked"})
        case "devices-retire":
            return post(f"{base}/devices/{device.pk}/retire/")
        case "devices-restore":
            return post(f"{base}/devices/{device.pk}/restore/")
        case "sizes-retrieve":
            return client.get(f"{base}/device-sizes/{size.pk}/")
        case "sizes-create":
            return post(
                f"{base}/device-sizes/",
                {"device": device.pk, "diameter_mm": "22", "length_mm": 80, "verified": True},
            )
        case "sizes-partial_update":
            return patch(f"{base}/device-sizes/{size.pk}/", {"verified": True})
        case "sizes-retire":
            return post(f"{base}/device-sizes/{size.pk}/retire/")
        case "plans-list":
            return client.get(f"{base}/plans/")
        case "plans-retrieve":
            return client.get(f"{base}/plans/{plan.pk}/")
        case "plans-create":
            return post(f"{base}/plans/", {"case": plan.case_id})
        case "plans-partial_update":
            return patch(f"{base}/plans/{plan.pk}/", {"notes": "via API"})
        case "plans-sign":
            return post(f"{base}/plans/{plan.pk}/sign/")
        case "plans-reopen":
            return post(f"{base}/plans/{w['signed'].pk}/reopen/")
        case "items-retrieve":
            return client.get(f"{base}/checklist-items/{item.pk}/")
        case "items-tick":
            return post(f"{base}/checklist-items/{item.pk}/tick/")
        case "items-untick":
            return post(f"{base}/checklist-items/{item.pk}/untick/")
        case "records-list":
            return client.get(f"{base}/procedure-records/")
        case "records-retrieve":
            return client.get(f"{base}/procedure-records/{record.pk}/")
        case "records-create":
            return post(
                f"{base}/procedure-records/",
                {
                    "case": plan.case_id,
                    "plan": plan.pk,
                    "performed_on": "2026-11-21",
                    "operators": "Alice",
                    "access_used": "left CFV",
                    "technical_success": True,
                    "antithrombotic_regimen": "LMWH",
                    "follow_up_entity": "nivl",
                    "implants": [
                        {
                            "segment": "CIV",
                            "side": "left",
                            "device": device.pk,
                            "diameter_mm": "16",
                            "length_mm": 80,
                            "lot": "L1",
                        }
                    ],
                },
            )
        case "records-partial_update":
            return patch(f"{base}/procedure-records/{record.pk}/", {"ivus_after": "MLA 180"})
        case "records-complete":
            return post(f"{base}/procedure-records/{record.pk}/complete/")
    raise AssertionError(endpoint)


@pytest.mark.parametrize(("endpoint", "persona", "expected"), table(API))
def test_planning_api_answers_each_persona(client_for, world, endpoint, persona, expected):
    response = api_call(client_for(persona), endpoint, world)
    assert response.status_code == expected, response.content[:2000]


def test_api_lists_hide_other_centres(client_for, world):
    response = client_for("other_centre_clinician").get("/api/v1/planning/plans/")
    assert response.json()["results"] == []
    response = client_for("other_centre_clinician").get("/api/v1/planning/procedure-records/")
    assert response.json()["results"] == []
    assert ProcedurePlan.objects.count() == 2
