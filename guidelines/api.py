"""Evaluation endpoints: the §2.6 contract for posted facts and for stored cases."""

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import selectors as case_selectors
from cases.api import RolePermission
from cases.facts import case_facts
from cases.models import Case
from guidelines.engine import evaluate
from guidelines.ruleset import current_ruleset

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


class CanReadRules(permissions.BasePermission):
    """Every role reads the published rules (``guidelines.view_rule``); an account without a
    role gets 403."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("guidelines.view_rule"))


class EvaluateView(APIView):
    """Evaluate one facts document or a list of them against the published rules."""

    permission_classes = [CanReadRules]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The evaluation contract (or a list of them for a list of documents).",
            ),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Malformed JSON or a body "
                "that is neither an object nor a list of objects.",
            ),
            403: OpenApiResponse(description="Not logged in, or an account without a role."),
        },
        examples=[
            OpenApiExample("Chronic PTO with active ulcer", value=_EXAMPLE, request_only=True)
        ],
        operation_id="evaluate",
    )
    def post(self, request: Request) -> Response:
        body: Any = request.data
        ruleset = current_ruleset()
        if isinstance(body, dict):
            return Response(evaluate(body, ruleset))
        if isinstance(body, list):
            bad = [i for i, doc in enumerate(body) if not isinstance(doc, dict)]
            if bad:
                return Response({"detail": f"Item {bad[0]} is not a facts object."}, status=400)
            return Response([evaluate(doc, ruleset) for doc in body])
        return Response({"detail": "Send a facts object or a list of facts objects."}, status=400)


class CaseRecommendationsView(APIView):
    """The evaluation of a stored case (same shape as /evaluate)."""

    permission_classes = [RolePermission]
    queryset = Case.objects.none()

    @extend_schema(
        responses={
            200: OpenApiTypes.OBJECT,
            403: OpenApiResponse(description="Your role may not read cases."),
            404: OpenApiResponse(description="Not found in your centre."),
        },
        operation_id="case_recommendations",
    )
    def get(self, request: Request, pk: int) -> Response:
        try:
            case = case_selectors.case_get(user=request.user, pk=pk)  # type: ignore[arg-type]
        except Case.DoesNotExist:
            raise Http404 from None
        return Response(evaluate(case_facts(case), current_ruleset()))
