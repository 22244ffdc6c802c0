"""Plausibility checks that span several case fields, shared by the form, the API and the
services (one implementation, so no entry path accepts what another refuses).

- Pregnancy is not recorded for a male patient.
- CEAP and the ulcer status agree: an active ulcer ⇔ C6 or C6r in the CEAP C part; a healed
  ulcer ⇔ C5 without C6; no ulcer ⇔ neither (CEAP 2020, Lurie et al. 2020).

Each returns ``{field: [message, ...]}``; an empty dict when the values agree or a value
needed to judge is not recorded.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from cases import ceap as ceap_parser

__all__ = ["case_plausibility_errors", "ulcer_from_ceap"]

_ULCER_STATES = ("active", "healed", "none")


def ulcer_from_ceap(text: str | None) -> str | None:
    """The ulcer status the CEAP C part implies: "active" (C6, C6r), "healed" (C5 without
    C6), "none" (neither); None when the C part is not readable."""
    if not text or not text.strip():
        return None
    try:
        classes = set(ceap_parser.parse_clinical(text).classes)
    except ceap_parser.CeapError:
        return None
    if classes & {"C6", "C6r"}:
        return "active"
    if "C5" in classes:
        return "healed"
    return "none"


def _ulcer_words(status: str) -> str:
    return {
        "active": _("an active ulcer"),
        "healed": _("a healed ulcer"),
        "none": _("no ulcer"),
    }[status]


def case_plausibility_errors(
    *,
    sex: str | None,
    pregnancy: bool | None,
    ceap: str | None,
    ulcer: str | None,
) -> dict[str, list[str]]:
    """Field errors for values that contradict each other (see the module docstring)."""
    errors: dict[str, list[str]] = {}
    if pregnancy is True and sex == "male":
        errors["pregnancy"] = [
            _(
                "Pregnancy cannot be recorded for a male patient. Check the patient's sex or "
                "set pregnancy to “No” or “Not recorded”."
            )
        ]
    implied = ulcer_from_ceap(ceap)
    if implied is not None and ulcer in _ULCER_STATES and ulcer != implied:
        message = _(
            "CEAP “%(ceap)s” describes %(implied)s, but the venous ulcer field says %(ulcer)s. "
            "Correct the CEAP classification or the venous ulcer status so that both agree "
            "(C6 or C6r: active ulcer; C5 without C6: healed ulcer; neither: no ulcer)."
        ) % {
            "ceap": (ceap or "").strip(),
            "implied": _ulcer_words(implied),
            "ulcer": _ulcer_words(ulcer),
        }
        errors["ceap"] = [message]
        errors["ulcer"] = [message]
    return errors
