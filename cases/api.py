"""REST API for patients and cases: same roles and centre scoping as the pages."""

import copy
from typing import Any, ClassVar, cast

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from cases import ceap, selectors, services
from cases.models import (
    EVALUATION_FIELDS,
    FINDING_FIELDS,
    PATIENT_FIELDS,
    Case,
    Patient,
    SegmentFinding,
)
from cases.plausibility import case_plausibility_errors
from cases.thrombolysis import FACTOR_CODES
from venousapp import dates
from venousapp.accounts.requests import AuthenticatedRequest
from venousapp.api import JSONTypesMixin, KeptListMixin, api_errors
from venousapp.permissions import model_perms


class BuiltOnceMixin:
    """A ModelSerializer whose fields are built from the model once per process: DRF builds
    them on every instance, which for a case (sixty fields) was a good part of a request.
    Each instance gets copies, which the other mixins then fit to the request (the user's
    patients, the centre's dates)."""

    _built: ClassVar[dict[str, serializers.Field] | None] = None

    def get_fields(self) -> dict[str, Any]:
        cls = type(self)
        if cls.__dict__.get("_built") is None:
            cls._built = super().get_fields()  # type: ignore[misc]
        return copy.deepcopy(cls.__dict__["_built"])


class PatientSerializer(
    JSONTypesMixin, dates.DateLimitsSerializerMixin, serializers.ModelSerializer
):
    date_limits = {"date_of_birth": dates.birth_dates}

    class Meta:
        model = Patient
        fields = ["id", *PATIENT_FIELDS]

    def validate_identifier(self, value: str) -> str:
        user = self.context["request"].user
        clash = Patient.objects.filter(centre_id=user.centre_id, identifier=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(
                "A patient with this identifier already exists in your centre."
            )
        return value


@extend_schema_view(
    list=extend_schema(responses={200: PatientSerializer(many=True), **api_errors(403)}),
    retrieve=extend_schema(responses={200: PatientSerializer, **api_errors(403, 404)}),
    create=extend_schema(responses={201: PatientSerializer, **api_errors(400, 403)}),
    update=extend_schema(responses={200: PatientSerializer, **api_errors(400, 403, 404)}),
    partial_update=extend_schema(responses={200: PatientSerializer, **api_errors(400, 403, 404)}),
)
class PatientViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    request: AuthenticatedRequest  # behind RequiredPerms: a logged-in user
    serializer_class = PatientSerializer
    required_perms = model_perms(Patient)
    queryset = Patient.objects.none()
    filterset_fields = ["identifier"]

    def get_queryset(self) -> QuerySet[Patient]:
        return selectors.patient_list(user=self.request.user).order_by("identifier")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.patient_get_or_create(
            centre=self.request.user.centre,
            data=dict(serializer.validated_data),
            user=self.request.user,
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        patient = cast(Patient, serializer.instance)
        services.patient_update(
            patient=patient, data=dict(serializer.validated_data), user=self.request.user
        )


class SegmentFindingSerializer(JSONTypesMixin, BuiltOnceMixin, serializers.ModelSerializer):
    class Meta:
        model = SegmentFinding
        fields = ["id", *FINDING_FIELDS]
        read_only_fields = ["id"]


class CaseSerializer(
    JSONTypesMixin, dates.DateLimitsSerializerMixin, BuiltOnceMixin, serializers.ModelSerializer
):
    date_limits = {"case_date": dates.past_dates, "symptom_onset_date": dates.past_dates}
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.none())
    findings = SegmentFindingSerializer(many=True)
    thrombolysis_contraindications = serializers.ListField(
        child=serializers.ChoiceField(choices=list(FACTOR_CODES)), required=False
    )
    symptom_onset_days = serializers.IntegerField(read_only=True, allow_null=True)
    vcss_total = serializers.IntegerField(read_only=True, allow_null=True)
    villalta_total = serializers.IntegerField(read_only=True, allow_null=True)
    villalta_category = serializers.CharField(read_only=True, allow_null=True)
    author = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = Case
        # The stored status may lag a publish; /cases/<pk>/recommendations evaluates now.
        exclude = ["created_at", "centre", *EVALUATION_FIELDS]
        read_only_fields = ["id", "author", "updated_at"]

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[type, dict]:
        """Score items are plain 0–3 integers in the API; their labels live in the form."""
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if field_name.startswith(("vcss_", "villalta_")):
            kwargs.pop("choices", None)
            kwargs.pop("validators", None)  # the model's 0–3 check again: a doubled message
            return serializers.IntegerField, {**kwargs, "min_value": 0, "max_value": 3}
        return field_class, kwargs

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["patient"].queryset = selectors.patient_list(user=request.user)
        return fields

    def validate_ceap(self, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return ceap.parse(value).canonical()
        except ceap.CeapError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_findings(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not value:
            raise serializers.ValidationError("Record at least one segment finding.")
        # The findings replace the stored ones, so each row is complete also in a PATCH (which
        # would leave its required fields out).
        required = [n for n, f in SegmentFindingSerializer().fields.items() if f.required]
        message = _("This field is required.")
        missing = [{n: [message] for n in required if n not in row} for row in value]
        if any(missing):
            raise serializers.ValidationError(missing)
        keys = [(f["segment"], f["side"]) for f in value]
        if len(keys) != len(set(keys)):
            raise serializers.ValidationError("Each segment and side may be recorded once.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        onset = attrs.get("symptom_onset_date", getattr(self.instance, "symptom_onset_date", None))
        day = attrs.get("case_date", getattr(self.instance, "case_date", None))
        if onset and day and onset > day:
            raise serializers.ValidationError(
                {"symptom_onset_date": "Symptom onset cannot be after the case date."}
            )

        def current(name: str) -> Any:
            return attrs.get(name, getattr(self.instance, name, None))

        patient = attrs.get("patient") or getattr(self.instance, "patient", None)
        problems = case_plausibility_errors(
            sex=patient.sex if patient is not None else None,
            pregnancy=current("pregnancy"),
            ceap=current("ceap"),
            ulcer=current("ulcer"),
        )
        if problems:
            raise serializers.ValidationError(problems)
        if attrs.get("thrombolysis_contraindications"):
            attrs["contraindications_assessed"] = True
        return attrs


@extend_schema_view(
    list=extend_schema(responses={200: CaseSerializer(many=True), **api_errors(403)}),
    retrieve=extend_schema(responses={200: CaseSerializer, **api_errors(403, 404)}),
    create=extend_schema(responses={201: CaseSerializer, **api_errors(400, 403)}),
    update=extend_schema(responses={200: CaseSerializer, **api_errors(400, 403, 404)}),
    partial_update=extend_schema(responses={200: CaseSerializer, **api_errors(400, 403, 404)}),
)
class CaseViewSet(
    KeptListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    request: AuthenticatedRequest  # behind RequiredPerms: a logged-in user
    serializer_class = CaseSerializer
    required_perms = model_perms(Case)
    queryset = Case.objects.none()
    filterset_fields = ["lesion_entity", "side"]

    def get_queryset(self) -> QuerySet[Case]:
        return selectors.case_list(user=self.request.user)

    @transaction.atomic
    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        findings = data.pop("findings")
        patient = data.pop("patient")
        serializer.instance = services.case_create(
            patient=patient,
            author=self.request.user,
            data=data,
            findings=findings,
        )

    @transaction.atomic
    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        findings = data.pop("findings", None)
        services.case_update(
            case=cast(Case, serializer.instance),
            data=data,
            user=self.request.user,
            findings=findings,
        )
