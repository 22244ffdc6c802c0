"""Surveillance protocols: the default version of each entity's protocol, the active version a
new schedule follows, and revisions (version n+1 retires version n; schedules keep theirs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from followup import defaults, surveillance
from followup.models import PROTOCOL_FIELDS, PROTOCOL_VISIT_FIELDS, Protocol, ProtocolVisit
from venousapp.accounts.models import User
from venousapp.history import save_with_history

# The change reason of the history rows of a default protocol's version 1.
DEFAULT_PROTOCOL_REASON = "default protocol (docs/followup.md#default-protocols)"


def protocols_ensure_defaults(*, apps: Any = None) -> int:
    """Create version 1 of each default protocol (docs/followup.md#default-protocols) whose
    entity has no protocol at all.

    Run after every ``flush`` (post_migrate; the data migration makes the first ones with its
    own copy of the protocols): a guideline admin never deletes a protocol (revisions retire the
    old version), so a missing entity means a flushed database. Returns how many protocols were
    created.
    """
    protocol_model = apps.get_model("followup", "Protocol") if apps else Protocol
    visit_model = apps.get_model("followup", "ProtocolVisit") if apps else ProtocolVisit
    created = 0
    for spec in defaults.DEFAULT_PROTOCOLS:
        if protocol_model.objects.filter(entity=spec["entity"]).exists():
            continue
        protocol = protocol_model.objects.create(
            entity=spec["entity"],
            version=1,
            name=spec["name"],
            description=spec["description"],
            yearly_from_months=spec["yearly_from_months"],
            yearly_until_years=spec["yearly_until_years"],
            due_soon_days=defaults.DUE_SOON_DAYS,
            evidence="M",
        )
        rows = [
            visit_model.objects.create(protocol=protocol, position=position, **row)
            for position, row in enumerate(spec["visits"])
        ]
        if apps is not None:  # historical models send no signals: write the history rows
            _history_created(apps, "Protocol", [protocol])
            _history_created(apps, "ProtocolVisit", rows)
        created += 1
    return created


def _history_created(apps: Any, model_name: str, objs: Sequence[Any]) -> None:
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
                history_change_reason=DEFAULT_PROTOCOL_REASON,
            )
            for obj in objs
        ]
    )


def protocol_active(entity: str) -> Protocol:
    protocol = Protocol.objects.filter(entity=entity, retired_at__isnull=True).first()
    if protocol is None:
        protocols_ensure_defaults()
        protocol = Protocol.objects.filter(entity=entity, retired_at__isnull=True).first()
    if protocol is None:
        raise ValidationError(
            {
                "follow_up_entity": _("There is no surveillance protocol for “%(e)s”.")
                % {"e": entity}
            }
        )
    return protocol


def protocol_spec(protocol: Protocol) -> surveillance.ProtocolSpec:
    return surveillance.ProtocolSpec(
        visits=tuple(
            surveillance.VisitTemplate(
                label=v.label,
                offset_value=v.offset_value,
                offset_unit=v.offset_unit,
                kind=v.kind,
                with_clinical=v.with_clinical,
                window_before_days=v.window_before_days,
                window_after_days=v.window_after_days,
            )
            for v in protocol.visits.all()
        ),
        yearly_from_months=protocol.yearly_from_months,
        yearly_until_years=protocol.yearly_until_years,
        yearly_kind=protocol.yearly_kind,
        yearly_with_clinical=protocol.yearly_with_clinical,
        yearly_window_days=protocol.yearly_window_days,
        due_soon_days=protocol.due_soon_days,
    )


@transaction.atomic
def protocol_revise(
    *,
    protocol: Protocol,
    user: User,
    data: dict[str, Any],
    visits: Sequence[dict[str, Any]],
    now: dt.datetime | None = None,
) -> Protocol:
    """Save the edited protocol as version n+1 and retire version n.

    Existing schedules keep pointing at version n and keep their visits; only schedules
    created from now on use the new version.
    """
    now = now or timezone.now()
    current = Protocol.objects.select_for_update().get(pk=protocol.pk)
    if current.retired_at is not None:
        raise ValidationError(
            _("This version was superseded; edit the current version."), code="protocol_superseded"
        )
    if not visits:
        raise ValidationError({"visits": _("A protocol needs at least one visit.")})
    last = Protocol.objects.filter(entity=current.entity).aggregate(v=Max("version"))["v"] or 0
    current.retired_at = now
    save_with_history(current, user=user, update_fields=["retired_at"])
    new = Protocol(entity=current.entity, version=last + 1, created_by=user)
    for name in PROTOCOL_FIELDS:
        setattr(new, name, data.get(name, getattr(current, name)))
    save_with_history(new, user=user)
    for position, row in enumerate(visits):
        visit = ProtocolVisit(
            protocol=new,
            position=position,
            **{k: row[k] for k in PROTOCOL_VISIT_FIELDS if k in row},
        )
        save_with_history(visit, user=user)
    return new
