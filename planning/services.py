"""Writes of the planning app. Every write is atomic, validated, and leaves a history row that
names its author (``venousapp.history``), whether it comes from a page, the API or a script."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from cases.facts import case_facts
from cases.models import OVERALL_LABELS, Case
from guidelines.selectors import recommendations_evaluate
from planning import selectors, sizing
from planning.models import (
    PLAN_FIELDS,
    PLANNER_USE_KIND,
    RECORD_FIELDS,
    AccessSite,
    ChecklistItem,
    ChecklistTemplate,
    ChecklistTemplateItem,
    Device,
    DeviceSize,
    ImplantedDevice,
    PlannedStent,
    PlannerUse,
    PlanStatus,
    ProcedurePlan,
    ProcedureRecord,
)
from planning.proposal import PlanRefused, draft_plan, open_contraindications
from planning.signals import procedure_completed
from venousapp import dates
from venousapp.accounts.models import User
from venousapp.history import delete_with_history, save_with_history

_TEMPLATE_POSITION_OFFSET = 500  # template items follow the generated equipment items


def _place_on_side(device: PlannedStent | ImplantedDevice) -> None:
    """The IVC is midline; every other segment is on the left or the right."""
    if device.segment == "IVC":
        device.side = "midline"
    elif device.side == "midline":
        raise ValidationError({"side": _("Only the IVC is midline; choose left or right.")})


# --- plans ----------------------------------------------------------------------------------


def _refusal(overall: str) -> ValidationError:
    return ValidationError(
        _(
            "A procedure is planned only for a case whose overall status is “early thrombus "
            "removal candidate”, “stenting indicated” or “stenting indicated, but guidelines "
            "disagree”. This case is “%(status)s”; complete or review the case first."
        )
        % {"status": OVERALL_LABELS.get(overall, overall)},
        code="not_plannable",
    )


def _assert_draft(plan: ProcedurePlan) -> None:
    """Changes need a draft; read from the database, as the caller's copy may be stale."""
    if not ProcedurePlan.objects.filter(pk=plan.pk, status=PlanStatus.DRAFT).exists():
        raise ValidationError(
            _("The plan is signed; reopen it before changing it."), code="plan_signed"
        )


def _stent_values(row: sizing.StentRow) -> dict[str, Any]:
    return {
        "segment": row.segment,
        "side": row.side,
        "device_id": row.device.id if row.device else None,
        "size_id": row.size.id if row.size else None,
        "diameter_mm": row.diameter_mm,
        "length_mm": row.length_mm,
        "proposed_diameter_mm": row.diameter_mm,
        "proposed_length_mm": row.length_mm,
        "required_length_mm": row.required_length_mm,
        "basis": row.basis[:300],
    }


def _override_refusal(against: Sequence[dict[str, str]]) -> ValidationError:
    names = "; ".join(f"{advice['label']} ({advice['rule_id']})" for advice in against)
    message = _(
        "Guidelines advise against this for the case: %(rules)s. Record why the procedure is "
        "planned nonetheless."
    ) % {"rules": names or _("the guidelines disagree on stenting")}
    return ValidationError(
        {"indication_override_reason": ValidationError(message, code="reason_required")}
    )


