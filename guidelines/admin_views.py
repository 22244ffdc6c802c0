"""Guideline admin pages (/guidelines/rules/…): list rules, read a rule, and — for guideline
admins — draft, edit, test, preview, submit, approve, retire, restore, export and import.

Access: every page needs a login (LoginRequiredMiddleware). Clinicians and nurses may read
the rule list and a rule's active version (``guidelines.view_rule``); the version pages need
``guidelines.view_ruleversion`` and every write its own permission (403 otherwise). Rules are
not centre data; the impact preview lists only cases of the reader's centre.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guidelines import selectors
from guidelines import vocabulary as V
from guidelines.display import definition_comparison, definition_view, editor_vocabulary
from guidelines.forms import (
    DraftCreateForm,
    ImportForm,
    ReasonForm,
    RuleFilterForm,
    RuleVersionForm,
    TestCaseForm,
)
from guidelines.models import (
    ImpactPreview,
    ReEvaluationTrigger,
    Rule,
    RuleTestCase,
    RuleVersion,
    VersionStatus,
)
from guidelines.services import authoring, impact_previews, reevaluation, transfer
from venousapp.accounts.requests import AuthenticatedHttpRequest
from venousapp.pages import form_errors_apply, is_htmx
from venousapp.params import object_id

# --------------------------------------------------------------------------------------------
# Access helpers


def require_perm(request: AuthenticatedHttpRequest, *perms: str) -> None:
    """403 unless the user holds every permission (a role question, not a centre one)."""
    if not all(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def rule_for_request(
    request: AuthenticatedHttpRequest, rule_id: str, perm: str = "guidelines.view_rule"
) -> Rule:
    require_perm(request, perm)
    try:
        return Rule.objects.get(rule_id=rule_id)
    except Rule.DoesNotExist:
        raise Http404 from None


def version_for_request(
    request: AuthenticatedHttpRequest, rule_id: str, number: int, *perms: str
) -> RuleVersion:
    require_perm(request, "guidelines.view_ruleversion", *perms)
    try:
        return RuleVersion.objects.select_related("rule", "source", "author", "approver").get(
            rule__rule_id=rule_id, number=number
        )
    except RuleVersion.DoesNotExist:
        raise Http404 from None


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _version_url(version: RuleVersion, name: str = "version") -> str:
    return reverse(f"guidelines:{name}", args=[version.rule.rule_id, version.number])


def _actions(request: AuthenticatedHttpRequest, version: RuleVersion) -> dict[str, bool]:
    """What the reader may do with this version now (buttons shown)."""
    user = request.user
    is_author = version.author_id == user.pk
    draft = version.status == VersionStatus.DRAFT
    pending = version.status == VersionStatus.PENDING
    can_change = user.has_perm("guidelines.change_ruleversion")
    return {
        "edit": draft and is_author and can_change,
        "submit": draft and is_author and can_change,
        "run_tests": can_change and version.rule.engine == "scored",
        "approve": pending and not is_author and user.has_perm("guidelines.approve_ruleversion"),
        "return_to_draft": pending
        and (is_author or user.has_perm("guidelines.approve_ruleversion")),
        "restore": version.status in (VersionStatus.SUPERSEDED, VersionStatus.RETIRED)
        and user.has_perm("guidelines.add_ruleversion"),
        "impact": version.rule.engine == "scored" and user.has_perm("cases.view_case"),
        "is_author": is_author,
    }


# --------------------------------------------------------------------------------------------
# Reading rules (all roles)


@require_GET
def rule_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_perm(request, "guidelines.view_rule")
    filters = RuleFilterForm(request.GET or None)
    rules = (
        Rule.objects.prefetch_related(
            Prefetch(
                "versions",
                queryset=RuleVersion.objects.filter(status=VersionStatus.ACTIVE).only(
                    "id", "rule", "number", "status", "verification", "definition"
                ),
                to_attr="active_versions",
            )
        )
        .annotate(
            open_versions=Count(
                "versions",
                filter=Q(versions__status__in=[VersionStatus.DRAFT, VersionStatus.PENDING]),
            )
        )
        .order_by("pk")
    )
    if filters.is_valid():
        text = filters.cleaned_data["q"].strip()
        if text:
            rules = rules.filter(
                Q(rule_id__icontains=text)
                | Exists(
                    RuleVersion.objects.filter(
                        rule=OuterRef("pk"),
                        status=VersionStatus.ACTIVE,
                        definition__text__icontains=text,
                    )
                )
            )
        if filters.cleaned_data["topic"]:
            rules = rules.filter(topic=filters.cleaned_data["topic"])
        status = filters.cleaned_data["status"]
        if status == "active":
            rules = rules.filter(
                Exists(RuleVersion.objects.filter(rule=OuterRef("pk"), status=VersionStatus.ACTIVE))
            )
        elif status == "retired":
            rules = rules.exclude(retired_at=None)
        elif status == "open":
            rules = rules.filter(open_versions__gt=0)
    rows = []
    for rule in rules:
        active = rule.active_versions[0] if rule.active_versions else None
        rows.append(
            {
                "rule": rule,
                "active": active,
                "text": active.definition.get("text", "") if active else "",
                "topic": V.TOPICS.get(rule.topic, rule.topic),
                "provisional": bool(active and active.verification != "verified"),
            }
        )
    awaiting = (
        list(
            RuleVersion.objects.filter(status=VersionStatus.PENDING)
            .exclude(author_id=request.user.pk)
            .select_related("rule", "author")
            .order_by("submitted_at", "pk")
        )
        if request.user.has_perm("guidelines.approve_ruleversion")
        else []
    )
    return render(
        request,
        "guidelines/admin/rule_list.html",
        {
            "rows": rows,
            "filters": filters,
            "stored": _stored_evaluations(request),
            "awaiting": awaiting,
        },
    )


def _stored_evaluations(request: AuthenticatedHttpRequest) -> selectors.StoredEvaluations | None:
    """The stored cases' line of the rule pages, for those who administer the rules."""
    if not request.user.has_perm("guidelines.view_ruleversion"):
        return None
    return selectors.stored_evaluations()


