"""Patients, cases and per-segment imaging findings.

Coded values are TextChoices with stable codes (the codes are the guideline engine's
vocabulary, ``guidelines/vocabulary.py``); a nullable field means "not recorded", which the
engine treats as unknown rather than as "no" (docs/evaluation.md#not-recorded).
"""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from cases import ceap, scores, thrombolysis, vocabulary
from venousapp.accounts.models import Centre
from venousapp.history import HistoricalRecords


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other / diverse")


class Side(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")
    BILATERAL = "bilateral", _("Bilateral")


class LesionEntity(models.TextChoices):
    ACUTE_THROMBOTIC = "acute_thrombotic", _("Acute (or subacute) thrombotic lesion")
    CHRONIC_POST_THROMBOTIC = "chronic_post_thrombotic", _("Chronic post-thrombotic obstruction")
    NIVL = "nivl", _("Non-thrombotic iliac vein lesion (NIVL)")
    ILIOCAVAL_ATRESIA = "iliocaval_atresia", _("Iliocaval atresia / IVC agenesis")
    IVC_OCCLUSION = "ivc_occlusion", _("IVC occlusion")


class NivlCause(models.TextChoices):
    MAY_THURNER = "may_thurner", _("May-Thurner (iliac vein compression)")
    TUMOUR = "tumour", _("Tumour")
    CYST = "cyst", _("Cyst")
    RETROPERITONEAL_FIBROSIS = "retroperitoneal_fibrosis", _("Retroperitoneal fibrosis")
    OTHER_EXTRINSIC = "other_extrinsic", _("Other extrinsic compression")


class ThrombosisEntity(models.TextChoices):
    ASCENDING = "ascending", _("Ascending (from calf upwards)")
    DESCENDING = "descending", _("Descending (from pelvic veins downwards)")
    TRANSFASCIAL = "transfascial", _("Transfascial (from a superficial vein)")


class Severity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


class QolImpairment(models.TextChoices):
    NONE = "none", _("None")
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


class Ulcer(models.TextChoices):
    NONE = "none", _("No ulcer")
    HEALED = "healed", _("Healed ulcer")
    ACTIVE = "active", _("Active ulcer")


class YesNoUnknown(models.TextChoices):
    YES = "true", _("Yes")
    NO = "false", _("No")
    UNKNOWN = "unknown", _("Unknown")


class Inflow(models.TextChoices):
    GOOD = "good", _("Good (CFV fed by patent FV and/or DFV)")
    POOR = "poor", _("Poor")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    HIGH = "high", _("High")


class Segment(models.TextChoices):
    """CEAP 2020 deep venous segments (Lurie 2020), the ones imaging findings refer to."""

    IVC = "IVC", _("Inferior vena cava (IVC)")
    CIV = "CIV", _("Common iliac vein (CIV)")
    IIV = "IIV", _("Internal iliac vein (IIV)")
    EIV = "EIV", _("External iliac vein (EIV)")
    PELV = "PELV", _("Pelvic veins (PELV)")
    CFV = "CFV", _("Common femoral vein (CFV)")
    DFV = "DFV", _("Deep femoral vein (DFV)")
    FV = "FV", _("Femoral vein (FV)")
    POPV = "POPV", _("Popliteal vein (POPV)")
    TIBV = "TIBV", _("Crural (tibial) veins (TIBV)")
    ATV = "ATV", _("Anterior tibial veins (ATV)")
    PTV = "PTV", _("Posterior tibial veins (PTV)")
    PRV = "PRV", _("Peroneal veins (PRV)")
    MUSV = "MUSV", _("Muscular veins (MUSV)")
    GAV = "GAV", _("Gastrocnemius veins (GAV)")
    SOV = "SOV", _("Soleal veins (SOV)")


# Segments the guideline rules treat as stentable (docs/evaluation.md#segment-sets).
STENTABLE_SEGMENTS = tuple(Segment(code) for code in vocabulary.STENTABLE_SEGMENTS)

# The overall status of a case (cases/vocabulary.py), as people read it.
OVERALL_LABELS = {
    "contraindicated_defer": _("Contraindicated — defer / choose an alternative"),
    "insufficient_data": _("Insufficient data"),
    "etr_candidate": _("Early thrombus removal candidate"),
    "stent_conflict": _("Stenting indicated, but guidelines disagree"),
    "stent_indicated": _("Stenting indicated"),
    "anticoagulation_only": _("Anticoagulation only"),
    "conservative": _("Conservative management"),
}


def overall_label(code: str) -> str:
    """The label of an overall status code (the code itself for one no longer known)."""
    return str(OVERALL_LABELS.get(code, code))


# (code, label) in the engine's precedence order: the choices of the stored overall status.
OVERALL_CHOICES = [(code, OVERALL_LABELS[code]) for code in vocabulary.OVERALL_STATUSES]


class SegmentSide(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")
    MIDLINE = "midline", _("Midline (IVC)")


class Finding(models.TextChoices):
    THROMBUS = "thrombus", _("Thrombus")
    OCCLUSION = "occlusion", _("Occlusion")
    STENOSIS = "stenosis", _("Stenosis")
    COMPRESSION = "compression", _("Extrinsic compression")
    NORMAL = "normal", _("Normal")


class ImagingMethod(models.TextChoices):
    IVUS = "ivus", _("Intravascular ultrasound (IVUS)")
    VENOGRAPHY = "venography", _("Multiplanar venography")
    DUPLEX = "duplex", _("Duplex ultrasound")
    CT = "ct", _("CT venography")
    MR = "mr", _("MR venography")


class ContactRoute(models.TextChoices):
    PHONE = "phone", _("Telephone")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")


def validate_ceap(value: str) -> None:
    """A CEAP 2020 classification the parser reads (``cases/ceap.py``), or nothing."""
    if value.strip():
        try:
            ceap.parse(value)
        except ceap.CeapError as exc:
            raise ValidationError(str(exc), code="invalid_ceap") from None


def validate_contraindication_codes(value: object) -> None:
    """Ticks of the thrombolysis checklist: a list of its codes (``cases/thrombolysis.py``,
    the SIR 2014 checklist) and nothing else, since the rules read every tick and skip unknown
    ones."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError(
            _("Expected a list of thrombolysis contraindication codes."), code="not_a_list"
        )
    unknown = [code for code in value if code not in thrombolysis.LABELS]
    if unknown:
        raise ValidationError(
            ngettext_lazy(
                "Unknown thrombolysis contraindication code: %(codes)s.",
                "Unknown thrombolysis contraindication codes: %(codes)s.",
                "count",
            ),
            code="unknown_code",
            params={"codes": ", ".join(unknown), "count": len(unknown)},
        )


class Patient(models.Model):
    centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, related_name="patients", verbose_name=_("centre")
    )
    identifier = models.CharField(
        _("hospital identifier"),
        max_length=64,
        help_text=_("The patient's number in this hospital (unique within the centre)."),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices)
    # How the follow-up nurses reach the patient (invitation letters, calls).
    phone = models.CharField(_("telephone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.TextField(
        _("postal address"), blank=True, help_text=_("As it goes on the envelope.")
    )
    preferred_contact = models.CharField(
        _("preferred contact"), max_length=8, choices=ContactRoute.choices, blank=True
    )
    general_practitioner = models.CharField(
        _("general practitioner"),
        max_length=300,
        blank=True,
        help_text=_("Name, practice and telephone."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["identifier"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "identifier"], name="patient_identifier_unique_per_centre"
            ),
        ]

    def __str__(self) -> str:
        return self.identifier

    def age_on(self, day: date) -> int:
        had_birthday = (day.month, day.day) >= (self.date_of_birth.month, self.date_of_birth.day)
        return day.year - self.date_of_birth.year - (0 if had_birthday else 1)


# What a clinician enters about a patient: the form's and the API's fields.
PATIENT_FIELDS = (
    "identifier",
    "name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "preferred_contact",
    "address",
    "general_practitioner",
)


class ScoreTotals:
    """The rVCSS and Villalta items and totals of a model with one ``vcss_<item>`` and one
    ``villalta_<item>`` field per score item (a case, a follow-up visit's result)."""

    def vcss_values(self) -> dict[str, int | None]:
        return {item.key: getattr(self, f"vcss_{item.key}") for item in scores.VCSS_ITEMS}

    def villalta_values(self) -> dict[str, int | None]:
        return {item.key: getattr(self, f"villalta_{item.key}") for item in scores.VILLALTA_ITEMS}

    @property
    def vcss_total(self) -> int | None:
        return scores.vcss_total(self.vcss_values())

    @property
    def villalta_total(self) -> int | None:
        return scores.villalta_total(self.villalta_values())


def _grade_field(label: str, grades: tuple[str, ...]) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label,
        null=True,
        blank=True,
        choices=[(i, f"{i} – {text}") for i, text in enumerate(grades)],
        validators=[MaxValueValidator(3)],
    )


_VCSS = {item.key: item for item in scores.VCSS_ITEMS}
_VIL = {item.key: item for item in scores.VILLALTA_ITEMS}


# Derived columns of Case written by cases.services.case_evaluations_store only.
EVALUATION_FIELDS = ["overall_status", "evaluated_ruleset", "evaluated_engine", "evaluated_at"]

# How the lists sort by stored status: a case never evaluated (NULL) as the empty code, so
# that every row has a value the index orders and a page can continue after
# (venousapp.listing.keyset_page).
STATUS_SORT_KEY = Coalesce("overall_status", models.Value(""))


class Case(ScoreTotals, models.Model):
    """One limb's (or the caval axis') presentation, with every input the rules read."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="cases", verbose_name=_("patient")
    )
    # The patient's centre, copied by the services whenever the patient is set: the lists of a
    # centre are read and ordered through indexes on the case alone, without a join to the
    # patients (see Meta.indexes). Derived, so kept out of the audit trail.
    centre = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,  # the indexes below start with it
        verbose_name=_("centre"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    case_date = models.DateField(_("case date"))
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    lesion_entity = models.CharField(
        _("lesion entity"), max_length=32, choices=LesionEntity.choices
    )
    nivl_cause = models.CharField(
        _("NIVL cause"), max_length=32, choices=NivlCause.choices, blank=True
    )
    ivc_filter_related = models.BooleanField(_("IVC-filter related"), null=True, blank=True)
    thrombosis_entity = models.CharField(
        _("entity of thrombosis"), max_length=16, choices=ThrombosisEntity.choices, blank=True
    )
    symptom_onset_date = models.DateField(_("symptom onset"), null=True, blank=True)

    # Clinical picture
    ceap = models.CharField(
        _("CEAP 2020"),
        max_length=120,
        blank=True,
        help_text=_("e.g. C3,4b,s Esi Ad Po (CIV,EIV,CFV)"),
        validators=[validate_ceap],
    )
    ulcer = models.CharField(_("venous ulcer"), max_length=8, choices=Ulcer.choices, blank=True)
    venous_claudication = models.BooleanField(_("venous claudication"), null=True, blank=True)
    qol_impairment = models.CharField(
        _("impairment of daily life"), max_length=10, choices=QolImpairment.choices, blank=True
    )
    symptom_severity = models.CharField(
        _("symptom severity"), max_length=10, choices=Severity.choices, blank=True
    )
    first_episode = models.BooleanField(_("first DVT episode"), null=True, blank=True)
    phlegmasia = models.BooleanField(
        _("phlegmasia (limb-threatening venous ischaemia)"), null=True, blank=True
    )
    underlying_iliac_lesion = models.CharField(
        _("underlying iliac lesion"), max_length=8, choices=YesNoUnknown.choices, blank=True
    )

    # Patient condition
    life_expectancy_years = models.DecimalField(
        _("life expectancy (years)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    ambulatory = models.BooleanField(_("ambulatory with good function"), null=True, blank=True)
    pregnancy = models.BooleanField(_("pregnancy"), null=True, blank=True)
    thrombophilia = models.BooleanField(_("thrombophilia"), null=True, blank=True)

    # Chronic obstruction
    conservative_therapy_months = models.PositiveSmallIntegerField(
        _("conservative therapy (months)"), null=True, blank=True
    )
    inflow = models.CharField(_("inflow"), max_length=8, choices=Inflow.choices, blank=True)
    stent_thrombosis_risk = models.CharField(
        _("stent-thrombosis risk"),
        max_length=8,
        choices=RiskLevel.choices,
        blank=True,
        help_text=_("Leave empty for the default of the lesion entity."),
    )
    long_term_anticoagulation_possible = models.BooleanField(
        _("long-term anticoagulation possible"), null=True, blank=True
    )

    # Device / procedure contraindications (DEV-IFU-CONTRA)
    active_infection = models.BooleanField(_("active local infection"), null=True, blank=True)
    severe_tortuosity = models.BooleanField(_("severe vessel tortuosity"), null=True, blank=True)
    diameter_mismatch = models.BooleanField(_("diameter mismatch"), null=True, blank=True)
    endovascular_contraindication = models.BooleanField(
        _("general contraindication to endovascular procedures"), null=True, blank=True
    )

    # Bleeding risk and thrombolysis contraindications (SIR 2014 checklist, cases/thrombolysis.py)
    bleeding_risk_level = models.CharField(
        _("bleeding risk"), max_length=8, choices=RiskLevel.choices, blank=True
    )
    contraindications_assessed = models.BooleanField(
        _("thrombolysis contraindications assessed"), default=False
    )
    thrombolysis_contraindications = models.JSONField(
        _("thrombolysis contraindications"),
        default=list,
        blank=True,
        validators=[validate_contraindication_codes],
    )

    # rVCSS items (Vasquez 2010)
    vcss_pain = _grade_field(_VCSS["pain"].label, _VCSS["pain"].grades)
    vcss_varicose_veins = _grade_field(
        _VCSS["varicose_veins"].label, _VCSS["varicose_veins"].grades
    )
    vcss_oedema = _grade_field(_VCSS["oedema"].label, _VCSS["oedema"].grades)
    vcss_pigmentation = _grade_field(_VCSS["pigmentation"].label, _VCSS["pigmentation"].grades)
    vcss_inflammation = _grade_field(_VCSS["inflammation"].label, _VCSS["inflammation"].grades)
    vcss_induration = _grade_field(_VCSS["induration"].label, _VCSS["induration"].grades)
    vcss_ulcer_number = _grade_field(_VCSS["ulcer_number"].label, _VCSS["ulcer_number"].grades)
    vcss_ulcer_duration = _grade_field(
        _VCSS["ulcer_duration"].label, _VCSS["ulcer_duration"].grades
    )
    vcss_ulcer_size = _grade_field(_VCSS["ulcer_size"].label, _VCSS["ulcer_size"].grades)
    vcss_compression = _grade_field(_VCSS["compression"].label, _VCSS["compression"].grades)

    # Villalta items (Villalta 1994; Kahn 2009)
    villalta_pain = _grade_field(_VIL["pain"].label, _VIL["pain"].grades)
    villalta_cramps = _grade_field(_VIL["cramps"].label, _VIL["cramps"].grades)
    villalta_heaviness = _grade_field(_VIL["heaviness"].label, _VIL["heaviness"].grades)
    villalta_paraesthesia = _grade_field(_VIL["paraesthesia"].label, _VIL["paraesthesia"].grades)
    villalta_pruritus = _grade_field(_VIL["pruritus"].label, _VIL["pruritus"].grades)
    villalta_pretibial_oedema = _grade_field(
        _VIL["pretibial_oedema"].label, _VIL["pretibial_oedema"].grades
    )
    villalta_skin_induration = _grade_field(
        _VIL["skin_induration"].label, _VIL["skin_induration"].grades
    )
    villalta_hyperpigmentation = _grade_field(
        _VIL["hyperpigmentation"].label, _VIL["hyperpigmentation"].grades
    )
    villalta_redness = _grade_field(_VIL["redness"].label, _VIL["redness"].grades)
    villalta_venous_ectasia = _grade_field(
        _VIL["venous_ectasia"].label, _VIL["venous_ectasia"].grades
    )
    villalta_calf_compression_pain = _grade_field(
        _VIL["calf_compression_pain"].label, _VIL["calf_compression_pain"].grades
    )

    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The guideline evaluation's overall status as last stored, so lists read and filter it
    # instead of evaluating every case. Derived data: the number of the rule set it was
    # computed with tells whether it is still current (guidelines.RuleSetState), and it is
    # kept out of the audit trail, where a re-evaluation after each publish would bury the
    # clinical changes. All three are NULL until the case is first evaluated.
    overall_status = models.CharField(  # noqa: DJ001 - NULL means "never evaluated"
        _("overall status"),
        max_length=24,
        choices=OVERALL_CHOICES,
        null=True,
        blank=True,
        editable=False,
    )
    evaluated_ruleset = models.PositiveIntegerField(
        _("evaluated with rule set"), null=True, blank=True, editable=False
    )
    # The engine's own version (guidelines.engine.ENGINE_VERSION): a deploy that changes how
    # the rules are read makes the stored statuses stale as a publish does.
    evaluated_engine = models.PositiveSmallIntegerField(
        _("evaluated with engine version"), null=True, blank=True, editable=False
    )
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=[*EVALUATION_FIELDS, "centre"])

    class Meta:
        ordering = ["-case_date", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["lesion_entity"], name="case_entity_idx"),
            models.Index(fields=["overall_status"], name="case_overall_status_idx"),
            # A centre's cases in each order of the case list (cases.selectors.CASE_COLUMNS),
            # read forwards or backwards: a page costs the same on any page of any centre.
            models.Index(fields=["centre", "case_date", "id"], name="case_centre_date_idx"),
            models.Index(fields=["centre", "id"], name="case_centre_id_idx"),
            models.Index(
                fields=["centre", "lesion_entity", "case_date", "id"], name="case_centre_entity_idx"
            ),
            models.Index(
                "centre", STATUS_SORT_KEY, "case_date", "id", name="case_centre_status_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    overall_status__isnull=True,
                    evaluated_ruleset__isnull=True,
                    evaluated_engine__isnull=True,
                    evaluated_at__isnull=True,
                )
                | models.Q(
                    overall_status__in=[code for code, _label in OVERALL_CHOICES],
                    evaluated_ruleset__isnull=False,
                    evaluated_engine__isnull=False,
                    evaluated_at__isnull=False,
                ),
                name="case_evaluation_complete_or_absent",
            ),
            models.CheckConstraint(
                condition=models.Q(nivl_cause="") | models.Q(lesion_entity="nivl"),
                name="case_nivl_cause_only_for_nivl",
            ),
            models.CheckConstraint(
                condition=models.Q(symptom_onset_date__isnull=True)
                | models.Q(symptom_onset_date__lte=models.F("case_date")),
                name="case_onset_not_after_case_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}"

    @property
    def symptom_onset_days(self) -> int | None:
        if self.symptom_onset_date is None:
            return None
        return (self.case_date - self.symptom_onset_date).days

    @property
    def villalta_category(self) -> str | None:
        return scores.villalta_category(
            self.villalta_total, ulcer=self.ulcer == Ulcer.ACTIVE if self.ulcer else None
        )


# What a clinician enters per segment finding: the form and API fields and the data handed to
# the services (never the unsaved parent case). A tuple: the inline formset appends its
# foreign key ("case") to a Meta.fields list in place.
FINDING_FIELDS = (
    "segment",
    "side",
    "finding",
    "area_reduction_pct",
    "diameter_reduction_pct",
    "reference_diameter_mm",
    "reference_area_mm2",
    "lesion_length_mm",
    "imaging_method",
)


class SegmentFinding(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="findings")
    segment = models.CharField(_("segment"), max_length=8, choices=Segment.choices)
    side = models.CharField(_("side"), max_length=8, choices=SegmentSide.choices)
    finding = models.CharField(_("finding"), max_length=12, choices=Finding.choices)
    area_reduction_pct = models.PositiveSmallIntegerField(
        _("IVUS area reduction (%)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    diameter_reduction_pct = models.PositiveSmallIntegerField(
        _("diameter reduction (%)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    reference_diameter_mm = models.DecimalField(
        _("reference diameter (mm)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(40)],
    )
    reference_area_mm2 = models.PositiveSmallIntegerField(
        _("reference area (mm²)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1300)],
        help_text=_(
            "IVUS lumen area of the healthy reference; sizes the stent when no "
            "reference diameter is given."
        ),
    )
    lesion_length_mm = models.PositiveSmallIntegerField(
        _("lesion length (mm)"), null=True, blank=True, validators=[MaxValueValidator(600)]
    )
    imaging_method = models.CharField(
        _("imaging"), max_length=12, choices=ImagingMethod.choices, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("segment finding")
        verbose_name_plural = _("segment findings")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "segment", "side"], name="finding_one_per_segment_and_side"
            ),
            models.CheckConstraint(
                condition=models.Q(area_reduction_pct__lte=100), name="finding_area_pct_max_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.segment} {self.side}: {self.finding}"
