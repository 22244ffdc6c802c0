"""Pages of the clinician's decision: the recommendations panel's decision form on the case
page, signing, the list of signed decisions and one decision "as of" its signing.

Access (cases/access.py): another centre's case is 404, a role without the permission 403;
htmx requests get the partial ``templates/guidelines/_recommendations.html`` back.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.access import case_for_request, require_perm
from cases.facts import case_facts
from cases.models import Case, overall_label
from guidelines.decisions import selectors, services, snapshot
from guidelines.decisions.forms import DecisionForms, rows_from_data
from guidelines.engine import evaluate
from guidelines.models import Decision, FeedbackAction
from guidelines.presentation import Panel, format_value, input_label, panel
from guidelines.ruleset import current_ruleset
from venousapp.accounts.requests import AuthenticatedHttpRequest
from venousapp.pagecache import kept_page
from venousapp.pages import is_htmx

SIGN_PERM = "guidelines.add_decision"
VIEW_PERM = "guidelines.view_decision"


def _case(request: AuthenticatedHttpRequest, pk: int, perm: str) -> Case:
    """The case of the URL (404 for another centre's), then the decision permission (403)."""
    case = case_for_request(request, pk)
    require_perm(request, perm)
    return case


def _draft_key(case: Case) -> str:
    return f"decision-draft:{case.pk}"


def _draft(request: AuthenticatedHttpRequest, case: Case, after: int) -> dict[str, Any]:
    """The rows chosen so far, if they were chosen after the case's latest decision."""
    draft = request.session.get(_draft_key(case)) or {}
    return dict(draft) if draft.get("after") == after else {}


def _current(case: Case, facts: dict[str, Any] | None = None) -> tuple[Panel, str]:
    """Today's panel of ``case`` and the fingerprint of what it shows."""
    facts = case_facts(case) if facts is None else facts
    ruleset = current_ruleset()
    shown = panel(evaluate(facts, ruleset), ruleset)
    return shown, snapshot.evaluation_fingerprint(facts=facts, ruleset_version=ruleset.version)


def _decisions(case: Case) -> list[Decision]:
    rows = list(selectors.decision_list(case=case))
    for row in rows:
        row.overall_label = overall_label(row.overall)  # type: ignore[attr-defined]
    return rows


def _latest(rows: list[Decision]) -> int:
    """The newest decision's id (0 for none): a draft belongs to the page it was made on, so
    a late draft request from a page signed meanwhile is not kept."""
    return max((row.pk for row in rows), default=0)


def recommendations_context(
    request: AuthenticatedHttpRequest, *, case: Case, facts: dict[str, Any]
) -> dict[str, Any]:
    """What the case page needs for its recommendations panel: the panel, the decision form
    (clinicians; pre-filled from the draft) and the signed decisions (readers).

    When the newest decision was signed on exactly what the case shows now, each card shows
    its signed answer instead of a blank form; ``?revise=1`` offers the form for a new one."""
    shown, fingerprint = _current(case, facts)
    context: dict[str, Any] = {
        "panel": shown,
        "decision_forms": None,
        "decisions": None,
        "signed": None,
    }
    can_sign = request.user.has_perm(SIGN_PERM) and bool(shown.cards)
    rows = _decisions(case) if request.user.has_perm(VIEW_PERM) or can_sign else []
    if request.user.has_perm(VIEW_PERM):
        context["decisions"] = rows
    signed = selectors.decision_current(case=case, fingerprint=fingerprint) if rows else None
    if signed is not None:
        feedback = {item.rule_id: item for item in signed.feedback.all()}
        for card in shown.cards:
            card.feedback = feedback.get(card.rule_id)
        context["signed"] = signed
        if request.GET.get("revise") != "1":
            return context
    if can_sign:
        after = _latest(rows)
        forms = DecisionForms(
            shown, fingerprint=fingerprint, after=after, initial=_draft(request, case, after)
        )
        forms.attach()
        context["decision_forms"] = forms
    return context


def _render_panel(
    request: AuthenticatedHttpRequest, case: Case, forms: DecisionForms, rows: list[Decision]
) -> HttpResponse:
    forms.attach()
    context = {"case": case, "panel": forms.panel, "decision_forms": forms, "decisions": rows}
    template = (
        "guidelines/_recommendations.html" if is_htmx(request) else "guidelines/decision_sign.html"
    )
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@kept_page
def decision_sign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET: the review-and-sign page (the case page's form without JavaScript lands here on
    errors). POST: sign; errors re-show every row as typed."""
    case = _case(request, pk, SIGN_PERM)
    shown, fingerprint = _current(case)
    rows = _decisions(case)
    after = _latest(rows)
    if request.method == "GET":
        forms = DecisionForms(
            shown, fingerprint=fingerprint, after=after, initial=_draft(request, case, after)
        )
        return _render_panel(request, case, forms, rows)

    posted = request.POST.get("evaluation", "")
    if posted != fingerprint:
        # What the clinician saw is no longer what the rules say: show the current panel
        # with the rows as typed, and sign nothing.
        forms = DecisionForms(
            shown,
            fingerprint=fingerprint,
            after=after,
            initial={
                "rows": rows_from_data(request.POST, shown.cards),
                "comment": request.POST.get("comment", ""),
            },
        )
        forms.non_field_errors.append(
            _(
                "The case or the rules changed after this page was loaded. The recommendations "
                "are shown again as they are now; review them and sign again."
            )
        )
        return _render_panel(request, case, forms, rows)

    forms = DecisionForms(shown, fingerprint=fingerprint, after=after, data=request.POST)
    if forms.is_valid():
        try:
            services.decision_sign(
                case=case,
                signed_by=request.user,
                feedback=forms.feedback(),
                comment=forms.comment,
                fingerprint=posted,
            )
        except ValidationError as exc:
            forms.add_service_errors(exc)
        else:
            request.session.pop(_draft_key(case), None)
            messages.success(request, _("Decision signed."))
            target = reverse("cases:detail", args=[case.pk])
            if is_htmx(request):
                # No fragment: from the case page itself a fragment-only change of the
                # address would scroll instead of loading the page with the new decision.
                response = HttpResponse()
                response["HX-Redirect"] = target
                return response
            return redirect(target + "#decisions")
    # 200 with errors: htmx swaps only successful answers.
    return _render_panel(request, case, forms, rows)


@require_POST
def decision_draft(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Keep the rows chosen so far in the session until signing (htmx on every change).
    With ``fill=accepted`` every card not yet answered is marked accepted."""
    case = _case(request, pk, SIGN_PERM)
    shown, fingerprint = _current(case)
    rows = _decisions(case)
    after = _latest(rows)
    back = redirect(reverse("cases:detail", args=[case.pk]) + "#decision-form")
    if request.POST.get("after") != str(after):
        # Posted from a page whose decision has been signed since: nothing to keep.
        return HttpResponse(status=204) if is_htmx(request) else back
    chosen = rows_from_data(request.POST, shown.cards)
    if request.POST.get("fill") == FeedbackAction.ACCEPTED:
        for card in shown.cards:
            row = chosen.setdefault(
                card.rule_id, {"reason": "", "comment": "", "value": card.value}
            )
            row["action"] = row.get("action") or FeedbackAction.ACCEPTED
    draft = {"after": after, "rows": chosen, "comment": request.POST.get("comment", "")}
    request.session[_draft_key(case)] = draft
    if "fill" in request.POST and is_htmx(request):
        forms = DecisionForms(shown, fingerprint=fingerprint, after=after, initial=draft)
        return _render_panel(request, case, forms, rows)
    return HttpResponse(status=204) if is_htmx(request) else back


@require_GET
@kept_page
def decision_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk, VIEW_PERM)
    context = {"case": case, "decisions": _decisions(case)}
    if is_htmx(request):
        return render(request, "guidelines/_decisions.html", context)
    return render(request, "guidelines/decision_list.html", context)


@require_GET
def decision_detail(request: AuthenticatedHttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    """A signed decision exactly as it was, and how today's evaluation of the case differs."""
    case = _case(request, pk, VIEW_PERM)
    try:
        decision = selectors.decision_get(case=case, pk=decision_pk)
    except Decision.DoesNotExist:
        raise Http404 from None
    comparison = selectors.decision_comparison(decision=decision, facts=case_facts(case))
    frozen = selectors.decision_panel(decision=decision)
    facts = [
        (input_label(name), format_value(name, value)) for name, value in decision.facts.items()
    ]
    return render(
        request,
        "guidelines/decision_detail.html",
        {
            "case": case,
            "decision": decision,
            "panel": frozen,
            "comparison": comparison,
            "frozen": True,
            "facts": facts,
            "overall_label": overall_label(decision.result.get("overall", "")),
            "overridden": [
                card
                for card in frozen.cards
                if card.feedback and card.feedback.action == FeedbackAction.OVERRIDDEN
            ],
        },
    )
