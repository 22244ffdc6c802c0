"""One object of every kind a URL or an API operation addresses, in centre A (the personas'
centre, tests/conftest.py), made on first use through the services: the persona × URL matrix
and the API contract test make only what the URL in hand needs.

The cases are the named scenarios of tests/scenarios.py; a procedure is completed 100 days
ago, so its follow-up schedule has a done visit (an occluded segment: an open escalation)
and a visit due now.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.utils import timezone

from cases.facts import case_facts
from cases.models import Case, Patient
from followup.models import Escalation, Notification, PatencyReport, Protocol, Schedule, Visit
from followup.services.reports import patency_report_queue
from followup.services.results import visit_result_record
from guidelines.decisions import services as decision_services
from guidelines.decisions.snapshot import card_rule_ids
from guidelines.engine import evaluate
from guidelines.models import Decision, ImpactPreview, RuleTestCase, RuleVersion
from guidelines.ruleset import current_ruleset
from guidelines.services import authoring
from interop.fhir_import import fhir_import
from interop.models import CaseDraft, CdsClient
from planning import services as planning_services
from planning.models import (
    ChecklistItem,
    ChecklistTemplate,
    Device,
    DeviceSize,
    ProcedurePlan,
    ProcedureRecord,
)
from tests.guidelines.rule_admin import ETR03, onset_draft
from tests.scenarios import scenario_case_create
from venousapp.accounts.models import User


class World:
    """``World(clinician=..., nurse=..., guideline_admin=...)``; each attribute is made (with
    what it needs) when first read."""

    rule_id = ETR03

    def __init__(self, *, clinician: User, nurse: User, guideline_admin: User) -> None:
        self.clinician, self.nurse, self.guideline_admin = clinician, nurse, guideline_admin
        self.today = timezone.localdate()

    def scenario_case(self, name: str) -> Case:
        return scenario_case_create(
            name, centre=self.clinician.centre, author=self.clinician, today=self.today
        )

    # --- cases and decisions ---------------------------------------------------------------

    @cached_property
    def patient(self) -> Patient:
        return self.case.patient

    @cached_property
    def case(self) -> Case:
        """The case of the draft plan (a symptomatic NIVL)."""
        return self.plan.case

    @cached_property
    def decision(self) -> Decision:
        result = evaluate(case_facts(self.case), current_ruleset())
        feedback = {
            rule_id: {"action": "accepted", "reason": "", "comment": ""}
            for rule_id in card_rule_ids(result)
        }
        return decision_services.decision_sign(
            case=self.case, signed_by=self.clinician, feedback=feedback
        )

    # --- planning ----------------------------------------------------------------------------

    @cached_property
    def plan(self) -> ProcedurePlan:
        """A draft plan with its checklist."""
        return planning_services.plan_create(case=self.scenario_case("nivl"), author=self.clinician)

    @cached_property
    def item(self) -> ChecklistItem:
        return self.plan.items.order_by("pk").first()

    @cached_property
    def signed_plan(self) -> ProcedurePlan:
        plan = planning_services.plan_create(case=self.scenario_case("ivc"), author=self.clinician)
        return planning_services.plan_sign(plan=plan, user=self.clinician)

    @cached_property
    def record(self) -> ProcedureRecord:
        """The open procedure record of the signed plan."""
        return planning_services.procedure_record_create(
            case=self.signed_plan.case,
            plan=self.signed_plan,
            author=self.clinician,
            data={
                "performed_on": self.today,
                "operators": "Alice",
                "access_used": "left CFV",
                "antithrombotic_regimen": "LMWH",
                "follow_up_entity": "ivc_reconstruction",
                "technical_success": True,
            },
        )

    @cached_property
    def device(self) -> Device:
        return Device.objects.get(code="venovo")

    @cached_property
    def size(self) -> DeviceSize:
        return self.device.sizes.order_by("pk").first()

    @cached_property
    def template(self) -> ChecklistTemplate:
        return ChecklistTemplate.objects.get(scenario="nivl_stenting", retired_at=None)

    # --- follow-up ---------------------------------------------------------------------------

    @cached_property
    def schedule(self) -> Schedule:
        stent = Device.objects.filter(kind="stent").order_by("pk").first()
        record = planning_services.procedure_record_create(
            case=self.scenario_case("chronic"),
            author=self.clinician,
            data={
                "performed_on": self.today - dt.timedelta(days=100),
                "operators": "Dr Test",
                "access_used": "Right CFV",
                "technical_success": True,
                "antithrombotic_regimen": "DOAC",
                "follow_up_entity": "post_thrombotic",
            },
            implants=[
                {
                    "segment": segment,
                    "side": "left",
                    "device": stent,
                    "diameter_mm": Decimal("14.0"),
                    "length_mm": 90,
                }
                for segment in ("CIV", "EIV")
            ],
        )
        planning_services.procedure_record_complete(record=record, user=self.clinician)
        return Schedule.objects.get(procedure=record)

    @cached_property
    def followed_case(self) -> Case:
        """The case of the schedule."""
        return self.schedule.case

    @cached_property
    def visit(self) -> Visit:
        """The visit due now (3 months)."""
        return self.schedule.visits.get(label="3 months")

    @cached_property
    def done_visit(self) -> Visit:
        """The 6-week visit, done: the left CIV occluded."""
        visit = self.schedule.visits.get(label="6 weeks")
        visit_result_record(
            visit=visit,
            user=self.nurse,
            data={"performed_on": self.today - dt.timedelta(days=55)},
            segments=[
                {"segment": "CIV", "side": "left", "patency": "occluded"},
                {"segment": "EIV", "side": "left", "patency": "patent"},
            ],
        )
        return visit

    @cached_property
    def escalation(self) -> Escalation:
        return Escalation.objects.get(visit=self.done_visit)

    @cached_property
    def notification(self) -> Notification:
        """Nina's notice of the visit due now."""
        return Notification.objects.create(
            recipient=self.nurse,
            kind="window_open",
            title="Due",
            url=f"/followup/visits/{self.visit.pk}/",
            visit=self.visit,
            created_at=timezone.now(),
        )

    @cached_property
    def protocol(self) -> Protocol:
        return Protocol.objects.get(entity="nivl", retired_at__isnull=True)

    @cached_property
    def patency_report(self) -> PatencyReport:
        return patency_report_queue(user=self.clinician)

    # --- guidelines --------------------------------------------------------------------------

    @cached_property
    def draft(self) -> RuleVersion:
        """Gustav's draft of the next version of ETR-03, with a test case."""
        version = onset_draft(self.guideline_admin)
        authoring.rule_test_case_create(
            version=version,
            user=self.guideline_admin,
            name="18 days",
            facts={"lesion_entity": "acute_thrombotic", "symptom_onset_days": 18},
            expected="consider",
        )
        return version

    @cached_property
    def test_case(self) -> RuleTestCase:
        return self.draft.test_cases.order_by("pk").last()

    @cached_property
    def impact_preview(self) -> ImpactPreview:
        return ImpactPreview.objects.create(
            rule_version=self.draft, requested_by=self.guideline_admin
        )

    @cached_property
    def case_draft(self) -> CaseDraft:
        """A draft case imported from a FHIR Bundle (a patient only)."""
        patient = {
            "resourceType": "Patient",
            "identifier": [{"system": self.clinician.centre.patient_system, "value": "FHIR-1"}],
            "gender": "female",
            "birthDate": "1980-01-01",
        }
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}]}
        return fhir_import(user=self.clinician, data=bundle).draft

    @cached_property
    def cds_client(self) -> CdsClient:
        return CdsClient.objects.create(
            name="Hospital record",
            issuer="https://ehr.example.org",
            jwks_url="https://ehr.example.org/.well-known/jwks.json",
            centre=self.clinician.centre,
        )

    def key(self, attr: str) -> Any:
        """How a URL names the object ``attr``: its pk (a version: its number)."""
        value = getattr(self, attr)
        if isinstance(value, RuleVersion):
            return value.number
        return getattr(value, "pk", value)

    def ids(self, **names: str) -> dict[str, Any]:
        """``ids(pk="plan")`` -> {"pk": <the plan's pk>}: URL arguments by attribute name."""
        return {arg: self.key(attr) for arg, attr in names.items()}
