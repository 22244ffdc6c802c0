"""One process writing to the `make run` SQLite database the way the web process, the worker
and beat do: short transactions that read, then write. Prints the number of failures.

Run: ``python -m tests.sqlite_writer N`` with VAR_DIR pointing at the database's folder and
neither DATABASE_URL nor REDIS_URL set (tests/test_sqlite_make_run.py)."""

from __future__ import annotations

import os
import sys

import django


def main(count: int) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "venousapp.settings")
    django.setup()
    from django.db import OperationalError, transaction
    from django.utils import timezone

    from followup.models import Notification
    from venousapp.accounts.models import User

    user = User.objects.order_by("pk").first()
    failures = 0
    for index in range(count):
        try:
            with transaction.atomic():
                Notification.objects.filter(recipient=user).count()  # read first, then write
                Notification.objects.create(
                    recipient=user,
                    kind="window_open",
                    title=f"write {index}",
                    url="/",
                    created_at=timezone.now(),
                )
        except OperationalError as error:
            failures += 1
            print(f"failure: {error}", flush=True)
    print(f"failures={failures}", flush=True)
    return failures


if __name__ == "__main__":
    sys.exit(1 if main(int(sys.argv[1])) else 0)
