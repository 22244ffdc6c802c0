"""The recommendations panel is one loop over its cards: no template per card and no widget
templates per decision row, so the case page renders the same templates whatever the number
of cards; and each row is still marked up exactly as Django's own widgets would (labels,
ids, error states, what the clinician typed)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms
from django.urls import reverse

from guidelines.decisions.forms import CardFeedbackForm, row_prefix
from guidelines.presentation import Card
from tests.factories import CaseFactory
from tests.guidelines.test_decisions import (
    accept_all,
    cards_of,
    etr_case,
    post_data,
    sign,
    sign_url,
)

pytestmark = pytest.mark.django_db


def nivl_case(patient: Any, author: Any) -> Any:
    """A May-Thurner compression with little recorded: a panel of few cards."""
    return CaseFactory(
        patient=patient,
        author=author,
        lesion_entity="nivl",
        nivl_cause="may_thurner",
        findings=[{"segment": "CIV", "side": "left", "finding": "compression"}],
    )


def _templates(response: Any) -> list[str]:
    assert response.status_code == 200
    return [t.name for t in response.templates]


@pytest.mark.parametrize("persona", ["clinician", "nurse", "guideline_admin"])
def test_case_page_renders_the_same_templates_whatever_the_number_of_cards(
    client_for, patient_a, clinician, persona
):
    client = client_for(persona)
    few, many = nivl_case(patient_a, clinician), etr_case(patient_a, clinician)
    assert len(cards_of(many)) >= len(cards_of(few)) + 3
    small = _templates(client.get(reverse("cases:detail", args=[few.pk])))
    large = _templates(client.get(reverse("cases:detail", args=[many.pk])))
    assert len(large) == len(small)
    assert "guidelines/_card.html" not in large


def test_signed_and_sign_pages_render_the_same_templates_whatever_the_number_of_cards(
    client_for, patient_a, clinician
):
    client = client_for("clinician")
    few, many = nivl_case(patient_a, clinician), etr_case(patient_a, clinician)
    assert len(cards_of(many)) >= len(cards_of(few)) + 3
    for case in (few, many):
        sign(case, clinician)
    signed = [_templates(client.get(reverse("cases:detail", args=[c.pk]))) for c in (few, many)]
    assert len(signed[0]) == len(signed[1])
    pages = [_templates(client.get(sign_url(c))) for c in (few, many)]
    assert len(pages[0]) == len(pages[1])
    rows = accept_all(many)
    rows.pop(next(iter(rows)))
    refused = client.post(sign_url(many), post_data(many, rows), headers={"HX-Request": "true"})
    assert "Choose accept or override" in refused.content.decode()


# --- the rows as Django's widgets mark them up --------------------------------------------


class StockRow(CardFeedbackForm):
    """The decision row with Django's own widget templates: the page's markup before."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, stock in (
            ("action", forms.RadioSelect),
            ("reason", forms.Select),
            ("comment", forms.Textarea),
        ):
            widget = self.fields[name].widget
            widget.template_name = stock.template_name
            widget.option_template_name = getattr(stock, "option_template_name", None)


def _expected(rule_id: str, data: dict[str, str] | None, initial: dict[str, str]) -> list[str]:
    card = Card(
        rule_id=rule_id,
        value="",
        value_label="",
        text="",
        society="",
        year=None,
        number=None,
        strength="",
        citation="",
        link=None,
        link_label="",
        provisional=False,
        question="",
    )
    row = StockRow(data, card=card, initial=initial)
    if data is not None:
        row.is_valid()
    radios = "".join(
        f'<label for="{radio.id_for_label}">{radio.tag()} {radio.choice_label}</label>'
        for radio in row["action"]
    )
    return [radios, str(row["reason"]), str(row["comment"])]


def _card_html(html: str, rule_id: str) -> str:
    dom_id = "rule-" + "".join(c if c.isalnum() or c == "-" else "_" for c in rule_id)
    found = re.search(rf'<article[^>]*id="{dom_id}".*?</article>', html, re.S)
    assert found is not None, rule_id
    return found.group(0)


