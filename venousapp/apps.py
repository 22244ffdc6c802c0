from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class VenousappConfig(AppConfig):
    name = "venousapp"

    def ready(self) -> None:
        """The zero-setup filesystem broker of ``make run`` (no REDIS_URL) needs its folders
        before the first task is sent or received; reading the settings creates nothing."""
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
                Path(str(options[key])).mkdir(parents=True, exist_ok=True)
            Path(settings.CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(
                parents=True, exist_ok=True
            )
