"""Writes of the accounts app: API tokens, password reset requests and their e-mail."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from knox.models import get_digest_token
from knox.settings import CONSTANTS

from venousapp import jobs
from venousapp.accounts.models import ApiToken, PasswordResetRequest, User

# The last use of a token shown on "My account" is this precise: a program calling the API
# in a loop costs one write a minute, not one per request.
TOKEN_USE_RESOLUTION = dt.timedelta(minutes=1)

# Requests counted per typed address and per client address (venousapp.accounts.client_ip)
# within the window: enough for a mistyped address or a lost e-mail, too few to flood a
# mailbox or to probe many addresses.
RESET_WINDOW = dt.timedelta(hours=1)
RESETS_PER_ADDRESS = 3
RESETS_PER_CLIENT = 10


@transaction.atomic
def api_token_create(
    *, user: User, name: str, lifetime: dt.timedelta | None, now: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Make an API token for ``user``, valid for ``lifetime`` (``None``: until revoked).
    Returns the row and the token; the caller shows the token once, since only its digest
    is kept."""
    now = now or timezone.now()
    digest, secret = get_digest_token()
    token = ApiToken(
        digest=digest,
        token_key=secret[: CONSTANTS.TOKEN_KEY_LENGTH],
        user=user,
        name=name,
        expiry=now + lifetime if lifetime is not None else None,
    )
    token.full_clean()
    token.save(force_insert=True)
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke a token: the row goes, its history (with who revoked it) stays."""
    token.delete()


def api_token_used(*, token: ApiToken, now: dt.datetime | None = None) -> None:
    """Note that ``token`` was just used, unless that was noted less than
    ``TOKEN_USE_RESOLUTION`` ago. ``last_used`` is left out of the history, so the UPDATE
    bypasses it on purpose: a history row per API call would be a write per request."""
    now = now or timezone.now()
    if token.last_used is not None and now - token.last_used < TOKEN_USE_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    token.last_used = now


@transaction.atomic
def password_reset_request(
    *, email: str, client_ip: str | None, now: dt.datetime | None = None
) -> bool:
    """Accept a reset request for ``email`` unless the address or the client has asked too
    often within ``RESET_WINDOW``; an accepted request is handed to a task.

    The request does the same whether or not an account has the address: finding the
    account and sending the e-mail happen in the task, so neither the answer nor its timing
    tells who has an account. The limits count typed addresses, known or not, for the same
    reason.
    """
    now = now or timezone.now()
    since = now - RESET_WINDOW
    PasswordResetRequest.objects.filter(requested_at__lte=since).delete()
    digest = _email_digest(email)
    recent = PasswordResetRequest.objects.filter(requested_at__gt=since)
    if recent.filter(email_digest=digest).count() >= RESETS_PER_ADDRESS:
        return False
    if client_ip is not None and recent.filter(client_ip=client_ip).count() >= RESETS_PER_CLIENT:
        return False
    reset = PasswordResetRequest.objects.create(
        requested_at=now, email_digest=digest, email=email, client_ip=client_ip
    )
    # A broker that is down fails neither the page nor the count: Django logs the error and
    # the person asks again.
    transaction.on_commit(
        lambda: jobs.task("accounts.password_reset_mail").delay(reset.pk), robust=True
    )
    return True


def password_reset_mail_send(*, request_id: int) -> int:
    """Send the reset link to each active account with a usable password that has the
    request's address (Django's ``PasswordResetForm``); returns how many accounts were
    mailed. The address is cleared afterwards, so a second run sends nothing."""
    with transaction.atomic():
        reset = (
            PasswordResetRequest.objects.select_for_update()
            .filter(pk=request_id)
            .exclude(email="")
            .first()
        )
        if reset is None:
            return 0
        form = PasswordResetForm({"email": reset.email})
        accounts = len(list(form.get_users(reset.email))) if form.is_valid() else 0
        if accounts:
            site_url = str(settings.SITE_URL).rstrip("/")
            context: dict[str, Any] = {
                "site_url": site_url,
                "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            }
            form.save(
                domain_override=urlsplit(site_url).netloc,
                subject_template_name="registration/password_reset_subject.txt",
                email_template_name="emails/password_reset.txt",
                html_email_template_name="emails/password_reset.html",
                extra_email_context=context,
            )
        reset.email = ""
        reset.save(update_fields=["email"])
    return accounts


def _email_digest(email: str) -> str:
    """A keyed digest of the address as accounts are matched (case-insensitively)."""
    return salted_hmac(
        "venousapp.accounts.password_reset", email.strip().casefold(), algorithm="sha256"
    ).hexdigest()
