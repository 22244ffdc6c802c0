"""Guideline rules as versioned data, and the clinicians' signed decisions.

A :class:`Rule` has a stable id (e.g. ``SVSAVF-2014-VLU-6.8`` for guideline 6.8 of SVS/AVF
2014) and numbered :class:`RuleVersion` rows; the version's ``definition`` is the JSON rule
DSL validated by ``guidelines/schema.py``. At most one version of a rule is active. Publishing
needs passing test cases and a second guideline admin's approval; every publish, retire or
restore bumps :class:`RuleSetState` so every process recompiles its cached rule set.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from venousapp.history import HistoricalRecords
from venousapp.models import BackgroundJob, JobStatus


class GuidelineSource(models.Model):
    key = models.CharField(_("key"), max_length=64, unique=True)
    society = models.CharField(_("society"), max_length=200)
    title = models.CharField(_("title"), max_length=300)
    year = models.PositiveSmallIntegerField(_("year"))
    citation = models.CharField(_("citation"), max_length=400)
    doi = models.CharField(_("DOI"), max_length=200, blank=True)
    url = models.URLField(_("URL"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["key"]
        verbose_name = _("guideline source")
        verbose_name_plural = _("guideline sources")

    def __str__(self) -> str:
        return self.key

    def as_dict(self) -> dict[str, object]:
        return {
            "society": self.society,
            "title": self.title,
            "year": self.year,
            "citation": self.citation,
            "doi": self.doi or None,
            "url": self.url or None,
        }


class EngineKind(models.TextChoices):
    SCORED = "scored", _("Scored (evaluated per case)")
    INFO = "info", _("Information (displayed only)")


class Rule(models.Model):
    rule_id = models.CharField(_("rule id"), max_length=64, unique=True)
    engine = models.CharField(_("engine"), max_length=8, choices=EngineKind.choices)
    topic = models.CharField(_("topic"), max_length=32)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["rule_id"]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self) -> str:
        return self.rule_id


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Awaiting approval")
    ACTIVE = "active", _("Active")
    SUPERSEDED = "superseded", _("Superseded")
    RETIRED = "retired", _("Retired")


class Verification(models.TextChoices):
    VERIFIED = "verified", _("Verified against the source")
    SEED = "seed", _("From the seed documents")
    PROVISIONAL = "provisional", _("Provisional (not verified)")


class RuleVersion(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    definition = models.JSONField(_("definition"))
    source = models.ForeignKey(GuidelineSource, on_delete=models.PROTECT, related_name="+")
    verification = models.CharField(_("verification"), max_length=12, choices=Verification.choices)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    change_note = models.TextField(_("change note"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["rule__rule_id", "-number"]
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="rule_version_number_unique"),
            models.UniqueConstraint(
                fields=["rule"], condition=models.Q(status="active"), name="rule_one_active_version"
            ),
        ]
        indexes = [models.Index(fields=["status"], name="rule_version_status_idx")]
        permissions = [("approve_ruleversion", "Can approve and publish a rule version")]

    def __str__(self) -> str:
        return f"{self.rule.rule_id} v{self.number}"


class RuleTestCase(models.Model):
    """A vignette for one rule version: facts in, the value the rule must return."""

    rule_version = models.ForeignKey(
        RuleVersion, on_delete=models.CASCADE, related_name="test_cases"
    )
    name = models.CharField(_("name"), max_length=200)
    facts = models.JSONField(_("facts"))
    expected = models.CharField(_("expected value"), max_length=64)
    last_value = models.CharField(_("last value"), max_length=64, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("rule test case")
        verbose_name_plural = _("rule test cases")

    def __str__(self) -> str:
        return self.name

    @property
    def passed(self) -> bool | None:
        return None if not self.last_run_at else self.last_value == self.expected


class RuleSetState(models.Model):
    """Singleton: the published rule set's number. Processes compare it with the number of
    their cached compiled rule set and recompile when it moved."""

    version = models.PositiveIntegerField(default=1)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rule set state")

    def __str__(self) -> str:
        return f"Rule set {self.version}"


class Decision(models.Model):
    """A clinician's signed decision on a case's recommendations, frozen as it was."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="decisions")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField()
    facts = models.JSONField()
    ruleset_version = models.CharField(max_length=64)
    rule_versions = models.JSONField(default=dict)
    result = models.JSONField()
    comment = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-signed_at"]
        verbose_name = _("signed decision")
        verbose_name_plural = _("signed decisions")

    def __str__(self) -> str:
        return f"Decision {self.pk} on case {self.case_id}"


