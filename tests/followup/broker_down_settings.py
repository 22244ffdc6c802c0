"""Settings of the web server and the worker of tests/followup/test_broker_down.py: the test
settings with a Redis of the test's own (``REDIS_URL`` in their environment), every patency
cohort computed by the worker, and mail kept in memory."""

from venousapp.settings_test import *  # noqa: F403

FOLLOWUP_PATENCY_INLINE_MAX = 0
