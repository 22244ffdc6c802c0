"""Forms of the planning pages. They validate input; the services decide and write."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from planning.models import (
    PLAN_FIELDS,
    RECORD_FIELDS,
    AccessSite,
    ChecklistItem,
    ChecklistTemplate,
    ChecklistTemplateItem,
    Device,
    DeviceKind,
    DeviceSize,
    ImplantedDevice,
    Phase,
    PlannedStent,
    ProcedurePlan,
    ProcedureRecord,
    StentSegment,
)
from venousapp import dates


def is_prefilled(formset: Any, index: int) -> bool:
    """Whether form ``index`` of ``formset`` is a new row pre-filled by the server
    (``initial=``), as the record form's rows from the planned stents are."""
    extra = index - formset.initial_form_count()
    return 0 <= extra < len(getattr(formset, "initial_extra", None) or ())


class PrefilledInlineFormSet(BaseInlineFormSet):
    """Rows pre-filled by the server are what the user sees and means to keep: each is
    validated and saved like a typed row, unless it is explicitly removed (DELETE). A plain
    inline formset lets an untouched extra row go empty, so pre-filled rows vanished."""

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        if index is not None and is_prefilled(self, index):
            kwargs["empty_permitted"] = False
        return kwargs


def formset_rows(formset: Any, order_field: str | None = None) -> list[dict[str, Any]]:
    """The kept rows of a valid formset as dicts for a ``*_replace`` service (``id`` set for
    existing rows), in the order shown or by ``order_field``: stored rows, pre-filled rows and
    rows the user typed into, less the rows marked for removal."""
    rows = []
    for index, form in enumerate(formset.forms):
        if formset.can_delete and form.cleaned_data.get("DELETE"):
            continue
        if form.instance.pk is None and not form.has_changed() and not is_prefilled(formset, index):
            continue
        skip = ("DELETE", "id", formset.fk.name)
        data = {k: v for k, v in form.cleaned_data.items() if k not in skip}
        data["id"] = form.instance.pk
        rows.append(data)
    if order_field:
        rows.sort(key=lambda row: (row.get(order_field) is None, row.get(order_field) or 0))
    return rows


class PlanForm(forms.ModelForm):
    class Meta:
        model = ProcedurePlan
        fields = list(PLAN_FIELDS)
        widgets = {
            "antithrombotic_regimen": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("confluence_technique") and not data.get("bilateral_extension"):
            self.add_error(
                "confluence_technique",
                _("A confluence technique belongs to a bilateral extension (inverted-Y)."),
            )
        return data


class AccessSiteForm(forms.ModelForm):
    class Meta:
        model = AccessSite
        fields = ["position", "site", "side", "note"]
        widgets = {"position": forms.NumberInput(attrs={"min": 0, "class": "narrow-number"})}
        labels = {"position": _("Order (0 = primary)")}


AccessSiteFormSet = inlineformset_factory(
    ProcedurePlan, AccessSite, form=AccessSiteForm, extra=1, can_delete=True
)


class SizeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: DeviceSize) -> str:
        flag = "" if obj.verified else " (not verified)"
        return f"{obj.device.name} {obj.label}{flag}"


class PlannedStentForm(forms.ModelForm):
    size = SizeChoiceField(
        queryset=DeviceSize.objects.none(), required=False, label=_("Catalogue size")
    )

    class Meta:
        model = PlannedStent
        fields = ["segment", "side", "device", "size", "diameter_mm", "length_mm"]
        help_texts = {"device": ""}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current_device = self.instance.device_id if self.instance.pk else None
        current_size = self.instance.size_id if self.instance.pk else None
        devices = Device.objects.filter(kind=DeviceKind.STENT)
        device_field = cast(forms.ModelChoiceField, self.fields["device"])
        device_field.queryset = devices.filter(retired_at__isnull=True) | devices.filter(
            pk__in=[current_device] if current_device else []
        )
        sizes = DeviceSize.objects.filter(device__kind=DeviceKind.STENT).select_related("device")
        size_field = cast(forms.ModelChoiceField, self.fields["size"])
        size_field.queryset = sizes.filter(
            retired_at__isnull=True, device__retired_at__isnull=True
        ) | sizes.filter(pk__in=[current_size] if current_size else [])
        self.fields["device"].required = True
        # Short segment codes keep the row on one line (the page explains them above).
        segment = cast(forms.ChoiceField, self.fields["segment"])
        segment.choices = [("", "---------")] + [(c, c) for c in StentSegment.values]
        self.fields["diameter_mm"].required = False
        self.fields["length_mm"].required = False
        self.fields["size"].widget.attrs["data-sizes-for"] = "device"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        size, device = data.get("size"), data.get("device")
        if size is not None and device is not None and size.device_id != device.pk:
            self.add_error("size", _("This size belongs to another stent."))
        if size is None and (data.get("diameter_mm") is None or data.get("length_mm") is None):
            self.add_error(None, _("Choose a catalogue size, or give a diameter and a length."))
        if data.get("segment") == StentSegment.IVC:
            data["side"] = "midline"
        elif data.get("side") == "midline":
            self.add_error("side", _("Only the IVC is midline; choose left or right."))
        return data


