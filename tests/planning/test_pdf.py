"""The plan as a PDF (WeasyPrint), read back with poppler's pdftotext."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.urls import reverse

from planning import services

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed"),
]


def pdf_text(path, *args):
    return subprocess.run(
        [shutil.which("pdftotext") or "pdftotext", "-layout", *args, str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_plan_pdf_shows_patient_access_stents_and_checklist_state(
    client_for, ivc_plan, clinician, tmp_path
):
    ticked = ivc_plan.items.filter(phase="preparation").first()
    services.checklist_item_tick(item=ticked, user=clinician)
    response = client_for("nurse").get(reverse("planning:plan-pdf", args=[ivc_plan.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"plan-{ivc_plan.pk}-case-{ivc_plan.case_id}.pdf" in response["Content-Disposition"]
    path = tmp_path / "plan.pdf"
    path.write_bytes(response.content)
    text = pdf_text(path)
    flat = " ".join(text.split())
    assert "Patient 40112630" in flat
    assert "IVC reconstruction (inverted-Y)" in flat
    # access, primary first
    assert "Left common femoral vein — primary" in flat
    assert "Right internal jugular vein" in flat
    # stents with sizes
    for expected in ("sinus-XL", "Zilver Vena", "IVC", "Left CIV", "Right EIV"):
        assert expected in flat, expected
    assert "22 100" in flat
    assert "16 60" in flat
    # checklist state: who ticked the first preparation item
    assert "alice" in flat
    assert "Sign in" in flat
    assert "Time out" in flat
    assert "Sign out" in flat
    info = subprocess.run(
        [shutil.which("pdfinfo") or "pdfinfo", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "595.276 x 841.89 pts (A4)" in info


def test_plan_pdf_lists_the_warnings(client_for, make_case, clinician, tmp_path):
    plan = services.plan_create(
        case=make_case("poor_inflow"),
        author=clinician,
        indication_override_reason="Inflow to be restored by endophlebectomy in the same session.",
    )
    response = client_for("clinician").get(reverse("planning:plan-pdf", args=[plan.pk]))
    path = tmp_path / "plan.pdf"
    path.write_bytes(response.content)
    flat = " ".join(pdf_text(path).split())
    assert "Points to check" in flat
    assert "Open contraindication: No good inflow" in flat
    assert "Planned although a guideline advises against it" in flat
    assert "Inflow to be restored by endophlebectomy in the same session." in flat
    assert "SIR-2023-CIVO-05" in flat
