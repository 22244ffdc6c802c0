"""Forms of the guideline admin pages.

Invalid JSON never reaches a service: :class:`JSONTextField` reports the position of the
error and the form keeps what was typed. Schema problems returned by the services
(``<path>: <message>``) are put on the form field that owns the path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from guidelines import vocabulary as V
from guidelines.definitions import EXPECTED_VALUES, json_error_message
from guidelines.models import GuidelineSource, RuleVersion, VersionStatus
from venousapp.parsers import nul_at, path_text

LOGIC_KEYS = ("population", "criteria", "switch", "positive", "failure")
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def nul_check(data: Any) -> None:
    """A field error for a NUL character in a text of ``data`` (which cannot be stored)."""
    where = nul_at(data)
    if where is not None:
        raise ValidationError(
            _("A text holds a NUL character (at %(where)s), which cannot be stored.")
            % {"where": path_text(where) or _("the top level")},
            code="invalid_json",
        )


class JSONTextField(forms.CharField):
    """A JSON document typed in a textarea; ``expect`` is the required top-level type."""

    widget = forms.Textarea

    def __init__(self, *, expect: type = dict, **kwargs: Any) -> None:
        self.expect = expect
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(json_error_message(error), code="invalid_json") from None
        except RecursionError:
            raise ValidationError("Invalid JSON: nested too deeply.", code="invalid_json") from None
        if not isinstance(data, self.expect):
            kind = "an object {…}" if self.expect is dict else "a list […]"
            raise ValidationError(f"Expected {kind} at the top level.", code="invalid_json")
        nul_check(data)
        return data

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict | list):
            return json.dumps(value, indent=2, ensure_ascii=False)
        return value


class RuleFilterForm(forms.Form):
    STATUS_CHOICES = [
        ("", _("Any status")),
        ("active", _("Active")),
        ("retired", _("Retired")),
        ("open", _("With a draft or pending version")),
    ]
    q = forms.CharField(label=_("Find"), required=False, max_length=200)
    topic = forms.ChoiceField(
        label=_("Topic"),
        required=False,
        choices=[("", _("All topics")), *V.TOPICS.items()],
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)


class DraftCreateForm(forms.Form):
    base = forms.TypedChoiceField(label=_("Start from version"), coerce=int)
    change_note = forms.CharField(
        label=_("What do you intend to change?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, versions: Iterable[RuleVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(v.number, f"v{v.number} ({v.get_status_display().lower()})") for v in versions]
        cast(forms.ChoiceField, self.fields["base"]).choices = choices
        active = next((v.number for v in versions if v.status == VersionStatus.ACTIVE), None)
        if active is not None and "base" not in self.initial:
            self.initial["base"] = active


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=90
    )

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required


_PATH_PREFIX = re.compile(r"^rules\[\d+\] \([^)]*\): ")
_FIELD_BY_PATH = {
    "text": "text",
    "population_text": "population_text",
    "recommendation_number": "recommendation_number",
    "source": "source",
    "verification": "verification",
    "notes": "notes",
    "maintainer_notes": "maintainer_notes",
    "brief_ref": "brief_ref",
    "topic": "topic",
    "strength.system": "strength_system",
    "strength.native": "strength_native",
    "strength.level": "strength_level",
    "strength.normalised": "strength_normalised",
    **dict.fromkeys(LOGIC_KEYS, "logic"),
}


def split_problem(problem: str) -> tuple[str, str]:
    """("criteria[0].test.value", "message") from "criteria[0].test.value: message"."""
    problem = _PATH_PREFIX.sub("", problem)
    path, sep, message = problem.partition(": ")
    if not sep or " " in path:
        return "", problem
    return path, message


def field_for_path(path: str) -> str | None:
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    if head == "strength":
        return _FIELD_BY_PATH.get(".".join(path.split(".")[:2]), "strength_system")
    return _FIELD_BY_PATH.get(head)


class RuleVersionForm(forms.Form):
    """A draft's definition: metadata as plain fields, the logic (population, criteria or
    switch, values) as one JSON document that the structured editor reads and writes."""

    text = forms.CharField(
        label=_("Recommendation (paraphrased)"), widget=forms.Textarea(attrs={"rows": 3})
    )
    population_text = forms.CharField(
        label=_("Population (as the guideline words it)"), widget=forms.Textarea(attrs={"rows": 2})
    )
    recommendation_number = forms.CharField(
        label=_("Recommendation number"), required=False, max_length=40
    )
    source = forms.ChoiceField(label=_("Source"))
    topic = forms.ChoiceField(label=_("Topic"), choices=list(V.TOPICS.items()))
    strength_system = forms.ChoiceField(
        label=_("Grading system"), choices=[(s, s) for s in V.STRENGTH_SYSTEMS]
    )
    strength_native = forms.CharField(
        label=_("Strength (society's own)"),
        required=False,
        max_length=20,
        help_text=_("e.g. IIa, 1, B"),
    )
    strength_level = forms.CharField(
        label=_("Level of evidence"), required=False, max_length=20, help_text=_("e.g. B, C")
    )
    strength_normalised = forms.ChoiceField(
        label=_("Normalised strength"), choices=[(s, s) for s in V.STRENGTH_NORMALISED]
    )
    verification = forms.ChoiceField(
        label=_("Verification"),
        choices=[
            ("verified", _("Verified against the source")),
            ("provisional", _("Provisional (not verified)")),
        ],
    )
    notes = forms.CharField(
        label=_("Notes for clinicians"),
        required=False,
        help_text=_("Shown to everyone who reads the rule: plain clinical language."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    maintainer_notes = forms.CharField(
        label=_("Maintainer notes"),
        required=False,
        help_text=_("Shown to guideline admins only: how the source was read into the logic."),
        widget=forms.Textarea(attrs={"rows": 4, "data-maintainer": ""}),
    )
    brief_ref = forms.CharField(
        label=_("Maintainer reference"),
        required=False,
        max_length=100,
        help_text=_("The docs/ pages that describe how the rule is read."),
    )
    logic = JSONTextField(
        label=_("Logic (JSON)"),
        required=False,
        help_text=_(
            "population, then either criteria (with positive and failure values) or a "
            "switch, or only a positive value."
        ),
        widget=forms.Textarea(
            attrs={
                "rows": 24,
                "spellcheck": "false",
                "class": "json-input",
                "data-rule-editor": "",
                "data-code": "",
            }
        ),
    )
    change_note = forms.CharField(
        label=_("Change note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, version: RuleVersion, **kwargs: Any) -> None:
        self.version = version
        self.base = dict(version.definition)
        kwargs.setdefault("initial", self.initial_from(version))
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["source"]).choices = [
            (s.key, f"{s.key} — {s.society} {s.year}") for s in GuidelineSource.objects.all()
        ]
        self.scored = self.base.get("engine") == "scored"
        if not self.scored:
            del self.fields["logic"]
        self.logic_problems: list[dict[str, str]] = []

    @staticmethod
    def initial_from(version: RuleVersion) -> dict[str, Any]:
        d = version.definition
        strength = d.get("strength") or {}
        logic = {key: d[key] for key in LOGIC_KEYS if d.get(key) is not None}
        return {
            "text": d.get("text", ""),
            "population_text": d.get("population_text", ""),
            "recommendation_number": d.get("recommendation_number") or "",
            "source": d.get("source"),
            "topic": d.get("topic"),
            "strength_system": strength.get("system"),
            "strength_native": strength.get("native") or "",
            "strength_level": strength.get("level") or "",
            "strength_normalised": strength.get("normalised"),
            "verification": d.get("verification"),
            "brief_ref": d.get("brief_ref") or "",
            "notes": d.get("notes", ""),
            "maintainer_notes": d.get("maintainer_notes", ""),
            "logic": json.dumps(logic, indent=2, ensure_ascii=False),
            "change_note": version.change_note,
        }

    def clean_logic(self) -> dict[str, Any] | None:
        logic = self.cleaned_data.get("logic")
        if logic is None:
            raise ValidationError("A scored rule needs its logic (at least a population).")
        unknown = sorted(set(logic) - set(LOGIC_KEYS))
        if unknown:
            raise ValidationError(
                f"Unknown key {unknown[0]!r}; the logic holds {', '.join(LOGIC_KEYS)}."
            )
        return logic

    def definition(self) -> dict[str, Any]:
        """The full definition: the version's, with this form's changes."""
        data = self.cleaned_data
        definition = {k: v for k, v in self.base.items() if k not in LOGIC_KEYS}
        definition.update(
            text=data["text"],
            population_text=data["population_text"],
            recommendation_number=data["recommendation_number"] or None,
            source=data["source"],
            topic=data["topic"],
            strength={
                "system": data["strength_system"],
                "native": data["strength_native"] or None,
                "level": data["strength_level"] or None,
                "normalised": data["strength_normalised"],
            },
            verification=data["verification"],
            brief_ref=data["brief_ref"] or None,
            notes=data["notes"],
            maintainer_notes=data["maintainer_notes"],
        )
        if self.scored:
            definition.update(data["logic"])
        return definition

    def add_problems(self, problems: Iterable[str]) -> None:
        """Put each ``path: message`` on the field owning the path (logic problems are also
        kept with their path for the structured editor)."""
        for problem in problems:
            path, message = split_problem(problem)
            name = field_for_path(path) if path else None
            if name == "logic":
                self.logic_problems.append({"path": path, "message": message})
            if name in self.fields:
                self.add_error(name, f"{path}: {message}" if name == "logic" else message)
            else:
                self.add_error(None, problem)


class TestCaseForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    facts = JSONTextField(
        label=_("Facts (JSON)"),
        help_text=_(
            "Case facts as a JSON object, with the field names the rule engine reads (as in "
            "the exported rule set)."
        ),
        widget=forms.Textarea(
            attrs={"rows": 8, "spellcheck": "false", "class": "json-input", "data-code": ""}
        ),
    )
    expected = forms.ChoiceField(
        label=_("Expected value"), choices=[(v, v) for v in EXPECTED_VALUES]
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Rule-set file (JSON, as exported)"))

    def clean_file(self) -> Mapping[str, Any]:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError("The file is larger than 5 MB.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text.") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValidationError(json_error_message(error)) from None
        except RecursionError:
            raise ValidationError("Invalid JSON: nested too deeply.") from None
        nul_check(data)
        return data
