"""A refused value is explained at its field: the search forms of the lists put each field's
message next to it, under the id the field points to (aria-describedby), so that a screen
reader reads the reason with the field (WCAG 3.3.1). The forms that save data are checked in
the browser (tests/e2e/test_accessibility.py and the journeys)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


class Fields(HTMLParser):
    """The page's ids, its invalid fields with the ids they point to, and the text of its
    field messages."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.invalid: dict[str, list[str]] = {}
        self.messages: dict[str, str] = {}
        self._message: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        element_id = values.get("id") or ""
        if element_id:
            self.ids.add(element_id)
        if tag == "small" and "field-error" in (values.get("class") or "").split():
            self._message = element_id
            self.messages[element_id] = ""
        if values.get("aria-invalid") == "true":
            self.invalid[values.get("name") or ""] = (values.get("aria-describedby") or "").split()

    def handle_endtag(self, tag: str) -> None:
        if tag == "small":
            self._message = None

    def handle_data(self, data: str) -> None:
        if self._message is not None:
            self.messages[self._message] += data


@pytest.mark.parametrize(
    ("persona", "url", "query", "fields"),
    [
        (
            "nurse",
            "followup:worklist",
            {"date_from": "31.02.2026", "status": "lost", "entity": "none"},
            {"date_from", "status", "entity"},
        ),
        ("clinician", "cases:list", {"entity": "lost", "status": "lost"}, {"entity", "status"}),
        ("clinician", "followup:patency", {"endpoint": "forever"}, {"endpoint"}),
        ("guideline_admin", "guidelines:rule-list", {"status": "lost"}, {"status"}),
    ],
)
def test_a_refused_filter_is_explained_at_its_field(client_for, persona, url, query, fields):
    response = client_for(persona).get(reverse(url), query)
    assert response.status_code in (200, 400)  # the patency page answers 400
    page = Fields()
    page.feed(response.content.decode())
    assert set(page.invalid) == fields
    for name, described_by in page.invalid.items():
        assert f"id_{name}_error" in described_by, name
        assert set(described_by) <= page.ids, f"{name} points to {described_by}"
        assert page.messages[f"id_{name}_error"].strip(), name
