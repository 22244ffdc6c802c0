"""Evaluation endpoints: the evaluation contract (docs/evaluation.md#evaluation-contract) for
posted facts and for stored cases."""

from typing import Any

from django.conf import settings
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import selectors as case_selectors
from cases.facts import case_facts
from cases.models import Case
from guidelines import vocabulary as V
from guidelines.engine import WARNING_REASONS, evaluate, evaluate_with_warnings
from guidelines.ruleset import current_ruleset
from venousapp.accounts.requests import AuthenticatedRequest
from venousapp.permissions import model_perms

_EXAMPLE = {
    "lesion_entity": "chronic_post_thrombotic",
    "side": "left",
    "segments_involved": ["CIV", "EIV"],
    "obstruction": {"type": "occlusion"},
    "ceap": "C6,s Esi Ad Po",
    "ulcer": "active",
    "qol_impairment": "moderate",
    "inflow": "good",
}


class FactWarningSerializer(serializers.Serializer):
    """A value of the posted document that the evaluation ignored (read as not recorded)."""

    field = serializers.CharField(
        help_text="Where it is: a facts field, or a path such as bleeding_risk.factors[1]."
    )
    value = serializers.JSONField(help_text="The value as posted.")
    reason = serializers.ChoiceField(
        choices=WARNING_REASONS,
        help_text="unknown_field: not a facts field; unknown_code: outside the field's codes; "
        "wrong_type: a JSON type the field never takes; out_of_range: a number outside the "
        "field's range; unreadable: not a number, or a CEAP text the parser rejects.",
    )
    message = serializers.CharField()


class EvaluationSerializer(serializers.Serializer):
    """The evaluation contract of one facts document, with the warnings about it."""

    overall = serializers.ChoiceField(choices=V.OVERALL_STATUSES)
    cdt_contraindication = serializers.CharField(allow_null=True)
    rules = serializers.DictField(
        child=serializers.DictField(), help_text="Every scored rule: value and criteria."
    )
    derived = serializers.DictField()
    planning = serializers.DictField(allow_null=True)
    follow_up_entity = serializers.CharField(allow_null=True)
    missing = serializers.ListField(child=serializers.CharField())
    warnings = FactWarningSerializer(
        many=True, help_text="Values of the document that were ignored; empty for a clean one."
    )


class EvaluateView(APIView):
    """Evaluate one facts document or a list of them against the published rules."""

    required_perms = {"POST": ("guidelines.view_rule",)}  # every role reads the rules

    @extend_schema(
        request={
            "application/json": {
                "oneOf": [
                    {"type": "object", "additionalProperties": True},
                    {
                        "type": "array",
                        "items": {"type": "object", "additionalProperties": True},
                        "maxItems": settings.EVALUATE_MAX_DOCUMENTS,
                    },
                ],
                "description": "One facts document, or a list of them.",
            }
        },
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="EvaluationOrList",
                    serializers=[EvaluationSerializer, EvaluationSerializer(many=True)],
                    resource_type_field_name=None,
                    many=False,
                ),
                description="The evaluation contract with its warnings (or a list of them for "
                "a list of documents).",
            ),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Malformed JSON, a body that is neither an object nor a list of "
                "objects, a list of more documents than allowed (at most "
                f"{settings.EVALUATE_MAX_DOCUMENTS} documents per request) or arrays and objects "
                f"nested more than {settings.API_JSON_MAX_DEPTH} levels; `detail` says which.",
            ),
            403: OpenApiResponse(description="Not logged in, or an account without a role."),
        },
        examples=[
            OpenApiExample("Chronic PTO with active ulcer", value=_EXAMPLE, request_only=True)
        ],
        operation_id="evaluate",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        body: Any = request.data
        ruleset = current_ruleset()
        if isinstance(body, dict):
            return Response(evaluate_with_warnings(body, ruleset))
        if isinstance(body, list):
            limit = settings.EVALUATE_MAX_DOCUMENTS
            if len(body) > limit:
                return Response(
                    {
                        "detail": f"Send at most {limit} documents per request; "
                        f"this request has {len(body)}."
                    },
                    status=400,
                )
            bad = [i for i, doc in enumerate(body) if not isinstance(doc, dict)]
            if bad:
                return Response({"detail": f"Item {bad[0]} is not a facts object."}, status=400)
            return Response([evaluate_with_warnings(doc, ruleset) for doc in body])
        return Response({"detail": "Send a facts object or a list of facts objects."}, status=400)


class CaseRecommendationsView(APIView):
    """The evaluation of a stored case (the contract /evaluate answers, without warnings: a
    stored case holds checked values only)."""

    required_perms = model_perms(Case)
    queryset = Case.objects.none()

    @extend_schema(
        responses={
            200: OpenApiTypes.OBJECT,
            403: OpenApiResponse(description="Your role may not read cases."),
            404: OpenApiResponse(description="Not found in your centre."),
        },
        operation_id="case_recommendations",
    )
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        try:
            case = case_selectors.case_get(user=request.user, pk=pk)
        except Case.DoesNotExist:
            raise Http404 from None
        return Response(evaluate(case_facts(case), current_ruleset()))
