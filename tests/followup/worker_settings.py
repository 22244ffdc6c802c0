"""Settings of the Celery worker the follow-up tests start: the test settings, plus a mail
backend both processes can see and a queue of its own (so no other test worker, which
would deliver to its in-memory outbox, takes these tasks)."""

import os

from venousapp.settings_test import *  # noqa: F403

EMAIL_BACKEND = "tests.followup.mail.FileBackend"
CELERY_TASK_DEFAULT_QUEUE = os.environ["FOLLOWUP_TEST_QUEUE"]
FOLLOWUP_DIGEST_HOUR = 0  # the digest is due whatever the hour the tests run at
