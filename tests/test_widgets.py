"""venousapp.widgets write exactly what Django's own select and text area templates write,
for every value, choice, attribute and error state."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.utils.translation import gettext_lazy

from venousapp import widgets

CHOICES: list[Any] = [
    ("", "— choose —"),
    ("a", "Plain"),
    ('q"<b>&', 'Needs <escaping> & "quotes"'),
    (3, gettext_lazy("A number")),
    ("Group", [("g1", "In a group"), ("g2", "Also")]),
]
ATTRS: list[dict[str, Any]] = [
    {},
    {"id": "id_x", "aria-describedby": "id_x_helptext", "class": "wide"},
    {"required": True, "disabled": False, "data-x": 'a"b'},
]


@pytest.mark.parametrize("value", [None, "", "a", 'q"<b>&', 3, "3", "g2", "unknown", ["a"]])
@pytest.mark.parametrize("attrs", ATTRS)
def test_select_writes_djangos_markup(value, attrs):
    ours, django = widgets.Select(choices=CHOICES), forms.Select(choices=CHOICES)
    assert ours.render("pick", value, attrs) == django.render("pick", value, attrs)


@pytest.mark.parametrize("value", [None, "", "text", 'x <y> & "z"', "line\nbreak", 0])
@pytest.mark.parametrize("attrs", [*ATTRS, {"rows": 1, "maxlength": 2000}])
def test_textarea_writes_djangos_markup(value, attrs):
    ours = widgets.Textarea(attrs={"cols": 30})
    django = forms.Textarea(attrs={"cols": 30})
    assert ours.render("note", value, attrs) == django.render("note", value, attrs)


class Ours(forms.Form):
    pick = forms.ChoiceField(choices=CHOICES, widget=widgets.Select, help_text="Pick one.")
    note = forms.CharField(max_length=3, widget=widgets.Textarea)


class Djangos(forms.Form):
    pick = forms.ChoiceField(choices=CHOICES, help_text="Pick one.")
    note = forms.CharField(max_length=3, widget=forms.Textarea)


@pytest.mark.parametrize(
    "data",
    [None, {}, {"pick": "a", "note": "ok"}, {"pick": "nope", "note": "too long"}],
)
def test_fields_of_a_form_are_written_as_djangos_with_their_errors(data):
    ours, django = Ours(data), Djangos(data)
    if data is not None:
        assert ours.is_valid() == django.is_valid()
    for name in ("pick", "note"):
        assert str(ours[name]) == str(django[name])
