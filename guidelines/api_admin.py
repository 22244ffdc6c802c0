"""Guideline-admin API: read rules (every role), and for guideline admins draft, edit, test,
submit, approve, export and import. Thin views over ``guidelines/services/``; each view
declares the permissions of its methods (403 without them), service refusals are 400 with
the offending field named (``venousapp.api.exception_handler``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from guidelines.definitions import EXPECTED_VALUES
from guidelines.models import Rule, RuleTestCase, RuleVersion, VersionStatus
from guidelines.services import authoring, transfer
from guidelines.vocabulary import TOPICS
from venousapp.accounts.requests import AuthenticatedRequest
from venousapp.api import JSONTypesMixin, api_errors, query_choice

# --------------------------------------------------------------------------------------------
# Serializers


# How the rule API words its errors (venousapp.api.api_errors).
_WORDING = {
    "bad_request": "Invalid input or refused by the workflow; the body names each field in error.",
    "not_found": "No such rule or version.",
}


class TestCaseOutput(serializers.ModelSerializer):
    passed = serializers.BooleanField(allow_null=True, read_only=True)

    class Meta:
        model = RuleTestCase
        fields = ["id", "name", "facts", "expected", "last_value", "last_run_at", "passed"]


class VersionSummaryOutput(serializers.ModelSerializer):
    # Plain strings: an enum named "Status" would collide with other apps' status enums.
    status = serializers.CharField(
        help_text="draft | pending (awaiting approval) | active | superseded | retired"
    )
    author = serializers.CharField(source="author.username", allow_null=True)
    approver = serializers.CharField(source="approver.username", allow_null=True)

    class Meta:
        model = RuleVersion
        fields = [
            "number",
            "status",
            "author",
            "approver",
            "created_at",
            "submitted_at",
            "published_at",
            "effective_from",
            "effective_to",
            "change_note",
        ]


class VersionOutput(VersionSummaryOutput):
    verification = serializers.CharField(help_text="verified | seed | provisional")
    rule_id = serializers.CharField(source="rule.rule_id")
    test_cases = TestCaseOutput(many=True)

    class Meta(VersionSummaryOutput.Meta):
        fields = [
            "rule_id",
            *VersionSummaryOutput.Meta.fields,
            "verification",
            "definition",
            "test_cases",
        ]


class RuleListOutput(serializers.Serializer):
    rule_id = serializers.CharField()
    engine = serializers.CharField()
    topic = serializers.CharField()
    retired_at = serializers.DateTimeField(allow_null=True)
    active_version = serializers.IntegerField(allow_null=True)
    provisional = serializers.BooleanField()
    text = serializers.CharField()


class RuleDetailOutput(RuleListOutput):
    definition = serializers.JSONField(allow_null=True)
    versions = VersionSummaryOutput(many=True)


class DraftCreateInput(JSONTypesMixin, serializers.Serializer):
    base_version = serializers.IntegerField(
        required=False, min_value=1, help_text="Default: the active version."
    )
    change_note = serializers.CharField(required=False, allow_blank=True, default="")


class DraftUpdateInput(JSONTypesMixin, serializers.Serializer):
    definition = serializers.JSONField(required=False)
    change_note = serializers.CharField(required=False, allow_blank=True)

    def validate_definition(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected a rule definition object.")
        return value


class TestCaseInput(JSONTypesMixin, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    facts = serializers.JSONField()
    expected = serializers.ChoiceField(choices=list(EXPECTED_VALUES))

    def validate_facts(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected a facts object.")
        return value


class TestRunOutput(serializers.Serializer):
    test_case_id = serializers.IntegerField()
    name = serializers.CharField()
    expected = serializers.CharField()
    value = serializers.CharField()
    passed = serializers.BooleanField()


class RunTestsOutput(serializers.Serializer):
    passed = serializers.BooleanField()
    results = TestRunOutput(many=True)


class ImportLineOutput(serializers.Serializer):
    rule_id = serializers.CharField()
    action = serializers.CharField()
    detail = serializers.CharField()


# --------------------------------------------------------------------------------------------
# Helpers


def _rule(rule_id: str) -> Rule:
    try:
        return Rule.objects.get(rule_id=rule_id)
    except Rule.DoesNotExist:
        raise Http404 from None


def _version(rule_id: str, number: int) -> RuleVersion:
    try:
        return (
            RuleVersion.objects.select_related("rule", "author", "approver")
            .prefetch_related("test_cases")
            .get(rule__rule_id=rule_id, number=number)
        )
    except RuleVersion.DoesNotExist:
        raise Http404 from None


def _rule_row(rule: Rule, active: RuleVersion | None) -> dict[str, Any]:
    definition = active.definition if active else {}
    return {
        "rule_id": rule.rule_id,
        "engine": rule.engine,
        "topic": rule.topic,
        "retired_at": rule.retired_at,
        "active_version": active.number if active else None,
        "provisional": bool(active and active.verification != "verified"),
        "text": definition.get("text", ""),
    }


def _version_data(version: RuleVersion) -> dict[str, Any]:
    fresh = _version(version.rule.rule_id, version.number)
    return VersionOutput(fresh).data


# --------------------------------------------------------------------------------------------
# Views


_RULE_STATUSES = ["active", "retired"]


class RuleListView(APIView):
    """Every rule with its active version (all roles that may read rules)."""

    required_perms = {"GET": ("guidelines.view_rule",)}

    @extend_schema(
        parameters=[
            OpenApiParameter("topic", str, enum=list(TOPICS)),
            OpenApiParameter("status", str, enum=_RULE_STATUSES),
        ],
        responses={
            200: RuleListOutput(many=True),
            **api_errors(403, **_WORDING),
        },
        operation_id="rules_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        rules = Rule.objects.prefetch_related(
            Prefetch(
                "versions",
                queryset=RuleVersion.objects.filter(status=VersionStatus.ACTIVE),
                to_attr="active_versions",
            )
        ).order_by("pk")
        topic = query_choice(request, "topic", TOPICS)
        if topic:
            rules = rules.filter(topic=topic)
        wanted = query_choice(request, "status", _RULE_STATUSES)
        if wanted == "active":
            rules = rules.filter(
                Exists(RuleVersion.objects.filter(rule=OuterRef("pk"), status=VersionStatus.ACTIVE))
            )
        elif wanted == "retired":
            rules = rules.exclude(retired_at=None)
        rows = [_rule_row(r, r.active_versions[0] if r.active_versions else None) for r in rules]
        return Response(RuleListOutput(rows, many=True).data)


class RuleDetailView(APIView):
    """One rule: its active definition and its versions."""

    required_perms = {"GET": ("guidelines.view_rule",)}

    @extend_schema(
        responses={
            200: RuleDetailOutput,
            **api_errors(403, 404, **_WORDING),
        },
        operation_id="rules_retrieve",
    )
    def get(self, request: AuthenticatedRequest, rule_id: str) -> Response:
        rule = _rule(rule_id)
        versions = list(rule.versions.select_related("author", "approver").order_by("-number"))
        active = next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
        data = {
            **_rule_row(rule, active),
            "definition": active.definition if active else None,
            "versions": versions,
        }
        return Response(RuleDetailOutput(data).data)


class VersionCreateView(APIView):
    """Create a draft: a copy of the active (or the given) version with its test cases."""

    required_perms = {"POST": ("guidelines.add_ruleversion",)}

    @extend_schema(
        request=DraftCreateInput,
        responses={
            201: VersionOutput,
            **api_errors(400, 403, 404, **_WORDING),
        },
        operation_id="rules_versions_create",
    )
    def post(self, request: AuthenticatedRequest, rule_id: str) -> Response:
        rule = _rule(rule_id)
        data = DraftCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        base = None
        if "base_version" in data.validated_data:
            base = rule.versions.filter(number=data.validated_data["base_version"]).first()
            if base is None:
                raise serializers.ValidationError({"base_version": "No such version."})
        draft = authoring.rule_version_create_draft(
            rule=rule,
            author=request.user,
            base=base,
            change_note=data.validated_data["change_note"],
        )
        return Response(_version_data(draft), status=status.HTTP_201_CREATED)


class VersionView(APIView):
    """Read a version (guideline admins); PATCH a draft's definition or change note."""

    required_perms = {
        "GET": ("guidelines.view_ruleversion",),
        "PATCH": ("guidelines.change_ruleversion",),
    }

    @extend_schema(
        responses={
            200: VersionOutput,
            **api_errors(403, 404, **_WORDING),
        },
        operation_id="rules_versions_retrieve",
    )
    def get(self, request: AuthenticatedRequest, rule_id: str, number: int) -> Response:
        return Response(VersionOutput(_version(rule_id, number)).data)

    @extend_schema(
        request=DraftUpdateInput,
        responses={
            200: VersionOutput,
            **api_errors(400, 403, 404, **_WORDING),
        },
        operation_id="rules_versions_partial_update",
    )
    def patch(self, request: AuthenticatedRequest, rule_id: str, number: int) -> Response:
        version = _version(rule_id, number)
        data = DraftUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        authoring.rule_version_update(
            version=version,
            user=request.user,
            definition=data.validated_data.get("definition"),
            change_note=data.validated_data.get("change_note"),
        )
        return Response(_version_data(version))


