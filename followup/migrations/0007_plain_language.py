"""Protocol descriptions in plain clinical language.

Version 1 of the default protocols quoted the former clinical reference's notation (its
section numbers and verification tags); the texts users read now say "practice consensus,
provisional" instead. A description a guideline admin wrote keeps its wording but loses the
notation. History rows record it.
"""

import re

from django.db import migrations
from django.utils import timezone

REASON = "Plain clinical language (migration 0007)"

_RULES = [
    (re.compile(r"\(brief §[\d.]+,? ?(?:practice consensus )?\[M\](?:, \[S\])?\)"),
     "(practice consensus, provisional)"),
    (re.compile(r"\s*\((?:brief )?§[^)]*\)"), ""),
    (re.compile(r"\s*\[M\]"), " (provisional)"),
    (re.compile(r"\s*\[V\]"), " (verified)"),
    (re.compile(r"\s*\[S\]"), ""),
    (re.compile(r"\bmay be low-yield\b"), "finds little"),
]


def plain(text):
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def make_plain(apps, schema_editor):
    Protocol = apps.get_model("followup", "Protocol")
    HistoricalProtocol = apps.get_model("followup", "HistoricalProtocol")
    now = timezone.now()
    for protocol in Protocol.objects.all():
        text = plain(protocol.description)
        if text != protocol.description:
            protocol.description = text
            protocol.save(update_fields=["description"])
            HistoricalProtocol.objects.create(
                history_date=now,
                history_type="~",
                history_change_reason=REASON,
                **{f.attname: getattr(protocol, f.attname) for f in Protocol._meta.concrete_fields},
            )


class Migration(migrations.Migration):
    dependencies = [("followup", "0006_patency_report")]

    operations = [migrations.RunPython(make_plain, migrations.RunPython.noop)]
