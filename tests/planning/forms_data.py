"""POST data that re-submits what an unbound form or formset shows (for page tests)."""

from __future__ import annotations

from typing import Any


def form_data(form: Any, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        key = form.add_prefix(name)
        if getattr(field.widget, "allow_multiple_selected", False):
            data[key] = list(value or [])
            continue
        if getattr(field.widget, "input_type", None) == "checkbox":
            if value:
                data[key] = "on"
            continue
        if value is None:
            value = ""
        if isinstance(value, bool):
            value = "true" if value else "false"
        data[key] = value
    for name, value in changes.items():
        data[form.add_prefix(name)] = value
    return data


def formset_data(formset: Any) -> dict[str, Any]:
    data = {
        f"{formset.prefix}-TOTAL_FORMS": str(len(formset.initial_forms)),
        f"{formset.prefix}-INITIAL_FORMS": str(formset.initial_form_count()),
        f"{formset.prefix}-MIN_NUM_FORMS": "0",
        f"{formset.prefix}-MAX_NUM_FORMS": "1000",
    }
    for form in formset.initial_forms:
        data.update(form_data(form))
    return data
