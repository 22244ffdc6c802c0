"""The plan page, its PDF and the case page's plan section run a constant number of SQL
queries however many stents, access sites and checklist items a plan has (STYLE.md
convention 12)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from planning import services

pytestmark = pytest.mark.django_db

# Session, user, permissions, the plan with its prefetches, findings, the rule set key.
MAX_QUERIES = 20


def count(client, url, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(MAX_QUERIES), CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["clinician", "nurse"])
@pytest.mark.parametrize("page", ["planning:plan-detail", "planning:plan-pdf"])
def test_plan_page_runs_constant_queries(
    client_for, nivl_plan, ivc_plan, clinician, django_assert_max_num_queries, persona, page
):
    client = client_for(persona)
    small = reverse(page, args=[nivl_plan.pk])
    client.get(small)  # warm-up: session, content types
    with_small = count(client, small, django_assert_max_num_queries)
    for n in range(30):
        item = services.checklist_item_add(
            plan=ivc_plan, user=clinician, phase="time_out", text=f"Extra check {n}"
        )
        services.checklist_item_tick(item=item, user=clinician)
    large = reverse(page, args=[ivc_plan.pk])
    assert ivc_plan.items.count() >= nivl_plan.items.count() + 30
    assert ivc_plan.stents.count() == 5
    assert nivl_plan.stents.count() == 1
    assert count(client, large, django_assert_max_num_queries) == with_small


def test_case_page_plan_section_runs_constant_queries(
    client_for, make_case, clinician, django_assert_max_num_queries
):
    client = client_for("clinician")
    case = make_case("ivc")
    url = reverse("cases:detail", args=[case.pk])
    client.get(url)
    with_one = count(client, url, django_assert_max_num_queries)
    for _ in range(3):
        services.plan_create(case=case, author=clinician)
    with_three = count(client, url, django_assert_max_num_queries)
    # A case with plans draws the latest plan's stents: one query for them, and one for its
    # access sites, whatever the number of plans.
    assert with_three <= with_one + 2
    response = client.get(url)
    assert response.content.decode().count('class="stent"') == 5


@pytest.mark.parametrize("persona", ["clinician", "nurse"])
def test_plan_page_renders_the_same_templates_however_many_checklist_items(
    client_for, nivl_plan, ivc_plan, clinician, persona
):
    """The checklist is a loop: no template (and no form) per item."""
    client = client_for(persona)
    small = client.get(reverse("planning:plan-detail", args=[nivl_plan.pk]))
    for n in range(30):
        services.checklist_item_add(
            plan=ivc_plan, user=clinician, phase="time_out", text=f"Extra check {n}"
        )
    large = client.get(reverse("planning:plan-detail", args=[ivc_plan.pk]))
    assert large.content.decode().count('class="check-item') >= 30 + small.content.decode().count(
        'class="check-item'
    )
    assert len(large.templates) == len(small.templates)


def test_each_checklist_row_links_to_its_own_item(client_for, ivc_plan, clinician):
    """Tick (or untick), the htmx swap and the change link each name the row's own item."""
    import re

    items = list(ivc_plan.items.order_by("position", "id"))
    services.checklist_item_tick(item=items[0], user=clinician)
    client = client_for("clinician")
    for htmx in (False, True):
        if htmx:
            response = client.post(
                reverse("planning:item-untick", args=[items[0].pk]), HTTP_HX_REQUEST="true"
            )
            html, shown = response.content.decode(), [items[0]]
            items[0].refresh_from_db()
        else:
            html, shown = (
                client.get(reverse("planning:plan-detail", args=[ivc_plan.pk])).content.decode(),
                items,
            )
        for item in shown:
            item.refresh_from_db()
            row = re.search(rf'<li id="item-{item.pk}".*?</li>', html, re.S)
            assert row is not None
            toggle = reverse(
                "planning:item-untick" if item.ticked else "planning:item-tick", args=[item.pk]
            )
            assert f'action="{toggle}"' in row.group(0)
            assert f'hx-post="{toggle}"' in row.group(0)
            assert f'href="{reverse("planning:item-edit", args=[item.pk])}"' in row.group(0)