@require_GET
def rule_detail(request: AuthenticatedHttpRequest, rule_id: str) -> HttpResponse:
    rule = rule_for_request(request, rule_id)
    versions = list(
        rule.versions.select_related("author", "approver", "source").order_by("-number")
    )
    active = next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
    can_admin = request.user.has_perm("guidelines.view_ruleversion")
    trail = []
    if can_admin:
        trail = list(
            RuleVersion.history.filter(rule_id=rule.pk)
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[:50]
        )
        trail += list(rule.history.select_related("history_user").order_by("-history_date")[:20])
        trail.sort(key=lambda h: h.history_date, reverse=True)
    return render(
        request,
        "guidelines/admin/rule_detail.html",
        {
            "rule": rule,
            "active": active,
            "view": definition_view(active.definition) if active else None,
            "versions": versions,
            "trail": trail,
            "can_admin": can_admin,
            "can_draft": request.user.has_perm("guidelines.add_ruleversion"),
            "can_retire": active is not None
            and request.user.has_perm("guidelines.change_rule")
            and request.user.has_perm("guidelines.approve_ruleversion"),
        },
    )


# --------------------------------------------------------------------------------------------
# Versions (guideline admins)


@require_GET
def version_detail(request: AuthenticatedHttpRequest, rule_id: str, number: int) -> HttpResponse:
    version = version_for_request(request, rule_id, number)
    active = (
        version.rule.versions.filter(status=VersionStatus.ACTIVE).exclude(pk=version.pk).first()
    )
    return render(
        request,
        "guidelines/admin/version_detail.html",
        {
            "version": version,
            "rule": version.rule,
            "view": definition_view(version.definition),
            "active": active,
            "comparison": definition_comparison(active.definition, version.definition)
            if active is not None
            else [],
            "test_cases": list(version.test_cases.all()),
            "actions": _actions(request, version),
            "tab": "definition",
            "definition_json": json.dumps(version.definition, indent=2, ensure_ascii=False),
            "stored": _stored_evaluations(request),
        },
    )


@require_http_methods(["GET", "POST"])
def draft_create(request: AuthenticatedHttpRequest, rule_id: str) -> HttpResponse:
    rule = rule_for_request(request, rule_id, "guidelines.add_ruleversion")
    versions = list(rule.versions.order_by("-number"))
    form = DraftCreateForm(request.POST or None, versions=versions)
    if request.method == "POST" and form.is_valid():
        base = next(v for v in versions if v.number == form.cleaned_data["base"])
        try:
            draft = authoring.rule_version_create_draft(
                rule=rule,
                author=request.user,
                base=base,
                change_note=form.cleaned_data["change_note"],
            )
        except ValidationError as error:
            form.add_error(None, _error_text(error))
        else:
            messages.success(request, f"Draft v{draft.number} created.")
            return redirect(_version_url(draft, "version-edit"))
    return render(request, "guidelines/admin/draft_create.html", {"rule": rule, "form": form})


