"""What the apps above ``cases`` contribute to it, registered when they load (their
``AppConfig.ready``), so that ``cases`` never imports them.

- The overall status of a case is stored on the case, but the guideline engine computes it:
  the guidelines app registers the function that evaluates a case's facts (used when a case
  is saved) and the one that tells a list whether a stored status is still current.
- The case page shows sections that belong to other apps (the recommendations panel and the
  signed decisions): each registers a function that adds its part to the page's context.

Stylesheets are not registered here. The recommendations panel's styles are part of the shared
``app.css``; the planning section and the follow-up panel are the planning and followup apps'
template tags, which the case page's template names itself, so it names their stylesheets in
its ``head`` block next to them. A registry of stylesheets would be a second list of the same
two sections, kept in step with the template by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from cases.models import Case
    from venousapp.accounts.requests import AuthenticatedHttpRequest

Facts = dict[str, Any]


class OverallEvaluator(Protocol):
    def __call__(self, *, facts: Facts) -> tuple[str, int, int]:
        """(status code, rule-set number, engine version) of ``facts`` as published now."""


class OverallReader(Protocol):
    def __call__(
        self,
        *,
        stored: str | None,
        evaluated_ruleset: int | None,
        evaluated_engine: int | None,
        facts: Callable[[], Facts],
    ) -> Any:
        """The status a list shows: the stored one while current, else evaluated now."""


class CasePageSection(Protocol):
    def __call__(
        self, request: AuthenticatedHttpRequest, *, case: Case, facts: Facts
    ) -> dict[str, Any]:
        """This app's part of the case page's template context."""


@dataclass
class _Registry:
    evaluator: OverallEvaluator | None = None
    reader: OverallReader | None = None
    sections: dict[str, CasePageSection] = field(default_factory=dict)


_registry = _Registry()


def overall_register(*, evaluator: OverallEvaluator, reader: OverallReader) -> None:
    _registry.evaluator, _registry.reader = evaluator, reader


def case_page_section_register(name: str, section: CasePageSection) -> None:
    """Add (or replace, by ``name``) a section of the case page."""
    _registry.sections[name] = section


def _needed(value: Any, what: str) -> Any:
    if value is None:
        raise ImproperlyConfigured(f"No app registered {what} (is 'guidelines' installed?).")
    return value


def overall_evaluate(*, facts: Facts) -> tuple[str, int, int]:
    evaluator: OverallEvaluator = _needed(_registry.evaluator, "the overall evaluation")
    return evaluator(facts=facts)


def overall_status(
    *,
    stored: str | None,
    evaluated_ruleset: int | None,
    evaluated_engine: int | None,
    facts: Callable[[], Facts],
) -> Any:
    reader: OverallReader = _needed(_registry.reader, "the overall status reader")
    return reader(
        stored=stored,
        evaluated_ruleset=evaluated_ruleset,
        evaluated_engine=evaluated_engine,
        facts=facts,
    )


def case_page_context(
    request: AuthenticatedHttpRequest, *, case: Case, facts: Facts
) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for section in _registry.sections.values():
        context.update(section(request, case=case, facts=facts))
    return context