@transaction.atomic
def plan_create(
    *,
    case: Case,
    author: User,
    indication_override_reason: str = "",
    now: dt.datetime | None = None,
) -> ProcedurePlan:
    """A plan pre-filled from the case and today's guideline result (docs/planning.md).

    Refused (ValidationError, code ``not_plannable``) unless the overall status is
    etr_candidate, stent_indicated or stent_conflict; so never from contraindicated_defer.
    A stent_conflict, or any recommendation advising against (ACCP 2016 against thrombolysis,
    SIR 2023 against a stent, ...), needs ``indication_override_reason`` (code
    ``reason_required``): it is stored with the recommendations it answers, audited, and
    printed on the plan and its PDF.
    """
    # Read the stored case: coded values exactly as the engine's vocabulary has them.
    case = Case.objects.select_related("patient").get(pk=case.pk)
    findings = list(case.findings.order_by("id"))
    facts = case_facts(case, findings)
    result, ruleset = recommendations_evaluate(facts=facts)
    defaults = selectors.plan_defaults()
    try:
        draft = draft_plan(
            overall=result["overall"],
            planning=result["planning"],
            follow_up_entity=result["follow_up_entity"],
            lesion_entity=case.lesion_entity,
            side=case.side,
            measurements=selectors.measurements(findings),
            stent_catalogue=selectors.stent_catalogue(),
            equipment=selectors.equipment_catalogue(),
            defaults=defaults,
        )
    except PlanRefused:
        raise _refusal(result["overall"]) from None
    against = selectors.advice_against(result, ruleset)
    needs_reason = bool(against) or result["overall"] == "stent_conflict"
    reason = indication_override_reason.strip() if needs_reason else ""
    if needs_reason and not reason:
        raise _override_refusal(against)
    template = selectors.checklist_template_for(draft.scenario)
    plan = ProcedurePlan(
        case=case,
        author=author,
        scenario=draft.scenario,
        checklist_template=template,
        guideline_status=result["overall"],
        guideline_snapshot={
            "overall": result["overall"],
            "planning": result["planning"],
            "follow_up_entity": result["follow_up_entity"],
            "ruleset_version": str(ruleset.version),
            "as_of": (now or timezone.now()).isoformat(),
            "against": against,
        },
        indication_override_reason=reason,
        positioning=draft.positioning,
        anaesthesia=draft.anaesthesia,
        anaesthesia_reason=draft.anaesthesia_reason,
        bilateral_access=draft.bilateral_access,
        jugular=draft.jugular,
        bilateral_extension=draft.bilateral_extension,
        confluence_technique=draft.confluence_technique,
        heparin_iu_per_kg=draft.heparin_iu_per_kg,
        act_target_s=draft.act_target_s,
        antithrombotic_regimen=draft.antithrombotic_regimen,
        follow_up_entity=draft.follow_up_entity,
    )
    save_with_history(plan, user=author)
    access_sites = [
        AccessSite(
            plan=plan, position=position, site=access.site, side=access.side, note=access.note
        )
        for position, access in enumerate(draft.access_sites)
    ]
    stents = [
        PlannedStent(plan=plan, position=position, **_stent_values(row))
        for position, row in enumerate(draft.stents)
    ]
    items = [
        ChecklistItem(
            plan=plan,
            phase=item.phase,
            category=item.category,
            position=position * 10,
            text=item.text,
            device_id=item.device_id,
            device_size_id=item.size_id,
        )
        for position, item in enumerate(draft.items, start=1)
    ]
    if template is not None:
        items += [
            ChecklistItem(
                plan=plan,
                phase=template_item.phase,
                category="safety",
                position=_TEMPLATE_POSITION_OFFSET + template_item.position,
                text=template_item.text,
                template_item=template_item,
            )
            for template_item in template.items.all()
        ]
    for model, rows in ((AccessSite, access_sites), (PlannedStent, stents), (ChecklistItem, items)):
        _bulk_create(model, rows, author)
    return plan


def _bulk_create(model: type[models.Model], rows: list[Any], user: User) -> None:
    """Create the generated rows of a new plan with their history rows in a few queries.

    The related rows come from the catalogue and template just read, so only the field
    values are validated here (no per-row existence queries for them)."""
    related = [f.name for f in model._meta.concrete_fields if f.is_relation]
    for row in rows:
        row.full_clean(exclude=related, validate_unique=False, validate_constraints=False)
    bulk_create_with_history(rows, model, default_user=user)


@transaction.atomic
def plan_update(*, plan: ProcedurePlan, user: User, data: dict[str, Any]) -> ProcedurePlan:
    _assert_draft(plan)
    # Compare with the stored plan: a bound ModelForm has already changed the caller's copy.
    plan = ProcedurePlan.objects.select_for_update().get(pk=plan.pk)
    unknown = set(data) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    changed = [name for name, value in data.items() if getattr(plan, name) != value]
    for name in changed:
        setattr(plan, name, data[name])
    if changed:
        save_with_history(plan, user=user, update_fields=[*changed, "updated_at"])
    return plan


@transaction.atomic
def plan_access_sites_replace(
    *, plan: ProcedurePlan, user: User, rows: Sequence[dict[str, Any]]
) -> None:
    """The plan's access sites in the given order (the first is the primary access)."""
    _assert_draft(plan)
    if not rows:
        raise ValidationError({"access_sites": _("Plan at least one access site.")})
    keep = [row["id"] for row in rows if row.get("id")]
    for stale in plan.access_sites.exclude(pk__in=keep):
        delete_with_history(stale, user=user)
    for position, row in enumerate(rows):
        site = plan.access_sites.get(pk=row["id"]) if row.get("id") else AccessSite(plan=plan)
        site.position = position
        for name in ("site", "side", "note"):
            if name in row:
                setattr(site, name, row[name])
        save_with_history(site, user=user)