class BaseStentFormSet(BaseInlineFormSet):
    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("device", "size", "size__device")


PlannedStentFormSet = inlineformset_factory(
    ProcedurePlan,
    PlannedStent,
    form=PlannedStentForm,
    formset=BaseStentFormSet,
    extra=1,
    can_delete=True,
)


class ChecklistItemAddForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["phase", "category", "text"]
        widgets = {"phase": forms.HiddenInput()}


class ChecklistItemTextForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["text"]


class PlanCreateForm(forms.Form):
    """Creating a plan: the reason is required (by the service) when a guideline advises
    against the procedure or the guidelines disagree on stenting."""

    indication_override_reason = forms.CharField(
        label=_("Why the procedure is planned although a guideline advises against it"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SignForm(forms.Form):
    override_reason = forms.CharField(
        label=_("Why the procedure goes ahead despite the open contraindication"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ProcedureRecordForm(dates.DateLimitsFormMixin, forms.ModelForm):
    date_limits = {"performed_on": dates.past_dates}
    technical_success = forms.NullBooleanField(
        label=_("Technical success"),
        required=False,
        widget=forms.Select(
            choices=[("unknown", _("Not yet recorded")), ("true", _("Yes")), ("false", _("No"))]
        ),
    )

    class Meta:
        model = ProcedureRecord
        fields = list(RECORD_FIELDS)
        widgets = {
            "performed_on": forms.DateInput(attrs={"type": "date"}),
            "ivus_before": forms.Textarea(attrs={"rows": 2}),
            "ivus_after": forms.Textarea(attrs={"rows": 2}),
            "complication_notes": forms.Textarea(attrs={"rows": 2}),
            "antithrombotic_regimen": forms.Textarea(attrs={"rows": 3}),
        }


class ImplantForm(forms.ModelForm):
    class Meta:
        model = ImplantedDevice
        fields = ["segment", "side", "device", "diameter_mm", "length_mm", "lot"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.device_id if self.instance.pk else None
        devices = Device.objects.all()
        device_field = cast(forms.ModelChoiceField, self.fields["device"])
        device_field.queryset = devices.filter(retired_at__isnull=True) | devices.filter(
            pk__in=[current] if current else []
        )
        segment = cast(forms.ChoiceField, self.fields["segment"])
        segment.choices = [("", "---------")] + [(c, c) for c in StentSegment.values]


ImplantFormSet = inlineformset_factory(
    ProcedureRecord,
    ImplantedDevice,
    form=ImplantForm,
    formset=PrefilledInlineFormSet,
    extra=1,
    can_delete=True,
)


class DeviceForm(forms.ModelForm):
    segments = forms.MultipleChoiceField(
        label=_("Suitable segments (stents)"),
        choices=StentSegment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Device
        fields = [
            "code",
            "kind",
            "name",
            "manufacturer",
            "dedicated",
            "planner_use",
            "segments",
            "design",
            "material",
            "evidence",
            "position",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class DeviceSizeForm(forms.ModelForm):
    retired = forms.BooleanField(label=_("Retired"), required=False)

    class Meta:
        model = DeviceSize
        fields = ["diameter_mm", "length_mm", "french", "wire_inch", "verified", "notes"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["retired"].initial = self.instance.retired_at is not None


DeviceSizeFormSet = inlineformset_factory(
    Device, DeviceSize, form=DeviceSizeForm, extra=3, can_delete=False
)


class ChecklistTemplateForm(forms.ModelForm):
    class Meta:
        model = ChecklistTemplate
        fields = ["scenario", "name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class TemplateItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistTemplateItem
        fields = ["phase", "position", "text"]
        widgets = {"position": forms.NumberInput(attrs={"class": "narrow-number"})}


class BaseTemplateItemFormSet(BaseInlineFormSet):
    def get_queryset(self) -> Any:
        return super().get_queryset().filter(retired_at__isnull=True)


TemplateItemFormSet = inlineformset_factory(
    ChecklistTemplate,
    ChecklistTemplateItem,
    form=TemplateItemForm,
    formset=BaseTemplateItemFormSet,
    extra=3,
    can_delete=True,
)

PHASE_CHOICES = Phase.choices
