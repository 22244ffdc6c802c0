"""Case entry forms: patient, case inputs in sections, and the segment-finding rows."""

from typing import Any, cast

from django import forms
from django.forms import BaseInlineFormSet, BoundField, inlineformset_factory
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases import ceap, thrombolysis
from cases.entities import ENTITY_GROUPS, fields_not_applicable
from cases.models import (
    FINDING_FIELDS,
    OVERALL_CHOICES,
    PATIENT_FIELDS,
    Case,
    LesionEntity,
    Patient,
    SegmentFinding,
)
from cases.plausibility import case_plausibility_errors
from venousapp import dates, widgets


class NotRecordedBooleanSelect(forms.NullBooleanSelect):
    """Yes / No / Not recorded: "not recorded" is different from "no" for the rules."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("unknown", _("Not recorded")), ("true", _("Yes")), ("false", _("No"))]


class EmptyChoiceLabelsMixin:
    """Select boxes start with "Choose…" when an answer is required, "Not recorded" else."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            choices = getattr(field, "choices", None)
            if isinstance(field, forms.TypedChoiceField) and choices and choices[0][0] == "":
                empty = _("Choose…") if field.required else _("Not recorded")
                field.choices = [("", empty), *choices[1:]]


class PatientForm(dates.DateLimitsFormMixin, EmptyChoiceLabelsMixin, forms.ModelForm):
    prefix = "patient"
    date_limits = {"date_of_birth": dates.birth_dates}

    class Meta:
        model = Patient
        fields = list(PATIENT_FIELDS)
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "address": forms.Textarea(attrs={"rows": 3}),
        }


# (key, title, fields, entity group or None for every entity)
SECTIONS: list[tuple[str, str | Promise, tuple[str, ...], str | None]] = [
    (
        "lesion",
        _("Lesion"),
        (
            "case_date",
            "side",
            "lesion_entity",
            "nivl_cause",
            "ivc_filter_related",
            "thrombosis_entity",
        ),
        None,
    ),
    (
        "acute",
        _("Acute thrombosis"),
        (
            "symptom_onset_date",
            "symptom_severity",
            "first_episode",
            "phlegmasia",
            "underlying_iliac_lesion",
        ),
        "acute",
    ),
    (
        "clinical",
        _("Clinical picture (CEAP 2020)"),
        ("ceap", "ulcer", "venous_claudication", "qol_impairment"),
        None,
    ),
    (
        "chronic",
        _("Chronic obstruction"),
        (
            "conservative_therapy_months",
            "inflow",
            "stent_thrombosis_risk",
            "long_term_anticoagulation_possible",
        ),
        "chronic",
    ),
    (
        "patient_condition",
        _("Patient condition"),
        ("life_expectancy_years", "ambulatory", "pregnancy", "thrombophilia"),
        None,
    ),
    (
        "bleeding",
        _("Bleeding risk and thrombolysis contraindications"),
        ("bleeding_risk_level", "contraindications_assessed", "thrombolysis_contraindications"),
        None,
    ),
    (
        "device",
        _("Stent contraindications"),
        (
            "active_infection",
            "severe_tortuosity",
            "diameter_mismatch",
            "endovascular_contraindication",
        ),
        None,
    ),
]
VCSS_SECTION = ("vcss", _("Revised Venous Clinical Severity Score (rVCSS)"), "chronic")
VILLALTA_SECTION = ("villalta", _("Villalta scale"), None)


def _translated(items: tuple[tuple[str, str], ...]) -> list[tuple[str, str | Promise]]:
    return [(code, _(label)) for code, label in items]


class ContraindicationChecklist(forms.CheckboxSelectMultiple):
    """The thrombolysis checklist. While pregnancy is recorded, "pregnancy or lactation" is
    ticked and marked as locked (app.js keeps it ticked; the form and the services add it
    whatever was posted)."""

    locked: frozenset[str] = frozenset()

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if value == thrombolysis.PREGNANCY_CODE:
            option["attrs"]["data-pregnancy-tick"] = "true"
            if value in self.locked:
                option["selected"] = True
                option["attrs"]["checked"] = True
                option["attrs"]["aria-disabled"] = "true"
        return option


class CeapBoundField(BoundField):
    """The CEAP field is described by its live plain-language reading (which stands in for the
    help text) and, once refused, by its error message, so that a screen reader reads both
    with the field (WCAG 3.3.1)."""

    @property
    def aria_describedby(self) -> str:
        return "ceap-reading" + (f" {self.auto_id}_error" if self.errors else "")


