from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_reference_data(sender: Any = None, apps: Any = None, **kwargs: Any) -> None:
    """post_migrate: the default protocols and the sweep's beat entry exist on every database.

    Migration 0003 creates the protocols; the sweep's entry is made here alone (migration 0004
    leaves it to this handler). A ``flush`` (between transactional tests) empties the tables
    and Django re-emits post_migrate, as ``venousapp.accounts.roles.sync_roles`` relies on.
    Both helpers only create what is missing.
    """
    from django.apps import apps as global_apps

    from followup.beat import sweep_schedule_ensure
    from followup.services.protocols import protocols_ensure_defaults

    apps = apps or global_apps  # flush sends no migration state
    try:
        apps.get_model("followup", "ProtocolVisit")
        apps.get_model("django_celery_beat", "PeriodicTask")
    except LookupError:  # migrated backwards
        return
    state = None if apps is global_apps else apps  # real models keep history themselves
    protocols_ensure_defaults(apps=state)
    sweep_schedule_ensure(apps=state)


def tell_approvers(
    sender: Any = None, version: Any = None, submitted_by: Any = None, **kwargs: Any
) -> None:
    """guidelines.signals.version_submitted (after commit): notices for the other guideline
    admins, in the app and by e-mail."""
    from followup import notifications

    notifications.approval_requested(version=version, submitted_by=submitted_by)


def schedule_on_completion(
    sender: Any = None, record: Any = None, now: Any = None, **kwargs: Any
) -> None:
    """planning.signals.procedure_completed (inside the completing transaction): the
    procedure's surveillance schedule. A ValidationError here undoes the completion."""
    from followup.services.schedules import followup_schedule_create

    followup_schedule_create(procedure=record, now=now)


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = "Follow-up"

    def ready(self) -> None:
        from followup import tasks  # noqa: F401 (the services hand work to them by name)
        from guidelines.signals import version_submitted
        from planning.signals import procedure_completed

        post_migrate.connect(
            ensure_reference_data, sender=self, dispatch_uid="followup.ensure_reference_data"
        )
        version_submitted.connect(tell_approvers, dispatch_uid="followup.tell_approvers")
        procedure_completed.connect(
            schedule_on_completion, dispatch_uid="followup.schedule_on_completion"
        )
