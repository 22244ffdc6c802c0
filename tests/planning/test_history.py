"""Audit: plans, access, stents, ticks, procedure records, the catalogue and the checklist
templates keep who changed what and when (STYLE.md convention 11), and the history pages show
it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from planning import services
from planning.history import device_history, plan_history, template_history
from planning.models import (
    AccessSite,
    ChecklistItem,
    ChecklistTemplate,
    Device,
    PlannedStent,
    ProcedurePlan,
)

pytestmark = pytest.mark.django_db


def test_every_row_of_a_new_plan_has_a_created_history_row_by_its_author(ivc_plan, clinician):
    for model in (AccessSite, PlannedStent, ChecklistItem):
        rows = model.objects.filter(plan=ivc_plan)
        history = model.history.filter(plan_id=ivc_plan.pk, history_type="+")
        assert history.count() == rows.count() > 0, model
        assert set(history.values_list("history_user", flat=True)) == {clinician.pk}
    assert ProcedurePlan.history.get(id=ivc_plan.pk).history_user == clinician


def test_plan_history_lists_changes_ticks_and_unticks(ivc_plan, clinician, client_for):
    item = ivc_plan.items.get(text="Urinary catheter")
    services.checklist_item_tick(item=item, user=clinician)
    services.checklist_item_untick(item=item, user=clinician)
    services.plan_update(plan=ivc_plan, user=clinician, data={"anaesthesia": "sedo_analgesia"})
    entries = plan_history(ivc_plan)
    changes = [(e.subject, e.who, [c[0] for c in e.changes]) for e in entries if e.changes]
    assert ("Plan", "alice", ["anaesthesia"]) in changes
    tick_changes = [c for c in changes if c[0] == "Checklist item “Urinary catheter”"]
    assert len(tick_changes) == 2  # tick and untick
    response = client_for("nurse").get(reverse("planning:plan-history", args=[ivc_plan.pk]))
    page = response.content.decode()
    assert "Sedo-analgesia" in page
    assert "Urinary catheter" in page


def test_catalogue_and_template_history(guideline_admin, client_for):
    device = Device.objects.get(code="abre")
    services.device_save(user=guideline_admin, device=device, data={"notes": "Checked"})
    entries = device_history(device)
    assert entries[0].who == "gustav"
    assert entries[0].changes[0][0] == "notes"
    template = ChecklistTemplate.objects.get(scenario="ivc_reconstruction")
    services.checklist_template_save(
        user=guideline_admin, template=template, data={"name": "IVC v2"}, items=[]
    )
    assert any(e.action == "changed" and e.who == "gustav" for e in template_history(template))
    response = client_for("clinician").get(reverse("planning:device-history", args=[device.pk]))
    assert "Checked" in response.content.decode()
