"""Every URL the resolver knows × every persona × its methods (STYLE.md convention 12).

``URLS`` says, for each named URL, what each persona gets (clinician, nurse, guideline admin,
Bob of centre B, anonymous) for a GET and, for a URL that takes writes, a POST (PATCH or PUT
for the API) with an empty form or an empty JSON object. The URLs address centre A's objects
(tests/world.py): Bob never sees them (404, or 403 where the role is refused first) and no
answer to him names a centre A patient; anonymous visitors are sent to the log-in page, or
refused with JSON by the API. The admin site is staff only (no persona is staff): each of its
URLs sends every persona to a log-in page.

``test_every_url_is_in_the_matrix`` fails for a URL in none of these tables, so a new view
cannot ship unchecked; a table entry naming no URL fails too. The app tests
(tests/*/test_permissions.py) post real forms and check what the writes do; this walk checks
who may do what, everywhere. Each request runs in a savepoint rolled back after it, so one
persona's write never changes what the next one meets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cases.models import Patient
from tests.conftest import PERSONAS
from tests.world import World

# What a persona gets, besides a plain status code.
LOGIN = "the log-in page"  # 302 to /accounts/login/?next=<the URL>
STAFF_LOGIN = "the admin's log-in page"  # 302 to /admin/login/?next=<the URL>
ANY_LOGIN = "a log-in page"  # either: the admin sends anonymous visitors to one or the other
AWAY = "a redirect"  # 302 elsewhere: not to a log-in page asking to come back
DONE = "done"  # a write taken or refused for its content: 2xx, 400, or a redirect away
REFUSED = "refused in JSON"  # the API to an anonymous client: 401 or 403, JSON
PROBE = "a health answer"  # /healthz: JSON, 200 or 503 (a broker may be down here)

Expected = tuple[Any, Any, Any, Any, Any]  # clinician, nurse, guideline_admin, Bob, anonymous


def everyone(answer: Any) -> Expected:
    return (answer,) * 5


def members(answer: Any) -> Expected:
    """Every logged-in persona gets ``answer``; anonymous visitors the log-in page."""
    return (answer, answer, answer, answer, LOGIN)


def api(answer: Any) -> Expected:
    return (answer, answer, answer, answer, REFUSED)


READERS = members(200)
CENTRE_READERS = (200, 200, 200, 404, LOGIN)  # centre A's objects: not Bob
CLINICIAN_WRITES = (DONE, 403, 403, 404, LOGIN)
CLINICIAN_FORMS = (200, 403, 403, 404, LOGIN)
ADMIN_PAGES = (403, 403, 200, 403, LOGIN)
ADMIN_WRITES = (403, 403, DONE, 403, LOGIN)
NOT_A_PAGE = (405, 405, 405, 405, LOGIN)  # a POST-only URL
API_CENTRE_READERS = (200, 200, 200, 404, REFUSED)
API_CLINICIAN_WRITES = (DONE, 403, 403, 404, REFUSED)
API_ADMIN_READS = (403, 403, 200, 403, REFUSED)
API_ADMIN_WRITES = (403, 403, DONE, 403, REFUSED)


@dataclass(frozen=True)
class U:
    """A URL's arguments (URL keyword -> World attribute, or a ``fixed`` value) and what each
    persona gets for each method."""

    args: dict[str, str] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    get: Expected | None = None
    post: Expected | None = None
    patch: Expected | None = None
    put: Expected | None = None
    query: dict[str, str] = field(default_factory=dict)

    def methods(self) -> Iterator[tuple[str, Expected]]:
        for method in ("get", "post", "patch", "put"):
            expected = getattr(self, method)
            if expected is not None:
                yield method, expected


CASE = {"pk": "case"}
VERSION = {"rule_id": "rule_id", "number": "draft"}
PLAN = {"pk": "plan"}
VISIT = {"pk": "visit"}

URLS: dict[str, U] = {
    # --- the site and accounts -------------------------------------------------------------
    "home": U(get=members(AWAY)),
    "healthz": U(get=everyone(PROBE), query={"worker": "skip"}),
    "login": U(get=(AWAY, AWAY, AWAY, AWAY, 200), post=(AWAY, AWAY, AWAY, AWAY, 200)),
    "logout": U(get=NOT_A_PAGE, post=members(AWAY)),
    "password_change": U(get=READERS, post=members(DONE)),
    "password_change_done": U(get=READERS),
    "password_reset": U(get=everyone(200), post=everyone(200)),
    "password_reset_done": U(get=everyone(200)),
    "password_reset_confirm": U(
        fixed={"uidb64": "no_user", "token": "no_token"}, get=everyone(200), post=everyone(200)
    ),
    "password_reset_complete": U(get=everyone(200)),
    "account": U(get=READERS, post=members(DONE)),
    "api_token_create": U(get=members(AWAY), post=members(DONE)),
    "api_token_revoke": U(get=members(AWAY), post=members(404)),  # no token named
    "set_language": U(get=members(AWAY), post=members(AWAY)),
    # --- cases and decisions ---------------------------------------------------------------
    "cases:list": U(get=READERS),
    "cases:create": U(get=(200, 403, 403, 200, LOGIN), post=(DONE, 403, 403, DONE, LOGIN)),
    "cases:ceap-preview": U(get=READERS),
    "cases:detail": U(args=CASE, get=CENTRE_READERS),
    "cases:edit": U(args=CASE, get=CLINICIAN_FORMS, post=CLINICIAN_WRITES),
    "cases:history": U(args=CASE, get=CENTRE_READERS),
    "cases:decisions:list": U(args=CASE, get=CENTRE_READERS),
    "cases:decisions:sign": U(args=CASE, get=CLINICIAN_FORMS, post=CLINICIAN_WRITES),
    "cases:decisions:draft": U(args=CASE, get=NOT_A_PAGE, post=CLINICIAN_WRITES),
    "cases:decisions:detail": U(args={"pk": "case", "decision_pk": "decision"}, get=CENTRE_READERS),
    # --- guidelines: rules for every reader, their workflow for guideline admins -----------
    "guidelines:rule-list": U(get=READERS),
    "guidelines:rule": U(args={"rule_id": "rule_id"}, get=READERS),
    "guidelines:export": U(get=ADMIN_PAGES),
    "guidelines:import": U(get=ADMIN_PAGES, post=ADMIN_WRITES),
    "guidelines:impact-progress": U(args={"pk": "impact_preview"}, get=ADMIN_PAGES),
    "guidelines:reevaluation": U(get=ADMIN_PAGES),
    "guidelines:reevaluation-start": U(get=NOT_A_PAGE, post=ADMIN_WRITES),
    "guidelines:draft-create": U(args={"rule_id": "rule_id"}, get=ADMIN_PAGES, post=ADMIN_WRITES),
    "guidelines:retire": U(args={"rule_id": "rule_id"}, get=ADMIN_PAGES, post=ADMIN_WRITES),
    "guidelines:version": U(args=VERSION, get=ADMIN_PAGES),
    "guidelines:version-edit": U(args=VERSION, get=ADMIN_PAGES, post=ADMIN_WRITES),
    "guidelines:version-tests": U(args=VERSION, get=ADMIN_PAGES, post=ADMIN_WRITES),
    "guidelines:version-run-tests": U(args=VERSION, get=NOT_A_PAGE, post=ADMIN_WRITES),
    "guidelines:test-case-edit": U(
        args={**VERSION, "pk": "test_case"}, get=ADMIN_PAGES, post=ADMIN_WRITES
    ),
    "guidelines:test-case-delete": U(
        args={**VERSION, "pk": "test_case"}, get=ADMIN_PAGES, post=ADMIN_WRITES
    ),
    "guidelines:version-submit": U(args=VERSION, get=ADMIN_PAGES, post=ADMIN_WRITES),
    "guidelines:version-approve": U(args=VERSION, get=ADMIN_PAGES, post=ADMIN_WRITES),
    "guidelines:version-return": U(args=VERSION, get=ADMIN_PAGES, post=ADMIN_WRITES),
    "guidelines:version-restore": U(args=VERSION, get=ADMIN_PAGES, post=ADMIN_WRITES),
    "guidelines:version-impact": U(args=VERSION, get=ADMIN_PAGES, post=ADMIN_WRITES),
    # --- planning: clinicians plan, guideline admins keep the catalogue and checklists -----
    "planning:plan-create": U(args={"case_pk": "case"}, get=CLINICIAN_FORMS, post=CLINICIAN_WRITES),
    "planning:plan-detail": U(args=PLAN, get=CENTRE_READERS),
    "planning:plan-edit": U(args=PLAN, get=CLINICIAN_FORMS, post=CLINICIAN_WRITES),
    "planning:plan-stents": U(args=PLAN, get=CLINICIAN_FORMS, post=CLINICIAN_WRITES),
    "planning:plan-stents-propose": U(args=PLAN, get=NOT_A_PAGE, post=CLINICIAN_WRITES),
    "planning:plan-sign": U(args=PLAN, get=CLINICIAN_FORMS, post=CLINICIAN_WRITES),
    "planning:plan-reopen": U(args={"pk": "signed_plan"}, get=NOT_A_PAGE, post=CLINICIAN_WRITES),
    "planning:plan-pdf": U(args=PLAN, get=CENTRE_READERS),
    "planning:plan-history": U(args=PLAN, get=CENTRE_READERS),
    "planning:item-add": U(args=PLAN, get=NOT_A_PAGE, post=CLINICIAN_WRITES),
    "planning:item-tick": U(args={"pk": "item"}, get=NOT_A_PAGE, post=CLINICIAN_WRITES),
    "planning:item-untick": U(args={"pk": "item"}, get=NOT_A_PAGE, post=CLINICIAN_WRITES),
    "planning:item-edit": U(args={"pk": "item"}, get=CLINICIAN_FORMS, post=CLINICIAN_WRITES),
    "planning:item-remove": U(args={"pk": "item"}, get=NOT_A_PAGE, post=CLINICIAN_WRITES),
    "planning:record-create": U(args=PLAN, get=CLINICIAN_FORMS, post=CLINICIAN_WRITES),
    "planning:record-detail": U(args={"pk": "record"}, get=CENTRE_READERS),
    "planning:record-edit": U(args={"pk": "record"}, get=CLINICIAN_FORMS, post=CLINICIAN_WRITES),
    "planning:record-complete": U(args={"pk": "record"}, get=NOT_A_PAGE, post=CLINICIAN_WRITES),
    "planning:catalogue": U(get=READERS),
    "planning:device-create": U(get=ADMIN_PAGES, post=ADMIN_WRITES),
    "planning:device-edit": U(args={"pk": "device"}, get=ADMIN_PAGES, post=ADMIN_WRITES),
    "planning:device-retire": U(args={"pk": "device"}, get=NOT_A_PAGE, post=ADMIN_WRITES),
    "planning:device-history": U(args={"pk": "device"}, get=READERS),
    "planning:templates": U(get=READERS),
    "planning:template-create": U(get=ADMIN_PAGES, post=ADMIN_WRITES),
    "planning:template-edit": U(args={"pk": "template"}, get=ADMIN_PAGES, post=ADMIN_WRITES),
    "planning:template-retire": U(args={"pk": "template"}, get=NOT_A_PAGE, post=ADMIN_WRITES),
    "planning:template-history": U(args={"pk": "template"}, get=READERS),
    # --- follow-up: nurses run the worklist, clinicians decide escalations -----------------
    # (a role without the permission is refused before the object is looked up: Bob's 403)
    "followup:worklist": U(get=(200, 200, 403, 200, LOGIN)),
    "followup:visit": U(args=VISIT, get=(200, 200, 403, 404, LOGIN)),
    "followup:contact-create": U(args=VISIT, get=NOT_A_PAGE, post=(403, DONE, 403, 403, LOGIN)),
    "followup:visit-reschedule": U(
        args=VISIT, get=(403, 200, 403, 403, LOGIN), post=(403, DONE, 403, 403, LOGIN)
    ),
    "followup:visit-close": U(
        args=VISIT, get=(403, 200, 403, 403, LOGIN), post=(403, DONE, 403, 403, LOGIN)
    ),
    "followup:visit-letter": U(args=VISIT, get=(200, 200, 403, 404, LOGIN)),
    "followup:visit-result": U(
        args=VISIT, get=(403, 200, 403, 403, LOGIN), post=(403, DONE, 403, 403, LOGIN)
    ),
    "followup:schedule": U(args={"pk": "schedule"}, get=(200, 200, 403, 404, LOGIN)),
    "followup:reintervention-create": U(
        args={"pk": "schedule"}, get=CLINICIAN_FORMS, post=CLINICIAN_WRITES
    ),
    "followup:case": U(args={"case_pk": "followed_case"}, get=(AWAY, AWAY, 403, 404, LOGIN)),
    "followup:escalations": U(get=(200, 200, 403, 200, LOGIN)),
    "followup:escalation": U(args={"pk": "escalation"}, get=(200, 200, 403, 404, LOGIN)),
    "followup:escalation-acknowledge": U(
        args={"pk": "escalation"}, get=NOT_A_PAGE, post=CLINICIAN_WRITES
    ),
    "followup:escalation-decide": U(
        args={"pk": "escalation"}, get=NOT_A_PAGE, post=CLINICIAN_WRITES
    ),
    "followup:notifications": U(get=READERS),
    "followup:notification-open": U(  # Nina's notification
        args={"pk": "notification"}, get=NOT_A_PAGE, post=(404, AWAY, 404, 404, LOGIN)
    ),
    "followup:notifications-read-all": U(get=NOT_A_PAGE, post=members(AWAY)),
    "followup:patency": U(get=(200, 403, 200, 200, LOGIN), post=(AWAY, 403, AWAY, AWAY, LOGIN)),
    "followup:patency-csv": U(get=(200, 403, 200, 200, LOGIN)),
    "followup:patency-report": U(args={"pk": "patency_report"}, get=(200, 403, 200, 404, LOGIN)),
    "followup:protocols": U(get=READERS),
    "followup:protocol": U(args={"pk": "protocol"}, get=READERS),
    "followup:protocol-revise": U(args={"pk": "protocol"}, get=ADMIN_PAGES, post=ADMIN_WRITES),
    # --- hospital interfaces: clinicians import, guideline admins register CDS clients -----
    "interop:import": U(get=(200, 403, 403, 200, LOGIN), post=(DONE, 403, 403, DONE, LOGIN)),
    "interop:draft": U(args={"pk": "case_draft"}, get=CLINICIAN_FORMS, post=CLINICIAN_WRITES),
    "interop:open": U(get=(AWAY, 404, 404, AWAY, LOGIN)),
    "interop:cds-clients": U(get=ADMIN_PAGES, post=ADMIN_WRITES),
    "interop:cds-client": U(args={"pk": "cds_client"}, get=ADMIN_PAGES, post=ADMIN_WRITES),
    # CDS Hooks: discovery is public; the services take the specification's signed JWT only,
    # so every persona's session is refused (tests/interop/test_cds_hooks.py signs calls).
    "cds-discovery": U(get=everyone(200)),
    "cds-service": U(
        fixed={"service_id": "venousapp-patient-view"}, get=everyone(405), post=everyone(401)
    ),
    "cds-feedback": U(
        fixed={"service_id": "venousapp-patient-view"}, get=everyone(405), post=everyone(401)
    ),
    # --- the API (JSON; anonymous clients refused) -------------------------------------------
    "api-schema": U(get=api(200)),
    "api-docs": U(get=api(200)),
    "api-patient-list": U(get=api(200), post=(DONE, 403, 403, DONE, REFUSED)),
    "api-patient-detail": U(
        args={"pk": "patient"},
        get=API_CENTRE_READERS,
        patch=API_CLINICIAN_WRITES,
        put=API_CLINICIAN_WRITES,
    ),
    "api-case-list": U(get=api(200), post=(DONE, 403, 403, DONE, REFUSED)),
    "api-case-detail": U(
        args=CASE, get=API_CENTRE_READERS, patch=API_CLINICIAN_WRITES, put=API_CLINICIAN_WRITES
    ),
    "api-case-recommendations": U(args=CASE, get=API_CENTRE_READERS),
    "api-case-decisions": U(args=CASE, get=API_CENTRE_READERS, post=API_CLINICIAN_WRITES),
    "api-case-decision": U(args={"pk": "case", "decision_pk": "decision"}, get=API_CENTRE_READERS),
    "api-evaluate": U(get=api(405), post=api(DONE)),
    "api-rules": U(get=api(200)),
    "api-rule": U(args={"rule_id": "rule_id"}, get=api(200)),
    "api-rules-export": U(get=API_ADMIN_READS),
    "api-rules-import": U(post=API_ADMIN_WRITES),
    "api-rule-versions": U(args={"rule_id": "rule_id"}, post=API_ADMIN_WRITES),
    "api-rule-version": U(args=VERSION, get=API_ADMIN_READS, patch=API_ADMIN_WRITES),
    "api-rule-version-test-cases": U(args=VERSION, post=API_ADMIN_WRITES),
    "api-rule-version-run-tests": U(args=VERSION, post=API_ADMIN_WRITES),
    "api-rule-version-submit": U(args=VERSION, post=API_ADMIN_WRITES),
    "api-rule-version-approve": U(args=VERSION, post=API_ADMIN_WRITES),
    "api-followup-worklist": U(get=(200, 200, 403, 200, REFUSED)),
    "api-followup-visit": U(args=VISIT, get=(200, 200, 403, 404, REFUSED)),
    "api-followup-visit-result": U(args=VISIT, post=(403, DONE, 403, 403, REFUSED)),
    "api-followup-visit-contacts": U(
        args=VISIT, get=(200, 200, 403, 404, REFUSED), post=(403, DONE, 403, 403, REFUSED)
    ),
    "api-followup-escalations": U(get=(200, 200, 403, 200, REFUSED)),
    "api-followup-escalation": U(args={"pk": "escalation"}, get=(200, 200, 403, 404, REFUSED)),
    "api-followup-escalation-acknowledge": U(args={"pk": "escalation"}, post=API_CLINICIAN_WRITES),
    "api-followup-escalation-decide": U(args={"pk": "escalation"}, post=API_CLINICIAN_WRITES),
    "api-device-list": U(get=api(200), post=API_ADMIN_WRITES),
    "api-device-detail": U(args={"pk": "device"}, get=api(200), patch=API_ADMIN_WRITES),
    "api-device-retire": U(args={"pk": "device"}, post=API_ADMIN_WRITES),
    "api-device-restore": U(args={"pk": "device"}, post=API_ADMIN_WRITES),
    "api-device-size-list": U(post=API_ADMIN_WRITES),
    "api-device-size-detail": U(args={"pk": "size"}, get=api(200), patch=API_ADMIN_WRITES),
    "api-device-size-retire": U(args={"pk": "size"}, post=API_ADMIN_WRITES),
    "api-plan-list": U(get=api(200), post=(DONE, 403, 403, DONE, REFUSED)),
    "api-plan-detail": U(args=PLAN, get=API_CENTRE_READERS, patch=API_CLINICIAN_WRITES),
    "api-plan-sign": U(args=PLAN, post=API_CLINICIAN_WRITES),
    "api-plan-reopen": U(args={"pk": "signed_plan"}, post=API_CLINICIAN_WRITES),
    "api-checklist-item-detail": U(args={"pk": "item"}, get=API_CENTRE_READERS),
    "api-checklist-item-tick": U(args={"pk": "item"}, post=API_CLINICIAN_WRITES),
    "api-checklist-item-untick": U(args={"pk": "item"}, post=API_CLINICIAN_WRITES),
    "api-record-list": U(get=api(200), post=(DONE, 403, 403, DONE, REFUSED)),
    "api-record-detail": U(
        args={"pk": "record"}, get=API_CENTRE_READERS, patch=API_CLINICIAN_WRITES
    ),
    "api-record-complete": U(args={"pk": "record"}, post=API_CLINICIAN_WRITES),
    "api-case-fhir": U(args=CASE, get=API_CENTRE_READERS),
    "api-fhir-import": U(post=(DONE, 403, 403, DONE, REFUSED)),
    "api-plandefinitions": U(get=api(200)),
    # --- the admin site: its own log-in, then staff only (the rest: ADMIN_SITE) -----------
    "admin:login": U(get=everyone(200)),
    "admin:logout": U(get=(AWAY, AWAY, AWAY, AWAY, STAFF_LOGIN)),
}

# Every other URL under admin/ (named or not) sends each persona to a log-in page.
ADMIN_SITE = "admin/"
STAFF_ONLY = (STAFF_LOGIN, STAFF_LOGIN, STAFF_LOGIN, STAFF_LOGIN, ANY_LOGIN)


# --- the resolver's URLs -------------------------------------------------------------------


def resolver_urls(
    resolver: URLResolver | None = None, route: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """(name or route, route) of every URL pattern, namespaces included; a pattern without a
    name is known by its route."""
    for pattern in (resolver or get_resolver()).url_patterns:
        here = route + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace or ""]))
            yield from resolver_urls(pattern, here, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name or here, here


def admin_url(route: str) -> str:
    """A URL the admin route matches: an app's label for an app, "1" for other arguments."""
    url = re.sub(r"\(\?P<app_label>[^)]*\)", "cases", route)
    url = re.sub(r"\(\?P<url>[^)]*\)", "nowhere/", url)
    url = re.sub(r"<(?:\w+:)?\w+>", "1", url).replace("([^/]+)", "1")
    return "/" + re.sub(r"\^|\$|\\Z", "", url)


