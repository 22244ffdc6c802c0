from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db import connections
from django.db.models.signals import post_migrate


def _generation_prepare(using: str, **kwargs: Any) -> None:
    from venousapp.generation import generation_prepare

    generation_prepare(connections[using])


class VenousappConfig(AppConfig):
    name = "venousapp"

    def ready(self) -> None:
        """After every ``migrate`` and ``flush``, the data's generation is counted on every
        table (``venousapp.generation``; post_migrate is sent per app once every migration
        has run, so this app's is enough).

        The zero-setup filesystem broker of ``make run`` (no REDIS_URL) needs its folders
        before the first task is sent or received; reading the settings creates nothing."""
        post_migrate.connect(
            _generation_prepare, sender=self, dispatch_uid="venousapp.generation_prepare"
        )
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
                Path(str(options[key])).mkdir(parents=True, exist_ok=True)
            Path(settings.CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(
                parents=True, exist_ok=True
            )
