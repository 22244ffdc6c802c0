from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _

PRUNE_TASK = "interop.calls_prune"
PRUNE_NAME = "interop: prune CDS Hooks calls"


def prune_schedule_ensure(sender: Any = None, **kwargs: Any) -> None:
    """post_migrate: the daily removal of old CDS Hooks calls is scheduled on every database."""
    from venousapp.beat import periodic_task_ensure

    periodic_task_ensure(
        name=PRUNE_NAME,
        task=PRUNE_TASK,
        every=1,
        period="days",
        description="Removes the CDS Hooks calls (with the cards they answered) whose token has "
        "expired and that are older than CDS_HOOKS_CALLS_KEEP_DAYS.",
    )


class InteropConfig(AppConfig):
    """Hospital interfaces: FHIR R4 export and import, a CDS Hooks service and the rule set
    as FHIR PlanDefinitions. The top layer: it reads and writes the other apps through their
    selectors and services, and nothing but the URL configuration imports it."""

    name = "interop"
    verbose_name = _("Hospital interfaces")

    def ready(self) -> None:
        from interop import tasks  # noqa: F401 (registered with Celery on import)
        from interop.jwt_auth import registrations_forget
        from interop.models import CdsClient, HookCall
        from venousapp import generation
        from venousapp.accounts.models import Centre

        # One row per CDS Hooks call (the replay guard and the cards its feedback names): no
        # page shows them, so they do not make kept pages useless (venousapp/generation.py).
        generation.uncounted(HookCall)

        post_migrate.connect(
            prune_schedule_ensure, sender=self, dispatch_uid="interop.prune_schedule_ensure"
        )
        # A client or centre changed in this process: its calls read them again (other
        # processes find out when they record a call: jwt_auth.claim).
        for signal in (post_save, post_delete):
            for model in (CdsClient, Centre):
                signal.connect(
                    registrations_forget,
                    sender=model,
                    dispatch_uid=f"interop.registrations_forget.{model.__name__}",
                )
