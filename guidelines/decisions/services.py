"""Writes of decisions: signing the current recommendations of a case (what is frozen:
``guidelines.decisions.snapshot``), and the outcome of a card shown through CDS Hooks, kept in
the same card-feedback records."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.facts import case_facts
from cases.models import Case
from guidelines.decisions.snapshot import (
    _frozen,
    card_rule_ids,
    evaluation_fingerprint,
    rule_versions_snapshot,
)
from guidelines.engine import evaluate
from guidelines.models import CardFeedback, Decision, FeedbackAction, OverrideReason
from guidelines.ruleset import current_rule_versions, current_ruleset
from venousapp.accounts.models import User

STALE = "stale"  # ValidationError code: the case or the rules changed after the page loaded


def _feedback_errors(
    cards: list[str], feedback: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for rule_id in cards:
        row = feedback.get(rule_id) or {}
        action = row.get("action") or ""
        if action not in FeedbackAction.values:
            errors[rule_id] = [_("Choose accept or override for this recommendation.")]
        elif action == FeedbackAction.OVERRIDDEN and not row.get("reason"):
            errors[rule_id] = [_("An override needs a reason.")]
        elif row.get("reason") and row["reason"] not in OverrideReason.values:
            errors[rule_id] = [_("Choose a reason from the list.")]
    unknown = sorted(set(feedback) - set(cards))
    if unknown:
        errors["__all__"] = [
            _("%(rules)s is not among the current recommendations of this case.")
            % {"rules": ", ".join(unknown)}
        ]
    return errors


@transaction.atomic
def decision_sign(
    *,
    case: Case,
    signed_by: User,
    feedback: Mapping[str, Mapping[str, Any]],
    comment: str = "",
    fingerprint: str | None = None,
    now: dt.datetime | None = None,
) -> Decision:
    """Sign the current recommendations of ``case``.

    ``feedback`` maps every card's rule id to ``{"action": "accepted" | "overridden",
    "reason": OverrideReason, "comment": str}``; an override needs a reason. The case is
    evaluated here, with the current rule set, so what is stored is what the rules say now;
    when ``fingerprint`` (from :func:`evaluation_fingerprint` at page load) no longer matches,
    the case or the rules changed meanwhile and nothing is signed (ValidationError, code
    "stale"). Raises PermissionDenied for a user who may not sign for this case.
    """
    if not signed_by.has_perm("guidelines.add_decision") or not signed_by.has_perm(
        "guidelines.add_cardfeedback"
    ):
        raise PermissionDenied
    if case.patient.centre_id != signed_by.centre_id:
        raise PermissionDenied
    ruleset = current_ruleset()
    numbers = current_rule_versions()
    facts = _frozen(case_facts(case))
    if fingerprint is not None and fingerprint != evaluation_fingerprint(
        facts=facts, ruleset_version=ruleset.version
    ):
        raise ValidationError(
            {
                "evaluation": [
                    ValidationError(
                        _(
                            "The case or the rules changed after this page was loaded. The "
                            "recommendations are shown again as they are now; review them and sign "
                            "again."
                        ),
                        code=STALE,
                    )
                ]
            }
        )
    result = _frozen(evaluate(facts, ruleset))
    cards = card_rule_ids(result)
    errors = _feedback_errors(cards, feedback)
    if errors:
        raise ValidationError(errors)
    decision = Decision(
        case=case,
        signed_by=signed_by,
        signed_at=now or timezone.now(),
        facts=facts,
        ruleset_version=str(ruleset.version),
        rule_versions=rule_versions_snapshot(ruleset=ruleset, result=result, numbers=numbers),
        result=result,
        comment=comment.strip(),
    )
    decision.full_clean()
    decision.save()
    for rule_id in cards:
        row = feedback[rule_id]
        overridden = row["action"] == FeedbackAction.OVERRIDDEN
        item = CardFeedback(
            decision=decision,
            rule_id=rule_id,
            value=result["rules"][rule_id]["value"],
            action=row["action"],
            reason=(row.get("reason") or "") if overridden else "",
            comment=(row.get("comment") or "").strip(),
        )
        item.full_clean()
        item.save()  # one by one: each row gets its history record
    return decision


@transaction.atomic
def hook_card_feedback_record(
    *,
    card: uuid.UUID,
    rule_id: str,
    value: str,
    action: str,
    reason: str = "",
    comment: str = "",
    outcome_at: dt.datetime | None = None,
) -> CardFeedback:
    """The outcome of a card shown through CDS Hooks (accepted, or overridden with one of the
    coded reasons), in the same records as a signed decision's feedback. Feedback sent again
    for the same card replaces the earlier outcome."""
    item = CardFeedback.objects.filter(hook_card=card).first() or CardFeedback(hook_card=card)
    item.rule_id, item.value, item.action = rule_id, value, action
    item.reason = reason if action == FeedbackAction.OVERRIDDEN else ""
    item.comment = comment.strip()
    item.outcome_at = outcome_at
    item.full_clean()
    item.save()
    return item