class TestCaseCreateView(APIView):
    """Add a test case (facts + expected value) to a draft."""

    required_perms = {"POST": ("guidelines.add_ruletestcase",)}

    @extend_schema(
        request=TestCaseInput,
        responses={
            201: TestCaseOutput,
            **api_errors(400, 403, 404, **_WORDING),
        },
        operation_id="rules_versions_test_cases_create",
    )
    def post(self, request: AuthenticatedRequest, rule_id: str, number: int) -> Response:
        version = _version(rule_id, number)
        data = TestCaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        case = authoring.rule_test_case_create(
            version=version,
            user=request.user,
            **data.validated_data,
        )
        return Response(TestCaseOutput(case).data, status=status.HTTP_201_CREATED)


class RunTestsView(APIView):
    """Run the version's test cases and store each value."""

    required_perms = {"POST": ("guidelines.change_ruleversion",)}

    @extend_schema(
        request=None,
        responses={
            200: RunTestsOutput,
            **api_errors(400, 403, 404, **_WORDING),
        },
        operation_id="rules_versions_run_tests",
    )
    def post(self, request: AuthenticatedRequest, rule_id: str, number: int) -> Response:
        version = _version(rule_id, number)
        runs = authoring.rule_version_run_tests(version=version, user=request.user)
        return Response(
            RunTestsOutput(
                {
                    "passed": bool(runs) and all(run.passed for run in runs),
                    "results": [run.__dict__ for run in runs],
                }
            ).data
        )


