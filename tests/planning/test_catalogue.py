"""The seeded device catalogue and checklist templates, and their versioned editing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from planning import selectors, services
from planning.models import (
    ChecklistTemplate,
    ChecklistTemplateItem,
    Device,
    DeviceSize,
    Scenario,
)

pytestmark = pytest.mark.django_db


def test_dedicated_venous_stents_and_wallstent_reference_are_seeded():
    stents = {d.code: d for d in Device.objects.filter(kind="stent")}
    assert {
        "venovo",
        "vici",
        "abre",
        "zilver-vena",
        "sinus-venous",
        "sinus-xl",
        "sinus-obliquus",
        "blueflow",
        "atlas-venous",
        "duo-venous",
        "wallstent",
    } <= set(stents)
    assert stents["wallstent"].dedicated is False
    assert all(d.dedicated for code, d in stents.items() if code != "wallstent")
    assert stents["sinus-xl"].segments == ["IVC", "CIV"]


def test_only_sizes_confirmed_in_a_makers_matrix_are_verified():
    """docs/safety.md#verified-device-sizes: Zilver Vena's matrix was read; sinus-XL and
    Wallstent only as ranges."""
    verified = set(DeviceSize.objects.filter(verified=True).values_list("device__code", flat=True))
    assert verified == {"zilver-vena"}
    for code in ("sinus-xl", "wallstent"):
        sizes = DeviceSize.objects.filter(device__code=code)
        assert sizes.exists()
        assert not sizes.filter(verified=True).exists()
    assert DeviceSize.history.filter(
        device__code="sinus-xl", verified=False, history_type="~"
    ).exists()
    zilver = DeviceSize.objects.filter(device__code="zilver-vena")
    assert sorted({(float(s.diameter_mm), s.length_mm) for s in zilver}) == [
        (14, 60),
        (14, 100),
        (14, 140),
        (16, 60),
        (16, 100),
        (16, 140),
    ]
    assert not DeviceSize.objects.filter(device__code="venovo", verified=True).exists()
    assert not DeviceSize.objects.filter(
        device__code="wallstent", diameter_mm__gt=16, verified=True
    ).exists()
    assert DeviceSize.objects.filter(device__code="abre", french=9).exists()


def test_seed_equipment_list_is_in_the_catalogue():
    uses = dict(Device.objects.exclude(planner_use="").values_list("code", "planner_use"))
    assert uses == {
        "introducer-sheath": "sheath",
        "terumo-stiff-angled": "working_wire",
        "asahi-astato-30": "cto_wire",
        "mp-catheter": "support_catheter",
        "cook-cxi": "support_catheter",
        "bd-seeker": "support_catheter",
        "ivus-catheter": "ivus",
        "atlas-pta": "nc_balloon",
        "presto": "manometer",
    }
    assert "Not yet verified" in Device.objects.get(code="asahi-astato-30").notes
    frenches = set(
        DeviceSize.objects.filter(device__code="introducer-sheath").values_list("french", flat=True)
    )
    assert {Decimal(6), Decimal(10)} <= frenches
    assert "not the INVAMED" in Device.objects.get(code="atlas-pta").notes


def test_seeded_rows_have_their_created_history():
    assert Device.history.filter(history_type="+").count() == Device.objects.count()
    assert DeviceSize.history.filter(history_type="+").count() == DeviceSize.objects.count()


def test_one_active_template_per_scenario_with_all_who_phases():
    for scenario in Scenario.values:
        template = selectors.checklist_template_for(scenario)
        phases = {i.phase for i in template.items.all()}
        assert phases == {"preparation", "sign_in", "time_out", "sign_out"}, scenario


def test_device_changes_are_versioned_and_devices_retired_not_deleted(guideline_admin):
    device = Device.objects.get(code="venovo")
    services.device_save(user=guideline_admin, device=device, data={"notes": "IFU 2026 checked"})
    retired = services.device_retire(device=device, user=guideline_admin)
    assert retired.is_retired
    assert Device.objects.filter(pk=device.pk).exists()
    assert device not in Device.objects.active()
    assert "venovo" not in {m.name.lower() for m in selectors.stent_catalogue()}
    # seeded, put into plain language (migration), then the admin's two changes
    history = list(device.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~", "~", "~"]
    assert history[-1].history_user == guideline_admin
    services.device_restore(device=device, user=guideline_admin)
    assert Device.objects.active().filter(pk=device.pk).exists()


def test_device_validation(guideline_admin):
    with pytest.raises(ValidationError) as excinfo:
        services.device_save(
            user=guideline_admin,
            data={"code": "x", "kind": "wire", "name": "X", "planner_use": "nc_balloon"},
        )
    assert "planner_use" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        services.device_save(
            user=guideline_admin,
            data={"code": "y", "kind": "stent", "name": "Y", "segments": ["FV"]},
        )
    device = services.device_save(
        user=guideline_admin, data={"code": "z", "kind": "sheath", "name": "Z", "dedicated": True}
    )
    assert device.dedicated is False  # only stents are dedicated venous stents


def test_sizes_are_validated_unique_and_retired(guideline_admin):
    venovo = Device.objects.get(code="venovo")
    with pytest.raises(ValidationError):
        services.device_size_save(
            user=guideline_admin, device=venovo, data={"diameter_mm": Decimal(16)}
        )  # a stent needs a length
    with pytest.raises(ValidationError):
        services.device_size_save(
            user=guideline_admin,
            device=venovo,
            data={"diameter_mm": Decimal(16), "length_mm": 100, "french": Decimal(9)},
        )  # exists already
    size = DeviceSize.objects.get(device=venovo, diameter_mm=16, length_mm=100)
    services.device_size_save(
        user=guideline_admin, device=venovo, size=size, data={"verified": True}
    )
    services.device_size_retire(size=size, user=guideline_admin)
    again = services.device_size_save(
        user=guideline_admin,
        device=venovo,
        data={"diameter_mm": Decimal(16), "length_mm": 100, "french": Decimal(9)},
    )
    assert again.pk != size.pk  # a retired row does not block a new one
    with pytest.raises(ValidationError):
        services.device_size_restore(size=size, user=guideline_admin)  # two active rows
    assert size.history.count() == 3


def test_template_items_left_out_are_retired_and_plans_keep_their_copy(guideline_admin, nivl_plan):
    template = ChecklistTemplate.objects.get(scenario="nivl_stenting")
    kept = list(template.items.active().values("id", "phase", "position", "text"))
    dropped = kept.pop()
    services.checklist_template_save(
        user=guideline_admin,
        template=template,
        data={"name": "NIVL stenting v2"},
        items=[*kept, {"phase": "time_out", "position": 5, "text": "Laterality re-checked"}],
    )
    assert ChecklistTemplateItem.objects.get(pk=dropped["id"]).retired_at is not None
    assert template.items.active().filter(text="Laterality re-checked").exists()
    assert nivl_plan.items.filter(text=dropped["text"]).exists()  # copied at planning time
    assert template.history.count() == 2


def test_a_second_active_template_for_a_scenario_is_refused(guideline_admin):
    with pytest.raises(ValidationError):
        services.checklist_template_save(
            user=guideline_admin, items=[], data={"scenario": "nivl_stenting", "name": "Another"}
        )
    template = ChecklistTemplate.objects.get(scenario="nivl_stenting")
    services.checklist_template_retire(template=template, user=guideline_admin)
    services.checklist_template_save(
        user=guideline_admin, items=[], data={"scenario": "nivl_stenting", "name": "Another"}
    )
    with pytest.raises(ValidationError):
        services.checklist_template_restore(template=template, user=guideline_admin)
