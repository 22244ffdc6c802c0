"""Planning API behaviour: plans from cases, ticks, signing, records and the catalogue; bad
input answers 400 with the field named; the OpenAPI schema documents every endpoint."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from planning.models import Device, ProcedurePlan, ProcedureRecord

pytestmark = pytest.mark.django_db
BASE = "/api/v1/planning"


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def test_create_plan_returns_the_pre_filled_plan(client_for, ivc_case):
    response = post(client_for("clinician"), f"{BASE}/plans/", {"case": ivc_case.pk})
    assert response.status_code == 201
    body = response.json()
    assert body["scenario"] == "ivc_reconstruction"
    assert body["bilateral_extension"] is True
    assert body["confluence_technique"] == "neo_cava"
    assert [a["site"] for a in body["access_sites"]] == ["femoral", "femoral", "jugular"]
    assert {(s["segment"], s["side"]) for s in body["stents"]} >= {("IVC", "midline")}
    assert {i["phase"] for i in body["items"]} == {"preparation", "sign_in", "time_out", "sign_out"}
    assert isinstance(body["warnings"], list)
    assert body["status"] == "draft"
    assert body["author"] == "alice"


def test_create_plan_for_a_conservative_case_is_a_400(client_for, make_case):
    case = make_case("femoropopliteal")
    response = post(client_for("clinician"), f"{BASE}/plans/", {"case": case.pk})
    assert response.status_code == 400
    assert "A procedure is planned only for" in response.json()["non_field_errors"][0]


def test_create_plan_with_bad_input_names_the_field(client_for):
    response = post(client_for("clinician"), f"{BASE}/plans/", {"case": "abc"})
    assert response.status_code == 400
    assert "case" in response.json()


def test_patch_plan_validates_fields(client_for, nivl_plan):
    client = client_for("clinician")
    url = f"{BASE}/plans/{nivl_plan.pk}/"
    response = client.patch(url, {"anaesthesia": "hypnosis"}, content_type="application/json")
    assert response.status_code == 400
    assert "anaesthesia" in response.json()
    response = client.patch(
        url, {"confluence_technique": "y_fenestration"}, content_type="application/json"
    )
    assert response.status_code == 400
    response = client.patch(
        url, {"anaesthesia": "general", "status": "signed"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["anaesthesia"] == "general"
    assert response.json()["status"] == "draft"  # read-only


def test_sign_with_open_contraindication_names_the_reason_field(client_for, make_case, clinician):
    from planning import services

    plan = services.plan_create(
        case=make_case("poor_inflow"), author=clinician, indication_override_reason="Agreed."
    )
    client = client_for("clinician")
    response = post(client, f"{BASE}/plans/{plan.pk}/sign/")
    assert response.status_code == 400
    assert "contraindication_override_reason" in response.json()
    response = post(
        client, f"{BASE}/plans/{plan.pk}/sign/", {"override_reason": "Inflow to be restored first."}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "signed"
    assert response.json()["signed_by"] == "alice"
    codes = {w["code"] for w in response.json()["warnings"]}
    assert "contraindication" in codes
    response = client.patch(
        f"{BASE}/plans/{plan.pk}/", {"notes": "x"}, content_type="application/json"
    )
    assert response.status_code == 400  # signed: reopen first


def test_tick_and_untick_record_who_and_when(client_for, nivl_plan):
    item = nivl_plan.items.first()
    client = client_for("clinician")
    body = post(client, f"{BASE}/checklist-items/{item.pk}/tick/").json()
    assert body["ticked_by"] == "alice"
    assert body["ticked_at"]
    body = post(client, f"{BASE}/checklist-items/{item.pk}/untick/").json()
    assert body["ticked_by"] is None
    assert body["ticked_at"] is None


def test_record_create_complete_and_lock(client_for, nivl_plan):
    client = client_for("clinician")
    device = Device.objects.get(code="zilver-vena")
    response = post(
        client,
        f"{BASE}/procedure-records/",
        {
            "case": nivl_plan.case_id,
            "plan": nivl_plan.pk,
            "performed_on": "2026-11-21",
            "operators": "Alice",
            "access_used": "left CFV",
            "technical_success": True,
            "balloon_pressure_atm": "16",
            "pulmonary_embolism": False,
            "antithrombotic_regimen": "LMWH 4 weeks",
            "follow_up_entity": "nivl",
            "implants": [
                {
                    "segment": "CIV",
                    "side": "left",
                    "device": device.pk,
                    "diameter_mm": "16",
                    "length_mm": 60,
                    "lot": "ZV-1",
                }
            ],
        },
    )
    assert response.status_code == 201, response.json()
    record = response.json()
    assert record["implants"][0]["device_name"] == "Zilver Vena"
    again = post(
        client,
        f"{BASE}/procedure-records/",
        {
            "case": nivl_plan.case_id,
            "plan": nivl_plan.pk,
            "performed_on": "2026-11-21",
            "operators": "Alice",
            "access_used": "x",
            "antithrombotic_regimen": "x",
            "follow_up_entity": "nivl",
        },
    )
    assert again.status_code == 400
    assert "plan" in again.json()
    done = post(client, f"{BASE}/procedure-records/{record['id']}/complete/")
    assert done.status_code == 200
    assert done.json()["completed_by"] == "alice"
    locked = client.patch(
        f"{BASE}/procedure-records/{record['id']}/",
        {"operators": "B"},
        content_type="application/json",
    )
    assert locked.status_code == 400
    assert ProcedureRecord.objects.get(pk=record["id"]).operators == "Alice"


def test_record_with_bad_input_names_the_fields(client_for, nivl_plan):
    response = post(
        client_for("clinician"),
        f"{BASE}/procedure-records/",
        {
            "case": nivl_plan.case_id,
            "performed_on": "yesterday",
            "follow_up_entity": "weekly",
            "implants": [{"segment": "FV", "side": "left"}],
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert {"performed_on", "follow_up_entity", "operators", "implants"} <= set(body)


def test_catalogue_reads_and_admin_writes(client_for):
    nurse = client_for("nurse")
    stents = nurse.get(f"{BASE}/devices/", {"kind": "stent"}).json()["results"]
    wallstent = next(d for d in stents if d["code"] == "wallstent")
    assert wallstent["dedicated"] is False
    assert wallstent["sizes"]
    admin = client_for("guideline_admin")
    response = post(admin, f"{BASE}/devices/", {"code": "venovo", "kind": "stent", "name": "X"})
    assert response.status_code == 400
    assert "code" in response.json()
    response = post(
        admin,
        f"{BASE}/devices/",
        {"code": "new", "kind": "wire", "name": "W", "planner_use": "ivus"},
    )
    assert response.status_code == 400
    assert "planner_use" in response.json()
    device = Device.objects.get(code="vici")
    response = post(admin, f"{BASE}/device-sizes/", {"device": device.pk, "diameter_mm": "16"})
    assert response.status_code == 400
    response = post(admin, f"{BASE}/devices/{device.pk}/retire/")
    assert response.json()["retired_at"]
    codes = [d["code"] for d in nurse.get(f"{BASE}/devices/").json()["results"]]
    assert "vici" not in codes
    retired = nurse.get(f"{BASE}/devices/", {"retired": "true"}).json()["results"]
    codes = [d["code"] for d in retired]
    assert "vici" in codes


def test_plan_list_filters_by_case(client_for, nivl_plan, ivc_plan):
    client = client_for("nurse")
    body = client.get(f"{BASE}/plans/", {"case": nivl_plan.case_id}).json()
    assert [p["id"] for p in body["results"]] == [nivl_plan.pk]
    assert ProcedurePlan.objects.count() == 2


def test_openapi_schema_documents_the_planning_api(tmp_path):
    import yaml

    target = tmp_path / "schema.yml"
    # --validate fails on schema errors; "no warnings" for the whole API is checked in
    # tests/cases/test_api.py (the planning serializers keep their enums collision-free).
    call_command("spectacular", "--validate", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    for path in [
        "/api/v1/planning/plans/",
        "/api/v1/planning/plans/{id}/sign/",
        "/api/v1/planning/checklist-items/{id}/tick/",
        "/api/v1/planning/checklist-items/{id}/untick/",
        "/api/v1/planning/procedure-records/{id}/complete/",
        "/api/v1/planning/devices/",
        "/api/v1/planning/device-sizes/",
    ]:
        assert path in paths, path
    assert "400" in paths["/api/v1/planning/plans/"]["post"]["responses"]
