"""Writes for patients and cases. Every write is atomic, validated and leaves history, except
the stored evaluation summary (derived data, see ``case_evaluations_store``)."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import extensions, thrombolysis
from cases.entities import fields_not_applicable
from cases.facts import case_facts
from cases.models import Case, Patient, SegmentFinding
from cases.plausibility import case_plausibility_errors
from venousapp import dates
from venousapp.accounts.models import Centre, User
from venousapp.history import delete_with_history, save_with_history

# Patient fields a new case for a known patient may bring up to date (nothing typed is lost).
_PATIENT_UPDATABLE = (
    "name",
    "phone",
    "email",
    "preferred_contact",
    "address",
    "general_practitioner",
)


def _check_birth_date(centre: Centre, data: dict[str, Any], now: dt.datetime | None) -> None:
    birth = dates.birth_dates(centre.today(now))
    dates.check_dates({"date_of_birth": (data.get("date_of_birth"), birth)})


def patient_get_or_create(
    *, centre: Centre, data: dict[str, Any], user: User | None, now: dt.datetime | None = None
) -> Patient:
    """The centre's patient with this identifier, created when new.

    An existing identifier with a different date of birth or sex is refused: it is either a
    typo or two people under one number, and both must be resolved by a person. Name and
    contact details typed for a known patient update the record (with history).
    """
    _check_birth_date(centre, data, now)
    patient = Patient.objects.filter(centre=centre, identifier=data["identifier"]).first()
    if patient is None:
        patient = Patient(centre=centre, **data)
        save_with_history(patient, user=user)
        return patient
    for name, label in (("date_of_birth", _("date of birth")), ("sex", _("sex"))):
        if name in data and getattr(patient, name) != data[name]:
            raise ValidationError(
                {
                    name: _(
                        "Patient %(identifier)s is already registered with another %(what)s; "
                        "check the identifier or the %(what)s."
                    )
                    % {"identifier": patient.identifier, "what": label}
                }
            )
    changes = {name: data[name] for name in _PATIENT_UPDATABLE if data.get(name) not in (None, "")}
    return patient_update(patient=patient, data=changes, user=user) if changes else patient


def patient_update(
    *, patient: Patient, data: dict[str, Any], user: User | None, now: dt.datetime | None = None
) -> Patient:
    changed = [name for name, value in data.items() if getattr(patient, name) != value]
    if "date_of_birth" in changed:
        _check_birth_date(patient.centre, data, now)
    if (
        "identifier" in changed
        and Patient.objects.filter(
            centre_id=patient.centre_id, identifier=data["identifier"]
        ).exists()
    ):
        raise ValidationError(
            {
                "identifier": _("Another patient of this centre has the identifier %(identifier)s.")
                % {"identifier": data["identifier"]}
            }
        )
    for name in changed:
        setattr(patient, name, data[name])
    if changed:
        save_with_history(patient, user=user, update_fields=changed)
    return patient


def _clear_not_applicable(case: Case) -> None:
    for name in fields_not_applicable(case.lesion_entity):
        field = Case._meta.get_field(name)
        setattr(case, name, None if field.null else "")


def _check_and_complete(case: Case, sex: str) -> None:
    """Refuse contradicting values (``cases.plausibility``) and tick "pregnancy or lactation"
    on the thrombolysis checklist of a pregnant patient: pregnancy is a relative
    contraindication whatever else was ticked, so the stored checklist says so too."""
    errors = case_plausibility_errors(
        sex=sex, pregnancy=case.pregnancy, ceap=case.ceap, ulcer=case.ulcer
    )
    if errors:
        raise ValidationError(errors)
    ticks = list(case.thrombolysis_contraindications or [])
    if case.pregnancy is True and thrombolysis.PREGNANCY_CODE not in ticks:
        case.thrombolysis_contraindications = [*ticks, thrombolysis.PREGNANCY_CODE]
        case.contraindications_assessed = True


def _check_case_dates(case: Case, names: Sequence[str], now: dt.datetime | None) -> None:
    """Refuse a case date or symptom onset (of ``names``, those being written) out of the
    limits of what has happened (``venousapp.dates``)."""
    past = dates.past_dates(case.patient.centre.today(now))
    dates.check_dates(
        {
            name: (getattr(case, name), past)
            for name in ("case_date", "symptom_onset_date")
            if name in names
        }
    )


def _replace_findings(case: Case, findings: Sequence[dict[str, Any]], user: User | None) -> None:
    if not findings:
        raise ValidationError({"findings": _("Record at least one segment finding.")})
    keep_ids = [data["id"] for data in findings if data.get("id")]
    # Removed rows go first, so a removed "CIV left" can be replaced by a new one.
    for stale in case.findings.exclude(pk__in=keep_ids):
        delete_with_history(stale, user=user)  # one by one: each deletion is in the history
    for data in findings:
        finding_id = data.get("id")
        row = case.findings.get(pk=finding_id) if finding_id else SegmentFinding(case=case)
        for name, value in data.items():
            if name != "id":
                setattr(row, name, value)
        save_with_history(row, user=user)


@transaction.atomic
def case_evaluations_store(
    *,
    evaluations: Sequence[tuple[Case, str]],
    ruleset: int,
    engine: int,
    now: dt.datetime | None = None,
) -> int:
    """Store each case's overall status, computed with rule set number ``ruleset`` by engine
    version ``engine``; returns how many were written.

    A case changed since it was read (another ``updated_at``) is skipped: its status was
    computed from facts that are no longer its own, and the change stored a fresh one. The
    rows are locked while they are compared, so an edit cannot slip in between.

    A queryset update per status (at most seven) rather than ``save()``: these columns are
    excluded from the case's history, so no history row is due, and a re-evaluation after a
    publish writes thousands of cases.
    """
    read_at = {case.pk: case.updated_at for case, _code in evaluations}
    unchanged = [
        pk
        for pk, updated_at in Case.objects.select_for_update()
        .filter(pk__in=read_at)
        .order_by("pk")
        .values_list("pk", "updated_at")
        if read_at[pk] == updated_at
    ]
    keep = set(unchanged)
    by_code: dict[str, list[int]] = defaultdict(list)
    for case, code in evaluations:
        if case.pk in keep:
            by_code[code].append(case.pk)
    when = now or timezone.now()
    for code, pks in by_code.items():
        Case.objects.filter(pk__in=pks).update(
            overall_status=code,
            evaluated_ruleset=ruleset,
            evaluated_engine=engine,
            evaluated_at=when,
        )
    for case, code in evaluations:
        if case.pk in keep:
            case.overall_status, case.evaluated_at = code, when
            case.evaluated_ruleset, case.evaluated_engine = ruleset, engine
    return len(keep)


def _evaluation_store(case: Case) -> None:
    """Evaluate the case as read back, as the list and the re-evaluation see it: the caller's
    instance may still hold the findings it was prefetched with before they were replaced."""
    stored = (
        Case.objects.select_related("patient")
        .prefetch_related(Prefetch("findings", queryset=SegmentFinding.objects.order_by("id")))
        .get(pk=case.pk)
    )
    code, ruleset, engine = extensions.overall_evaluate(facts=case_facts(stored))
    case_evaluations_store(evaluations=[(stored, code)], ruleset=ruleset, engine=engine)
    case.overall_status = stored.overall_status
    case.evaluated_ruleset = stored.evaluated_ruleset
    case.evaluated_engine = stored.evaluated_engine
    case.evaluated_at = stored.evaluated_at


@transaction.atomic
def case_create(
    *,
    patient: Patient,
    author: User,
    data: dict[str, Any],
    findings: Sequence[dict[str, Any]],
    now: dt.datetime | None = None,
) -> Case:
    case = Case(patient=patient, centre_id=patient.centre_id, author=author, **data)
    _clear_not_applicable(case)
    _check_case_dates(case, ("case_date", "symptom_onset_date"), now)
    _check_and_complete(case, patient.sex)
    save_with_history(case, user=author)
    _replace_findings(case, findings, author)
    _evaluation_store(case)
    return case


@transaction.atomic
def patient_case_create(
    *,
    centre: Centre,
    author: User,
    patient_data: dict[str, Any],
    case_data: dict[str, Any],
    findings: Sequence[dict[str, Any]],
    now: dt.datetime | None = None,
) -> Case:
    """A new case from the new-case form: its patient found (or registered) by identifier,
    then the case; both or neither."""
    patient = patient_get_or_create(centre=centre, data=patient_data, user=author, now=now)
    return case_create(patient=patient, author=author, data=case_data, findings=findings, now=now)


@transaction.atomic
def case_update(
    *,
    case: Case,
    data: dict[str, Any],
    user: User | None,
    findings: Sequence[dict[str, Any]] | None = None,
    now: dt.datetime | None = None,
) -> Case:
    for name, value in data.items():
        setattr(case, name, value)
    case.centre_id = case.patient.centre_id
    _clear_not_applicable(case)
    _check_case_dates(case, list(data), now)
    _check_and_complete(case, case.patient.sex)
    save_with_history(case, user=user)
    if findings is not None:
        _replace_findings(case, findings, user)
    _evaluation_store(case)
    return case
