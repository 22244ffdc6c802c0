"""Forms of the hospital-interface pages: a FHIR Bundle to import, a CDS Hooks client."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from interop.fhir_import import IMPORT_MAX_BYTES
from interop.models import CdsClient


class ImportForm(forms.Form):
    """A Bundle as a file (exported by the hospital system) or pasted as text."""

    file = forms.FileField(
        label=_("FHIR Bundle file (JSON)"),
        required=False,
        help_text=_("A .json file of at most 10 MiB."),
    )
    text = forms.CharField(
        label=_("…or paste the Bundle"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload, text = data.get("file"), (data.get("text") or "").strip()
        if upload is None and not text:
            raise forms.ValidationError(_("Choose a file or paste a Bundle."))
        if upload is not None:
            if upload.size > IMPORT_MAX_BYTES:
                self.add_error("file", _("The file is larger than 10 MiB."))
                return data
            raw = upload.read()
        else:
            raw = text.encode()
        field = "file" if upload is not None else "text"
        try:
            data["bundle"] = json.loads(raw)
        except ValueError:  # UnicodeDecodeError is one too
            self.add_error(field, _("This is not JSON."))
        except RecursionError:
            self.add_error(field, _("This JSON nests too deeply to be read."))
        return data


class CdsClientForm(forms.ModelForm):
    jwks_url = forms.URLField(
        label=_("JWKS address"),
        required=False,
        assume_scheme="https",
        help_text=_("Where the client publishes its public keys (https)."),
    )

    class Meta:
        model = CdsClient
        fields = ["name", "issuer", "jwks_url", "public_key_pem", "active"]
        widgets = {"public_key_pem": forms.Textarea(attrs={"rows": 6, "spellcheck": "false"})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("jwks_url") and not (data.get("public_key_pem") or "").strip():
            raise forms.ValidationError(_("Give the JWKS address or the public key."))
        return data