def _stent_fill(stent: PlannedStent) -> None:
    size = stent.size if stent.size_id is not None else None
    if size is not None:
        if size.device_id != stent.device_id:
            raise ValidationError({"size": _("This size belongs to another device.")})
        if size.diameter_mm is None or size.length_mm is None:
            raise ValidationError({"size": _("Choose a size with a diameter and a length.")})
        stent.diameter_mm, stent.length_mm = size.diameter_mm, size.length_mm
    if stent.device is not None and stent.device.kind != "stent":
        raise ValidationError({"device": _("Choose a stent.")})
    if stent.diameter_mm is None or stent.length_mm is None:
        raise ValidationError(_("Give a catalogue size or a diameter and a length."))


@transaction.atomic
def plan_stents_replace(*, plan: ProcedurePlan, user: User, rows: Sequence[dict[str, Any]]) -> None:
    """The plan's stents as the clinician set them: a catalogue size fixes diameter and
    length; without one the typed diameter and length are kept (and warned about)."""
    _assert_draft(plan)
    keep = [row["id"] for row in rows if row.get("id")]
    for stale in plan.stents.exclude(pk__in=keep):
        delete_with_history(stale, user=user)
    seen: set[tuple[str, str]] = set()
    for position, row in enumerate(rows):
        stent = plan.stents.get(pk=row["id"]) if row.get("id") else PlannedStent(plan=plan)
        stent.position = position
        for name in ("segment", "side", "device", "size", "diameter_mm", "length_mm"):
            if name in row:
                setattr(stent, name, row[name])
        _place_on_side(stent)
        if (stent.segment, stent.side) in seen:
            raise ValidationError(
                {
                    "segment": _("Two stents for %(where)s.")
                    % {"where": f"{stent.side} {stent.segment}"}
                }
            )
        seen.add((stent.segment, stent.side))
        _stent_fill(stent)
        save_with_history(stent, user=user)


@transaction.atomic
def plan_stents_propose(*, plan: ProcedurePlan, user: User) -> None:
    """Size the plan's stents again from the case's current measurements and catalogue,
    keeping each site's chosen stent while it is still in the catalogue."""
    _assert_draft(plan)
    catalogue = selectors.stent_catalogue()
    by_id = {model.id: model for model in catalogue}
    chosen = {
        (s.segment, s.side): by_id[s.device_id] for s in plan.stents.all() if s.device_id in by_id
    }
    findings = list(plan.case.findings.all())
    facts = case_facts(plan.case, findings)
    result, _ruleset = recommendations_evaluate(facts=facts)
    segments = list((result["planning"] or {}).get("stent_diameter_mm") or {}) or None
    defaults = selectors.plan_defaults()
    rows = sizing.propose_stents(
        selectors.measurements(findings),
        catalogue,
        segments=segments,
        chosen=chosen,
        oversize_mm=defaults.oversize_mm,
        landing_margin_mm=defaults.landing_margin_mm,
        overlap_mm=defaults.overlap_mm,
    )
    existing = {(s.segment, s.side): s for s in plan.stents.all()}
    wanted = {row.site for row in rows}
    for site, stale in existing.items():
        if site not in wanted:
            delete_with_history(stale, user=user)
    for position, row in enumerate(rows):
        stent = existing.get(row.site) or PlannedStent(plan=plan)
        stent.position = position
        for name, value in _stent_values(row).items():
            setattr(stent, name, value)
        save_with_history(stent, user=user)


@transaction.atomic
def plan_sign(
    *,
    plan: ProcedurePlan,
    user: User,
    override_reason: str = "",
    now: dt.datetime | None = None,
) -> ProcedurePlan:
    """Sign the plan. An open contraindication (docs/planning.md#contraindications) needs a reason
    given with this signature: a reason recorded for an earlier signature may have covered
    other contraindications than those open now (the sign form offers it again to confirm)."""
    plan = ProcedurePlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status == PlanStatus.SIGNED:
        return plan
    open_now = open_contraindications(case_facts(plan.case))
    reason = override_reason.strip()
    if open_now and not reason:
        raise ValidationError(
            {
                "contraindication_override_reason": _(
                    "Open contraindication: %(items)s. Record why the procedure goes ahead, "
                    "or resolve it on the case."
                )
                % {"items": ", ".join(label for _code, label in open_now)}
            },
            code="contraindication_open",
        )
    plan.status = PlanStatus.SIGNED
    plan.signed_at = now or timezone.now()
    plan.signed_by = user
    plan.contraindication_override_reason = (
        reason if open_now else plan.contraindication_override_reason
    )
    save_with_history(
        plan,
        user=user,
        update_fields=[
            "status",
            "signed_at",
            "signed_by",
            "contraindication_override_reason",
            "updated_at",
        ],
    )
    return plan


