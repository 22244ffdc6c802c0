"""The CDS Hooks 2.0 service: discovery, the ``patient-view`` service and its feedback.

The service maps the prefetched Patient, Conditions and Observations (or, without a prefetch,
the same fetched from ``fhirServer`` with the given token) to the facts document, evaluates it
exactly as ``POST /api/v1/evaluate`` does, and answers one card per recommendation that
applies: ``critical`` for a contraindication, ``warning`` for a guideline that advises against
what another supports, ``info`` otherwise. Card texts are translated; the source and its
address are the guideline's; the link opens (or creates) the patient's case in venousapp.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.client
import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

import pydantic
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir_core.utils import is_list_type, is_primitive_type
from pydantic_core import InitErrorDetails, PydanticCustomError

from cases import thrombolysis
from guidelines.engine import evaluate_with_warnings
from guidelines.models import OverrideReason
from guidelines.presentation import DEFER_REASONS, Card, panel
from guidelines.ruleset import current_ruleset
from interop import codes
from interop.jwt_auth import IssuedCards
from interop.mapping import read_resources
from interop.models import CdsClient, HookCall

SERVICE_ID = "venousapp-patient-view"
HOOK = "patient-view"
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
}
# The FHIR id datatype: what context.patientId may be, and so what the fetch queries hold.
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
FETCH_TIMEOUT = 5  # seconds per request to the caller's FHIR server
FETCH_MAX_BYTES = 10 * 1024 * 1024
SUMMARY_MAX = 140
# Rules whose "against" is a contraindication (thrombolysis, the device, pregnancy).
CONTRAINDICATION_RULES = frozenset(
    {"SIR-2014-QI-CONTRA", "DEV-IFU-CONTRA", "PRACTICE-PREGNANCY-DEFER"}
)
OVERRIDE_SYSTEM = codes.LOCAL + "override-reason"


class PrefetchUnusable(Exception):
    """The patient's data could not be read or mapped (CDS Hooks: 412)."""


class BadRequest(Exception):
    """The request is not a CDS Hooks call of this service (400)."""


def discovery() -> dict[str, Any]:
    return {
        "services": [
            {
                "hook": HOOK,
                "id": SERVICE_ID,
                "title": _("venousapp recommendations"),
                "description": _(
                    "Guideline recommendations for iliocaval venous recanalisation (acute DVT, "
                    "post-thrombotic obstruction, non-thrombotic iliac vein lesions) from the "
                    "patient's conditions and observations."
                ),
                "prefetch": PREFETCH,
            }
        ]
    }


# --- the patient's data ---------------------------------------------------------------------


