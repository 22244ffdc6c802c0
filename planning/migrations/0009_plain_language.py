"""Catalogue and checklist texts in plain clinical language.

The seed (0003) wrote the former clinical reference's notation into texts that users read:
its verification tags and section numbers. They become words; rows a guideline admin wrote
differently keep their wording but lose the notation too. Each changed row gets its history
record.
"""

import re

from django.db import migrations
from django.utils import timezone

REASON = "Plain clinical language (migration 0009)"

_RULES = [
    (re.compile(r"\s*\(§4\.5\)"), " (SIR checklist)"),
    (re.compile(r"§[\d.]+:\s*"), ""),
    (re.compile(r"\s*\((?:brief )?§[^)]*\)"), ""),
    (re.compile(r"^\[M\]\s*"), "Not yet verified: "),
    (re.compile(r"\s*\[V\]"), " (verified)"),
    (re.compile(r"\s*\[S\]"), " (from the reference lecture or article)"),
    (re.compile(r"\s*\[M\]"), " (not yet verified)"),
    (re.compile(r"\bThe seed's\b"), "The reference lecture's"),
    (re.compile(r"\bSizes \(not yet verified\)"), "Sizes not yet verified"),
]
FIELDS = {
    "Device": ("notes", "design", "material"),
    "DeviceSize": ("notes",),
    "ChecklistTemplate": ("description",),
    "ChecklistTemplateItem": ("text",),
}


def plain(text):
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def make_plain(apps, schema_editor):
    now = timezone.now()
    for model_name, fields in FIELDS.items():
        model = apps.get_model("planning", model_name)
        history = apps.get_model("planning", f"Historical{model_name}")
        for row in model.objects.all():
            changed = []
            for name in fields:
                old = getattr(row, name)
                new = plain(old)
                if new != old:
                    setattr(row, name, new)
                    changed.append(name)
            if changed:
                row.save(update_fields=changed)
                history.objects.create(
                    history_date=now,
                    history_type="~",
                    history_change_reason=REASON,
                    **{f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields},
                )


class Migration(migrations.Migration):
    dependencies = [("planning", "0008_devicesize_verified_help")]

    operations = [migrations.RunPython(make_plain, migrations.RunPython.noop)]
