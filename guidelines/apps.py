from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _reevaluate_after_migrate(**kwargs: Any) -> None:
    """A deploy runs ``migrate``: stored overall statuses that a rule or engine change made
    stale are re-evaluated then, without anyone having to remember a command."""
    from guidelines.services.reevaluation import reevaluation_after_migrate

    reevaluation_after_migrate()


class GuidelinesConfig(AppConfig):
    name = "guidelines"
    verbose_name = "Guidelines"

    def ready(self) -> None:
        # Registers the rule-set system checks (guidelines.E001...), connects the per-request
        # rule-set cache to the request signals and registers the Celery tasks the services
        # hand jobs to by name.
        from cases import extensions
        from guidelines import checks, ruleset, tasks  # noqa: F401 (registered on import)
        from guidelines.decisions.views import recommendations_context
        from guidelines.selectors import overall_evaluate, overall_status

        # The case's stored overall status and the case page's recommendations panel.
        extensions.overall_register(evaluator=overall_evaluate, reader=overall_status)
        extensions.case_page_section_register("recommendations", recommendations_context)

        # post_migrate is sent per app once every migration has run; this app's is enough.
        post_migrate.connect(
            _reevaluate_after_migrate,
            sender=self,
            dispatch_uid="guidelines.reevaluate_after_migrate",
        )