@transaction.atomic
def plan_reopen(*, plan: ProcedurePlan, user: User) -> ProcedurePlan:
    """Back to draft for changes; the signature stays in the history."""
    plan = ProcedurePlan.objects.select_for_update().get(pk=plan.pk)
    if plan.records.filter(completed_at__isnull=False).exists():
        raise ValidationError(_("The procedure is recorded as completed; the plan is final."))
    if plan.status == PlanStatus.DRAFT:
        return plan
    plan.status = PlanStatus.DRAFT
    plan.signed_at = None
    plan.signed_by = None
    save_with_history(
        plan, user=user, update_fields=["status", "signed_at", "signed_by", "updated_at"]
    )
    return plan


# --- checklist ------------------------------------------------------------------------------


@transaction.atomic
def checklist_item_tick(
    *, item: ChecklistItem, user: User, now: dt.datetime | None = None
) -> ChecklistItem:
    """Record who ticked the item and when; ticking a ticked item changes nothing."""
    item = ChecklistItem.objects.select_for_update().get(pk=item.pk)
    if item.ticked_at is None:
        item.ticked_at = now or timezone.now()
        item.ticked_by = user
        save_with_history(item, user=user, update_fields=["ticked_at", "ticked_by"])
    return item


@transaction.atomic
def checklist_item_untick(*, item: ChecklistItem, user: User) -> ChecklistItem:
    """Clear the tick; the history keeps who ticked, who unticked and when."""
    item = ChecklistItem.objects.select_for_update().get(pk=item.pk)
    if item.ticked_at is not None:
        item.ticked_at = None
        item.ticked_by = None
        save_with_history(item, user=user, update_fields=["ticked_at", "ticked_by"])
    return item


@transaction.atomic
def checklist_item_add(
    *, plan: ProcedurePlan, user: User, phase: str, text: str, category: str = "other"
) -> ChecklistItem:
    _assert_draft(plan)
    last = plan.items.filter(phase=phase).aggregate(models.Max("position"))["position__max"]
    item = ChecklistItem(
        plan=plan, phase=phase, category=category, text=text, position=(last or 0) + 10
    )
    save_with_history(item, user=user)
    return item


@transaction.atomic
def checklist_item_update(*, item: ChecklistItem, user: User, text: str) -> ChecklistItem:
    _assert_draft(item.plan)
    item = ChecklistItem.objects.select_for_update().get(pk=item.pk)
    if item.text != text:
        item.text = text
        save_with_history(item, user=user, update_fields=["text"])
    return item


@transaction.atomic
def checklist_item_remove(*, item: ChecklistItem, user: User) -> None:
    _assert_draft(item.plan)
    delete_with_history(item, user=user)


# --- procedure records ----------------------------------------------------------------------


def procedure_record_initial(*, plan: ProcedurePlan, user: User) -> dict[str, Any]:
    """What the record form starts from: the plan's access, stents, regimen and protocol."""
    access = "; ".join(
        f"{a.get_side_display()} {str(a.get_site_display()).lower()}"
        for a in plan.access_sites.all()
    )
    return {
        "performed_on": plan.case.patient.centre.today(),
        "operators": user.get_full_name() or user.get_username(),
        "access_used": access,
        "antithrombotic_regimen": plan.antithrombotic_regimen,
        "follow_up_entity": plan.follow_up_entity,
        "implants": _planned_implants(plan),
    }


def _planned_implants(plan: ProcedurePlan) -> list[dict[str, Any]]:
    """One implant row per planned stent with a device, as the record starts from."""
    return [
        {
            "segment": s.segment,
            "side": s.side,
            "device": s.device,
            "diameter_mm": s.diameter_mm,
            "length_mm": s.length_mm,
            "lot": "",
        }
        for s in plan.stents.all()
        if s.device is not None
    ]