ADMIN_ROUTES = {
    name: admin_url(route)
    for name, route in resolver_urls()
    if route.startswith(ADMIN_SITE) and name not in URLS
}


def test_every_url_is_in_the_matrix():
    names = {name for name, route in resolver_urls() if not route.startswith(ADMIN_SITE)}
    assert sorted(names - set(URLS)) == [], "URLs nobody checked: add them to URLS"
    admin = {"admin:login", "admin:logout"}
    assert sorted(set(URLS) - names - admin) == [], "URLS names URLs that do not exist"


# --- the walk ------------------------------------------------------------------------------


@pytest.fixture
def world(clinician, nurse, guideline_admin, other_centre_clinician) -> World:
    return World(clinician=clinician, nurse=nurse, guideline_admin=guideline_admin)


def request(client: Client, method: str, url: str, query: dict[str, str]) -> Any:
    """One request, undone afterwards (a savepoint rolled back)."""
    with transaction.atomic():
        if url.startswith("/api/") and method != "get":
            response = getattr(client, method)(url, {}, content_type="application/json")
        elif method == "get":
            response = client.get(url, query)
        else:
            response = getattr(client, method)(url)
        transaction.set_rollback(True)
    return response


def asked_to_log_in(response: Any, login_path: str) -> bool:
    if response.status_code != 302:
        return False
    location = urlsplit(response["Location"])
    asked = response.request["PATH_INFO"]
    return location.path == login_path and parse_qs(location.query).get("next") == [asked]


