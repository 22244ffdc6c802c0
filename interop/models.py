"""What the hospital interfaces keep: the registered CDS Hooks clients, each hook call with the
cards it answered (what advice was shown in another system, and the key of its feedback), and
the draft cases FHIR imports fill in."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Patient
from venousapp.accounts.models import Centre
from venousapp.history import HistoricalRecords


class CdsClient(models.Model):
    """A hospital system allowed to call the CDS Hooks service: it signs each call with its
    private key (a JWT whose ``iss`` is ``issuer``); the service checks the signature with
    the key registered here (a JWKS address, or a PEM public key) and answers for ``centre``."""

    name = models.CharField(_("name"), max_length=200)
    issuer = models.CharField(
        _("issuer"),
        max_length=300,
        unique=True,
        help_text=_("The “iss” of the client's tokens, usually its base address."),
    )
    jwks_url = models.URLField(
        _("JWKS address"),
        blank=True,
        help_text=_("Where the client publishes its public keys (https)."),
    )
    public_key_pem = models.TextField(
        _("public key (PEM)"),
        blank=True,
        help_text=_("Alternatively the client's public key itself (RSA or EC, PEM)."),
    )
    centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, related_name="+", verbose_name=_("acts for centre")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("CDS Hooks client")
        verbose_name_plural = _("CDS Hooks clients")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(jwks_url="") | ~models.Q(public_key_pem=""),
                name="cdsclient_has_a_key",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class HookCall(models.Model):
    """One authenticated call of a CDS service. The token's ``jti`` is unique per client, so
    a replayed token is refused. ``cards`` holds the cards the call answered, by uuid (what
    feedback names): ``{uuid: {"rule_id", "value", "indicator"}}``. The uuids of one call's
    cards share their first half, ``card_prefix`` (indexed), so feedback finds the call of a
    card by it; calls recorded before there was a prefix have none (migration 0003)."""

    # No index of its own: the unique (client, jti) index below begins with the client.
    client = models.ForeignKey(
        CdsClient, on_delete=models.PROTECT, related_name="calls", db_index=False
    )
    jti = models.CharField(max_length=200)
    hook = models.CharField(max_length=64)
    hook_instance = models.CharField(max_length=100)
    called_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    cards = models.JSONField(_("cards answered"), default=dict, blank=True)
    card_prefix = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-called_at"]
        verbose_name = _("hook call")
        verbose_name_plural = _("hook calls")
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="hookcall_jti_once_per_client")
        ]
        indexes = [
            models.Index(fields=["card_prefix"], name="hookcall_card_prefix"),
            models.Index(
                fields=["client"],
                condition=models.Q(card_prefix__isnull=True) & ~models.Q(cards={}),
                name="hookcall_cards_before_prefix",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hook} {self.hook_instance}"


class CaseDraft(models.Model):
    """A case pre-filled from a FHIR import, to be checked and completed by a clinician on
    the case form; saving it there creates the case (``case``). A patient has at most one
    open draft: a later import of the same patient updates it."""

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(_("case data"), default=dict, blank=True)
    findings = models.JSONField(_("segment findings"), default=list, blank=True)
    mapped = models.JSONField(_("mapped"), default=list, blank=True)
    not_mapped = models.JSONField(_("not mapped"), default=list, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("imported case draft")
        verbose_name_plural = _("imported case drafts")
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(case__isnull=True),
                name="casedraft_one_open_per_patient",
            )
        ]

    def __str__(self) -> str:
        return f"Draft {self.pk} of {self.patient}"
