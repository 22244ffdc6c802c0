"""The product's settings with the benchmark URLconf (``bench/pages.py`` serves with these).

Everything else (DEBUG, secrets, hosts, database) comes from the environment exactly as for
``make run``; only the URLconf differs, so the floor route exists in no deployment.
"""

from venousapp.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
