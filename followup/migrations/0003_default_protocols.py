"""Version 1 of the four default surveillance protocols (docs/followup.md#default-protocols).

The protocols are written out here as they stood at migration 0007, the last migration to
change them (it put their texts into plain words in databases migrated before). This migration
used to read them from the app's code when it ran, so a fresh database got the texts of the
day; these are what such a database got since 0007, and what it keeps getting whatever the
defaults in ``followup.defaults`` become. The history rows get the change reason this
migration has written since it was first applied (with the former clinical reference's
section number), so that a fresh database holds the same rows as an upgraded one.

Self-contained: historical models, the standard library and Django only. After a ``flush``
``followup.apps.ensure_reference_data`` (post_migrate) makes the protocols from the app's
current defaults instead.
"""

from django.db import migrations
from django.utils import timezone

DUE_SOON_DAYS = 14

_DISCHARGE = {
    "label": "Before discharge",
    "offset_value": 0,
    "offset_unit": "days",
    "kind": "duplex",
    "with_clinical": True,
    "window_before_days": 0,
    "window_after_days": 1,
}


def _visit(label, value, unit, before, after=None, kind="duplex", with_clinical=True):
    return {
        "label": label,
        "offset_value": value,
        "offset_unit": unit,
        "kind": kind,
        "with_clinical": with_clinical,
        "window_before_days": before,
        "window_after_days": before if after is None else after,
    }


_THROMBOTIC_VISITS = [
    _DISCHARGE,
    _visit("2 weeks", 2, "weeks", 3),
    _visit("6 weeks", 6, "weeks", 7),
    _visit("3 months", 3, "months", 14),
    _visit("6 months", 6, "months", 14),
    _visit("12 months", 12, "months", 30),
]

DEFAULT_PROTOCOLS = [
    {
        "entity": "nivl",
        "name": "NIVL stent surveillance",
        "description": (
            "Duplex (± clinical review) before discharge, at 6 weeks, 6 and 12 months; then "
            "yearly or when symptoms return (practice consensus, provisional). Extended routine "
            "surveillance of NIVL stents finds little, hence yearly visits for 5 years by "
            "default."
        ),
        "visits": [
            _DISCHARGE,
            _visit("6 weeks", 6, "weeks", 7),
            _visit("6 months", 6, "months", 14),
            _visit("12 months", 12, "months", 30),
        ],
        "yearly_from_months": 24,
        "yearly_until_years": 5,
    },
    {
        "entity": "acute_thrombotic",
        "name": "Acute thrombotic: stent after thrombus removal",
        "description": (
            "Duplex before discharge, at 2 and 6 weeks, 3, 6 and 12 months, then yearly "
            "(practice consensus, provisional). Most failures of stents placed for thrombotic "
            "disease occur in the first 6 months, hence the front-loaded visits; yearly for "
            "5 years by default."
        ),
        "visits": _THROMBOTIC_VISITS,
        "yearly_from_months": 24,
        "yearly_until_years": 5,
    },
    {
        "entity": "post_thrombotic",
        "name": "Chronic post-thrombotic stent surveillance",
        "description": (
            "Duplex before discharge, at 2 and 6 weeks, 3, 6 and 12 months, then yearly, "
            "lifelong (practice consensus, provisional)."
        ),
        "visits": _THROMBOTIC_VISITS,
        "yearly_from_months": 24,
        "yearly_until_years": None,
    },
    {
        "entity": "ivc_reconstruction",
        "name": "IVC reconstruction (IVC occlusion, atresia, inverted-Y)",
        "description": (
            "As post-thrombotic, plus CT venography at about 12 months (or whenever duplex "
            "is inconclusive); yearly, lifelong. Long-term follow-up matters especially "
            "after caval reconstruction (practice consensus, provisional)."
        ),
        "visits": [
            *_THROMBOTIC_VISITS,
            _visit(
                "12 months CT venography",
                12,
                "months",
                30,
                kind="ct_venography",
                with_clinical=False,
            ),
        ],
        "yearly_from_months": 24,
        "yearly_until_years": None,
    },
]


def protocols_ensure_defaults(*, apps, reason):
    """Create version 1 of each default protocol whose entity has no protocol at all, with
    its "created" history rows (historical models send no signals)."""
    Protocol = apps.get_model("followup", "Protocol")
    ProtocolVisit = apps.get_model("followup", "ProtocolVisit")
    for spec in DEFAULT_PROTOCOLS:
        if Protocol.objects.filter(entity=spec["entity"]).exists():
            continue
        protocol = Protocol.objects.create(
            entity=spec["entity"],
            version=1,
            name=spec["name"],
            description=spec["description"],
            yearly_from_months=spec["yearly_from_months"],
            yearly_until_years=spec["yearly_until_years"],
            due_soon_days=DUE_SOON_DAYS,
            evidence="M",
        )
        rows = [
            ProtocolVisit.objects.create(protocol=protocol, position=position, **row)
            for position, row in enumerate(spec["visits"])
        ]
        _history_created(apps, "Protocol", [protocol], reason)
        _history_created(apps, "ProtocolVisit", rows, reason)


def _history_created(apps, model_name, objs, reason):
    historical = apps.get_model("followup", f"Historical{model_name}")
    fields = [
        f.attname for f in historical._meta.concrete_fields if not f.attname.startswith("history_")
    ]
    historical.objects.bulk_create(
        [
            historical(
                **{name: getattr(obj, name) for name in fields},
                history_date=timezone.now(),
                history_type="+",
                history_change_reason=reason,
            )
            for obj in objs
        ]
    )


def create_protocols(apps, schema_editor):
    protocols_ensure_defaults(apps=apps, reason="default protocol (brief §8.2)")


class Migration(migrations.Migration):
    dependencies = [("followup", "0002_roles")]

    operations = [migrations.RunPython(create_protocols, migrations.RunPython.noop)]
