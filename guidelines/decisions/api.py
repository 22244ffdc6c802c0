"""Signed decisions of a case over the API: list, one decision (with how today's evaluation
differs), and signing. Same rules as the pages: readers need ``view_decision``, signing needs
``add_decision`` (clinicians), another centre's case is 404."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import selectors as case_selectors
from cases.facts import case_facts
from cases.models import Case
from guidelines.decisions import selectors, services
from guidelines.models import Decision, FeedbackAction, OverrideReason
from venousapp.accounts.requests import AuthenticatedRequest
from venousapp.api import JSONTypesMixin, api_errors
from venousapp.permissions import model_perms

# A decision names rules, not fields (venousapp.api.api_errors).
_WORDING = {"bad_request": "Invalid input: the body names each rule id in error."}


def _case(request: AuthenticatedRequest, pk: int) -> Case:
    try:
        return case_selectors.case_get(user=request.user, pk=pk)
    except Case.DoesNotExist:
        raise Http404 from None


class FeedbackSerializer(JSONTypesMixin, serializers.Serializer):
    rule_id = serializers.CharField(max_length=64)
    value = serializers.CharField(read_only=True)
    action = serializers.ChoiceField(choices=FeedbackAction.choices)
    reason = serializers.ChoiceField(
        choices=OverrideReason.choices, required=False, allow_blank=True, default=""
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class DecisionSignInputSerializer(JSONTypesMixin, serializers.Serializer):
    feedback = FeedbackSerializer(
        many=True,
        help_text="One row per applicable recommendation "
        "(every scored rule whose value is not not_applicable).",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)

    def validate_feedback(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen = set()
        for row in rows:
            if row["rule_id"] in seen:
                raise serializers.ValidationError(f"{row['rule_id']} is given twice.")
            seen.add(row["rule_id"])
        return rows


class DecisionListOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    signed_by = serializers.CharField(source="signed_by.username")
    signed_at = serializers.DateTimeField()
    overall = serializers.CharField()
    ruleset_version = serializers.CharField()
    cards = serializers.IntegerField(help_text="Number of recommendation cards signed.")
    overridden = serializers.IntegerField()


class ChangeSerializer(serializers.Serializer):
    then = serializers.JSONField(allow_null=True)
    now = serializers.JSONField(allow_null=True)


class RuleChangeSerializer(ChangeSerializer):
    rule_id = serializers.CharField()


class FactChangeSerializer(ChangeSerializer):
    field = serializers.CharField()


class TodaySerializer(serializers.Serializer):
    differs = serializers.BooleanField()
    overall = serializers.CharField(source="overall_now")
    ruleset_version = serializers.CharField(source="ruleset_now")
    rule_changes = RuleChangeSerializer(many=True)
    facts_changed = serializers.BooleanField()
    fact_changes = FactChangeSerializer(many=True)


class DecisionDetailOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    signed_by = serializers.CharField(source="signed_by.username")
    signed_at = serializers.DateTimeField()
    comment = serializers.CharField()
    ruleset_version = serializers.CharField()
    rule_versions = serializers.SerializerMethodField(
        help_text="The version of every scored rule when signed."
    )
    facts = serializers.JSONField(help_text="The facts document as signed.")
    result = serializers.JSONField(
        help_text="The evaluation as signed (docs/evaluation.md#evaluation-contract)."
    )
    feedback = FeedbackSerializer(many=True, source="feedback.all")
    today = serializers.SerializerMethodField()

    @extend_schema_field({"type": "object", "additionalProperties": {}})
    def get_rule_versions(self, decision: Decision) -> dict[str, Any]:
        return {
            rule_id: entry.get("version") if isinstance(entry, dict) else entry
            for rule_id, entry in decision.rule_versions.items()
        }

    @extend_schema_field(TodaySerializer)
    def get_today(self, decision: Decision) -> dict[str, Any]:
        return TodaySerializer(self.context["today"]).data


def _detail(
    request: AuthenticatedRequest, case: Case, pk: int, code: int = status.HTTP_200_OK
) -> Response:
    try:
        decision = selectors.decision_get(case=case, pk=pk)
    except Decision.DoesNotExist:
        raise Http404 from None
    today = selectors.decision_comparison(decision=decision, facts=case_facts(case))
    return Response(
        DecisionDetailOutputSerializer(decision, context={"today": today}).data, status=code
    )


_SIGN_EXAMPLE = {
    "feedback": [
        {"rule_id": "SVSAVF-2014-VLU-6.8", "action": "accepted"},
        {
            "rule_id": "SIR-2023-CIVO-05",
            "action": "overridden",
            "reason": "anatomy",
            "comment": "Inflow judged adequate on venography.",
        },
    ],
    "comment": "Discussed at the venous board.",
}


class CaseDecisionsView(APIView):
    """The signed decisions of a case (newest first), and signing a new one."""

    required_perms = model_perms(Decision)
    queryset = Decision.objects.none()

    @extend_schema(
        responses={
            200: DecisionListOutputSerializer(many=True),
            **api_errors(403, 404, **_WORDING),
        },
        operation_id="case_decisions_list",
    )
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        case = _case(request, pk)
        rows = selectors.decision_list(case=case)
        return Response(DecisionListOutputSerializer(rows, many=True).data)

    @extend_schema(
        request=DecisionSignInputSerializer,
        responses={
            201: DecisionDetailOutputSerializer,
            **api_errors(400, 403, 404, **_WORDING),
        },
        examples=[
            OpenApiExample(
                "Accept one card, override another", value=_SIGN_EXAMPLE, request_only=True
            )
        ],
        operation_id="case_decisions_sign",
        description="Evaluates the case now with the current rule set and signs it with one "
        "feedback row per applicable recommendation; an override needs a reason. A 400 names "
        "each rule id in error.",
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        case = _case(request, pk)
        data = DecisionSignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = {row["rule_id"]: row for row in data.validated_data["feedback"]}
        try:
            decision = services.decision_sign(
                case=case,
                signed_by=request.user,
                feedback=feedback,
                comment=data.validated_data["comment"],
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"feedback": exc.message_dict}) from None
        return _detail(request, case, decision.pk, status.HTTP_201_CREATED)


class CaseDecisionDetailView(APIView):
    """One signed decision as it was, and how today's evaluation of the case differs."""

    required_perms = model_perms(Decision)
    queryset = Decision.objects.none()

    @extend_schema(
        responses={
            200: DecisionDetailOutputSerializer,
            **api_errors(403, 404, **_WORDING),
        },
        operation_id="case_decisions_retrieve",
    )
    def get(self, request: AuthenticatedRequest, pk: int, decision_pk: int) -> Response:
        return _detail(request, _case(request, pk), decision_pk)
