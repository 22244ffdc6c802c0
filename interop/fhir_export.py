"""A stored case as a FHIR R4 Bundle (type ``collection``): Patient, the lesion Condition,
Observations (CEAP, rVCSS and Villalta with their items, every other input of the rules,
per-segment findings with body site and IVUS values), a Procedure with a Device per implanted
stent for each procedure record, a CarePlan with the visit windows for each follow-up
schedule, and the guideline evaluation as a GuidanceResponse naming each rule, its value and
its citation.

Resources get stable ``urn:uuid`` addresses made from the site, the case and the resource, so
exporting a case twice gives the same identities.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.careplan import CarePlan, CarePlanActivity, CarePlanActivityDetail
from fhir.resources.R4B.device import Device, DeviceDeviceName, DeviceProperty
from fhir.resources.R4B.guidanceresponse import GuidanceResponse
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.parameters import Parameters, ParametersParameter
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.procedure import Procedure, ProcedureFocalDevice
from fhir.resources.R4B.reference import Reference

from cases.facts import case_facts
from cases.models import Case
from followup.models import Schedule, Visit, VisitState
from guidelines.selectors import recommendations_evaluate
from interop import codes
from interop.resources import (
    Writer,
    concept,
    day,
    finding_observations,
    local,
    quantity,
    score_observations,
)
from planning.models import ImplantedDevice, ProcedureRecord

_NAMESPACE = uuid.UUID("6f1f5a52-39a4-4d8e-9a59-0f3c0f6b6c11")
_VISIT_STATUS = {
    VisitState.PLANNED: "scheduled",
    VisitState.DONE: "completed",
    VisitState.CANCELLED: "cancelled",
}


class Addresses:
    """Stable ``urn:uuid`` addresses of one case's resources."""

    def __init__(self, case: Case) -> None:
        self.base = f"{settings.SITE_URL}/cases/{case.pk}/"

    def __call__(self, kind: str, key: Any) -> str:
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{self.base}{kind}/{key}')}"


def _entry(address: str, resource: Any) -> BundleEntry:
    resource.id = address.removeprefix("urn:uuid:")
    return BundleEntry(fullUrl=address, resource=resource)


def _records(case: Case) -> list[ProcedureRecord]:
    return list(
        ProcedureRecord.objects.filter(case=case)
        .order_by("performed_on", "id")
        .prefetch_related(
            Prefetch(
                "implants",
                queryset=ImplantedDevice.objects.select_related("device").order_by(
                    "position", "id"
                ),
            )
        )
    )


def _schedules(case: Case) -> list[Schedule]:
    return list(
        Schedule.objects.filter(case=case)
        .select_related("protocol")
        .prefetch_related(Prefetch("visits", queryset=Visit.objects.order_by("sequence")))
        .order_by("start_on", "id")
    )


def _procedure_entries(
    case: Case, address: Addresses, subject: Reference, condition: str
) -> list[BundleEntry]:
    entries = []
    for record in _records(case):
        devices = []
        for implant in record.implants.all():
            device_address = address("Device", implant.pk)
            device = Device(
                status="active",
                deviceName=[DeviceDeviceName(name=implant.device.name, type="model-name")],
                manufacturer=implant.device.manufacturer or None,
                lotNumber=implant.lot or None,
                modelNumber=implant.device.name,
                type=concept(text=implant.device.get_kind_display()),
                property=[
                    DeviceProperty(
                        type=concept(text="diameter"),
                        valueQuantity=[quantity(implant.diameter_mm, "mm")],
                    ),
                    DeviceProperty(
                        type=concept(text="length"),
                        valueQuantity=[quantity(implant.length_mm, "mm")],
                    ),
                ],
                patient=subject,
                note=None,
            )
            entries.append(_entry(device_address, device))
            devices.append((device_address, implant))
        procedure = Procedure(
            status="completed" if record.is_completed else "in-progress",
            code=concept(text="Iliocaval venous recanalisation and stenting"),
            subject=subject,
            performedDateTime=day(record.performed_on),
            reasonReference=[Reference(reference=condition)],
            bodySite=[
                concept(
                    local(codes.SEGMENT, implant.segment), text=f"{implant.segment} {implant.side}"
                )
                for _address, implant in devices
            ]
            or None,
            focalDevice=[
                ProcedureFocalDevice(
                    action=concept(text="implanted"),
                    manipulated=Reference(reference=device_address),
                )
                for device_address, _implant in devices
            ]
            or None,
            outcome=None
            if record.technical_success is None
            else concept(
                text="technical success" if record.technical_success else "technical failure"
            ),
            complication=[concept(text=name) for name in record.complications] or None,
        )
        entries.insert(
            len(entries) - len(devices), _entry(address("Procedure", record.pk), procedure)
        )
    return entries


