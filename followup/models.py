"""Surveillance after venous stenting: protocols, schedules, visits, results, escalations,
re-interventions, and the rows that make reminders exactly-once.

Clinical rows (protocols, schedules, visits, contact attempts, results, escalations,
re-interventions) keep their history (STYLE.md convention 11). Delivery rows (``Reminder``,
``EscalationNotice``, ``Digest``) and in-app ``Notification`` rows are operational: they are
claimed and marked with conditional UPDATEs, their ``claimed_at``/``sent_at`` columns are
their own audit trail.

Patency (docs/followup.md#patency) is computed from these rows by the analytics
(``followup.patency``, which states the exact rules): each ``ResultSegment`` says whether a
stented segment (segment + side of the procedure's implants) was patent or occluded on
``VisitResult.performed_on`` and its in-stent restenosis; each ``ReIntervention`` has a date,
a kind, the segments treated, whether the stent was occluded before it (``for_occlusion``)
and whether patency was restored (``successful``). Primary patency ends at the first
occlusion, restenosis above 50 % or re-intervention; primary-assisted patency at the first
occlusion (a re-intervention on a stenosed, never occluded stent keeps it); secondary
patency when an occlusion is not successfully reopened. ``PatencyReport`` rows hold the
curves a Celery worker computed for a large cohort.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases import scores
from cases.models import Case, ScoreTotals, SegmentSide
from planning.models import FollowUpEntity, ProcedureRecord, StentSegment
from venousapp.accounts.models import Centre
from venousapp.history import HistoricalRecords
from venousapp.models import BackgroundJob, JobStatus


class VisitKind(models.TextChoices):
    DUPLEX = "duplex", _("Duplex ultrasound")
    CLINICAL = "clinical", _("Clinical review")
    CT_VENOGRAPHY = "ct_venography", _("CT venography")


class OffsetUnit(models.TextChoices):
    DAYS = "days", _("days")
    WEEKS = "weeks", _("weeks")
    MONTHS = "months", _("months")


class Evidence(models.TextChoices):
    VERIFIED = "V", _("Verified against the published source")
    SEED = "S", _("From the reference lecture or article")
    MEMORY = "M", _("Practice consensus, provisional")


# ---------------------------------------------------------------------------------------------
# Protocols (versioned; a revision is a new row, so schedules keep the version they used)


class Protocol(models.Model):
    """One version of the surveillance protocol of a follow-up entity
    (docs/followup.md#default-protocols).

    Versions are never edited once saved: ``protocol_revise`` creates version n+1 and retires
    version n. Schedules point at the version they were generated from, so a change applies
    to new schedules only.
    """

    entity = models.CharField(_("follow-up entity"), max_length=24, choices=FollowUpEntity.choices)
    version = models.PositiveSmallIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description and sources"), blank=True)
    yearly_from_months = models.PositiveSmallIntegerField(
        _("yearly visits from (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text=_("Leave empty for no yearly visits after the listed ones."),
    )
    yearly_until_years = models.PositiveSmallIntegerField(
        _("yearly visits until (years)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Leave empty for lifelong yearly visits."),
    )
    yearly_kind = models.CharField(
        _("yearly visit kind"), max_length=16, choices=VisitKind.choices, default=VisitKind.DUPLEX
    )
    yearly_with_clinical = models.BooleanField(
        _("yearly visits include a clinical review"), default=True
    )
    yearly_window_days = models.PositiveSmallIntegerField(
        _("yearly window (± days)"), default=30, validators=[MaxValueValidator(180)]
    )
    due_soon_days = models.PositiveSmallIntegerField(
        _("“due soon” days before the window"),
        default=14,
        validators=[MaxValueValidator(90)],
        help_text=_("How long before a window opens the visit appears on the worklist."),
    )
    evidence = models.CharField(
        _("evidence tag"), max_length=1, choices=Evidence.choices, default=Evidence.MEMORY
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    retired_at = models.DateTimeField(_("superseded"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["entity", "-version"]
        verbose_name = _("surveillance protocol")
        verbose_name_plural = _("surveillance protocols")
        constraints = [
            models.UniqueConstraint(fields=["entity", "version"], name="protocol_entity_version"),
            models.UniqueConstraint(
                fields=["entity"],
                condition=models.Q(retired_at__isnull=True),
                name="protocol_one_active_per_entity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_entity_display()} v{self.version}"

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


class ProtocolVisit(models.Model):
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="visits")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    label = models.CharField(_("label"), max_length=60)
    offset_value = models.PositiveSmallIntegerField(
        _("after the procedure"), validators=[MaxValueValidator(1200)]
    )
    offset_unit = models.CharField(
        _("unit"), max_length=8, choices=OffsetUnit.choices, default=OffsetUnit.WEEKS
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=VisitKind.choices, default=VisitKind.DUPLEX
    )
    with_clinical = models.BooleanField(_("with clinical review"), default=True)
    window_before_days = models.PositiveSmallIntegerField(
        _("window before (days)"), default=0, validators=[MaxValueValidator(180)]
    )
    window_after_days = models.PositiveSmallIntegerField(
        _("window after (days)"), default=0, validators=[MaxValueValidator(180)]
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["protocol", "position", "id"]
        verbose_name = _("protocol visit")
        verbose_name_plural = _("protocol visits")

    def __str__(self) -> str:
        return self.label


# ---------------------------------------------------------------------------------------------
# Schedules and visits


# What a guideline admin edits on a protocol version and on each of its visits (the forms, the
# revision service, the defaults), the rest being set by the service.
PROTOCOL_FIELDS = (
    "name",
    "description",
    "yearly_from_months",
    "yearly_until_years",
    "yearly_kind",
    "yearly_with_clinical",
    "yearly_window_days",
    "due_soon_days",
    "evidence",
)
PROTOCOL_VISIT_FIELDS = (
    "label",
    "offset_value",
    "offset_unit",
    "kind",
    "with_clinical",
    "window_before_days",
    "window_after_days",
)


class Schedule(models.Model):
    """The surveillance schedule of one completed procedure (one per procedure record).

    ``centre``, ``case`` and ``entity`` repeat what the procedure says so that worklists and
    the sweep filter one table through an index instead of joining four.
    """

    procedure = models.OneToOneField(
        ProcedureRecord,
        on_delete=models.PROTECT,
        related_name="followup_schedule",
        verbose_name=_("procedure"),
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="followup_schedules")
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="+")
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="schedules")
    entity = models.CharField(_("follow-up entity"), max_length=24, choices=FollowUpEntity.choices)
    start_on = models.DateField(_("procedure date"))
    horizon_until = models.DateField(_("visits generated until"))
    open_ended = models.BooleanField(
        _("more yearly visits to generate"),
        default=False,
        help_text=_("Lifelong (or longer than the horizon) protocols are extended lazily."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_on", "-id"]
        verbose_name = _("surveillance schedule")
        verbose_name_plural = _("surveillance schedules")
        indexes = [
            models.Index(
                fields=["horizon_until"],
                condition=models.Q(open_ended=True),
                name="schedule_to_extend",
            ),
        ]

    def __str__(self) -> str:
        return f"Schedule {self.pk} ({self.get_entity_display()})"


class VisitState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Closed without visit")


class VisitStatus(models.TextChoices):
    """Derived from the centre's local date (``surveillance.visit_status``); never stored."""

    UPCOMING = "upcoming", _("Upcoming")
    DUE_SOON = "due_soon", _("Due soon")
    DUE = "due", _("Due")
    OVERDUE = "overdue", _("Overdue")
    MISSED = "missed", _("Missed (window passed)")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Closed without visit")


class Visit(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="visits")
    # Copied from the schedule (never changes) so the worklist filters one index.
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="+")
    entity = models.CharField(_("follow-up entity"), max_length=24, choices=FollowUpEntity.choices)
    sequence = models.PositiveSmallIntegerField(_("number"))
    label = models.CharField(_("visit"), max_length=60)
    kind = models.CharField(_("kind"), max_length=16, choices=VisitKind.choices)
    with_clinical = models.BooleanField(_("with clinical review"), default=True)
    target_on = models.DateField(_("target date"))
    earliest_on = models.DateField(_("window opens"))
    latest_on = models.DateField(_("window closes"))
    notice_on = models.DateField(_("due soon from"))
    state = models.CharField(
        _("state"), max_length=10, choices=VisitState.choices, default=VisitState.PLANNED
    )
    reschedule_reason = models.CharField(
        _("reason for the last reschedule"), max_length=300, blank=True
    )
    close_reason = models.CharField(_("why closed without visit"), max_length=300, blank=True)
    extra = models.BooleanField(
        _("unscheduled"),
        default=False,
        help_text=_("Added on a clinician's decision to re-image, not by the protocol."),
    )
    last_contact = models.ForeignKey(
        "ContactAttempt",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last contact attempt"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["last_contact"])

    class Meta:
        ordering = ["target_on", "id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "sequence"], name="visit_sequence"),
            models.CheckConstraint(
                condition=models.Q(
                    earliest_on__lte=models.F("target_on"),
                    target_on__lte=models.F("latest_on"),
                    notice_on__lte=models.F("earliest_on"),
                ),
                name="visit_window_ordered",
            ),
        ]
        indexes = [
            # The worklist: open visits of a centre whose "due soon" date has come. Covering,
            # so statuses, counts, filters and the page order come from an index-only scan
            # of the few open visits, however many visits the centre has.
            models.Index(
                fields=["centre", "notice_on"],
                include=["earliest_on", "target_on", "latest_on", "entity", "id"],
                condition=models.Q(state="planned"),
                name="visit_worklist_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_kind_display()})"

    @property
    def is_open(self) -> bool:
        return self.state == VisitState.PLANNED


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")


class ContactOutcome(models.TextChoices):
    BOOKED = "booked", _("Reached: appointment booked")
    REACHED_CALL_BACK = "call_back", _("Reached: will call back")
    DECLINED = "declined", _("Reached: declined the visit")
    NO_ANSWER = "no_answer", _("No answer")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    WRONG_NUMBER = "wrong_number", _("Wrong number / address")
    SENT = "sent", _("Sent (letter / e-mail)")


class ContactAttempt(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="contacts")
    method = models.CharField(_("method"), max_length=8, choices=ContactMethod.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=ContactOutcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    attempted_at = models.DateTimeField(_("when"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-attempted_at", "-id"]
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")

    def __str__(self) -> str:
        return f"{self.get_method_display()}: {self.get_outcome_display()}"


# ---------------------------------------------------------------------------------------------
# Visit results


class Patency(models.TextChoices):
    PATENT = "patent", _("Patent")
    OCCLUDED = "occluded", _("Occluded")
    NOT_ASSESSED = "not_assessed", _("Not assessed")


class InflowState(models.TextChoices):
    PATENT = "patent", _("Patent")
    PATENT_REFLUX = "reflux", _("Patent with reflux")
    PARTIAL = "partial", _("Partially obstructed")
    OCCLUDED = "occluded", _("Occluded")


class Phasicity(models.TextChoices):
    PHASIC = "phasic", _("Phasic, respiration-dependent")
    LOST = "lost", _("Lost (continuous flow)")


class ContralateralIliac(models.TextChoices):
    NORMAL = "normal", _("Normal")
    COMPROMISED = "compromised", _("Compromised (jailing)")
    THROMBOSED = "thrombosed", _("Thrombosed")


class UlcerStatus(models.TextChoices):
    NONE = "none", _("No ulcer")
    HEALED = "healed", _("Healed")
    HEALING = "healing", _("Active, healing")
    NON_HEALING = "non_healing", _("Active, not healing")
    NEW = "new", _("New ulcer")


class CompressionUse(models.TextChoices):
    NONE = "none", _("None")
    INTERMITTENT = "intermittent", _("Intermittent")
    DAILY = "daily", _("Daily")


class Adherence(models.TextChoices):
    ADHERENT = "adherent", _("Taken as prescribed")
    PARTIAL = "partial", _("Doses missed")
    NOT_ADHERENT = "not_adherent", _("Not taken")
    STOPPED = "stopped", _("Stopped as planned")


def _grade_field(item: scores.ScoreItem) -> models.PositiveSmallIntegerField:
    """The same 0–3 field, label and grade texts as the case form (cases.models)."""
    return models.PositiveSmallIntegerField(
        item.label,
        null=True,
        blank=True,
        choices=[(i, f"{i} – {text}") for i, text in enumerate(item.grades)],
        validators=[MaxValueValidator(3)],
    )


_VCSS = {item.key: item for item in scores.VCSS_ITEMS}
_VIL = {item.key: item for item in scores.VILLALTA_ITEMS}


class VisitResult(ScoreTotals, models.Model):
    """What a visit found: duplex (per stented segment in ``segments``) and clinical."""

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="result")
    performed_on = models.DateField(_("date of the visit"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"))

    # Duplex, limb level (docs/followup.md#abnormal-findings)
    inflow_cfv = models.CharField(
        _("inflow: common femoral vein"), max_length=10, choices=InflowState.choices, blank=True
    )
    inflow_fv = models.CharField(
        _("inflow: femoral vein"), max_length=10, choices=InflowState.choices, blank=True
    )
    inflow_dfv = models.CharField(
        _("inflow: deep femoral vein"), max_length=10, choices=InflowState.choices, blank=True
    )
    phasicity = models.CharField(
        _("CFV phasicity"), max_length=8, choices=Phasicity.choices, blank=True
    )
    contralateral_iliac = models.CharField(
        _("contralateral iliac vein"), max_length=12, choices=ContralateralIliac.choices, blank=True
    )
    duplex_inconclusive = models.BooleanField(_("duplex inconclusive"), default=False)

    # Clinical (rVCSS and Villalta items as on the case form)
    vcss_pain = _grade_field(_VCSS["pain"])
    vcss_varicose_veins = _grade_field(_VCSS["varicose_veins"])
    vcss_oedema = _grade_field(_VCSS["oedema"])
    vcss_pigmentation = _grade_field(_VCSS["pigmentation"])
    vcss_inflammation = _grade_field(_VCSS["inflammation"])
    vcss_induration = _grade_field(_VCSS["induration"])
    vcss_ulcer_number = _grade_field(_VCSS["ulcer_number"])
    vcss_ulcer_duration = _grade_field(_VCSS["ulcer_duration"])
    vcss_ulcer_size = _grade_field(_VCSS["ulcer_size"])
    vcss_compression = _grade_field(_VCSS["compression"])
    villalta_pain = _grade_field(_VIL["pain"])
    villalta_cramps = _grade_field(_VIL["cramps"])
    villalta_heaviness = _grade_field(_VIL["heaviness"])
    villalta_paraesthesia = _grade_field(_VIL["paraesthesia"])
    villalta_pruritus = _grade_field(_VIL["pruritus"])
    villalta_pretibial_oedema = _grade_field(_VIL["pretibial_oedema"])
    villalta_skin_induration = _grade_field(_VIL["skin_induration"])
    villalta_hyperpigmentation = _grade_field(_VIL["hyperpigmentation"])
    villalta_redness = _grade_field(_VIL["redness"])
    villalta_venous_ectasia = _grade_field(_VIL["venous_ectasia"])
    villalta_calf_compression_pain = _grade_field(_VIL["calf_compression_pain"])
    ulcer_status = models.CharField(
        _("ulcer"), max_length=12, choices=UlcerStatus.choices, blank=True
    )
    compression_use = models.CharField(
        _("compression stockings"), max_length=12, choices=CompressionUse.choices, blank=True
    )
    pain_vas = models.PositiveSmallIntegerField(
        _("pain (VAS 0–10)"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    antithrombotic_adherence = models.CharField(
        _("antithrombotic adherence"), max_length=14, choices=Adherence.choices, blank=True
    )
    antithrombotic_current = models.CharField(
        _("current antithrombotic therapy"), max_length=200, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    abnormal_reasons = models.JSONField(_("abnormal findings"), default=list, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("visit result")
        verbose_name_plural = _("visit results")
        constraints = [
            models.CheckConstraint(condition=models.Q(pain_vas__lte=10), name="result_vas_0_10"),
        ]

    def __str__(self) -> str:
        return f"Result of visit {self.visit_id}"

    @property
    def abnormal(self) -> bool:
        return bool(self.abnormal_reasons)


class ResultSegment(models.Model):
    """One stented segment (segment + side of the procedure's implants) at one visit."""

    result = models.ForeignKey(VisitResult, on_delete=models.CASCADE, related_name="segments")
    segment = models.CharField(_("segment"), max_length=4, choices=StentSegment.choices)
    side = models.CharField(_("side"), max_length=8, choices=SegmentSide.choices)
    patency = models.CharField(_("patency"), max_length=12, choices=Patency.choices)
    in_stent_thrombus = models.BooleanField(_("in-stent thrombus"), null=True, blank=True)
    isr_percent = models.PositiveSmallIntegerField(
        _("in-stent restenosis (%)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    peak_velocity_ratio = models.DecimalField(
        _("peak-velocity ratio"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(50)],
    )
    compression = models.BooleanField(_("stent compression / deformation"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["result", "id"]
        verbose_name = _("stented segment result")
        verbose_name_plural = _("stented segment results")
        constraints = [
            models.UniqueConstraint(
                fields=["result", "segment", "side"], name="resultsegment_once_per_segment"
            ),
            models.CheckConstraint(
                condition=models.Q(isr_percent__lte=100), name="resultsegment_isr_max_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.segment} {self.side}: {self.patency}"


# ---------------------------------------------------------------------------------------------
# Escalations and re-interventions


# What a person records for each stented segment at a visit (the form, the API, the service).
RESULT_SEGMENT_FIELDS = (
    "segment",
    "side",
    "patency",
    "in_stent_thrombus",
    "isr_percent",
    "peak_velocity_ratio",
    "compression",
)


class Decision(models.TextChoices):
    OBSERVE = "observe", _("Observe (closer surveillance)")
    REIMAGE = "reimage", _("Re-image")
    REINTERVENE = "reintervene", _("Re-intervene")


class Escalation(models.Model):
    """Abnormal findings of a visit, sent to the responsible clinician until acknowledged."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="escalations")
    result = models.ForeignKey(VisitResult, on_delete=models.PROTECT, related_name="escalations")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("responsible clinician"),
    )
    reasons = models.JSONField(_("reason codes"), default=list)
    summary = models.TextField(_("findings"))
    created_at = models.DateTimeField(_("raised"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(_("decision"), max_length=12, choices=Decision.choices, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reimage_visit = models.ForeignKey(
        Visit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("re-imaging visit"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        permissions = [
            ("acknowledge_escalation", "Can acknowledge an escalation"),
            ("decide_escalation", "Can record the decision on an escalation"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(acknowledged_at__isnull=True)
                | models.Q(acknowledged_by__isnull=False),
                name="escalation_ack_has_who",
            ),
            models.CheckConstraint(
                condition=models.Q(decision="")
                | models.Q(
                    decided_at__isnull=False,
                    decided_by__isnull=False,
                    acknowledged_at__isnull=False,
                ),
                name="escalation_decision_complete",
            ),
        ]
        indexes = [
            models.Index(
                fields=["clinician"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="escalation_open_by_clinician",
            ),
            models.Index(fields=["centre", "created_at"], name="escalation_centre_created"),
        ]

    def __str__(self) -> str:
        return f"Escalation {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class ReInterventionKind(models.TextChoices):
    THROMBECTOMY_LYSIS = "thrombectomy_lysis", _("Thrombectomy / thrombolysis")
    ANGIOPLASTY = "angioplasty", _("Angioplasty")
    RESTENTING = "restenting", _("Re-stenting")


class ReIntervention(models.Model):
    """A re-intervention on the stented segments of a schedule's procedure
    (docs/followup.md#patency)."""

    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="reinterventions")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="+")
    escalation = models.ForeignKey(
        Escalation, on_delete=models.PROTECT, null=True, blank=True, related_name="reinterventions"
    )
    performed_on = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=ReInterventionKind.choices)
    for_occlusion = models.BooleanField(
        _("stent occluded before"),
        help_text=_(
            "Yes: counts for secondary patency. No (stenosed, never occluded): "
            "primary-assisted patency."
        ),
    )
    successful = models.BooleanField(_("patency restored"), default=True)
    segments = models.JSONField(
        _("segments treated"),
        default=list,
        help_text=_('Stented segments as "SEGMENT:side", e.g. "CIV:left".'),
    )
    note = models.TextField(_("note"), blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["schedule", "performed_on", "id"]
        verbose_name = _("re-intervention")
        verbose_name_plural = _("re-interventions")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.performed_on}"


# ---------------------------------------------------------------------------------------------
# Patency analytics (computed; see followup.patency)


class PatencyReport(BackgroundJob):
    """One computation of a centre's Kaplan–Meier patency curves (``followup.patency``) for
    one follow-up entity (blank: every entity), all three endpoints at once.

    Small cohorts are computed inline and need no row; a large one is computed by a Celery
    worker, which writes its progress (``done`` of ``total`` schedules) here for the page to
    poll and the result here for the page and the CSV to read. A report is derived data,
    not a clinical record: it keeps no history (the schedules, results and re-interventions
    it is computed from keep theirs) and a newer one supersedes it.
    """

    task_name = "followup.patency_report"

    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entity = models.CharField(
        _("follow-up entity"), max_length=24, choices=FollowUpEntity.choices, blank=True
    )
    total = models.PositiveIntegerField(_("schedules"), default=0)
    done = models.PositiveIntegerField(_("schedules read"), default=0)
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(_("requested"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("patency report")
        verbose_name_plural = _("patency reports")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="patencyreport_done_le_total"
            ),
            models.UniqueConstraint(
                fields=["centre", "entity"],
                condition=models.Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]),
                name="patencyreport_one_in_progress",
            ),
        ]
        indexes = [
            models.Index(fields=["centre", "entity", "-created_at"], name="patencyreport_latest"),
        ]

    def __str__(self) -> str:
        return f"Patency report {self.pk}"


# ---------------------------------------------------------------------------------------------
# Delivery rows: claimed by the sweep with a conditional UPDATE, sent exactly once


class Delivery(models.Model):
    """Common columns of a row that is delivered once.

    Unsent rows are found through a partial index (``sent_at IS NULL``) ordered by
    ``due_at``; the sweep claims them (``claimed_at``) and enqueues their ids; the task marks
    ``sent_at`` in the same transaction as the send, under a row lock, so a second task run
    finds nothing to do. A claim older than ``services.CLAIM_TIMEOUT`` is taken again (the
    enqueued message was lost, or every retry failed).
    """

    due_at = models.DateTimeField(_("due"))
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    skipped = models.BooleanField(
        _("skipped"),
        default=False,
        help_text=_("No longer needed when its turn came (visit done, escalation acknowledged)."),
    )
    tries = models.PositiveSmallIntegerField(_("failed tries"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        abstract = True


class ReminderKind(models.TextChoices):
    WINDOW_OPEN = "window_open", _("Visit window opens")
    OVERDUE = "overdue", _("Visit overdue")


class Reminder(Delivery):
    """An in-app reminder to the centre's nurses about one visit (and a line in the digest)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(_("kind"), max_length=12, choices=ReminderKind.choices)

    class Meta:
        verbose_name = _("visit reminder")
        verbose_name_plural = _("visit reminders")
        constraints = [
            models.UniqueConstraint(fields=["visit", "kind"], name="reminder_once_per_visit"),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(sent_at__isnull=True),
                name="reminder_unsent_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder for visit {self.visit_id}"


class EscalationNotice(Delivery):
    """One e-mail + in-app notice of an escalation; attempt n+1 is due 24 h after attempt n
    while the escalation stays unacknowledged."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="notices")
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=0)

    class Meta:
        verbose_name = _("escalation notice")
        verbose_name_plural = _("escalation notices")
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "attempt"], name="escalationnotice_once_per_attempt"
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(sent_at__isnull=True),
                name="escalationnotice_unsent_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Notice {self.attempt} of escalation {self.escalation_id}"


class Digest(Delivery):
    """The nurses' daily worklist e-mail of one centre, one per local date."""

    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField(_("date (centre time)"))
    item_count = models.PositiveIntegerField(_("visits listed"), default=0)

    class Meta:
        verbose_name = _("daily digest")
        verbose_name_plural = _("daily digests")
        constraints = [
            models.UniqueConstraint(fields=["centre", "local_date"], name="digest_once_per_day"),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(sent_at__isnull=True),
                name="digest_unsent_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Digest {self.centre_id} {self.local_date}"


class NotificationKind(models.TextChoices):
    WINDOW_OPEN = "window_open", _("Visit window opened")
    OVERDUE = "overdue", _("Visit overdue")
    DIGEST = "digest", _("Daily worklist")
    ESCALATION = "escalation", _("Escalation")
    APPROVAL = "approval", _("Rule awaiting approval")


class Notification(models.Model):
    """An in-app message; the bell counts the unread ones."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followup_notifications"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    escalation = models.ForeignKey(
        Escalation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
        ]

    def __str__(self) -> str:
        return self.title


class MailOutcome(models.TextChoices):
    SENT = "sent", _("Accepted by the mail server")
    UNCONFIRMED = "unconfirmed", _("Not confirmed: the mail server stopped answering")
    FAILED = "failed", _("Not sent: the mail server refused every try")


class NoticeMail(Delivery):
    """The e-mail copy of one in-app notice, to its recipient: at most one per notice.

    The in-app notice is committed first and never waits for the mail server; the copy is
    rendered with it and sent by its own task. ``sending_at`` is committed before the
    message goes to the mail server (the idempotency key): a run that finds it set does not
    send again, so a message the server may have accepted is never sent twice. A refusal
    (no connection, an error reply) clears it and the copy is retried.
    """

    notice = models.OneToOneField(Notification, on_delete=models.CASCADE, related_name="mail")
    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=300)
    text = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    sending_at = models.DateTimeField(_("handed to the mail server"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=MailOutcome.choices, blank=True)

    class Meta:
        verbose_name = _("notice e-mail")
        verbose_name_plural = _("notice e-mails")
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(sent_at__isnull=True),
                name="noticemail_unsent_due",
            ),
        ]

    def __str__(self) -> str:
        return f"E-mail of notice {self.notice_id}"
