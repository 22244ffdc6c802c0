"""Forms of the follow-up pages: worklist filters, contact attempts, reschedule, results (the
rVCSS and Villalta items with the case form's widgets and labels), escalation decisions,
re-interventions, protocol revisions and the patency analytics' filters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext_lazy as _

from cases.forms import EmptyChoiceLabelsMixin, NotRecordedBooleanSelect
from followup import charts, patency, surveillance
from followup.models import (
    PROTOCOL_FIELDS,
    PROTOCOL_VISIT_FIELDS,
    RESULT_SEGMENT_FIELDS,
    ContactAttempt,
    Decision,
    Patency,
    Protocol,
    ProtocolVisit,
    ReIntervention,
    ResultSegment,
    VisitKind,
    VisitResult,
    VisitStatus,
)
from planning.models import FollowUpEntity
from venousapp import dates, widgets

_DATE = forms.DateInput(attrs={"type": "date"})


def _choice(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """A choice field of ``form``, whose choices the form sets when it is made."""
    return cast(forms.ChoiceField, form.fields[name])


class WorklistFilterForm(forms.Form):
    q = forms.CharField(label=_("Find"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False, widget=widgets.Select)
    entity = forms.ChoiceField(label=_("Follow-up entity"), required=False, widget=widgets.Select)
    date_from = forms.DateField(label=_("Target date from"), required=False, widget=_DATE)
    date_to = forms.DateField(label=_("Target date to"), required=False, widget=_DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(VisitStatus.choices)
        _choice(self, "status").choices = [
            ("", _("All open")),
            *((s, labels[s]) for s in surveillance.OPEN_STATUSES),
        ]
        _choice(self, "entity").choices = [
            ("", _("All entities")),
            *FollowUpEntity.choices,
        ]

    def values(self) -> dict[str, Any]:
        if not self.is_valid():
            return {"q": "", "status": "", "entity": "", "date_from": None, "date_to": None}
        return dict(self.cleaned_data)


class PatencyFilterForm(forms.Form):
    """The patency page's and CSV's query string. Unknown values are form errors (the views
    answer 400), never an exception."""

    endpoint = forms.ChoiceField(label=_("Endpoint"), required=False)
    entity = forms.ChoiceField(label=_("Follow-up entity"), required=False)
    report = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "endpoint").choices = [
            ("", _("All three endpoints")),
            *charts.endpoint_labels().items(),
        ]
        _choice(self, "entity").choices = [
            ("", _("All entities")),
            *FollowUpEntity.choices,
        ]

    def values(self) -> dict[str, Any]:
        """The valid filters (call after ``is_valid``); the defaults for the others."""
        return {
            "endpoint": "",
            "entity": "",
            "report": None,
            **getattr(self, "cleaned_data", {}),
        }

    def endpoints(self) -> tuple[str, ...]:
        chosen = self.values()["endpoint"]
        return (chosen,) if chosen else patency.ENDPOINTS


class ContactAttemptForm(EmptyChoiceLabelsMixin, forms.ModelForm):
    class Meta:
        model = ContactAttempt
        fields = ["method", "outcome", "note"]


class RescheduleForm(dates.DateLimitsFormMixin, forms.Form):
    date_limits = {"target_on": dates.planned_dates}
    target_on = forms.DateField(label=_("New target date"), widget=_DATE)
    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


class CloseVisitForm(forms.Form):
    reason = forms.CharField(label=_("Why will the visit not take place?"), max_length=300)


# Result entry: score items keep the case form's labels and "0 – None" grade widgets.
VCSS_FIELDS = tuple(
    f"vcss_{key}"
    for key in (
        "pain",
        "varicose_veins",
        "oedema",
        "pigmentation",
        "inflammation",
        "induration",
        "ulcer_number",
        "ulcer_duration",
        "ulcer_size",
        "compression",
    )
)
VILLALTA_FIELDS = tuple(
    f"villalta_{key}"
    for key in (
        "pain",
        "cramps",
        "heaviness",
        "paraesthesia",
        "pruritus",
        "pretibial_oedema",
        "skin_induration",
        "hyperpigmentation",
        "redness",
        "venous_ectasia",
        "calf_compression_pain",
    )
)
DUPLEX_FIELDS = (
    "inflow_cfv",
    "inflow_fv",
    "inflow_dfv",
    "phasicity",
    "contralateral_iliac",
    "duplex_inconclusive",
)
CLINICAL_FIELDS = (
    "ulcer_status",
    "compression_use",
    "pain_vas",
    "antithrombotic_adherence",
    "antithrombotic_current",
)


class VisitResultForm(dates.DateLimitsFormMixin, EmptyChoiceLabelsMixin, forms.ModelForm):
    prefix = "result"
    date_limits = {"performed_on": dates.past_dates}

    class Meta:
        model = VisitResult
        fields = [
            "performed_on",
            *DUPLEX_FIELDS,
            *CLINICAL_FIELDS,
            *VCSS_FIELDS,
            *VILLALTA_FIELDS,
            "notes",
        ]
        widgets = {"performed_on": _DATE, "notes": forms.Textarea(attrs={"rows": 3})}

    def sections(self, *, with_duplex: bool, with_clinical: bool) -> list[dict[str, Any]]:
        out = []
        if with_duplex:
            out.append(
                {
                    "key": "duplex",
                    "title": _("Inflow, phasicity, contralateral side"),
                    "fields": [self[n] for n in DUPLEX_FIELDS],
                }
            )
        if with_clinical:
            out += [
                {
                    "key": "clinical",
                    "title": _("Clinical"),
                    "fields": [self[n] for n in CLINICAL_FIELDS],
                },
                {
                    "key": "vcss",
                    "title": _("Revised Venous Clinical Severity Score (rVCSS)"),
                    "fields": [self[n] for n in VCSS_FIELDS],
                },
                {
                    "key": "villalta",
                    "title": _("Villalta scale"),
                    "fields": [self[n] for n in VILLALTA_FIELDS],
                },
            ]
        out.append({"key": "notes", "title": _("Notes"), "fields": [self["notes"]]})
        return out


class ResultSegmentForm(EmptyChoiceLabelsMixin, forms.ModelForm):
    class Meta:
        model = ResultSegment
        fields = list(RESULT_SEGMENT_FIELDS)
        widgets = {
            "segment": forms.HiddenInput(),
            "side": forms.HiddenInput(),
            "in_stent_thrombus": NotRecordedBooleanSelect(),
            "compression": NotRecordedBooleanSelect(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "patency").choices = Patency.choices  # no blank: patency is required
        self.fields["isr_percent"].widget.attrs.update({"min": 0, "max": 100})

    def validate_unique(self) -> None:
        """Rows are unique by construction (one per stented segment); the service checks."""

    def segment_label(self) -> str:
        segment = self["segment"].value() or self.initial.get("segment", "")
        side = self["side"].value() or self.initial.get("side", "")
        return segment if side in ("", "midline") else f"{segment} {side}"


class BaseSegmentFormSet(BaseFormSet):
    def rows(self) -> list[dict[str, Any]]:
        return [
            {name: form.cleaned_data.get(name) for name in ResultSegmentForm.Meta.fields}
            for form in self.forms
            if form.cleaned_data
        ]


SegmentFormSet = formset_factory(ResultSegmentForm, formset=BaseSegmentFormSet, extra=0)


class DecisionForm(dates.DateLimitsFormMixin, forms.Form):
    date_limits = {"reimage_on": dates.future_dates}
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Decision.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reimage_kind = forms.ChoiceField(
        label=_("Re-imaging"),
        required=False,
        choices=[
            (VisitKind.DUPLEX, VisitKind.DUPLEX.label),
            (VisitKind.CT_VENOGRAPHY, VisitKind.CT_VENOGRAPHY.label),
        ],
    )
    reimage_on = forms.DateField(label=_("Re-imaging target date"), required=False, widget=_DATE)


class ReInterventionForm(dates.DateLimitsFormMixin, EmptyChoiceLabelsMixin, forms.ModelForm):
    date_limits = {"performed_on": dates.past_dates}
    segments = forms.MultipleChoiceField(
        label=_("Segments treated"), widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ReIntervention
        fields = ["performed_on", "kind", "for_occlusion", "successful", "segments", "note"]
        widgets = {"performed_on": _DATE, "note": forms.Textarea(attrs={"rows": 2})}

    def __init__(
        self,
        *args: Any,
        stented: Sequence[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "segments").choices = [
            (f"{s}:{d}", s if d == "midline" else f"{s} {d}") for s, d in stented
        ]


class ProtocolForm(forms.ModelForm):
    class Meta:
        model = Protocol
        fields = list(PROTOCOL_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ProtocolVisitForm(EmptyChoiceLabelsMixin, forms.ModelForm):
    class Meta:
        model = ProtocolVisit
        fields = list(PROTOCOL_VISIT_FIELDS)


class BaseProtocolVisitFormSet(BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        if not self.rows():
            raise forms.ValidationError(_("A protocol needs at least one visit."))

    def rows(self) -> list[dict[str, Any]]:
        return [
            {name: form.cleaned_data[name] for name in ProtocolVisitForm.Meta.fields}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


ProtocolVisitFormSet = formset_factory(
    ProtocolVisitForm, formset=BaseProtocolVisitFormSet, extra=1, can_delete=True
)