@require_http_methods(["GET", "POST"])
def version_edit(request: AuthenticatedHttpRequest, rule_id: str, number: int) -> HttpResponse:
    version = version_for_request(request, rule_id, number, "guidelines.change_ruleversion")
    actions = _actions(request, version)
    if not actions["edit"]:
        messages.error(
            request,
            f"v{version.number} is {version.get_status_display().lower()} "
            "and only its author can edit a draft.",
        )
        return redirect(_version_url(version))
    form = RuleVersionForm(request.POST or None, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            authoring.rule_version_update(
                version=version,
                user=request.user,
                definition=form.definition(),
                change_note=form.cleaned_data["change_note"],
            )
        except ValidationError as error:
            problems = (
                error.message_dict.get("definition", [])
                if hasattr(error, "error_dict")
                else error.messages
            )
            form.add_problems(problems)
        else:
            messages.success(request, f"v{version.number} saved. Run its test cases next.")
            return redirect(_version_url(version, "version-tests"))
    return render(
        request,
        "guidelines/admin/version_edit.html",
        {
            "version": version,
            "rule": version.rule,
            "form": form,
            "vocabulary": editor_vocabulary(),
            "problems": form.logic_problems,
            "actions": actions,
            "tab": "edit",
        },
    )


@require_http_methods(["GET", "POST"])
def version_tests(request: AuthenticatedHttpRequest, rule_id: str, number: int) -> HttpResponse:
    version = version_for_request(request, rule_id, number)
    actions = _actions(request, version)
    form = TestCaseForm(request.POST or None)
    if request.method == "POST":
        require_perm(request, "guidelines.add_ruletestcase")
        if form.is_valid():
            try:
                case = authoring.rule_test_case_create(
                    version=version,
                    user=request.user,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                form_errors_apply(error, form)
            else:
                messages.success(request, f"Test case “{case.name}” added; run the tests.")
                return redirect(_version_url(version, "version-tests"))
    cases = list(version.test_cases.all())
    return render(
        request,
        "guidelines/admin/version_tests.html",
        {
            "version": version,
            "rule": version.rule,
            "test_cases": cases,
            "failing": sum(1 for c in cases if c.passed is False),
            "not_run": sum(1 for c in cases if c.passed is None),
            "form": form,
            "actions": actions,
            "tab": "tests",
        },
    )


def _test_case(version: RuleVersion, pk: int) -> RuleTestCase:
    try:
        return version.test_cases.get(pk=pk)
    except RuleTestCase.DoesNotExist:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def test_case_edit(
    request: AuthenticatedHttpRequest, rule_id: str, number: int, pk: int
) -> HttpResponse:
    version = version_for_request(request, rule_id, number, "guidelines.change_ruletestcase")
    case = _test_case(version, pk)
    form = TestCaseForm(
        request.POST or None,
        initial={
            "name": case.name,
            "facts": case.facts,
            "expected": case.expected,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            authoring.rule_test_case_update(
                test_case=case,
                user=request.user,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form_errors_apply(error, form)
        else:
            messages.success(request, f"Test case “{case.name}” saved; run the tests.")
            return redirect(_version_url(version, "version-tests"))
    return render(
        request,
        "guidelines/admin/test_case_form.html",
        {
            "version": version,
            "rule": version.rule,
            "case": case,
            "form": form,
            "actions": _actions(request, version),
            "tab": "tests",
        },
    )


@require_http_methods(["GET", "POST"])
def test_case_delete(
    request: AuthenticatedHttpRequest, rule_id: str, number: int, pk: int
) -> HttpResponse:
    version = version_for_request(request, rule_id, number, "guidelines.delete_ruletestcase")
    case = _test_case(version, pk)
    if request.method == "POST":
        try:
            authoring.rule_test_case_delete(test_case=case, user=request.user)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, f"Test case “{case.name}” deleted.")
        return redirect(_version_url(version, "version-tests"))
    return _confirm(
        request,
        version,
        title=f"Delete test case “{case.name}”?",
        text="The deletion is kept in the audit trail.",
        button="Delete test case",
        danger=True,
    )


@require_POST
def version_run_tests(request: AuthenticatedHttpRequest, rule_id: str, number: int) -> HttpResponse:
    version = version_for_request(request, rule_id, number, "guidelines.change_ruleversion")
    try:
        runs = authoring.rule_version_run_tests(version=version, user=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        failing = sum(1 for run in runs if not run.passed)
        if failing:
            messages.error(request, f"{failing} of {len(runs)} test case(s) fail.")
        else:
            messages.success(request, f"All {len(runs)} test case(s) pass.")
    return redirect(_version_url(version, "version-tests"))


def _confirm(
    request: AuthenticatedHttpRequest,
    version: RuleVersion | None,
    *,
    title: str,
    text: str,
    button: str,
    form: ReasonForm | None = None,
    danger: bool = False,
    rule: Rule | None = None,
) -> HttpResponse:
    return render(
        request,
        "guidelines/admin/confirm.html",
        {
            "version": version,
            "rule": rule or (version.rule if version else None),
            "title": title,
            "text": text,
            "button": button,
            "form": form,
            "danger": danger,
        },
    )


@require_http_methods(["GET", "POST"])
def version_submit(request: AuthenticatedHttpRequest, rule_id: str, number: int) -> HttpResponse:
    version = version_for_request(request, rule_id, number, "guidelines.change_ruleversion")
    if request.method == "POST":
        try:
            # Run first, in its own transaction, so failing results stay visible.
            authoring.rule_version_run_tests(version=version, user=request.user)
            authoring.rule_version_submit(version=version, user=request.user)
        except ValidationError as error:
            messages.error(
                request, gettext("Submission refused. %(why)s") % {"why": _error_text(error)}
            )
            return redirect(_version_url(version, "version-tests"))
        messages.success(
            request, f"v{version.number} submitted; a second guideline admin must approve it."
        )
        return redirect(_version_url(version))
    return _confirm(
        request,
        version,
        title=f"Request publication of {version.rule.rule_id} v{number}?",
        text="Its test cases are run first; publication is refused while any of them fails. "
        "A second guideline admin must then approve it.",
        button="Submit for approval",
    )


@require_http_methods(["GET", "POST"])
def version_approve(request: AuthenticatedHttpRequest, rule_id: str, number: int) -> HttpResponse:
    version = version_for_request(request, rule_id, number, "guidelines.approve_ruleversion")
    if request.method == "POST":
        try:
            authoring.rule_version_approve(version=version, user=request.user)
        except ValidationError as error:
            messages.error(
                request, gettext("Approval refused. %(why)s") % {"why": _error_text(error)}
            )
            return redirect(_version_url(version))
        messages.success(
            request,
            f"{version.rule.rule_id} v{version.number} is now active; "
            "every case is evaluated with it.",
        )
        return redirect("guidelines:rule", version.rule.rule_id)
    return _confirm(
        request,
        version,
        title=f"Approve and publish {version.rule.rule_id} v{number}?",
        text="The test cases are run again. The current active version is superseded and "
        "every case is evaluated with this version from now on.",
        button="Approve and publish",
    )


@require_http_methods(["GET", "POST"])
def version_return(request: AuthenticatedHttpRequest, rule_id: str, number: int) -> HttpResponse:
    version = version_for_request(request, rule_id, number, "guidelines.change_ruleversion")
    is_author = version.author_id == request.user.pk
    form = ReasonForm(request.POST or None, required=not is_author)
    if request.method == "POST" and form.is_valid():
        try:
            authoring.rule_version_return_to_draft(
                version=version,
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, f"v{version.number} is a draft again.")
        return redirect(_version_url(version))
    title = "Withdraw your request?" if is_author else "Return to the author?"
    return _confirm(
        request,
        version,
        title=title,
        text="The version becomes a draft that its author can change.",
        button="Withdraw" if is_author else "Return to draft",
        form=form,
    )


@require_http_methods(["GET", "POST"])
def version_restore(request: AuthenticatedHttpRequest, rule_id: str, number: int) -> HttpResponse:
    version = version_for_request(request, rule_id, number, "guidelines.add_ruleversion")
    if request.method == "POST":
        try:
            draft = authoring.rule_version_restore(version=version, user=request.user)
        except ValidationError as error:
            messages.error(request, _error_text(error))
            return redirect(_version_url(version))
        messages.success(
            request, f"v{draft.number} created from v{version.number}; it needs the usual approval."
        )
        return redirect(_version_url(draft))
    return _confirm(
        request,
        version,
        title=f"Restore {version.rule.rule_id} v{number}?",
        text="A new draft is created with this version's definition and test cases; it goes "
        "through submission and a second admin's approval like any change.",
        button="Create a draft from this version",
    )


@require_http_methods(["GET", "POST"])
def rule_retire(request: AuthenticatedHttpRequest, rule_id: str) -> HttpResponse:
    require_perm(request, "guidelines.change_rule", "guidelines.approve_ruleversion")
    rule = rule_for_request(request, rule_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            authoring.rule_retire(
                rule=rule,
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, f"{rule.rule_id} is retired; cases are evaluated without it.")
        return redirect("guidelines:rule", rule.rule_id)
    return _confirm(
        request,
        None,
        rule=rule,
        title=f"Retire {rule.rule_id}?",
        text="Its active version is retired and the rule is no longer evaluated. Restoring "
        "it later creates a new version that needs approval.",
        button="Retire rule",
        form=form,
        danger=True,
    )


# --------------------------------------------------------------------------------------------
# Impact preview


@require_http_methods(["GET", "POST"])
def version_impact(request: AuthenticatedHttpRequest, rule_id: str, number: int) -> HttpResponse:
    version = version_for_request(request, rule_id, number, "cases.view_case")
    if request.method == "POST":
        try:
            started = impact_previews.impact_preview_start(version=version, user=request.user)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            return redirect(f"{_version_url(version, 'version-impact')}?preview={started.pk}")
    preview: ImpactPreview | None = None
    wanted = object_id(request.GET.get("preview", ""))
    previews = ImpactPreview.objects.filter(rule_version=version, requested_by=request.user)
    if wanted is not None:
        preview = previews.filter(pk=wanted).first()
    preview = preview or previews.first()
    return render(
        request,
        "guidelines/admin/version_impact.html",
        {
            "version": version,
            "rule": version.rule,
            "preview": preview,
            "actions": _actions(request, version),
            "tab": "impact",
        },
    )


@require_GET
def impact_progress(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The htmx-polled progress/result partial; a preview is visible to its requester only
    (its case list names cases of the requester's centre)."""
    require_perm(request, "guidelines.view_ruleversion", "cases.view_case")
    try:
        preview = ImpactPreview.objects.select_related("rule_version__rule").get(
            pk=pk, requested_by=request.user
        )
    except ImpactPreview.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "guidelines/admin/_impact.html",
        {
            "preview": preview,
            "version": preview.rule_version,
        },
    )


# --------------------------------------------------------------------------------------------
# Re-evaluation of the stored cases


def _reevaluation_partial(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "guidelines/admin/_reevaluation.html",
        {"stored": selectors.stored_evaluations()},
    )


@require_GET
def reevaluation_progress(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The htmx-polled line "Stored cases: N up to date, M being re-evaluated": counts over
    every centre's cases (the rules apply to all), naming no case."""
    require_perm(request, "guidelines.view_ruleversion")
    return _reevaluation_partial(request)


@require_POST
def reevaluation_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Start a re-evaluation by hand: after a failed one, or for cases stored before their
    status was (a deploy, a bulk import). Does nothing while one is in progress."""
    require_perm(request, "guidelines.view_ruleversion", "guidelines.approve_ruleversion")
    job = None
    if selectors.reevaluation_in_progress() is None:
        job = reevaluation.reevaluation_start(trigger=ReEvaluationTrigger.MANUAL, user=request.user)
    if is_htmx(request):  # the swapped-in line says it all
        return _reevaluation_partial(request)
    if job is None:
        messages.info(request, gettext("A re-evaluation is already in progress."))
    else:
        messages.success(
            request,
            gettext("Re-evaluation of %(n)s stored case(s) started.") % {"n": job.total},
        )
    return redirect("guidelines:rule-list")


# --------------------------------------------------------------------------------------------
# Export / import


@require_GET
def ruleset_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_perm(request, "guidelines.view_ruleversion")
    document = transfer.ruleset_export()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="venousapp-rules-{stamp}.json"'
    return response


@require_http_methods(["GET", "POST"])
def ruleset_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_perm(
        request,
        "guidelines.add_ruleversion",
        "guidelines.add_rule",
        "guidelines.add_guidelinesource",
    )
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = transfer.ruleset_import(
                data=form.cleaned_data["file"],
                user=request.user,
            )
        except ValidationError as error:
            for message in (
                error.message_dict.get("file", error.messages)
                if hasattr(error, "error_dict")
                else error.messages
            ):
                form.add_error("file", message)
        else:
            drafts = sum(1 for line in report if line.action in ("draft", "created"))
            messages.success(request, f"Import checked and done: {drafts} draft(s) created.")
    return render(request, "guidelines/admin/import.html", {"form": form, "report": report})
