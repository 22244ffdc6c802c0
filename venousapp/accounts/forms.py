from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from venousapp.accounts.models import ApiToken, User


class AccountForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email"]


class ApiTokenForm(forms.ModelForm):
    """A new API token on "My account": its name and how long it stays valid."""

    expires_in = forms.TypedChoiceField(
        label=_("Expires"),
        choices=[
            ("30", _("in 30 days")),
            ("90", _("in 90 days")),
            ("365", _("in a year")),
            ("", _("never (until revoked)")),
        ],
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
    )

    class Meta:
        model = ApiToken
        fields = ["name"]

    @property
    def lifetime(self) -> dt.timedelta | None:
        days = self.cleaned_data["expires_in"]
        return dt.timedelta(days=days) if days is not None else None


# A password is temporary when an administrator typed it for someone (the admin's add and
# password forms), and the user's own when she chose it (her password change, a reset by
# e-mail). Password-based log-in disabled in the admin leaves nothing to change.


class TemporaryPasswordCreationForm(auth_forms.AdminUserCreationForm):
    """The admin's "add user" form: the new user must choose her own password first."""

    def save(self, commit: bool = True) -> Any:
        self.instance.must_change_password = self.cleaned_data["set_usable_password"]
        return super().save(commit=commit)


class TemporaryPasswordChangeForm(auth_forms.AdminPasswordChangeForm):
    """The admin's "change password" form for a user: she must choose her own next."""

    def save(self, commit: bool = True) -> Any:
        self.user.must_change_password = self.cleaned_data["set_usable_password"]
        return super().save(commit=commit)


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """The user's own change. The new password must differ from the old one, above all from
    a temporary one."""

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        new = self.cleaned_data.get("new_password1")
        if new and new == self.cleaned_data.get("old_password"):
            self.add_error(
                "new_password1",
                ValidationError(
                    _("The new password must differ from the old one."), code="password_unchanged"
                ),
            )
        return cleaned

    def save(self, commit: bool = True) -> Any:
        self.user.must_change_password = False
        return super().save(commit=commit)


class SetPasswordForm(auth_forms.SetPasswordForm):
    """The new password chosen through a reset link."""

    def save(self, commit: bool = True) -> Any:
        self.user.must_change_password = False
        return super().save(commit=commit)