def _replace_implants(
    record: ProcedureRecord, user: User, implants: Sequence[dict[str, Any]]
) -> None:
    keep = [row["id"] for row in implants if row.get("id")]
    for stale in record.implants.exclude(pk__in=keep):
        delete_with_history(stale, user=user)
    for position, row in enumerate(implants):
        implant = (
            record.implants.get(pk=row["id"]) if row.get("id") else ImplantedDevice(record=record)
        )
        implant.position = position
        for name in ("segment", "side", "device", "diameter_mm", "length_mm", "lot"):
            if name in row:
                setattr(implant, name, row[name])
        _place_on_side(implant)
        save_with_history(implant, user=user)


def _procedure_dates(case: Case, now: dt.datetime | None) -> dates.DateLimits:
    """A procedure has taken place: on the centre's today at the latest."""
    return dates.past_dates(case.patient.centre.today(now))


def _assert_open(record: ProcedureRecord) -> None:
    if record.completed_at is not None:
        raise ValidationError(
            _("The procedure record is completed and can no longer be changed."),
            code="record_completed",
        )


@transaction.atomic
def procedure_record_create(
    *,
    case: Case,
    author: User,
    data: dict[str, Any],
    implants: Sequence[dict[str, Any]] | None = None,
    plan: ProcedurePlan | None = None,
    now: dt.datetime | None = None,
) -> ProcedureRecord:
    """Record a procedure. ``implants`` None (not given) means the plan's planned stents, as
    the record form pre-fills them; an empty list records none."""
    if plan is not None and plan.case_id != case.pk:
        raise ValidationError({"plan": _("The plan belongs to another case.")})
    if plan is not None and plan.records.exists():
        raise ValidationError({"plan": _("This plan already has a procedure record.")})
    dates.check_dates({"performed_on": (data.get("performed_on"), _procedure_dates(case, now))})
    record = ProcedureRecord(
        case=case,
        plan=plan,
        author=author,
        **{k: v for k, v in data.items() if k in RECORD_FIELDS},
    )
    save_with_history(record, user=author)
    if implants is None:
        implants = _planned_implants(plan) if plan is not None else []
    _replace_implants(record, author, implants)
    return record


@transaction.atomic
def procedure_record_update(
    *,
    record: ProcedureRecord,
    user: User,
    data: dict[str, Any],
    implants: Sequence[dict[str, Any]] | None = None,
    now: dt.datetime | None = None,
) -> ProcedureRecord:
    record = ProcedureRecord.objects.select_for_update().get(pk=record.pk)
    _assert_open(record)
    performed = _procedure_dates(record.case, now)
    dates.check_dates({"performed_on": (data.get("performed_on"), performed)})
    for name, value in data.items():
        if name in RECORD_FIELDS:
            setattr(record, name, value)
    save_with_history(record, user=user)
    if implants is not None:
        _replace_implants(record, user, implants)
    return record


@transaction.atomic
def procedure_record_complete(
    *, record: ProcedureRecord, user: User, now: dt.datetime | None = None
) -> ProcedureRecord:
    """Mark the procedure as completed; the follow-up app, told by
    ``planning.signals.procedure_completed`` in the same transaction, creates its surveillance
    schedule.

    Idempotent: completing a completed record changes nothing and creates no second
    schedule. Completion needs the technical result, the follow-up protocol and a date of the
    procedure within the limits (one stored before they existed, or through the admin, would
    start the surveillance schedule in the wrong century).
    """
    record = ProcedureRecord.objects.select_for_update().get(pk=record.pk)
    if record.completed_at is not None:
        return record
    now = now or timezone.now()
    errors = {}
    if record.technical_success is None:
        errors["technical_success"] = _("Record whether the procedure succeeded technically.")
    if not record.follow_up_entity:
        errors["follow_up_entity"] = _("Choose the follow-up protocol.")
    problem = _procedure_dates(record.case, now).problem(record.performed_on)
    if problem is not None:
        errors["performed_on"] = _(
            "Correct the date of the procedure before completing the record. %(problem)s"
        ) % {"problem": problem}
    if errors:
        raise ValidationError(errors)
    record.completed_at = now
    record.completed_by = user
    save_with_history(
        record, user=user, update_fields=["completed_at", "completed_by", "updated_at"]
    )
    procedure_completed.send(sender=ProcedureRecord, record=record, now=now)
    return record


# --- catalogue and templates (guideline admins) ---------------------------------------------

_DEVICE_FIELDS = (
    "code",
    "kind",
    "name",
    "manufacturer",
    "dedicated",
    "planner_use",
    "design",
    "material",
    "segments",
    "evidence",
    "notes",
    "position",
)
_SIZE_FIELDS = ("diameter_mm", "length_mm", "french", "wire_inch", "verified", "notes")