class SubmitView(APIView):
    """The author requests publication (refused while a test case fails or none exists)."""

    required_perms = {"POST": ("guidelines.change_ruleversion",)}

    @extend_schema(
        request=None,
        responses={
            200: VersionOutput,
            **api_errors(400, 403, 404, **_WORDING),
        },
        operation_id="rules_versions_submit",
    )
    def post(self, request: AuthenticatedRequest, rule_id: str, number: int) -> Response:
        version = _version(rule_id, number)
        authoring.rule_version_submit(version=version, user=request.user)
        return Response(_version_data(version))


class ApproveView(APIView):
    """A second guideline admin approves and publishes a pending version."""

    required_perms = {"POST": ("guidelines.approve_ruleversion",)}

    @extend_schema(
        request=None,
        responses={
            200: VersionOutput,
            **api_errors(400, 403, 404, **_WORDING),
        },
        operation_id="rules_versions_approve",
    )
    def post(self, request: AuthenticatedRequest, rule_id: str, number: int) -> Response:
        version = _version(rule_id, number)
        authoring.rule_version_approve(version=version, user=request.user)
        return Response(_version_data(version))


class ExportView(APIView):
    """The published rule set as JSON (sources, active definitions, test cases)."""

    required_perms = {"GET": ("guidelines.view_ruleversion",)}

    @extend_schema(
        responses={
            200: OpenApiTypes.OBJECT,
            **api_errors(403, **_WORDING),
        },
        operation_id="rules_export",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(transfer.ruleset_export())


class ImportView(APIView):
    """Import an export document: validated first, changes become drafts awaiting approval."""

    required_perms = {
        "POST": (
            "guidelines.add_ruleversion",
            "guidelines.add_rule",
            "guidelines.add_guidelinesource",
        )
    }

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            200: ImportLineOutput(many=True),
            **api_errors(400, 403, **_WORDING),
        },
        operation_id="rules_import",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        report = transfer.ruleset_import(data=request.data, user=request.user)
        return Response(ImportLineOutput([line.__dict__ for line in report], many=True).data)