TYPED = {
    "ACCP-2016-CDT": {"action": "overridden", "reason": "", "comment": 'a "quoted" <b>&'},
    "ESVS-2021-VT-ETR": {"action": "overridden", "reason": "anatomy", "comment": "x" * 2001},
    "ESVS-2021-VT-AC": {"action": "maybe", "reason": "no-such-reason", "comment": ""},
}


def test_blank_rows_are_marked_up_as_djangos_widgets(client_for, case_etr_page):
    html = client_for("clinician").get(case_etr_page).content.decode()
    for rule_id in cards_of_page(html):
        for control in _expected(rule_id, None, {"action": "", "reason": "", "comment": ""}):
            assert control in _card_html(html, rule_id), rule_id


def test_refused_rows_are_marked_up_as_djangos_widgets_with_their_errors(
    client_for, patient_a, clinician
):
    case = etr_case(patient_a, clinician)
    rows = accept_all(case, **TYPED)
    data = post_data(case, rows)
    html = client_for("clinician").post(sign_url(case), data).content.decode()
    assert 'id="decision-errors"' in html
    for rule_id in rows:
        card = _card_html(html, rule_id)
        for control in _expected(rule_id, data, {}):
            assert control in card, rule_id
    assert 'aria-invalid="true"' in _card_html(html, "ACCP-2016-CDT")


def test_draft_rows_are_marked_up_as_djangos_widgets(client_for, patient_a, clinician):
    case = etr_case(patient_a, clinician)
    client = client_for("clinician")
    url = reverse("cases:detail", args=[case.pk])
    after = re.search(r'name="after" value="(\d+)"', client.get(url).content.decode()).group(1)
    draft = {"after": after}
    for rule_id, row in TYPED.items():
        for name, value in row.items():
            draft[f"{row_prefix(rule_id)}-{name}"] = value
    client.post(reverse("cases:decisions:draft", args=[case.pk]), draft)
    html = client.get(url).content.decode()
    for rule_id, row in TYPED.items():
        card = _card_html(html, rule_id)
        for control in _expected(rule_id, None, row):
            assert control in card, rule_id


@pytest.fixture
def case_etr_page(patient_a, clinician) -> str:
    return reverse("cases:detail", args=[etr_case(patient_a, clinician).pk])


def cards_of_page(html: str) -> list[str]:
    rules = re.findall(r'<article class="rec-card[^"]*" id="[^"]+"[^>]*data-rule="([^"]+)"', html)
    assert len(rules) >= 5
    return rules


# --- what depends only on the rule version ------------------------------------------------


def test_what_a_card_shows_of_its_rule_is_worked_out_once_per_rule_set(
    client_for, patient_a, clinician, guideline_admin, monkeypatch
):
    """Source, grading, link and "locally modified" come from the rule version alone: a page
    works them out once per published rule set, and a publish shows the new version at once."""
    from guidelines import presentation
    from guidelines.services import authoring
    from tests.guidelines.rule_admin import ETR03, active_version, publish, second_admin

    compared: list[str] = []
    real = presentation.locally_modified
    monkeypatch.setattr(
        presentation, "locally_modified", lambda d: compared.append(d["id"]) or real(d)
    )
    client = client_for("clinician")
    url = reverse("cases:detail", args=[etr_case(patient_a, clinician).pk])
    assert ETR03 in client.get(url).content.decode()
    compared.clear()
    client.get(url)
    assert compared == []

    version = active_version(ETR03)
    draft = authoring.rule_version_create_draft(rule=version.rule, author=guideline_admin)
    definition = {**draft.definition, "text": "Consider early thrombus removal (edited here)."}
    authoring.rule_version_update(
        version=draft, user=guideline_admin, definition=definition, change_note="Wording"
    )
    publish(draft, author=guideline_admin, approver=second_admin(guideline_admin.centre))
    card = _card_html(client.get(url).content.decode(), ETR03)
    assert "Consider early thrombus removal (edited here)." in card
    assert "locally modified" in card
