"""REST API of the follow-up app: the worklist, visits (retrieve, record the result), contact
attempts and escalations (acknowledge, decide). Same roles and centre scoping as the pages;
thin views over ``followup.services``/``selectors`` with nested Input/Output serializers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.http import Http404
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from followup import selectors, surveillance
from followup.models import (
    RESULT_SEGMENT_FIELDS,
    ContactAttempt,
    ContactMethod,
    ContactOutcome,
    Decision,
    Escalation,
    ResultSegment,
    Visit,
    VisitKind,
    VisitResult,
    VisitState,
)
from followup.services.clock import centre_today
from followup.services.escalations import escalation_acknowledge, escalation_decide
from followup.services.results import RESULT_FIELDS, visit_result_record
from followup.services.visits import contact_attempt_log
from planning.models import FollowUpEntity
from venousapp import dates
from venousapp.accounts.requests import AuthenticatedRequest
from venousapp.api import JSONTypesMixin, api_errors, query_flag


def _visit(request: AuthenticatedRequest, pk: int) -> Visit:
    try:
        return selectors.visit_get(user=request.user, pk=pk)
    except Visit.DoesNotExist:
        raise Http404 from None


def _escalation(request: AuthenticatedRequest, pk: int) -> Escalation:
    try:
        return selectors.escalation_get(user=request.user, pk=pk)
    except Escalation.DoesNotExist:
        raise Http404 from None


# --- serializers ------------------------------------------------------------------------------


class Choice(serializers.ChoiceField):
    """A choice field documented with an inline enum (``InlineEnum``)."""


def _blank_allowed(field: Choice) -> bool:
    """Whether the field takes or answers "": DRF drops ``allow_blank`` from a read-only
    field, whose model field may still hold a blank."""
    if field.allow_blank:
        return True
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    try:
        return bool(model and model._meta.get_field(field.source).blank)
    except FieldDoesNotExist:
        return False


class InlineEnum(OpenApiSerializerFieldExtension):
    """Keeps the follow-up codes inline instead of named enum components.

    drf-spectacular names enum components after the field ("side", "segment", "entity") and
    warns when two apps use one name for different code sets (or one code set under two
    names), which ``spectacular --fail-on-warn`` rejects. An enum wrapped in ``allOf`` is
    left where it is, so these fields document their codes without joining that namespace.
    """

    target_class = Choice

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = self.target
        values: list[Any] = list(field.choices)
        if _blank_allowed(field) and "" not in values:
            values.append("")
        schema: dict[str, Any] = {"type": "string", "allOf": [{"enum": values}]}
        if field.allow_null:
            schema["nullable"] = True
        return schema


class ModelSerializer(JSONTypesMixin, serializers.ModelSerializer):
    serializer_choice_field = Choice


class ContactOutput(ModelSerializer):
    by = serializers.CharField(source="by.username", read_only=True)

    class Meta:
        model = ContactAttempt
        fields = ["id", "method", "outcome", "note", "attempted_at", "by"]


class LastContactOutput(serializers.Serializer):
    method = Choice(choices=ContactMethod.choices)
    outcome = Choice(choices=ContactOutcome.choices)
    attempted_at = serializers.DateTimeField()


class VisitOutput(ModelSerializer):
    status = serializers.SerializerMethodField()
    patient_identifier = serializers.CharField(source="schedule.case.patient.identifier")
    case = serializers.IntegerField(source="schedule.case_id")
    procedure = serializers.IntegerField(source="schedule.procedure_id")
    procedure_date = serializers.DateField(source="schedule.start_on")
    entity = Choice(source="schedule.entity", choices=FollowUpEntity.choices)
    last_contact = LastContactOutput(allow_null=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "schedule",
            "case",
            "procedure",
            "procedure_date",
            "entity",
            "patient_identifier",
            "sequence",
            "label",
            "kind",
            "with_clinical",
            "target_on",
            "earliest_on",
            "latest_on",
            "notice_on",
            "state",
            "status",
            "last_contact",
        ]

    @extend_schema_field(
        Choice(
            choices=[
                *surveillance.OPEN_STATUSES,
                surveillance.UPCOMING,
                surveillance.DONE,
                surveillance.CANCELLED,
            ]
        )
    )
    def get_status(self, visit: Visit) -> str:
        if hasattr(visit, "status"):
            return str(visit.status)
        return surveillance.visit_status(
            today=centre_today(visit.centre),
            notice_on=visit.notice_on,
            earliest_on=visit.earliest_on,
            target_on=visit.target_on,
            latest_on=visit.latest_on,
            state=visit.state,
        )


class SegmentIO(ModelSerializer):
    class Meta:
        model = ResultSegment
        fields = list(RESULT_SEGMENT_FIELDS)


def _score_fields() -> dict[str, serializers.Field]:
    return {
        name: serializers.IntegerField(min_value=0, max_value=3, required=False, allow_null=True)
        for name in RESULT_FIELDS
        if name.startswith(("vcss_", "villalta_"))
    }


class ResultInput(dates.DateLimitsSerializerMixin, ModelSerializer):
    date_limits = {"performed_on": dates.past_dates}
    segments = SegmentIO(many=True, required=False)

    class Meta:
        model = VisitResult
        fields = [
            "performed_on",
            *[n for n in RESULT_FIELDS if n != "performed_on"],
            "segments",
        ]
        extra_kwargs = {"performed_on": {"required": True}}

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields.update(_score_fields())
        return fields


class ResultOutput(ResultInput):
    vcss_total = serializers.IntegerField(read_only=True, allow_null=True)
    villalta_total = serializers.IntegerField(read_only=True, allow_null=True)
    escalations: serializers.Field = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(ResultInput.Meta):
        fields = [
            "id",
            "visit",
            *ResultInput.Meta.fields,
            "abnormal_reasons",
            "vcss_total",
            "villalta_total",
            "recorded_at",
            "escalations",
        ]
        read_only_fields = fields


class VisitDetailOutput(VisitOutput):
    contacts = ContactOutput(many=True, read_only=True)
    result = serializers.SerializerMethodField()

    class Meta(VisitOutput.Meta):
        fields = [*VisitOutput.Meta.fields, "contacts", "result"]

    @extend_schema_field(ResultOutput(allow_null=True))
    def get_result(self, visit: Visit) -> dict[str, Any] | None:
        if visit.state != VisitState.DONE:
            return None
        result = VisitResult.objects.filter(visit=visit).first()
        return ResultOutput(result).data if result else None


class ContactInput(JSONTypesMixin, dates.DateLimitsSerializerMixin, serializers.Serializer):
    date_limits = {"attempted_at": dates.past_dates}
    method = Choice(choices=ContactMethod.choices)
    outcome = Choice(choices=ContactOutcome.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    attempted_at = dates.DateTimeField(required=False)


class EscalationOutput(ModelSerializer):
    clinician = serializers.CharField(source="clinician.username")
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", allow_null=True)
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True)
    patient_identifier = serializers.CharField(source="case.patient.identifier")
    reasons = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Escalation
        fields = [
            "id",
            "visit",
            "result",
            "case",
            "patient_identifier",
            "clinician",
            "reasons",
            "summary",
            "created_at",
            "acknowledged_at",
            "acknowledged_by",
            "decision",
            "decision_note",
            "decided_at",
            "decided_by",
            "reimage_visit",
        ]


class DecisionInput(JSONTypesMixin, dates.DateLimitsSerializerMixin, serializers.Serializer):
    date_limits = {"reimage_on": dates.future_dates}
    decision = Choice(choices=Decision.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    reimage_kind = Choice(
        choices=[VisitKind.DUPLEX, VisitKind.CT_VENOGRAPHY],
        required=False,
        allow_blank=True,
        default="",
    )
    reimage_on = serializers.DateField(required=False, allow_null=True, default=None)


class WorklistQuery(serializers.Serializer):
    status = Choice(
        choices=surveillance.OPEN_STATUSES, required=False, allow_blank=True, default=""
    )
    entity = Choice(choices=FollowUpEntity.choices, required=False, allow_blank=True, default="")
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)


# --- views ------------------------------------------------------------------------------------


@extend_schema(
    summary="The nurse's worklist",
    description="Open visits of your centre that are due soon, due, overdue or missed on the "
    "centre's local date, oldest target first.",
    parameters=[
        OpenApiParameter("status", OpenApiTypes.STR, enum=list(surveillance.OPEN_STATUSES)),
        OpenApiParameter("entity", OpenApiTypes.STR, enum=list(FollowUpEntity.values)),
        OpenApiParameter("date_from", OpenApiTypes.DATE, description="Target date from"),
        OpenApiParameter("date_to", OpenApiTypes.DATE, description="Target date to"),
    ],
    responses={200: VisitOutput(many=True), **api_errors(400, 403)},
)
class WorklistView(GenericAPIView):
    required_perms = {"GET": ["followup.view_visit"]}
    serializer_class = VisitOutput
    queryset = Visit.objects.none()
    filter_backends: list[Any] = []

    def get(self, request: AuthenticatedRequest) -> Response:
        query = WorklistQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        user = request.user
        today = centre_today(user.centre)
        ids = selectors.worklist_ids(centre_id=user.centre_id, today=today, **query.validated_data)
        page = selectors.worklist_rows(list(self.paginate_queryset(ids) or []), today)
        return self.get_paginated_response(VisitOutput(page, many=True).data)


class VisitDetailView(APIView):
    required_perms = {"GET": ["followup.view_visit"]}

    @extend_schema(
        summary="One visit with its contact attempts and result",
        responses={200: VisitDetailOutput, **api_errors(403, 404)},
    )
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        visit = _visit(request, pk)
        return Response(VisitDetailOutput(visit).data)


class VisitResultView(APIView):
    """Record (POST, first time) or correct the result of a visit."""

    required_perms = {
        "POST": ["followup.view_visit", "followup.add_visitresult", "followup.change_visitresult"]
    }

    @extend_schema(
        summary="Record the visit result",
        description="Per stented segment and clinical; abnormal findings (ISR ≥ 50 %, "
        "occlusion, thrombus, compression, loss of phasicity, new or non-healing ulcer) raise "
        "an escalation to the responsible clinician.",
        request=ResultInput,
        responses={201: ResultOutput, 200: ResultOutput, **api_errors(400, 403, 404)},
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        visit = _visit(request, pk)
        existed = visit.state == VisitState.DONE
        data = ResultInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        segments = [dict(row) for row in values.pop("segments", [])]
        result = visit_result_record(
            visit=visit,
            user=request.user,
            data=values,
            segments=segments,
        )
        return Response(
            ResultOutput(result).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class ContactListView(APIView):
    required_perms = {
        "GET": ["followup.view_visit", "followup.view_contactattempt"],
        "POST": ["followup.view_visit", "followup.add_contactattempt"],
    }

    @extend_schema(
        summary="Contact attempts of a visit",
        responses={200: ContactOutput(many=True), **api_errors(403, 404)},
    )
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        visit = _visit(request, pk)
        return Response(ContactOutput(selectors.visit_contacts(visit), many=True).data)

    @extend_schema(
        summary="Log a contact attempt (phone, letter, e-mail)",
        request=ContactInput,
        responses={201: ContactOutput, **api_errors(400, 403, 404)},
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        visit = _visit(request, pk)
        data = ContactInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        attempt = contact_attempt_log(
            visit=visit,
            user=request.user,
            data=dict(data.validated_data),
        )
        return Response(ContactOutput(attempt).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary="Escalations of your centre",
    parameters=[
        OpenApiParameter("open", OpenApiTypes.BOOL, description="Only unacknowledged escalations"),
        OpenApiParameter("mine", OpenApiTypes.BOOL, description="Only escalations to me"),
    ],
    responses={200: EscalationOutput(many=True), **api_errors(403)},
)
class EscalationListView(GenericAPIView):
    required_perms = {"GET": ["followup.view_escalation"]}
    serializer_class = EscalationOutput
    queryset = Escalation.objects.none()
    filter_backends: list[Any] = []

    def get(self, request: AuthenticatedRequest) -> Response:
        escalations = selectors.escalation_list(
            user=request.user,
            open_only=query_flag(request, "open"),
            mine=query_flag(request, "mine"),
        )
        page = self.paginate_queryset(escalations)
        return self.get_paginated_response(EscalationOutput(page, many=True).data)


class EscalationDetailView(APIView):
    required_perms = {"GET": ["followup.view_escalation"]}

    @extend_schema(
        summary="One escalation", responses={200: EscalationOutput, **api_errors(403, 404)}
    )
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        return Response(EscalationOutput(_escalation(request, pk)).data)


class EscalationAcknowledgeView(APIView):
    required_perms = {"POST": ["followup.view_escalation", "followup.acknowledge_escalation"]}

    @extend_schema(
        summary="Acknowledge an escalation (stops the 24-hour re-notification)",
        request=None,
        responses={200: EscalationOutput, **api_errors(403, 404)},
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        escalation = escalation_acknowledge(
            escalation=_escalation(request, pk),
            user=request.user,
        )
        return Response(EscalationOutput(_escalation(request, escalation.pk)).data)


class EscalationDecideView(APIView):
    required_perms = {"POST": ["followup.view_escalation", "followup.decide_escalation"]}

    @extend_schema(
        summary="Record the decision: observe, re-image or re-intervene",
        request=DecisionInput,
        responses={200: EscalationOutput, **api_errors(400, 403, 404)},
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        escalation = _escalation(request, pk)
        data = DecisionInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        escalation_decide(
            escalation=escalation,
            user=request.user,
            **data.validated_data,
        )
        return Response(EscalationOutput(_escalation(request, pk)).data)