def _fetch(server: str, token: str | None, query: str) -> Any:
    """GET ``query`` from the caller's FHIR server with its token (http(s) only, with a
    timeout and a size limit). The standard library's client: ``requests`` is not among
    the product's dependencies (only the tests'), and one GET needs nothing more."""
    if not server.startswith(("https://", "http://")):
        raise PrefetchUnusable(_("fhirServer must be an http(s) address."))
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    # The scheme is checked above: http or https only.
    request = urllib.request.Request(f"{server.rstrip('/')}/{query}", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            payload = response.read(FETCH_MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise PrefetchUnusable(
            _("The FHIR server answered %(status)s to %(query)s.")
            % {"status": exc.code, "query": query}
        ) from None
    # also an address or a token the HTTP client refuses to send (line breaks, say)
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise PrefetchUnusable(
            _("The FHIR server could not be reached: %(e)s") % {"e": exc}
        ) from None
    if len(payload) > FETCH_MAX_BYTES:
        raise PrefetchUnusable(_("The FHIR server's answer is larger than 10 MiB."))
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        raise PrefetchUnusable(_("The FHIR server did not answer JSON.")) from None


def patient_data(body: Mapping[str, Any], patient_id: str) -> dict[str, Any]:
    """The three prefetch entries: from the request, else fetched from ``fhirServer``."""
    prefetch = body.get("prefetch") or {}
    if not isinstance(prefetch, dict):
        raise PrefetchUnusable(_("prefetch must be an object."))
    data = {key: prefetch.get(key) for key in PREFETCH}
    missing = [key for key, value in data.items() if value is None]
    if missing:
        server = body.get("fhirServer")
        if not isinstance(server, str):
            raise PrefetchUnusable(_("No prefetch and no fhirServer to fetch it from."))
        auth = body.get("fhirAuthorization") or {}
        token = auth.get("access_token") if isinstance(auth, dict) else None
        for key in missing:
            data[key] = _fetch(
                server, token, PREFETCH[key].replace("{{context.patientId}}", patient_id)
            )
    return data


# The resources a search Bundle of the prefetch may hold that the mapping reads, and the
# elements of each it reads (with those the model requires). Only these are validated: a
# record's narrative, notes or reference ranges are not the service's concern and must not
# fail a call, and validating every element of every resource was most of a call's time.
RESOURCE_MODELS: dict[str, Any] = {"Condition": Condition, "Observation": Observation}
USED_ELEMENTS = {
    "Patient": ("resourceType", "id", "identifier", "gender", "birthDate", "name", "telecom"),
    "Condition": (
        "resourceType",
        "id",
        "subject",
        "code",
        "bodySite",
        "onsetDateTime",
        "recordedDate",
    ),
    "Observation": (
        "resourceType",
        "id",
        "status",
        "code",
        "bodySite",
        "method",
        "component",
        "dataAbsentReason",
        *(
            f"value{kind}"
            for kind in ("Boolean", "Integer", "Quantity", "CodeableConcept", "String")
        ),
    ),
}


def _complex_lists(model: Any) -> tuple[tuple[str, str], ...]:
    """The elements of ``model`` that are lists of complex types, as (name, key in the data)
    (fhir_core's rule: a primitive list's nulls line values up with their extensions)."""
    return tuple(
        (name, field.alias or name)
        for name, field in model.model_fields.items()
        if is_list_type(field) and not is_primitive_type(field) and not name.endswith("__ext")
    )


@functools.cache
def validated_model(resource_type: str) -> Any:
    """The model the service validates a ``resource_type`` with: the library's, whose check
    for a null in a list of complex elements (``reject_null_complex_elements``) reads the
    list of such elements once instead of classifying every element the type defines for
    each resource (most of the validators' time in a prefetch). Same errors, same models."""
    model = {"Patient": Patient, **RESOURCE_MODELS}[resource_type]
    lists = _complex_lists(model)

    def reject_null_complex_elements(cls: Any, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        errors: list[InitErrorDetails] = []
        for name, alias in lists:
            key = alias if alias in data else name
            value = data.get(key)
            if isinstance(value, list) and any(item is None for item in value):
                message = "None is not allowed as an element of {field}"
                errors.append(
                    {
                        "type": PydanticCustomError("list_type", message, {"field": key}),
                        "loc": (key,),
                        "input": value,
                    }
                )
        if errors:
            raise pydantic.ValidationError.from_exception_data(cls.__name__, errors)
        return data

    check = pydantic.model_validator(mode="before")(reject_null_complex_elements)
    return pydantic.create_model(
        model.__name__,
        __base__=model,
        __module__=__name__,
        # a decorated validator, which the annotation of create_model does not name
        __validators__=cast(dict[str, Callable[..., Any]], {"reject_null_complex_elements": check}),
    )


# The coded elements of a resource come from bounded vocabularies (the product's code
# systems, LOINC, SNOMED CT): each distinct one is validated once per process, then the
# validated element is shared (the mapping only reads it). Keyed by its whole content, so
# any difference is validated afresh; a coding that fails validation is never kept.
CONCEPT_ELEMENTS = frozenset({"code", "bodySite", "method", "valueCodeableConcept"})
CONCEPTS_KEEP = 4096
_concepts: dict[str, CodeableConcept] = {}


def _concept(value: Any) -> Any:
    if isinstance(value, list):  # a Condition's body sites
        return [_concept(item) for item in value]
    if not isinstance(value, dict):
        return value  # the resource's own validation names what is wrong
    key = repr(value)  # JSON values: the same text is the same content
    concept = _concepts.get(key)
    if concept is None:
        concept = CodeableConcept(**value)
        if len(_concepts) >= CONCEPTS_KEEP:
            _concepts.clear()
        _concepts[key] = concept
    return concept


def _used(resource: dict[str, Any]) -> dict[str, Any]:
    wanted = USED_ELEMENTS[str(resource.get("resourceType"))]
    return {
        name: _concept(value) if name in CONCEPT_ELEMENTS else value
        for name, value in resource.items()
        if name in wanted
    }


# Whole resources likewise: an EHR sends a patient's record again each time her chart is
# opened, and validating it is most of a call's work. The same content (keyed by all of it)
# is the model validated before, kept in this process's memory only; any difference is
# validated afresh, and a resource that fails validation is never kept.
RESOURCES_KEEP = 4096
_kept_resources: dict[str, Any] = {}


def _validated(kind: str, resource: dict[str, Any]) -> Any:
    """``resource`` (of type ``kind``) validated by its model (``validated_model``)."""
    key = repr(resource)
    model = _kept_resources.get(key)
    if model is None:
        model = validated_model(kind)(**_used(resource))
        if len(_kept_resources) >= RESOURCES_KEEP:
            _kept_resources.clear()
        _kept_resources[key] = model
    return model


def _entries(bundle: Any) -> list[Any]:
    """The resources of a search Bundle, each validated by its own model: the Bundle's
    envelope is validated without them, which skips the models' lookup of every entry's
    type and halves the work of a prefetch (the hook's largest cost). Each model is validated
    through its constructor: the FHIR models define their own ``__init__``, so
    ``model_validate`` ran their validators twice, the constructor once."""
    if not isinstance(bundle, dict):
        raise TypeError("a prefetch search result must be a Bundle")
    entries = bundle.get("entry") or []
    Bundle(**{**bundle, "entry": None})
    if not isinstance(entries, list):
        raise TypeError("Bundle.entry must be a list")
    out = []
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise TypeError("a Bundle entry without a resource")
        kind = str(resource.get("resourceType"))
        if kind in RESOURCE_MODELS:
            out.append(_validated(kind, resource))
    return out


def _resources(data: Mapping[str, Any]) -> list[Any]:
    try:
        patient = data["patient"]
        if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
            raise TypeError("the patient prefetch must be a Patient")
        resources: list[Any] = [_validated("Patient", patient)]
        for key in ("conditions", "observations"):
            resources.extend(_entries(data[key]))
    except (pydantic.ValidationError, KeyError, TypeError, ValueError) as exc:
        raise PrefetchUnusable(
            _("The prefetched data are not valid FHIR: %(e)s") % {"e": exc}
        ) from None
    return resources


# --- cards ---------------------------------------------------------------------------------


def _indicator(card: Card, conflicts: set[str]) -> str:
    if card.rule_id in CONTRAINDICATION_RULES and card.value == "against":
        return "critical"
    if card.rule_id in conflicts:
        return "warning"
    return "info"


def _clip(text: str) -> str:
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


def _summary(card: Card, facts: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    if card.rule_id == "SIR-2014-QI-CONTRA" and card.value == "against":
        bleeding = facts.get("bleeding_risk") or {}
        reading = thrombolysis.read(
            recorded=bleeding.get("contraindication_class"),
            factors=bleeding.get("factors"),
            pregnancy=facts.get("pregnancy"),
        )
        what = ", ".join(_(label) for label in reading.labels)
        kind = {"absolute": _("absolute"), "relative": _("relative")}.get(
            result.get("cdt_contraindication") or "", ""
        )
        return _clip(
            _("Thrombolysis contraindicated (%(kind)s): %(what)s") % {"kind": kind, "what": what}
            if what
            else _("Thrombolysis contraindicated (%(kind)s)") % {"kind": kind}
        )
    if card.rule_id in DEFER_REASONS and card.value == "against":
        return _clip(_("Contraindication: %(reason)s") % {"reason": DEFER_REASONS[card.rule_id]})
    return _clip(f"{card.value_label}: {card.text}")


def _detail(card: Card) -> str:
    lines = [card.text, ""]
    if card.missing_label:
        lines.append(_("Missing to decide: %(field)s") % {"field": card.missing_label})
    for criterion in card.criteria:
        lines.append(f"- **{criterion.status_label}**: {criterion.label}")
    lines.extend(f"\n{note}" for note in card.notes)
    lines.append("")
    lines.append(f"{card.society} {card.year or ''}: {card.strength}. {card.citation}".strip())
    return "\n".join(lines)


def _source(card: Card) -> dict[str, Any]:
    label = f"{card.society} {card.year}" if card.year else card.society or "venousapp"
    source: dict[str, Any] = {"label": label}
    if card.link:
        source["url"] = card.link
    return source


@functools.lru_cache(maxsize=16)
def _override_reasons(language: str | None) -> list[dict[str, str]]:
    """The coded override reasons in ``language`` (the product's, as the case page offers)."""
    return [
        {"code": reason.value, "system": OVERRIDE_SYSTEM, "display": str(reason.label)}
        for reason in OverrideReason
    ]


HALF = 64
LOW_HALF = (1 << HALF) - 1


def card_prefix() -> uuid.UUID:
    """The first half of a call's card uuids: a random (version 4) uuid's, second half 0."""
    return uuid.UUID(int=uuid.uuid4().int & ~LOW_HALF)


def card_id(prefix: uuid.UUID) -> uuid.UUID:
    """A card's uuid: its call's prefix, then the random second half of a version 4 uuid (so
    the whole is a version 4 uuid too)."""
    return uuid.UUID(int=prefix.int | (uuid.uuid4().int & LOW_HALF))


def prefix_of(card: uuid.UUID) -> uuid.UUID:
    return uuid.UUID(int=card.int & ~LOW_HALF)


def cards_answered(client: CdsClient, cards: list[uuid.UUID]) -> IssuedCards:
    """The cards among ``cards`` that the service answered to ``client``, by uuid: found by
    their calls' prefix, and for cards answered before calls had one (migration 0003) by
    their uuid in the calls without a prefix."""
    answered: IssuedCards = {}
    calls = HookCall.objects.filter(client=client)
    prefixes = {prefix_of(card) for card in cards}
    for found in calls.filter(card_prefix__in=prefixes).values_list("cards", flat=True):
        answered.update(found)
    earlier = [str(card) for card in cards if str(card) not in answered]
    if earlier:
        before = calls.filter(card_prefix__isnull=True).exclude(cards={})
        for found in before.filter(cards__has_any_keys=earlier).values_list("cards", flat=True):
            answered.update(found)
    return {str(card): answered[str(card)] for card in cards if str(card) in answered}


@dataclass(frozen=True)
class Answer:
    cards: list[dict[str, Any]]
    issued: IssuedCards  # recorded with the call (``jwt_auth.claim``)
    card_prefix: uuid.UUID  # the first half of every card's uuid
    facts: dict[str, Any]
    result: dict[str, Any]


def service_call(*, body: Mapping[str, Any], client: CdsClient) -> Answer:
    """Evaluate the patient of a ``patient-view`` call and answer its cards."""
    context = body.get("context") or {}
    patient_id = context.get("patientId") if isinstance(context, dict) else None
    if not isinstance(patient_id, str) or not patient_id:
        raise BadRequest(_("context.patientId is required."))
    if not FHIR_ID.fullmatch(patient_id):
        raise BadRequest(
            _("context.patientId must be a FHIR id: letters, digits, - and ., at most 64.")
        )
    centre = client.centre
    data = patient_data(body, patient_id)
    reading = read_resources(
        _resources(data), today=centre.today(), identifier_system=centre.patient_system
    )
    if reading.errors:
        raise PrefetchUnusable("; ".join(reading.errors))
    ruleset = current_ruleset()
    result = evaluate_with_warnings(reading.facts, ruleset)
    shown = panel(result, ruleset)
    conflicts = {card.rule_id for card in shown.conflicts}
    identifier = reading.patient.get("identifier")
    link = settings.SITE_URL.rstrip("/") + reverse("interop:open")
    if identifier:
        link += "?" + urlencode({"patient": identifier})
    reasons = _override_reasons(get_language())
    open_label = _("Open the case in venousapp")
    cards: list[dict[str, Any]] = []
    issued: IssuedCards = {}
    prefix = card_prefix()
    for card in shown.cards:
        card_uuid = str(card_id(prefix))
        indicator = _indicator(card, conflicts)
        cards.append(
            {
                "uuid": card_uuid,
                "summary": _summary(card, reading.facts, result),
                "indicator": indicator,
                "detail": _detail(card),
                "source": _source(card),
                "links": [{"label": open_label, "url": link, "type": "absolute"}],
                "overrideReasons": reasons,
            }
        )
        issued[card_uuid] = {
            "rule_id": card.rule_id,
            "value": result["rules"][card.rule_id]["value"],
            "indicator": indicator,
        }
    return Answer(
        cards=cards, issued=issued, card_prefix=prefix, facts=reading.facts, result=result
    )


PRUNE_BATCH = 1000


def calls_prune(*, now: dt.datetime | None = None) -> int:
    """Remove the calls (with the cards they answered) older than ``CDS_HOOKS_CALLS_KEEP_DAYS``
    whose token has expired (until then its jti must be refused a second time), in batches so
    no transaction holds many rows. Returns how many calls were removed."""
    now = now or timezone.now()
    old = HookCall.objects.filter(
        called_at__lt=now - dt.timedelta(days=settings.CDS_HOOKS_CALLS_KEEP_DAYS),
        expires_at__lt=now,
    )
    removed = 0
    while ids := list(old.values_list("pk", flat=True)[:PRUNE_BATCH]):
        removed += HookCall.objects.filter(pk__in=ids).delete()[1].get("interop.HookCall", 0)
    return removed
