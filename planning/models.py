"""Device catalogue, checklist templates, procedure plans and procedure records.

The catalogue and the templates are reference data a guideline admin edits in the app; rows
are retired (``retired_at``), never deleted, because plans and records point at them. Plans,
their checklist ticks and procedure records are clinical documents: every model keeps its
history (who changed what, when), STYLE.md convention 11.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import Case, SegmentSide
from venousapp.history import HistoricalRecords


class DeviceKind(models.TextChoices):
    STENT = "stent", _("Stent")
    BALLOON = "balloon", _("Balloon")
    SHEATH = "sheath", _("Sheath")
    WIRE = "wire", _("Guidewire")
    CATHETER = "catheter", _("Support / crossing catheter")
    IVUS = "ivus", _("IVUS catheter")
    MANOMETER = "manometer", _("Inflation manometer")
    OTHER = "other", _("Other")


class PlannerUse(models.TextChoices):
    """What the plan generator prepares this device for (the reference lecture's equipment list,
    docs/planning.md#equipment)."""

    NONE = "", _("Not prepared automatically")
    SHEATH = "sheath", _("Access sheath (sizes by French)")
    WORKING_WIRE = "working_wire", _("Working wire (every plan)")
    CTO_WIRE = "cto_wire", _("CTO wire (occlusions)")
    SUPPORT_CATHETER = "support_catheter", _("Support / crossing catheter (every plan)")
    IVUS = "ivus", _("IVUS (every plan)")
    NC_BALLOON = "nc_balloon", _("High-pressure non-compliant balloon (sized to the stents)")
    MANOMETER = "manometer", _("Inflation manometer (every plan)")


PLANNER_USE_KIND = {
    PlannerUse.SHEATH: "sheath",
    PlannerUse.WORKING_WIRE: "wire",
    PlannerUse.CTO_WIRE: "wire",
    PlannerUse.SUPPORT_CATHETER: "catheter",
    PlannerUse.IVUS: "ivus",
    PlannerUse.NC_BALLOON: "balloon",
    PlannerUse.MANOMETER: "manometer",
}


class Evidence(models.TextChoices):
    """How sure the source fact is (docs/README.md#how-sure-a-fact-is)."""

    VERIFIED = "V", _("Verified against the published source")
    SEED = "S", _("From the reference lecture or article")
    MEMORY = "M", _("Provisional: not yet verified against a source")


class Scenario(models.TextChoices):
    ACUTE_THROMBUS_REMOVAL = "acute_thrombus_removal", _("Acute iliofemoral thrombus removal")
    NIVL_STENTING = "nivl_stenting", _("NIVL stenting")
    CHRONIC_RECANALIZATION = "chronic_recanalization", _("Chronic post-thrombotic recanalization")
    IVC_RECONSTRUCTION = "ivc_reconstruction", _("IVC reconstruction (inverted-Y)")


class Phase(models.TextChoices):
    """WHO surgical safety checklist phases, preceded by the equipment preparation."""

    PREPARATION = "preparation", _("Preparation")
    SIGN_IN = "sign_in", _("Sign in")
    TIME_OUT = "time_out", _("Time out")
    SIGN_OUT = "sign_out", _("Sign out")


class FollowUpEntity(models.TextChoices):
    """Surveillance protocols (docs/followup.md#follow-up-entity)."""

    NIVL = "nivl", _("NIVL")
    ACUTE_THROMBOTIC = "acute_thrombotic", _("Acute thrombotic (stent after thrombus removal)")
    POST_THROMBOTIC = "post_thrombotic", _("Post-thrombotic")
    IVC_RECONSTRUCTION = "ivc_reconstruction", _("IVC reconstruction")


class StentSegment(models.TextChoices):
    """Stentable segments (docs/evaluation.md#segment-sets), in cranial-to-caudal order."""

    IVC = "IVC", _("Inferior vena cava (IVC)")
    CIV = "CIV", _("Common iliac vein (CIV)")
    EIV = "EIV", _("External iliac vein (EIV)")
    CFV = "CFV", _("Common femoral vein (CFV)")


class RetirableQuerySet(models.QuerySet):
    def active(self) -> RetirableQuerySet:
        return self.filter(retired_at__isnull=True)


# ---------------------------------------------------------------------------------------------
# Device catalogue


class Device(models.Model):
    """One catalogue product: the reference lecture's equipment and the dedicated venous stents
    (docs/planning.md#device-catalogue)."""

    code = models.SlugField(_("code"), max_length=48, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=DeviceKind.choices)
    name = models.CharField(_("name"), max_length=120)
    manufacturer = models.CharField(_("manufacturer"), max_length=120, blank=True)
    dedicated = models.BooleanField(
        _("dedicated venous stent"),
        default=False,
        help_text=_("Stents only: designed and approved for veins. Wallstent is not."),
    )
    planner_use = models.CharField(
        _("prepared by the planner as"),
        max_length=20,
        choices=PlannerUse.choices,
        blank=True,
        help_text=_("Leave empty for devices the plan generator should not add by itself."),
    )
    design = models.CharField(_("design"), max_length=200, blank=True)
    material = models.CharField(_("material"), max_length=120, blank=True)
    segments = models.JSONField(
        _("suitable segments"),
        default=list,
        blank=True,
        help_text=_(
            "Stents: segments the planner may propose this stent for (IVC, CIV, EIV, CFV)."
        ),
    )
    evidence = models.CharField(
        _("evidence tag"), max_length=1, choices=Evidence.choices, default=Evidence.MEMORY
    )
    notes = models.TextField(_("notes"), blank=True)
    position = models.PositiveSmallIntegerField(
        _("order"), default=100, help_text=_("The planner prefers lower numbers.")
    )
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    history = HistoricalRecords()

    objects = RetirableQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "position", "name"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(dedicated=False) | models.Q(kind="stent"),
                name="device_dedicated_only_for_stents",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class DeviceSize(models.Model):
    """One orderable size of a device; nullable fields are "not applicable or not known"."""

    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="sizes", verbose_name=_("device")
    )
    diameter_mm = models.DecimalField(
        _("diameter (mm)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )
    length_mm = models.PositiveSmallIntegerField(
        _("length (mm)"), null=True, blank=True, validators=[MaxValueValidator(3000)]
    )
    french = models.DecimalField(
        _("French size"),
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("Sheaths: the sheath size. Stents and balloons: the sheath they need."),
    )
    wire_inch = models.DecimalField(
        _("wire (inch)"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    verified = models.BooleanField(
        _("verified"),
        default=False,
        help_text=_(
            "This exact diameter × length is confirmed in the maker's published size matrix "
            "(a verified range is not enough). The planner warns about the others."
        ),
    )
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    history = HistoricalRecords()

    objects = RetirableQuerySet.as_manager()

    class Meta:
        ordering = ["device", "diameter_mm", "length_mm", "french", "id"]
        verbose_name = _("device size")
        verbose_name_plural = _("device sizes")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "diameter_mm", "length_mm", "french"],
                condition=models.Q(retired_at__isnull=True),
                name="devicesize_unique_active",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device.name} {self.label}"

    @property
    def label(self) -> str:
        parts = []
        if self.diameter_mm is not None and self.length_mm is not None:
            parts.append(f"{self.diameter_mm.normalize():f} × {self.length_mm} mm")
        elif self.diameter_mm is not None:
            parts.append(f"{self.diameter_mm.normalize():f} mm")
        elif self.length_mm is not None:
            parts.append(f"{self.length_mm} mm")
        if self.french is not None:
            parts.append(f"{self.french.normalize():f} F")
        if self.wire_inch is not None:
            parts.append(f'{self.wire_inch.normalize():f}"')
        return ", ".join(parts) or "—"


# ---------------------------------------------------------------------------------------------
# Checklist templates


class ChecklistTemplate(models.Model):
    """The checklist for one scenario; plans copy its items when they are created."""

    scenario = models.CharField(_("scenario"), max_length=32, choices=Scenario.choices)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = RetirableQuerySet.as_manager()

    class Meta:
        ordering = ["scenario", "id"]
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        constraints = [
            models.UniqueConstraint(
                fields=["scenario"],
                condition=models.Q(retired_at__isnull=True),
                name="checklisttemplate_one_active_per_scenario",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChecklistTemplateItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.PROTECT, related_name="items")
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices)
    position = models.PositiveSmallIntegerField(_("order"), default=100)
    text = models.CharField(_("text"), max_length=300)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    history = HistoricalRecords()

    objects = RetirableQuerySet.as_manager()

    class Meta:
        ordering = ["template", "phase", "position", "id"]
        verbose_name = _("checklist template item")
        verbose_name_plural = _("checklist template items")

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------------------------
# Procedure plan


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")


class Positioning(models.TextChoices):
    SUPINE = "supine", _("Supine")
    PRONE = "prone", _("Prone")


class Anaesthesia(models.TextChoices):
    SEDO_ANALGESIA = "sedo_analgesia", _("Sedo-analgesia")
    GENERAL = "general", _("General anaesthesia")


class JugularAccess(models.TextChoices):
    RECOMMENDED = "recommended", _("Recommended")
    OPTIONAL = "optional", _("Optional (prepare the neck)")
    NOT_PLANNED = "not_planned", _("Not planned")


class ConfluenceTechnique(models.TextChoices):
    """Iliocaval confluence techniques (docs/planning.md#inverted-y-extension)."""

    NONE = "", _("None (no bilateral extension)")
    DOUBLE_BARREL = "double_barrel", _("Double-barrel (side-by-side iliac stents)")
    Y_FENESTRATION = "y_fenestration", _("Y-fenestration")
    NEO_CAVA = "neo_cava", _("Neo-cava: large IVC stent + bilateral iliac limbs")


class AccessSiteCode(models.TextChoices):
    POPLITEAL = "popliteal", _("Popliteal vein (prone)")
    FEMORAL = "femoral", _("Common femoral vein")
    FEMORAL_MIDTHIGH = "femoral_midthigh", _("Mid-thigh femoral vein")
    JUGULAR = "jugular", _("Internal jugular vein")
    POSTERIOR_TIBIAL = "posterior_tibial", _("Posterior tibial vein")


class LimbSide(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")


# What a person edits on a plan (its form, the API, the service), the rest being derived.
PLAN_FIELDS = (
    "scenario",
    "positioning",
    "anaesthesia",
    "anaesthesia_reason",
    "bilateral_access",
    "jugular",
    "bilateral_extension",
    "confluence_technique",
    "heparin_iu_per_kg",
    "act_target_s",
    "antithrombotic_regimen",
    "follow_up_entity",
    "notes",
)


class ProcedurePlan(models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="plans", verbose_name=_("case")
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=8, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    scenario = models.CharField(_("scenario"), max_length=32, choices=Scenario.choices)
    checklist_template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    guideline_status = models.CharField(
        _("guideline status at planning"), max_length=32, blank=True
    )
    guideline_snapshot = models.JSONField(
        _("guideline planning block at planning"), default=dict, blank=True
    )
    positioning = models.CharField(_("positioning"), max_length=8, choices=Positioning.choices)
    anaesthesia = models.CharField(_("anaesthesia"), max_length=16, choices=Anaesthesia.choices)
    anaesthesia_reason = models.CharField(_("why this anaesthesia"), max_length=300, blank=True)
    bilateral_access = models.BooleanField(_("bilateral access"), default=False)
    jugular = models.CharField(
        _("internal jugular access"), max_length=12, choices=JugularAccess.choices
    )
    bilateral_extension = models.BooleanField(_("bilateral extension (inverted-Y)"), default=False)
    confluence_technique = models.CharField(
        _("confluence technique"),
        max_length=16,
        choices=ConfluenceTechnique.choices,
        blank=True,
    )
    heparin_iu_per_kg = models.PositiveSmallIntegerField(
        _("heparin bolus (IU/kg)"),
        validators=[MaxValueValidator(300)],
        help_text=_(
            "Unfractionated heparin after access; commonly 70–100 IU/kg (practice value, "
            "not verified against a source)."
        ),
    )
    act_target_s = models.PositiveSmallIntegerField(
        _("ACT target (s)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(600)],
        help_text=_("Activated clotting time target; a practice value, not verified."),
    )
    antithrombotic_regimen = models.TextField(_("post-procedure antithrombotic regimen"))
    follow_up_entity = models.CharField(
        _("follow-up protocol"), max_length=24, choices=FollowUpEntity.choices, blank=True
    )
    contraindication_override_reason = models.TextField(
        _("why proceed despite the contraindication"), blank=True
    )
    # Recorded when the plan was created over guideline advice against it (a "stenting
    # indicated, but guidelines disagree" case, or any recommendation advising against);
    # ``guideline_snapshot["against"]`` names those recommendations.
    indication_override_reason = models.TextField(
        _("why plan despite guideline advice against"), blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("procedure plan")
        verbose_name_plural = _("procedure plans")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | models.Q(signed_at__isnull=False, signed_by__isnull=False),
                name="plan_signed_has_signer",
            ),
            models.CheckConstraint(
                condition=models.Q(confluence_technique="") | models.Q(bilateral_extension=True),
                name="plan_confluence_only_with_extension",
            ),
        ]

    def __str__(self) -> str:
        return f"Plan {self.pk} ({self.get_scenario_display()})"

    @property
    def is_signed(self) -> bool:
        return self.status == PlanStatus.SIGNED


class AccessSite(models.Model):
    plan = models.ForeignKey(ProcedurePlan, on_delete=models.CASCADE, related_name="access_sites")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    site = models.CharField(_("access site"), max_length=20, choices=AccessSiteCode.choices)
    side = models.CharField(_("side"), max_length=8, choices=LimbSide.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "position", "id"]
        verbose_name = _("access site")
        verbose_name_plural = _("access sites")

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.get_site_display()}"


class PlannedStent(models.Model):
    plan = models.ForeignKey(ProcedurePlan, on_delete=models.CASCADE, related_name="stents")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    segment = models.CharField(_("segment"), max_length=4, choices=StentSegment.choices)
    side = models.CharField(_("side"), max_length=8, choices=SegmentSide.choices)
    device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("stent"),
        help_text=_("Empty when the catalogue has no stent for this segment."),
    )
    size = models.ForeignKey(
        DeviceSize,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("catalogue size"),
    )
    diameter_mm = models.DecimalField(
        _("diameter (mm)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(4), MaxValueValidator(40)],
    )
    length_mm = models.PositiveSmallIntegerField(
        _("length (mm)"), validators=[MinValueValidator(10), MaxValueValidator(300)]
    )
    proposed_diameter_mm = models.DecimalField(
        _("proposed diameter (mm)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    proposed_length_mm = models.PositiveSmallIntegerField(
        _("proposed length (mm)"), null=True, blank=True
    )
    required_length_mm = models.PositiveSmallIntegerField(
        _("length needed (mm)"),
        null=True,
        blank=True,
        help_text=_("Lesion plus landing zones and overlaps; a shorter stent is flagged."),
    )
    basis = models.CharField(_("sizing basis"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "position", "id"]
        verbose_name = _("planned stent")
        verbose_name_plural = _("planned stents")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "segment", "side"], name="plannedstent_one_per_segment_side"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.segment} {self.side}: {self.device} {self.diameter_mm}×{self.length_mm}"


class ItemCategory(models.TextChoices):
    POSITIONING = "positioning", _("Positioning")
    ACCESS = "access", _("Access")
    SHEATH = "sheath", _("Sheath")
    WIRE = "wire", _("Wire")
    CATHETER = "catheter", _("Catheter")
    IMAGING = "imaging", _("Imaging")
    BALLOON = "balloon", _("Balloon")
    STENT = "stent", _("Stents")
    ANAESTHESIA = "anaesthesia", _("Anaesthesia")
    ANTICOAGULATION = "anticoagulation", _("Anticoagulation")
    OTHER = "other", _("Other")
    SAFETY = "safety", _("Safety check")


class ChecklistItem(models.Model):
    """One line of a plan's checklist; ticking it records who and when (history keeps unticks)."""

    plan = models.ForeignKey(ProcedurePlan, on_delete=models.CASCADE, related_name="items")
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices)
    category = models.CharField(
        _("category"), max_length=16, choices=ItemCategory.choices, default=ItemCategory.SAFETY
    )
    position = models.PositiveSmallIntegerField(_("order"), default=100)
    text = models.CharField(_("text"), max_length=300)
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    device_size = models.ForeignKey(
        DeviceSize, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    template_item = models.ForeignKey(
        ChecklistTemplateItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ticked_at = models.DateTimeField(_("ticked"), null=True, blank=True)
    ticked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "phase", "position", "id"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ticked_at__isnull=True, ticked_by__isnull=True)
                | models.Q(ticked_at__isnull=False, ticked_by__isnull=False),
                name="checklistitem_tick_has_who_and_when",
            ),
        ]
        indexes = [models.Index(fields=["plan", "phase"], name="checklistitem_plan_phase")]

    def __str__(self) -> str:
        return self.text

    @property
    def ticked(self) -> bool:
        return self.ticked_at is not None


# ---------------------------------------------------------------------------------------------
# Procedure record


# What a person records of a procedure (its form, the API, the service); implants apart.
RECORD_FIELDS = (
    "performed_on",
    "operators",
    "access_used",
    "balloon_pressure_atm",
    "ivus_before",
    "ivus_after",
    "technical_success",
    "major_bleeding",
    "pulmonary_embolism",
    "early_stent_thrombosis",
    "death",
    "complication_notes",
    "antithrombotic_regimen",
    "follow_up_entity",
)


class ProcedureRecord(models.Model):
    """What was done. Completing it hands over to the follow-up app's surveillance schedule."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="procedure_records", verbose_name=_("case")
    )
    plan = models.ForeignKey(
        ProcedurePlan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="records",
        verbose_name=_("plan"),
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    performed_on = models.DateField(_("date of procedure"))
    operators = models.CharField(_("operators"), max_length=300)
    access_used = models.CharField(_("access used"), max_length=300)
    balloon_pressure_atm = models.DecimalField(
        _("max. balloon pressure (atm)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(40)],
    )
    ivus_before = models.TextField(
        _("IVUS before"), blank=True, help_text=_("e.g. minimal lumen area per segment.")
    )
    ivus_after = models.TextField(_("IVUS after"), blank=True)
    technical_success = models.BooleanField(_("technical success"), null=True, blank=True)
    # Complications by the categories of the Razavi 2015 meta-analysis (Circ Cardiovasc Interv
    # 2015, PMID 26438686).
    major_bleeding = models.BooleanField(_("major bleeding"), default=False)
    pulmonary_embolism = models.BooleanField(_("pulmonary embolism"), default=False)
    early_stent_thrombosis = models.BooleanField(_("early stent thrombosis"), default=False)
    death = models.BooleanField(_("periprocedural death"), default=False)
    complication_notes = models.TextField(_("other complications / notes"), blank=True)
    antithrombotic_regimen = models.TextField(_("antithrombotic regimen"))
    follow_up_entity = models.CharField(
        _("follow-up protocol"), max_length=24, choices=FollowUpEntity.choices
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-performed_on", "-id"]
        verbose_name = _("procedure record")
        verbose_name_plural = _("procedure records")
        constraints = [
            models.UniqueConstraint(
                fields=["plan"],
                condition=models.Q(plan__isnull=False),
                name="procedurerecord_one_per_plan",
            ),
            models.CheckConstraint(
                condition=models.Q(completed_at__isnull=True)
                | models.Q(completed_by__isnull=False),
                name="procedurerecord_completed_has_who",
            ),
        ]

    def __str__(self) -> str:
        return f"Procedure {self.pk} on {self.performed_on}"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None

    @property
    def complications(self) -> list[str]:
        return [
            str(getattr(self._meta.get_field(name), "verbose_name", name))
            for name in COMPLICATION_FIELDS
            if getattr(self, name)
        ]


COMPLICATION_FIELDS = ("major_bleeding", "pulmonary_embolism", "early_stent_thrombosis", "death")


class ImplantedDevice(models.Model):
    record = models.ForeignKey(ProcedureRecord, on_delete=models.CASCADE, related_name="implants")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    segment = models.CharField(_("segment"), max_length=4, choices=StentSegment.choices)
    side = models.CharField(_("side"), max_length=8, choices=SegmentSide.choices)
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="+", verbose_name=_("device")
    )
    diameter_mm = models.DecimalField(
        _("diameter (mm)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )
    length_mm = models.PositiveSmallIntegerField(
        _("length (mm)"), validators=[MinValueValidator(1), MaxValueValidator(300)]
    )
    lot = models.CharField(_("lot number"), max_length=64, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["record", "position", "id"]
        verbose_name = _("implanted device")
        verbose_name_plural = _("implanted devices")

    def __str__(self) -> str:
        return f"{self.segment} {self.side}: {self.device} {self.diameter_mm}×{self.length_mm}"
