import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken

from venousapp.history import HistoricalRecords


class Centre(models.Model):
    """A hospital; every user and every patient belongs to exactly one."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin")
    # Printed on invitation letters: where the visit takes place and whom to call.
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("telephone"), max_length=40, blank=True)
    # The hospital's own patient numbers in FHIR (Patient.identifier.system): imports match
    # patients by it and exports label the identifier with it.
    patient_identifier_system = models.CharField(
        _("patient identifier system (FHIR)"),
        max_length=200,
        blank=True,
        help_text=_(
            "The URI the hospital's record system uses for its patient numbers, e.g. "
            "urn:oid:1.2.276.0.76.4.8. Empty: urn:venousapp:centre:<code>:patient-id."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("centre")
        verbose_name_plural = _("centres")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The centre's time zone (the site's when the stored name is unknown)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    @property
    def patient_system(self) -> str:
        """The identifier system of the centre's patient numbers in FHIR."""
        return self.patient_identifier_system or f"urn:venousapp:centre:{self.code}:patient-id"

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The calendar date at the centre (procedures and visits are dated locally)."""
        return (now or timezone.now()).astimezone(self.zone).date()


class Role(models.TextChoices):
    """Roles are auth groups of these names; their permissions come from a migration."""

    CLINICIAN = "clinician", _("Clinician")
    NURSE = "nurse", _("Nurse")
    GUIDELINE_ADMIN = "guideline_admin", _("Guideline admin")


# The account history rows name for changes no person made (venousapp.history).
SYSTEM_USERNAME = "system"  # as audit pages named automatic changes before it existed


# ApiToken.user.auth_token_set comes from django-rest-knox, which ships no types.
class User(AbstractUser):  # type: ignore[django-manager-missing]
    # Every person belongs to a centre (a constraint); only the system account has none.
    centre = models.ForeignKey(
        Centre,
        on_delete=models.PROTECT,
        null=True,
        related_name="users",
        verbose_name=_("centre"),
    )
    # Set when an administrator sets the password (venousapp.accounts.admin), cleared when
    # the user chooses her own (venousapp.accounts.forms); the middleware and the API's
    # authentication hold her at the password change page meanwhile.
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_(
            "Must choose a new password at the next log-in. Set whenever an administrator "
            "sets the password here."
        ),
    )
    REQUIRED_FIELDS = ["email", "centre"]
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(centre__isnull=False)
                | models.Q(username=SYSTEM_USERNAME, is_active=False),
                name="user_has_a_centre_unless_system",
            )
        ]

    @classmethod
    def system(cls) -> "User":
        """The system account, made on first use: inactive, without a password or a centre,
        so it can neither log in nor see patients; it only names automatic changes."""
        try:
            return cls._default_manager.get(username=SYSTEM_USERNAME, centre__isnull=True)
        except cls.DoesNotExist:
            pass
        account = cls(
            username=SYSTEM_USERNAME,
            first_name="venousapp",
            last_name=str(_("(automatic change)")),
            is_active=False,
        )
        account.set_unusable_password()
        try:
            with transaction.atomic():
                account.save()
        except IntegrityError:  # made at the same moment by another process
            return cls._default_manager.get(username=SYSTEM_USERNAME, centre__isnull=True)
        return account

    @property
    def role_names(self) -> list[str]:
        names = {g.name for g in self.groups.all()}
        return [str(role.label) for role in Role if role.value in names]

    def has_role(self, role: Role) -> bool:
        return any(g.name == role.value for g in self.groups.all())


if TYPE_CHECKING:

    class Person(User):
        """A person's account as the type checker sees it: unlike the system account, always
        of a centre (the constraint ``user_has_a_centre_unless_system``)."""

        centre: Centre
        centre_id: int

else:
    Person = User


class PasswordResetRequest(models.Model):
    """A password reset asked for on the public page: counted to limit requests per address
    and per client (``services.password_reset_request``), and the work item of the task that
    sends the e-mail. Rows are deleted once they no longer count.

    The typed address is kept only until the task has handled the request; the counting uses
    a keyed digest of it, so the table never holds a list of who was looked up.
    """

    requested_at = models.DateTimeField(_("requested at"))
    email_digest = models.CharField(_("address digest"), max_length=64)
    email = models.EmailField(_("e-mail address"), blank=True)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)

    class Meta:
        verbose_name = _("password reset request")
        verbose_name_plural = _("password reset requests")
        indexes = [
            models.Index(fields=["email_digest", "requested_at"], name="reset_by_address"),
            models.Index(fields=["client_ip", "requested_at"], name="reset_by_client"),
            models.Index(fields=["requested_at"], name="reset_by_time"),
        ]

    def __str__(self) -> str:
        return f"password reset request {self.pk}"


class ApiToken(AbstractAuthToken):
    """A token a user made on "My account" for a program that calls the API as her
    (``settings.KNOX_TOKEN_MODEL``; ``authentication.TokenAuthentication``).

    django-rest-knox keeps a SHA-512 digest of the token (the primary key) and its first
    characters (``token_key``) to find the row; the token itself is shown once and stored
    nowhere. Revoking deletes the row, and so does knox when an expired token is presented;
    the history keeps who made and revoked which token when.
    """

    name = models.CharField(
        _("name"), max_length=100, help_text=_("What the token is for, e.g. the program using it.")
    )
    # Noted at most once a minute (services.api_token_used), outside the history.
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["last_used"])

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return self.expiry is not None and self.expiry < (now or timezone.now())