def _careplan_entries(
    case: Case, address: Addresses, subject: Reference, condition: str
) -> list[BundleEntry]:
    entries = []
    for schedule in _schedules(case):
        plan = CarePlan(
            status="active",
            intent="plan",
            title=schedule.protocol.name,
            description=f"Follow-up after venous stenting ({schedule.get_entity_display()})",
            subject=subject,
            period=Period(start=day(schedule.start_on)),
            addresses=[Reference(reference=condition)],
            activity=[
                CarePlanActivity(
                    detail=CarePlanActivityDetail(
                        kind="Appointment",
                        code=concept(text=visit.get_kind_display()),
                        status=_VISIT_STATUS.get(VisitState(visit.state), "unknown"),
                        description=visit.label,
                        scheduledPeriod=Period(
                            start=day(visit.earliest_on), end=day(visit.latest_on)
                        ),
                    )
                )
                for visit in schedule.visits.all()
            ]
            or None,
        )
        entries.append(_entry(address("CarePlan", schedule.pk), plan))
    return entries


def guidance_response(
    facts: dict[str, Any], *, subject: Reference, now: dt.datetime
) -> GuidanceResponse:
    """The evaluation of ``facts`` under the published rules: every scored rule with its value
    and citation, and the overall status, as output parameters."""
    result, ruleset = recommendations_evaluate(facts=facts)
    sources = ruleset.sources
    parameters = [ParametersParameter(name="overall", valueCode=result["overall"])]
    for rule_id, outcome in result["rules"].items():
        definition = ruleset.definition(rule_id)
        source = sources.get(definition.get("source", ""), {})
        part = [
            ParametersParameter(name="rule", valueCode=rule_id),
            ParametersParameter(name="value", valueString=outcome["value"]),
        ]
        if source.get("citation"):
            part.append(ParametersParameter(name="citation", valueString=source["citation"]))
        if source.get("doi"):
            part.append(ParametersParameter(name="doi", valueString=source["doi"]))
        parameters.append(ParametersParameter(name="recommendation", part=part))
    output = Parameters(id="evaluation", parameter=parameters)
    return GuidanceResponse(
        contained=[output],
        requestIdentifier=Identifier(system=codes.RULE, value=f"ruleset-{ruleset.version}"),
        moduleUri=f"{settings.SITE_URL}/api/v1/guidelines/plandefinitions",
        status="success",
        subject=subject,
        occurrenceDateTime=now,
        outputParameters=Reference(reference="#evaluation"),
    )


def case_bundle(case: Case, *, now: dt.datetime | None = None) -> Bundle:
    """The case as a FHIR R4 ``collection`` Bundle."""
    now = now or timezone.now()
    address = Addresses(case)
    patient_address = address("Patient", case.patient_id)
    writer = Writer(
        patient_id=patient_address.removeprefix("urn:uuid:"),
        today=case.case_date,
        subject=patient_address,
    )
    patient = case.patient
    findings = list(case.findings.all())
    facts = case_facts(case, findings)
    entries = [
        _entry(
            patient_address,
            writer.patient(
                sex=patient.sex,
                birth_date=patient.date_of_birth,
                identifier=(patient.centre.patient_system, patient.identifier),
                name=patient.name,
                phone=patient.phone,
                email=patient.email,
            ),
        )
    ]
    condition_address = address("Condition", "lesion")
    entries.append(
        _entry(
            condition_address,
            writer.condition(
                entity=case.lesion_entity,
                side=case.side,
                onset=case.symptom_onset_date,
                recorded=case.case_date,
                entity_label=str(case.get_lesion_entity_display()),
            ),
        )
    )
    observations = [
        *writer.simple_facts(facts),
        *writer.bleeding(facts["bleeding_risk"]),
        *score_observations(writer, case),
        *finding_observations(writer, findings),
    ]
    entries.extend(_entry(address("Observation", o.id), o) for o in observations)
    entries.extend(_procedure_entries(case, address, writer.subject, condition_address))
    entries.extend(_careplan_entries(case, address, writer.subject, condition_address))
    entries.append(
        _entry(
            address("GuidanceResponse", "evaluation"),
            guidance_response(facts, subject=writer.subject, now=now),
        )
    )
    return Bundle(
        type="collection",
        timestamp=now,
        identifier=Identifier(system=f"{settings.SITE_URL}/cases", value=str(case.pk)),
        entry=entries,
    )
