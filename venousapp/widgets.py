"""Django's select and text area with the same markup, written in Python.

Django renders a select through a template for the select, one for each option and one for
each attribute list: a page with several selects (a filter bar, a decision row on every
recommendation card) spent more on them than on its content. These widgets take Django's
own context (``get_context``: the attributes with their error and description links, the
options with their selection) and write exactly what Django's templates would from it
(tests/test_widgets.py holds them to that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

__all__ = ["Select", "Textarea"]


def _attrs(attrs: Mapping[str, Any]) -> SafeString:
    """django/forms/widgets/attrs.html"""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


class Select(forms.Select):
    """django/forms/widgets/select.html and select_option.html, written in Python."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts: list[str] = [
            format_html('<select name="{}"{}>', widget["name"], _attrs(widget["attrs"]))
        ]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            parts.extend(
                format_html(
                    '\n  <option value="{}"{}>{}</option>\n',
                    option["value"],
                    _attrs(option["attrs"]),
                    option["label"],
                )
                for option in options
            )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts).strip())  # noqa: S308 - every part is escaped above


class Textarea(forms.Textarea):
    """django/forms/widgets/textarea.html, written in Python."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            widget["name"],
            _attrs(widget["attrs"]),
            widget["value"] or "",
        )
