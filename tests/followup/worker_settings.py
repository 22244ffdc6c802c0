"""Settings of the Celery worker the follow-up tests start: the test settings, plus real SMTP
to the fake server the test process runs (tests/followup/mail.py) and a queue of its own (so
no other test worker, which would deliver to its in-memory outbox, takes these tasks)."""

import os

from venousapp.settings_test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["FOLLOWUP_SMTP_PORT"])
EMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""
EMAIL_USE_TLS = EMAIL_USE_SSL = False
CELERY_TASK_DEFAULT_QUEUE = os.environ["FOLLOWUP_TEST_QUEUE"]
FOLLOWUP_DIGEST_HOUR = 0  # the digest is due whatever the hour the tests run at
