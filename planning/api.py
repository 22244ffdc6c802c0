"""REST API of procedure planning: plans (with checklist, stents and warnings), checklist
ticks, procedure records and the device catalogue.

Same rules as the pages: every operation needs its role permission (403), objects of another
centre are 404, the catalogue is read by every role and written by guideline admins. Writes
go through ``planning.services``; a service's ValidationError is a 400 naming the field.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases import selectors as case_selectors
from cases.facts import case_facts
from cases.models import Case, SegmentSide
from planning import selectors, services
from planning.models import (
    PLAN_FIELDS,
    RECORD_FIELDS,
    AccessSite,
    ChecklistItem,
    Device,
    DeviceKind,
    DeviceSize,
    ImplantedDevice,
    LimbSide,
    PlannedStent,
    PlanStatus,
    ProcedurePlan,
    ProcedureRecord,
    StentSegment,
)
from venousapp import dates
from venousapp.accounts.requests import AuthenticatedRequest
from venousapp.api import (
    ID_PARAMETER,
    JSONTypesMixin,
    api_errors,
    query_choice,
    query_flag,
    query_id,
)


def inline_choice(choices: list[tuple[str, Any]], **kwargs: Any) -> serializers.ChoiceField:
    """A choice field whose enum stays inline (wrapped in ``allOf``): the generic names
    "side", "segment" and "status" already name other choice sets of the schema, and
    drf-spectacular would otherwise warn about colliding enum component names."""

    @extend_schema_field(
        {"type": "string", "allOf": [{"enum": [value for value, _label in choices]}]}
    )
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=choices, **kwargs)


# --- catalogue ------------------------------------------------------------------------------


class DeviceSizeSerializer(JSONTypesMixin, serializers.ModelSerializer):
    display = serializers.CharField(source="label", read_only=True)

    class Meta:
        model = DeviceSize
        fields = [
            "id",
            "device",
            "diameter_mm",
            "length_mm",
            "french",
            "wire_inch",
            "verified",
            "notes",
            "display",
            "retired_at",
        ]
        read_only_fields = ["id", "retired_at"]
        # The catalogue rule (one active row per size) is checked by the service.
        validators: list[Any] = []


class DeviceSerializer(JSONTypesMixin, serializers.ModelSerializer):
    kind = inline_choice(DeviceKind.choices)
    sizes = DeviceSizeSerializer(many=True, read_only=True)
    segments = serializers.ListField(
        child=serializers.ChoiceField(choices=StentSegment.values), required=False
    )

    class Meta:
        model = Device
        fields = [
            "id",
            "code",
            "kind",
            "name",
            "manufacturer",
            "dedicated",
            "planner_use",
            "design",
            "material",
            "segments",
            "evidence",
            "notes",
            "position",
            "retired_at",
            "sizes",
        ]
        read_only_fields = ["id", "retired_at", "sizes"]


_CATALOGUE_READ = ("planning.view_device",)


@extend_schema_view(
    list=extend_schema(
        summary="Device catalogue (every role)",
        parameters=[
            OpenApiParameter("kind", str, enum=DeviceKind.values, description="Only this kind."),
            OpenApiParameter("retired", bool, description="Include retired devices."),
        ],
        responses={200: DeviceSerializer(many=True), **api_errors(403)},
    ),
    retrieve=extend_schema(responses={200: DeviceSerializer, **api_errors(403, 404)}),
    create=extend_schema(
        summary="Add a device (guideline admins)",
        responses={201: DeviceSerializer, **api_errors(400, 403)},
    ),
    partial_update=extend_schema(responses={200: DeviceSerializer, **api_errors(400, 403, 404)}),
)
class DeviceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    request: AuthenticatedRequest  # behind RequiredPerms: a logged-in user
    serializer_class = DeviceSerializer
    queryset = Device.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]
    filter_backends: list[Any] = []
    required_perms = {
        "list": _CATALOGUE_READ,
        "retrieve": _CATALOGUE_READ,
        "create": ("planning.add_device",),
        "partial_update": ("planning.change_device",),
        "retire": ("planning.change_device",),
        "restore": ("planning.change_device",),
    }

    def get_queryset(self) -> QuerySet[Device]:
        if self.action != "list":
            return selectors.device_list(include_retired=True)
        devices = selectors.device_list(include_retired=query_flag(self.request, "retired"))
        kind = query_choice(self.request, "kind", DeviceKind.values)
        return devices.filter(kind=kind) if kind else devices

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.device_save(
            user=self.request.user,
            data=dict(serializer.validated_data),
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        services.device_save(
            user=self.request.user,
            data=dict(serializer.validated_data),
            device=serializer.instance,
        )

    @extend_schema(
        summary="Retire a device (never deleted)",
        request=None,
        responses={200: DeviceSerializer, **api_errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def retire(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        device = services.device_retire(device=self.get_object(), user=request.user)
        return Response(DeviceSerializer(device).data)

    @extend_schema(
        summary="Restore a retired device",
        request=None,
        responses={200: DeviceSerializer, **api_errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        device = services.device_restore(device=self.get_object(), user=request.user)
        return Response(DeviceSerializer(device).data)


@extend_schema_view(
    retrieve=extend_schema(responses={200: DeviceSizeSerializer, **api_errors(403, 404)}),
    create=extend_schema(
        summary="Add a size to a device (guideline admins)",
        responses={201: DeviceSizeSerializer, **api_errors(400, 403)},
    ),
    partial_update=extend_schema(
        responses={200: DeviceSizeSerializer, **api_errors(400, 403, 404)}
    ),
)
class DeviceSizeViewSet(
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    request: AuthenticatedRequest  # behind RequiredPerms: a logged-in user
    serializer_class = DeviceSizeSerializer
    queryset = DeviceSize.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]
    filter_backends: list[Any] = []
    required_perms = {
        "retrieve": ("planning.view_devicesize",),
        "create": ("planning.add_devicesize",),
        "partial_update": ("planning.change_devicesize",),
        "retire": ("planning.change_devicesize",),
    }

    def get_queryset(self) -> QuerySet[DeviceSize]:
        return DeviceSize.objects.select_related("device")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        device = data.pop("device")
        serializer.instance = services.device_size_save(
            user=self.request.user,
            device=device,
            data=data,
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("device", None)
        size = cast(DeviceSize, serializer.instance)
        services.device_size_save(
            user=self.request.user,
            device=size.device,
            data=data,
            size=size,
        )

    @extend_schema(
        summary="Retire a size",
        request=None,
        responses={200: DeviceSizeSerializer, **api_errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def retire(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        size = services.device_size_retire(size=self.get_object(), user=request.user)
        return Response(DeviceSizeSerializer(size).data)


# --- plans ----------------------------------------------------------------------------------


class AccessSiteSerializer(serializers.ModelSerializer):
    side = inline_choice(LimbSide.choices)

    class Meta:
        model = AccessSite
        fields = ["id", "position", "site", "side", "note"]


class PlannedStentSerializer(serializers.ModelSerializer):
    device_name = serializers.CharField(source="device.name", read_only=True, allow_null=True)
    size_verified = serializers.BooleanField(
        source="size.verified", read_only=True, allow_null=True
    )
    segment = inline_choice(StentSegment.choices)
    side = inline_choice(SegmentSide.choices)

    class Meta:
        model = PlannedStent
        fields = [
            "id",
            "position",
            "segment",
            "side",
            "device",
            "device_name",
            "size",
            "size_verified",
            "diameter_mm",
            "length_mm",
            "proposed_diameter_mm",
            "proposed_length_mm",
            "basis",
        ]


class ChecklistItemSerializer(serializers.ModelSerializer):
    ticked_by = serializers.CharField(source="ticked_by.username", read_only=True, allow_null=True)

    class Meta:
        model = ChecklistItem
        fields = [
            "id",
            "plan",
            "phase",
            "category",
            "position",
            "text",
            "device",
            "device_size",
            "ticked_at",
            "ticked_by",
        ]
        read_only_fields = fields


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    segment = serializers.CharField(allow_null=True)
    side = serializers.CharField(allow_null=True)


class PlanSerializer(JSONTypesMixin, serializers.ModelSerializer):
    status = inline_choice(PlanStatus.choices, read_only=True)
    author = serializers.CharField(source="author.username", read_only=True)
    signed_by = serializers.CharField(source="signed_by.username", read_only=True, allow_null=True)
    access_sites = AccessSiteSerializer(many=True, read_only=True)
    stents = PlannedStentSerializer(many=True, read_only=True)
    items = ChecklistItemSerializer(many=True, read_only=True)
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = ProcedurePlan
        fields = [
            "id",
            "case",
            "author",
            "status",
            "guideline_status",
            *PLAN_FIELDS,
            "contraindication_override_reason",
            "indication_override_reason",
            "signed_at",
            "signed_by",
            "created_at",
            "updated_at",
            "access_sites",
            "stents",
            "items",
            "warnings",
        ]
        read_only_fields = [
            "id",
            "case",
            "author",
            "status",
            "guideline_status",
            "contraindication_override_reason",
            "indication_override_reason",
            "signed_at",
            "signed_by",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(WarningSerializer(many=True))
    def get_warnings(self, plan: ProcedurePlan) -> list[dict[str, Any]]:
        facts = case_facts(plan.case)
        return [
            {"code": w.code, "message": w.message, "segment": w.segment, "side": w.side}
            for w in selectors.plan_warnings(plan, facts)
        ]


class PlanCreateSerializer(JSONTypesMixin, serializers.Serializer):
    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.none())
    indication_override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=4000,
        help_text="Why the procedure is planned although a guideline advises against it or the "
        "guidelines disagree on stenting; required then (400 naming this field otherwise).",
    )

    def get_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["case"].queryset = case_selectors.case_list(user=request.user)
        return fields


class SignSerializer(JSONTypesMixin, serializers.Serializer):
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


_PLAN_READ = ("planning.view_procedureplan",)


@extend_schema_view(
    list=extend_schema(
        summary="Plans of your centre",
        parameters=[OpenApiParameter("case", ID_PARAMETER, description="Only this case's plans.")],
        responses={200: PlanSerializer(many=True), **api_errors(403)},
    ),
    retrieve=extend_schema(
        summary="A plan with access, stents, checklist and warnings",
        responses={200: PlanSerializer, **api_errors(403, 404)},
    ),
    create=extend_schema(
        summary="Create a plan pre-filled from the case (etr_candidate, stent_indicated or "
        "stent_conflict only)",
        request=PlanCreateSerializer,
        responses={201: PlanSerializer, **api_errors(400, 403)},
    ),
    partial_update=extend_schema(
        summary="Change a draft plan", responses={200: PlanSerializer, **api_errors(400, 403, 404)}
    ),
)
class PlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    request: AuthenticatedRequest  # behind RequiredPerms: a logged-in user
    serializer_class = PlanSerializer
    queryset = ProcedurePlan.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]
    filter_backends: list[Any] = []
    required_perms = {
        "list": _PLAN_READ,
        "retrieve": _PLAN_READ,
        "create": ("planning.add_procedureplan",),
        "partial_update": ("planning.change_procedureplan",),
        "sign": ("planning.change_procedureplan",),
        "reopen": ("planning.change_procedureplan",),
    }

    def get_queryset(self) -> QuerySet[ProcedurePlan]:
        plans = selectors.plan_list(user=self.request.user).prefetch_related(
            "access_sites",
            "stents__device",
            "stents__size",
            "items__ticked_by",
            "items__device_size",
            "case__findings",
        )
        case_id = query_id(self.request, "case") if self.action == "list" else None
        return plans if case_id is None else plans.filter(case_id=case_id)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = PlanCreateSerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        plan = services.plan_create(
            case=incoming.validated_data["case"],
            author=self.request.user,
            indication_override_reason=incoming.validated_data["indication_override_reason"],
        )
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.plan_update(
            plan=cast(ProcedurePlan, serializer.instance),
            user=self.request.user,
            data=dict(serializer.validated_data),
        )

    def _fresh(self, plan: ProcedurePlan) -> Response:
        return Response(PlanSerializer(self.get_queryset().get(pk=plan.pk)).data)

    @extend_schema(
        summary="Sign the plan (a reason is required while a contraindication is open)",
        request=SignSerializer,
        responses={200: PlanSerializer, **api_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        incoming = SignSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        plan = services.plan_sign(
            plan=self.get_object(),
            user=request.user,
            override_reason=incoming.validated_data["override_reason"],
        )
        return self._fresh(plan)

    @extend_schema(
        summary="Return a signed plan to draft",
        request=None,
        responses={200: PlanSerializer, **api_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        plan = services.plan_reopen(plan=self.get_object(), user=request.user)
        return self._fresh(plan)


@extend_schema_view(
    retrieve=extend_schema(responses={200: ChecklistItemSerializer, **api_errors(403, 404)}),
)
class ChecklistItemViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    request: AuthenticatedRequest  # behind RequiredPerms: a logged-in user
    serializer_class = ChecklistItemSerializer
    queryset = ChecklistItem.objects.none()
    filter_backends: list[Any] = []
    required_perms = {
        "retrieve": ("planning.view_checklistitem",),
        "tick": ("planning.change_checklistitem",),
        "untick": ("planning.change_checklistitem",),
    }

    def get_queryset(self) -> QuerySet[ChecklistItem]:
        return ChecklistItem.objects.filter(
            plan__case__patient__centre_id=self.request.user.centre_id
        ).select_related("ticked_by")

    @extend_schema(
        summary="Tick: records who and when (ticking twice changes nothing)",
        request=None,
        responses={200: ChecklistItemSerializer, **api_errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def tick(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        item = services.checklist_item_tick(item=self.get_object(), user=request.user)
        return Response(ChecklistItemSerializer(item).data)

    @extend_schema(
        summary="Untick (kept in the history)",
        request=None,
        responses={200: ChecklistItemSerializer, **api_errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def untick(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        item = services.checklist_item_untick(item=self.get_object(), user=request.user)
        return Response(ChecklistItemSerializer(item).data)


# --- procedure records ----------------------------------------------------------------------


class ImplantSerializer(JSONTypesMixin, serializers.ModelSerializer):
    device_name = serializers.CharField(source="device.name", read_only=True)
    segment = inline_choice(StentSegment.choices)
    side = inline_choice(SegmentSide.choices)

    class Meta:
        model = ImplantedDevice
        fields = [
            "id",
            "segment",
            "side",
            "device",
            "device_name",
            "diameter_mm",
            "length_mm",
            "lot",
        ]
        read_only_fields = ["id", "device_name"]


class ProcedureRecordSerializer(
    JSONTypesMixin, dates.DateLimitsSerializerMixin, serializers.ModelSerializer
):
    date_limits = {"performed_on": dates.past_dates}
    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.none())
    plan = serializers.PrimaryKeyRelatedField(
        queryset=ProcedurePlan.objects.none(), required=False, allow_null=True
    )
    implants = ImplantSerializer(
        many=True,
        required=False,
        help_text="Devices implanted. Left out when creating a record from a plan: the plan's "
        "planned stents (as the record form pre-fills them); an empty list records none.",
    )
    author = serializers.CharField(source="author.username", read_only=True)
    completed_by = serializers.CharField(
        source="completed_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = ProcedureRecord
        fields = [
            "id",
            "case",
            "plan",
            "author",
            *RECORD_FIELDS,
            "implants",
            "completed_at",
            "completed_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "author",
            "completed_at",
            "completed_by",
            "created_at",
            "updated_at",
        ]
        validators: list[Any] = []  # one record per plan: the service says so clearly

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated and not fields["case"].read_only:
            fields["case"].queryset = case_selectors.case_list(user=request.user)
            fields["plan"].queryset = selectors.plan_list(user=request.user)
        return fields


class ProcedureRecordUpdateSerializer(ProcedureRecordSerializer):
    """A record's case and plan are set when it is created: a change neither takes them nor
    documents them as taken."""

    case = serializers.PrimaryKeyRelatedField(read_only=True)
    plan = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)


_RECORD_READ = ("planning.view_procedurerecord",)


@extend_schema_view(
    list=extend_schema(
        responses={200: ProcedureRecordSerializer(many=True), **api_errors(403)},
        parameters=[
            OpenApiParameter("case", ID_PARAMETER, description="Only this case's records.")
        ],
    ),
    retrieve=extend_schema(responses={200: ProcedureRecordSerializer, **api_errors(403, 404)}),
    create=extend_schema(responses={201: ProcedureRecordSerializer, **api_errors(400, 403)}),
    partial_update=extend_schema(
        responses={200: ProcedureRecordSerializer, **api_errors(400, 403, 404)}
    ),
)
class ProcedureRecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    request: AuthenticatedRequest  # behind RequiredPerms: a logged-in user
    serializer_class = ProcedureRecordSerializer
    queryset = ProcedureRecord.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]
    filter_backends: list[Any] = []
    required_perms = {
        "list": _RECORD_READ,
        "retrieve": _RECORD_READ,
        "create": ("planning.add_procedurerecord",),
        "partial_update": ("planning.change_procedurerecord",),
        "complete": ("planning.change_procedurerecord",),
    }

    def get_serializer_class(self) -> type[ProcedureRecordSerializer]:
        if self.action in ("update", "partial_update"):
            return ProcedureRecordUpdateSerializer
        return ProcedureRecordSerializer

    def get_queryset(self) -> QuerySet[ProcedureRecord]:
        user = self.request.user
        records = (
            selectors.record_list(user=user)
            .prefetch_related("implants__device")
            .select_related("author", "completed_by")
        )
        case_id = query_id(self.request, "case") if self.action == "list" else None
        return records if case_id is None else records.filter(case_id=case_id)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        implants = data.pop("implants", None)
        case, plan = data.pop("case"), data.pop("plan", None)
        serializer.instance = services.procedure_record_create(
            case=case,
            plan=plan,
            author=self.request.user,
            data=data,
            implants=implants,
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        implants = data.pop("implants", None)
        serializer.instance = services.procedure_record_update(
            record=cast(ProcedureRecord, serializer.instance),
            user=self.request.user,
            data=data,
            implants=implants,
        )

    @extend_schema(
        summary="Complete the procedure and hand over to follow-up (idempotent)",
        request=None,
        responses={200: ProcedureRecordSerializer, **api_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        record = services.procedure_record_complete(record=self.get_object(), user=request.user)
        fresh = self.get_queryset().get(pk=record.pk)
        return Response(ProcedureRecordSerializer(fresh, context={"request": request}).data)
