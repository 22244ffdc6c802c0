"""The CDS Hooks routes (their own specification, outside the OpenAPI schema; README:
"Hospital interfaces"). Callers authenticate with the specification's signed JWT only; errors
are JSON ``{"detail": ...}`` as everywhere in the API."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from guidelines.decisions.services import hook_card_feedback_record
from guidelines.models import FeedbackAction, OverrideReason
from interop.cds_hooks import (
    HOOK,
    SERVICE_ID,
    BadRequest,
    PrefetchUnusable,
    cards_answered,
    discovery,
    service_call,
)
from interop.jwt_auth import NotAuthenticated, Stale, Verified, claim, verify
from venousapp.parsers import nul_problem
from venousapp.renderers import JsonResponse

logger = logging.getLogger(__name__)
MAX_BODY = 10 * 1024 * 1024


def _error(status: int, detail: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="cds-services"'
    return response


def _body(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_BODY:
        raise BadRequest("The request body is larger than 10 MiB.")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        raise BadRequest("The body is not JSON (or nests too deeply).") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    problem = nul_problem(raw, body)
    if problem is not None:
        raise BadRequest(problem)
    return body


def _current(
    request: HttpRequest, answer: Callable[[Verified, bytes], JsonResponse]
) -> JsonResponse:
    """``answer`` for the verified caller of ``request`` and its body (read after the token
    is verified); if the caller's registration changed meanwhile (``Stale``: nothing was
    recorded), once more with the registration as it is now."""
    verified = verify(request)
    raw = request.read(MAX_BODY + 1)
    try:
        return answer(verified, raw)
    except Stale:
        return answer(verify(request), raw)


@login_not_required
@require_GET
def cds_discovery(request: HttpRequest) -> JsonResponse:
    return JsonResponse(discovery())


@login_not_required
@csrf_exempt
@require_POST
def cds_service(request: HttpRequest, service_id: str) -> JsonResponse:
    if service_id != SERVICE_ID:
        return _error(404, "No such CDS service.")
    try:
        return _current(request, _service_answer)
    except NotAuthenticated as exc:
        return _error(401, str(exc))
    except BadRequest as exc:
        return _error(400, str(exc))
    except PrefetchUnusable as exc:
        return _error(412, str(exc))


def _service_answer(verified: Verified, raw: bytes) -> JsonResponse:
    hook = hook_instance = ""
    try:
        body = _body(raw)
        hook = str(body.get("hook") or "")
        hook_instance = str(body.get("hookInstance") or "")
        if hook != HOOK or not hook_instance:
            raise BadRequest(f"This service answers the {HOOK} hook with a hookInstance.")
        answer = service_call(body=body, client=verified.client)
    except (BadRequest, PrefetchUnusable):
        # A refused call spends its token too.
        claim(verified, hook=hook, hook_instance=hook_instance)
        raise
    claim(
        verified,
        hook=hook,
        hook_instance=hook_instance,
        cards=answer.issued,
        card_prefix=answer.card_prefix,
    )
    return JsonResponse({"cards": answer.cards})


def _feedback_item(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise BadRequest("Each feedback item must be an object.")
    outcome = item.get("outcome")
    if outcome not in (FeedbackAction.ACCEPTED, FeedbackAction.OVERRIDDEN):
        raise BadRequest('outcome must be "accepted" or "overridden".')
    try:
        card = uuid.UUID(str(item.get("card")))
    except ValueError:
        raise BadRequest("card must be the uuid of a card this service answered.") from None
    override = item.get("overrideReason") or {}
    reason = ((override.get("reason") or {}) if isinstance(override, dict) else {}).get("code")
    if outcome == FeedbackAction.OVERRIDDEN and reason not in OverrideReason.values:
        reason = OverrideReason.OTHER
    when = item.get("outcomeTimestamp")
    outcome_at = parse_datetime(when) if isinstance(when, str) else None
    if outcome_at is not None and outcome_at.tzinfo is None:
        outcome_at = outcome_at.replace(tzinfo=dt.UTC)
    return {
        "card": card,
        "action": outcome,
        "reason": reason or "",
        "comment": str(override.get("userComment") or "") if isinstance(override, dict) else "",
        "outcome_at": outcome_at,
    }


@login_not_required
@csrf_exempt
@require_POST
def cds_feedback(request: HttpRequest, service_id: str) -> JsonResponse:
    if service_id != SERVICE_ID:
        return _error(404, "No such CDS service.")
    try:
        return _current(request, _feedback_answer)
    except NotAuthenticated as exc:
        return _error(401, str(exc))
    except (BadRequest, ValidationError) as exc:
        return _error(400, str(exc))


def _feedback_answer(verified: Verified, raw: bytes) -> JsonResponse:
    body = _body(raw)
    caller = claim(verified, hook="feedback", hook_instance="")
    items = body.get("feedback")
    if not isinstance(items, list) or not items:
        raise BadRequest("feedback must be a list of card outcomes.")
    outcomes = [_feedback_item(item) for item in items]
    answered = cards_answered(caller.client, [outcome["card"] for outcome in outcomes])
    for outcome in outcomes:
        issued = answered.get(str(outcome["card"]))
        if issued is None:
            raise BadRequest(f"Card {outcome['card']} was not answered to this client.")
        hook_card_feedback_record(
            card=outcome["card"],
            rule_id=issued["rule_id"],
            value=issued["value"],
            action=outcome["action"],
            reason=outcome["reason"],
            comment=outcome["comment"],
            outcome_at=outcome["outcome_at"],
        )
    return JsonResponse({})