def _check_device(device: Device) -> None:
    expected = PLANNER_USE_KIND.get(PlannerUse(device.planner_use)) if device.planner_use else None
    if device.planner_use and expected != device.kind:
        raise ValidationError(
            {"planner_use": _("This use needs a device of kind “%(kind)s”.") % {"kind": expected}}
        )
    if device.kind != "stent":
        device.dedicated = False
        device.segments = []
    unknown = set(device.segments or ()) - set(sizing.STENT_DEFAULTS)
    if unknown:
        raise ValidationError(
            {"segments": _("Unknown segments: %(s)s.") % {"s": ", ".join(sorted(unknown))}}
        )


@transaction.atomic
def device_save(*, user: User, data: dict[str, Any], device: Device | None = None) -> Device:
    device = device or Device()
    for name, value in data.items():
        if name in _DEVICE_FIELDS:
            setattr(device, name, value)
    _check_device(device)
    save_with_history(device, user=user)
    return device


@transaction.atomic
def device_retire(*, device: Device, user: User, now: dt.datetime | None = None) -> Device:
    """Retire, never delete: plans and records keep pointing at the device."""
    if device.retired_at is None:
        device.retired_at = now or timezone.now()
        save_with_history(device, user=user, update_fields=["retired_at"])
    return device


@transaction.atomic
def device_restore(*, device: Device, user: User) -> Device:
    if device.retired_at is not None:
        device.retired_at = None
        save_with_history(device, user=user, update_fields=["retired_at"])
    return device


@transaction.atomic
def device_size_save(
    *, user: User, device: Device, data: dict[str, Any], size: DeviceSize | None = None
) -> DeviceSize:
    size = size or DeviceSize(device=device)
    if size.device_id != device.pk:
        raise ValidationError(_("This size belongs to another device."))
    for name, value in data.items():
        if name in _SIZE_FIELDS:
            setattr(size, name, value)
    if device.kind == "stent" and (size.diameter_mm is None or size.length_mm is None):
        raise ValidationError(_("A stent size needs a diameter and a length."))
    if all(getattr(size, n) is None for n in ("diameter_mm", "length_mm", "french", "wire_inch")):
        raise ValidationError(_("Give at least one dimension."))
    save_with_history(size, user=user)
    return size


@transaction.atomic
def device_size_retire(
    *, size: DeviceSize, user: User, now: dt.datetime | None = None
) -> DeviceSize:
    if size.retired_at is None:
        size.retired_at = now or timezone.now()
        save_with_history(size, user=user, update_fields=["retired_at"])
    return size


@transaction.atomic
def device_size_restore(*, size: DeviceSize, user: User) -> DeviceSize:
    if size.retired_at is not None:
        size.retired_at = None
        save_with_history(size, user=user)  # validates the "one active row per size" constraint
    return size


@transaction.atomic
def checklist_template_save(
    *,
    user: User,
    data: dict[str, Any],
    items: Sequence[dict[str, Any]],
    template: ChecklistTemplate | None = None,
) -> ChecklistTemplate:
    """Create or change a scenario's template. Items left out are retired (plans made from
    them keep their copy); the change is versioned by the history."""
    template = template or ChecklistTemplate()
    for name in ("scenario", "name", "description"):
        if name in data:
            setattr(template, name, data[name])
    save_with_history(template, user=user)
    keep = [row["id"] for row in items if row.get("id")]
    now = timezone.now()
    for stale in template.items.active().exclude(pk__in=keep):
        stale.retired_at = now
        save_with_history(stale, user=user, update_fields=["retired_at"])
    for row in items:
        item = (
            template.items.get(pk=row["id"])
            if row.get("id")
            else ChecklistTemplateItem(template=template)
        )
        for name in ("phase", "position", "text"):
            if name in row:
                setattr(item, name, row[name])
        save_with_history(item, user=user)
    return template


@transaction.atomic
def checklist_template_retire(
    *, template: ChecklistTemplate, user: User, now: dt.datetime | None = None
) -> ChecklistTemplate:
    if template.retired_at is None:
        template.retired_at = now or timezone.now()
        save_with_history(template, user=user, update_fields=["retired_at"])
    return template


@transaction.atomic
def checklist_template_restore(*, template: ChecklistTemplate, user: User) -> ChecklistTemplate:
    if template.retired_at is not None:
        template.retired_at = None
        save_with_history(template, user=user)  # one active template per scenario
    return template
