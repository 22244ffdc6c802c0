"""Headless Chromium: the clinician imports a hospital record as FHIR, completes the
draft case it filled in and downloads the case as FHIR."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case
from tests.e2e.a11y import unlinked_errors
from tests.e2e.session import log_in
from tests.interop.conftest import hospital_bundle
from venousapp.accounts.models import Centre

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _bundle(centre: Centre) -> str:
    bundle = hospital_bundle("IMPORT-77")
    bundle["entry"][0]["resource"]["identifier"][1]["system"] = centre.patient_system
    return json.dumps(bundle)


def test_import_complete_the_draft_and_export(page: Page, site: str, clinician):
    log_in(page, site)
    page.get_by_role("link", name="Import from FHIR").click()
    expect(page.get_by_role("heading", name="Import from FHIR")).to_be_visible()

    page.get_by_label("…or paste the Bundle").fill("{ not json")
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#error-summary")).to_contain_text("This is not JSON.")
    assert unlinked_errors(page) == []

    page.get_by_label("…or paste the Bundle").fill(_bundle(clinician.centre))
    page.get_by_role("button", name="Import").click()
    result = page.locator("#import-result")
    expect(result).to_contain_text("AllergyIntolerance/a1")  # listed as not mapped
    expect(result).to_contain_text("lesion entity")

    result.get_by_role("button", name="Open the draft case of patient IMPORT-77").click()
    expect(page.get_by_label("Lesion entity")).to_have_value("chronic_post_thrombotic")
    expect(page.locator("#section-patient").get_by_label("Hospital identifier")).to_have_value(
        "IMPORT-77"
    )
    page.get_by_role("button", name="Save case").click()
    expect(page.get_by_role("button", name="Export as FHIR")).to_be_visible()
    case = Case.objects.get(patient__identifier="IMPORT-77")
    assert case.findings.get().finding == "occlusion"

    with page.expect_download() as download:
        page.get_by_role("button", name="Export as FHIR").click()
    bundle = json.loads(download.value.path().read_text())
    assert bundle["resourceType"] == "Bundle"
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} >= {"Patient", "Condition"}
