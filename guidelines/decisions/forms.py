"""The decision form of the case page: one accept/override row per recommendation card and
the decision's own comment.

Rows are ordinary Django forms with a prefix per rule, so the page works as a plain form
post; the draft (what was chosen before signing) is the same row data kept in the session.
The page shows a row on every card: its select and text area write their markup in Python
(``venousapp.widgets``), and the card loop writes the radio buttons itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guidelines.models import FeedbackAction, OverrideReason
from guidelines.presentation import Card, Panel
from venousapp import widgets

ROW_FIELDS = ("action", "reason", "comment")


def row_prefix(rule_id: str) -> str:
    """Form prefix of a card's row; rule ids contain dots, which are awkward in ids."""
    return "fb-" + "".join(ch if ch.isalnum() or ch == "-" else "_" for ch in rule_id)


class CardFeedbackForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Your decision"),
        choices=[
            (FeedbackAction.ACCEPTED, _("Accept")),
            (FeedbackAction.OVERRIDDEN, _("Override")),
        ],
        widget=forms.RadioSelect,
        required=False,  # a missing choice gets the row's own message in clean()
    )
    reason = forms.ChoiceField(
        label=_("Reason for the override"),
        choices=[("", _("— choose a reason —")), *OverrideReason.choices],
        required=False,
        widget=widgets.Select,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=widgets.Textarea(attrs={"rows": 1}),
    )

    def __init__(self, *args: Any, card: Card, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", row_prefix(card.rule_id))
        super().__init__(*args, **kwargs)
        self.card = card
        self.fields["action"].widget.attrs["aria-describedby"] = f"{self.prefix}-errors"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if not action:
            self.add_error("action", _("Choose accept or override for this recommendation."))
        elif action == FeedbackAction.OVERRIDDEN and not data.get("reason"):
            self.add_error("reason", _("An override needs a reason."))
        return data

    @property
    def first_error_id(self) -> str:
        """Where the error summary's link for this row points."""
        for name in ("reason", "comment"):
            if name in self.errors and "action" not in self.errors:
                return f"id_{self.prefix}-{name}"
        return f"id_{self.prefix}-action_0"

    def feedback(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in ROW_FIELDS}


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment on the decision (optional)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def rows_from_data(data: Mapping[str, Any], cards: Iterable[Card]) -> dict[str, dict[str, str]]:
    """Each card's row as posted (unvalidated), for the draft and for re-showing a form."""
    rows = {}
    for card in cards:
        prefix = row_prefix(card.rule_id)
        row = {name: str(data.get(f"{prefix}-{name}", "") or "") for name in ROW_FIELDS}
        if any(row.values()):
            rows[card.rule_id] = {**row, "value": card.value}
    return rows


class DecisionForms:
    """The decision form and one row per card of ``panel``, bound to ``data`` when posted,
    else filled from ``initial`` (the draft: ``{"rows": {rule_id: {"action", "reason",
    "comment", "value"}}, "comment": ...}``; a draft row is used only while the card still
    has the same value). ``fingerprint`` identifies what the panel shows and ``after`` the
    newest signed decision of the case when the page was made."""

    def __init__(
        self,
        panel: Panel,
        *,
        fingerprint: str,
        after: int = 0,
        data: Mapping[str, Any] | None = None,
        initial: Mapping[str, Any] | None = None,
    ) -> None:
        self.fingerprint = fingerprint
        self.after = after
        self.panel = panel
        initial = initial or {}
        draft_rows: Mapping[str, Any] = initial.get("rows") or {}
        self.form = DecisionForm(data, initial={"comment": initial.get("comment", "")})
        self.rows: dict[str, CardFeedbackForm] = {}
        for card in panel.cards:
            row = draft_rows.get(card.rule_id) or {}
            if row.get("value") != card.value:
                row = {}
            self.rows[card.rule_id] = CardFeedbackForm(
                data, card=card, initial={k: row.get(k, "") for k in ROW_FIELDS}
            )
        self.non_field_errors: list[str] = []

    def attach(self) -> None:
        """Give each card of the panel its row (the card template renders it)."""
        for card in self.panel.cards:
            card.form = self.rows[card.rule_id]

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        return all([valid, *(row.is_valid() for row in self.rows.values())])

    def feedback(self) -> dict[str, dict[str, str]]:
        return {rule_id: row.feedback() for rule_id, row in self.rows.items()}

    @property
    def comment(self) -> str:
        return str(self.form.cleaned_data.get("comment", ""))

    @property
    def error_rows(self) -> list[CardFeedbackForm]:
        return [row for row in self.rows.values() if row.is_bound and row.errors]

    @property
    def has_errors(self) -> bool:
        return bool(
            self.non_field_errors or self.error_rows or (self.form.is_bound and self.form.errors)
        )

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put the service's errors on the rows they name, the rest on the whole form."""
        for key, messages in exc.message_dict.items():
            row = self.rows.get(key)
            if row is not None and row.is_bound:
                for message in messages:
                    row.add_error(None, message)
            else:
                self.non_field_errors.extend(messages)