def meets(response: Any, expected: Any) -> bool:
    status = response.status_code
    if expected == LOGIN:
        return asked_to_log_in(response, "/accounts/login/")
    if expected == STAFF_LOGIN:
        return asked_to_log_in(response, "/admin/login/")
    if expected == ANY_LOGIN:
        return meets(response, LOGIN) or meets(response, STAFF_LOGIN)
    if expected == AWAY:
        return status == 302 and not asked_to_log_in(response, "/accounts/login/")
    if expected == DONE:
        taken = status in (200, 201, 204, 302, 400)
        return taken and not asked_to_log_in(response, "/accounts/login/")
    if expected == REFUSED:
        return status in (401, 403) and response["Content-Type"] == "application/json"
    if expected == PROBE:
        return status in (200, 503) and response["Content-Type"] == "application/json"
    return status == expected


def content(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def walk(
    client_for: Any,
    url: str,
    methods: Iterator[tuple[str, Expected]],
    query: dict[str, str] | None = None,
) -> None:
    patients = Patient.objects.filter(centre__code="centre-a").values_list("identifier", flat=True)
    centre_a = [identifier.encode() for identifier in patients]
    wrong = []
    for method, expected in methods:
        for persona, answer in zip(PERSONAS, expected, strict=True):
            response = request(client_for(persona), method, url, query or {})
            body = content(response)
            assert response.status_code < 500, (method, url, persona, body[:2000])
            if not meets(response, answer):
                wrong.append(f"{method.upper()} {url} as {persona}: {response.status_code}")
            if persona == "other_centre_clinician":
                leaked = [p for p in centre_a if p in body]
                assert not leaked, f"{method.upper()} {url} shows Bob centre A's {leaked}"
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", list(URLS))
def test_url_answers_each_persona(client_for, world, case_a, name):
    """``case_a`` is in every list centre A's users see, and must be in none of Bob's."""
    spec = URLS[name]
    url = reverse(name, kwargs={**spec.fixed, **world.ids(**spec.args)})
    walk(client_for, url, spec.methods(), query=spec.query)


def test_admin_site_is_for_staff_only(client_for, case_a):
    wrong = []
    for url in ADMIN_ROUTES.values():
        try:
            walk(client_for, url, iter([("get", STAFF_ONLY)]))
        except AssertionError as failure:
            wrong.append(str(failure))
    assert not wrong, "\n".join(wrong)