class CaseForm(dates.DateLimitsFormMixin, EmptyChoiceLabelsMixin, forms.ModelForm):
    prefix = "case"
    date_limits = {"case_date": dates.past_dates, "symptom_onset_date": dates.past_dates}
    thrombolysis_contraindications = forms.MultipleChoiceField(
        label=_("Contraindications present"),
        choices=[
            (_("Absolute"), _translated(thrombolysis.ABSOLUTE)),
            (_("Relative"), _translated(thrombolysis.RELATIVE)),
        ],
        widget=ContraindicationChecklist,
        required=False,
        help_text=_("“Pregnancy or lactation” is ticked and locked while pregnancy is “Yes”."),
    )

    class Meta:
        model = Case
        exclude = ["patient", "author", "created_at", "updated_at"]  # noqa: DJ006 - every input
        widgets = {
            "case_date": forms.DateInput(attrs={"type": "date"}),
            "symptom_onset_date": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "ceap": forms.TextInput(
                attrs={
                    "autocomplete": "off",
                    "spellcheck": "false",
                    "hx-trigger": "input changed delay:250ms",
                    "hx-target": "#ceap-reading",
                    "hx-swap": "innerHTML",
                }
            ),
        }

    def __init__(
        self, *args: Any, patient_form: forms.BaseForm | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.patient_form = patient_form
        for field in self.fields.values():
            if isinstance(field, forms.NullBooleanField):
                field.widget = NotRecordedBooleanSelect()
        self.fields["case_date"].required = True
        self.fields["ceap"].widget.attrs["hx-get"] = reverse("cases:ceap-preview")
        self.fields["ceap"].bound_field_class = CeapBoundField
        pregnant = (
            self.data.get(self.add_prefix("pregnancy")) == "true"
            if self.is_bound
            else self.initial.get("pregnancy") is True
        )
        checklist = self.fields["thrombolysis_contraindications"].widget
        checklist.locked = frozenset({thrombolysis.PREGNANCY_CODE} if pregnant else ())

    def _patient_sex(self) -> str | None:
        """The sex the patient will have: the patient form's (new case, or changed on the
        edit page), else the stored patient's."""
        if self.patient_form is not None and self.patient_form.is_valid():
            return cast(str | None, self.patient_form.cleaned_data.get("sex"))
        if self.instance.patient_id:
            return self.instance.patient.sex
        return None

    def clean_ceap(self) -> str:
        text: str = self.cleaned_data.get("ceap", "")
        if not text.strip():
            return ""
        try:
            return ceap.parse(text).canonical()
        except ceap.CeapError as exc:
            raise forms.ValidationError(str(exc)) from None

    def case_data(self) -> dict[str, Any]:
        """What the case services take: every field of the form that validated."""
        return {name: self.cleaned_data[name] for name in self.fields if name in self.cleaned_data}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("lesion_entity"):
            # A hidden section may still hold what was typed for another entity; saving
            # clears it (cases/entities.py), so it must not fail model validation either.
            for name in fields_not_applicable(data["lesion_entity"]):
                if name in data:
                    data[name] = None if Case._meta.get_field(name).null else ""
        onset, day = data.get("symptom_onset_date"), data.get("case_date")
        if onset and day and onset > day:
            self.add_error("symptom_onset_date", _("Symptom onset cannot be after the case date."))
        problems = case_plausibility_errors(
            sex=self._patient_sex(),
            pregnancy=data.get("pregnancy"),
            ceap=data.get("ceap"),
            ulcer=data.get("ulcer"),
        )
        for name, messages in problems.items():
            if name not in self.errors:
                for message in messages:
                    self.add_error(name, message)
        ticks = list(data.get("thrombolysis_contraindications") or [])
        if data.get("pregnancy") is True and thrombolysis.PREGNANCY_CODE not in ticks:
            data["thrombolysis_contraindications"] = [*ticks, thrombolysis.PREGNANCY_CODE]
        if data.get("thrombolysis_contraindications") and not data.get(
            "contraindications_assessed"
        ):
            data["contraindications_assessed"] = True
        return data

    def sections(self) -> list[dict[str, Any]]:
        """Bound fields grouped for the template, with the entities each section applies to."""
        out = []
        for key, title, names, group in SECTIONS:
            out.append(self._section(key, title, [self[n] for n in names], group))
        vcss_key, vcss_title, vcss_group = VCSS_SECTION
        out.append(
            self._section(
                vcss_key,
                vcss_title,
                [self[n] for n in self.fields if n.startswith("vcss_")],
                vcss_group,
            )
        )
        vil_key, vil_title, vil_group = VILLALTA_SECTION
        out.append(
            self._section(
                vil_key,
                vil_title,
                [self[n] for n in self.fields if n.startswith("villalta_")],
                vil_group,
            )
        )
        out.append(self._section("notes", _("Notes"), [self["notes"]], None))
        return out

    @staticmethod
    def _section(
        key: str, title: str | Promise, fields: list[Any], group: str | None
    ) -> dict[str, Any]:
        entities = " ".join(sorted(ENTITY_GROUPS[group])) if group else ""
        return {"key": key, "title": title, "fields": fields, "entities": entities}


class SegmentFindingForm(EmptyChoiceLabelsMixin, forms.ModelForm):
    class Meta:
        model = SegmentFinding
        fields = list(FINDING_FIELDS)


class BaseFindingFormSet(BaseInlineFormSet):
    def validate_unique(self) -> None:
        """Duplicate segment and side rows are reported on the row's segment by clean()."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        rows = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not rows:
            raise forms.ValidationError(_("Record at least one segment finding."))
        seen: set[tuple[str, str]] = set()
        for form in rows:
            key = (form.cleaned_data["segment"], form.cleaned_data["side"])
            if key in seen:
                form.add_error("segment", _("This segment and side is already recorded."))
            seen.add(key)

    def findings_data(self) -> list[dict[str, Any]]:
        rows = []
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            data = {name: form.cleaned_data[name] for name in FINDING_FIELDS}
            data["id"] = form.instance.pk
            rows.append(data)
        return rows


FindingFormSet = inlineformset_factory(
    Case,
    SegmentFinding,
    form=SegmentFindingForm,
    formset=BaseFindingFormSet,
    extra=0,
    min_num=1,
    validate_min=False,
    can_delete=True,
)


class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("Find"), required=False)
    entity = forms.ChoiceField(label=_("Lesion entity"), required=False, widget=widgets.Select)
    status = forms.ChoiceField(
        label=_("Overall status"),
        required=False,
        choices=[("", _("All statuses")), *OVERALL_CHOICES],
        widget=widgets.Select,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        entity = cast(forms.ChoiceField, self.fields["entity"])
        entity.choices = [("", _("All entities")), *LesionEntity.choices]