class FeedbackAction(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    OVERRIDDEN = "overridden", _("Overridden")


class OverrideReason(models.TextChoices):
    PATIENT_PREFERENCE = "patient_preference", _("Patient preference")
    COMORBIDITY = "comorbidity", _("Comorbidity or frailty")
    ANATOMY = "anatomy", _("Anatomy / imaging findings")
    BLEEDING_RISK = "bleeding_risk", _("Bleeding risk assessment differs")
    DATA_INCORRECT = "data_incorrect", _("Case data incomplete or incorrect")
    NEWER_EVIDENCE = "newer_evidence", _("Newer evidence or local protocol")
    RESOURCES = "resources", _("Equipment, expertise or environment not available")
    OTHER = "other", _("Other (see comment)")


class CardFeedback(models.Model):
    """A clinician's accepted/overridden outcome of one card: of a signed decision on the case
    page, or of a card the CDS Hooks service showed in the hospital's record system
    (``hook_card``: that card's uuid, ``decision`` empty)."""

    decision = models.ForeignKey(
        Decision, on_delete=models.CASCADE, related_name="feedback", null=True, blank=True
    )
    hook_card = models.UUIDField(_("CDS Hooks card"), null=True, blank=True)
    rule_id = models.CharField(max_length=64)
    value = models.CharField(max_length=64)
    action = models.CharField(max_length=12, choices=FeedbackAction.choices)
    reason = models.CharField(max_length=24, choices=OverrideReason.choices, blank=True)
    comment = models.TextField(blank=True)
    outcome_at = models.DateTimeField(_("outcome time"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["rule_id"]
        verbose_name = _("card feedback")
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "rule_id"], name="feedback_one_per_rule_and_decision"
            ),
            models.UniqueConstraint(fields=["hook_card"], name="feedback_one_per_hook_card"),
            models.CheckConstraint(
                condition=models.Q(decision__isnull=False, hook_card__isnull=True)
                | models.Q(decision__isnull=True, hook_card__isnull=False),
                name="feedback_of_a_decision_or_a_hook_card",
            ),
            models.CheckConstraint(
                condition=~models.Q(action="overridden") | ~models.Q(reason=""),
                name="feedback_override_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.action}"


class ImpactPreview(BackgroundJob):
    """One run of a draft's impact preview: every stored case evaluated with the published
    rule set and with the draft in its rule's place. Progress (``done``/``total``) is a row
    so the page can poll it while a Celery worker computes it; the result is derived data,
    not an audited clinical record, so it keeps no history."""

    task_name = "guidelines.impact_preview"

    rule_version = models.ForeignKey(
        RuleVersion, on_delete=models.CASCADE, related_name="impact_previews"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("impact preview")
        verbose_name_plural = _("impact previews")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="impact_preview_done_le_total"
            ),
        ]

    def __str__(self) -> str:
        return f"Impact preview {self.pk} of {self.rule_version_id}"


class ReEvaluationTrigger(models.TextChoices):
    RULESET_CHANGE = "ruleset_change", _("Rule set changed (publish, retire, restore, load)")
    MANUAL = "manual", _("Started by a guideline admin")
    COMMAND = "command", _("Management command")
    DEPLOY = "deploy", _("Update of the application (rules or evaluation logic changed)")


class ReEvaluation(BackgroundJob):
    """One run of the bulk re-evaluation: every stored case whose stored overall status was
    computed with another rule set than the published one is evaluated again. Progress
    (``done``/``total``) is a row so the rule pages can poll it while a Celery worker runs
    it. An operational record of derived data, so it keeps no history."""

    task_name = "guidelines.reevaluate_cases"

    trigger = models.CharField(_("trigger"), max_length=16, choices=ReEvaluationTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    ruleset = models.PositiveIntegerField(
        _("rule set"),
        null=True,
        blank=True,
        help_text=_("The rule-set number cases were brought to."),
    )
    changed = models.PositiveIntegerField(
        default=0, help_text=_("Cases whose stored overall status changed.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("re-evaluation")
        verbose_name_plural = _("re-evaluations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="reevaluation_done_le_total"
            ),
        ]
        indexes = [  # the rule pages look for the job in progress on every view
            models.Index(
                fields=["-created_at"],
                name="reevaluation_unfinished_idx",
                condition=models.Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]),
            ),
        ]

    def __str__(self) -> str:
        return f"Re-evaluation {self.pk} ({self.status})"
