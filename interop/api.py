"""FHIR routes of the API: a case as a Bundle, a Bundle imported as patient and draft case,
and the published rules as PlanDefinitions. Same authentication, roles and centre scoping as
the case API; errors in the API's JSON format."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import selectors as case_selectors
from cases.models import Case
from interop.fhir_export import case_bundle
from interop.fhir_import import IMPORT_MAX_BYTES, ImportRefused, fhir_import
from interop.plandefinitions import plandefinitions_bundle
from venousapp.accounts.requests import AuthenticatedRequest
from venousapp.parsers import json_depth_check
from venousapp.permissions import model_perms


def _fhir_json(resource: Any) -> Any:
    return resource.model_dump(mode="json", exclude_none=True)


class CaseFhirView(APIView):
    """The case as a FHIR R4 Bundle."""

    required_perms = model_perms(Case)
    queryset = Case.objects.none()

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A FHIR R4 Bundle (type collection): Patient, Condition, "
                "Observations, Procedure and Device per procedure record, CarePlan per "
                "follow-up schedule, GuidanceResponse with the evaluation.",
            ),
            403: OpenApiResponse(description="Your role may not read cases."),
            404: OpenApiResponse(description="Not found in your centre."),
        },
        operation_id="case_fhir_export",
    )
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        try:
            case = case_selectors.case_get(user=request.user, pk=pk)
        except Case.DoesNotExist:
            raise Http404 from None
        return Response(_fhir_json(case_bundle(case)))


class BundleTooLarge(APIException):
    """A bundle over the import's limit: a 400 like every other refused bundle."""

    status_code = 400
    default_code = "too_large"


class FhirJSONParser(BaseParser):
    """JSON up to IMPORT_MAX_BYTES whatever the site-wide upload limit, nested at most
    ``API_JSON_MAX_DEPTH`` levels as every API body. Not a subclass of DRF's JSONParser,
    which DRF hands ``request.body`` (bounded by the site-wide limit)."""

    media_type = "application/json"

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = stream.read(IMPORT_MAX_BYTES + 1) if stream is not None else b""
        if len(body) > IMPORT_MAX_BYTES:
            raise BundleTooLarge(
                f"The bundle is larger than the {IMPORT_MAX_BYTES} bytes an import accepts."
            )
        json_depth_check(body)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class FhirPlusJSONParser(FhirJSONParser):
    media_type = "application/fhir+json"


class ImportInput(serializers.Serializer):
    resourceType = serializers.ChoiceField(choices=["Bundle"])
    type = serializers.CharField()
    entry = serializers.ListField(child=serializers.DictField())


class MappedSerializer(serializers.Serializer):
    resource = serializers.CharField()
    element = serializers.CharField()
    value = serializers.CharField()


class NotMappedSerializer(serializers.Serializer):
    resource = serializers.CharField()
    reason = serializers.CharField()


class ImportOutput(serializers.Serializer):
    patient = serializers.IntegerField(help_text="The patient's id.")
    draft = serializers.IntegerField(help_text="The draft case's id.")
    draft_url = serializers.URLField(help_text="The page that completes the draft case.")
    created = serializers.BooleanField(help_text="false: an open draft was updated.")
    mapped = MappedSerializer(many=True)
    not_mapped = NotMappedSerializer(many=True)


_BUNDLE_EXAMPLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": "urn:oid:1.2.276.0.76.4.8", "value": "4711"}],
                "gender": "female",
                "birthDate": "1984-03-02",
            }
        }
    ],
}


def import_answer(request: AuthenticatedRequest, result: Any) -> dict[str, Any]:
    draft = result.draft
    return {
        "patient": draft.patient_id,
        "draft": draft.pk,
        "draft_url": request.build_absolute_uri(reverse("interop:draft", args=[draft.pk])),
        "created": result.created,
        "mapped": result.reading.mapped,
        "not_mapped": result.reading.not_mapped,
    }


class FhirImportView(APIView):
    """Import a FHIR R4 Bundle: creates or updates the patient (matched by the centre's
    identifier system) and the patient's open draft case."""

    # Importing creates patients and case drafts: the clinicians' permissions.
    required_perms = {"POST": ("cases.add_patient", "cases.add_case", "interop.add_casedraft")}
    parser_classes = [FhirJSONParser, FhirPlusJSONParser]

    @extend_schema(
        request={"application/json": ImportInput, "application/fhir+json": ImportInput},
        responses={
            201: ImportOutput,
            200: OpenApiResponse(ImportOutput, description="The open draft was updated."),
            400: OpenApiResponse(
                description="Not a Bundle, a resource the FHIR models refuse, no patient "
                "identifier in the centre's system, a code that does not exist, or a bundle "
                "larger than 10 MiB (`detail`); nothing was saved. Each key names the part "
                "of the bundle."
            ),
            403: OpenApiResponse(description="Your role may not create cases."),
        },
        examples=[OpenApiExample("A patient", value=_BUNDLE_EXAMPLE, request_only=True)],
        operation_id="fhir_import",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = request.data
        if not isinstance(data, dict):
            raise ParseError("Send a FHIR Bundle (a JSON object).")
        try:
            result = fhir_import(user=request.user, data=data)
        except ImportRefused as exc:
            raise serializers.ValidationError(exc.reasons) from None
        return Response(
            import_answer(request, result),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class PlanDefinitionsView(APIView):
    """The published rules as FHIR PlanDefinitions (a Bundle, one per active rule version)."""

    required_perms = {"GET": ("guidelines.view_rule",)}  # every role reads the rules

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT, description="A FHIR R4 Bundle of PlanDefinitions."
            ),
            403: OpenApiResponse(description="Not logged in, or an account without a role."),
        },
        operation_id="guidelines_plandefinitions",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(_fhir_json(plandefinitions_bundle()))
