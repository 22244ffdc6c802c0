"""Device sizes are ``verified`` only where the maker's published size matrix confirms that
exact diameter × length (clinical safety revision).

The seed (0003) marked every size of the sinus-XL and Wallstent grids as verified although only
their ranges were verified (sinus-XL 16–36 × 30–100 mm; Wallstent 10–16 mm × 2–9 cm for
venous use); the planner then never warned. Those seeded rows become unverified, so the
planner warns "size not verified in the maker's matrix". Zilver Vena 14 and 16 mm × 60, 100
and 140 mm is the one matrix that was read, and stays verified. Rows a guideline admin changed
since the seed (another note) are left as they are. Each change gets its history row.
"""

from django.db import migrations
from django.utils import timezone

REASON = "Verified only per exact size in the maker's size matrix (safety revision, 0007)"
SEEDED_NOTE = "range [V]"
NEW_NOTE = "Within the verified range; this exact size is not confirmed in the maker's matrix."


def unverify_range_sizes(apps, schema_editor):
    DeviceSize = apps.get_model("planning", "DeviceSize")
    HistoricalDeviceSize = apps.get_model("planning", "HistoricalDeviceSize")
    now = timezone.now()
    rows = DeviceSize.objects.filter(
        device__code__in=["sinus-xl", "wallstent"], verified=True, notes=SEEDED_NOTE
    )
    for size in rows:
        size.verified = False
        size.notes = NEW_NOTE
        size.save(update_fields=["verified", "notes"])
        HistoricalDeviceSize.objects.create(
            history_date=now,
            history_type="~",
            history_change_reason=REASON,
            **{f.attname: getattr(size, f.attname) for f in DeviceSize._meta.concrete_fields},
        )


class Migration(migrations.Migration):
    dependencies = [("planning", "0006_plan_indication_override_reason")]

    operations = [migrations.RunPython(unverify_range_sizes, migrations.RunPython.noop)]
