"""``manage.py send_due_reminders``: run the reminder sweep by hand and print what it did.

The same sweep as the periodic ``followup.sweep`` task: due visit reminders, daily digests
and escalation notices are claimed and enqueued for the Celery worker. ``--inline`` delivers
them in this process instead (no worker needed). Running it twice, or next to the beat
entry, sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from followup import notifications


class Command(BaseCommand):
    help = (
        "Claim due follow-up reminders, digests, escalation notices and e-mails and send "
        "them; resume background jobs left queued."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--inline",
            action="store_true",
            help="Deliver in this process instead of enqueueing Celery tasks.",
        )
        parser.add_argument(
            "--now", help="Sweep as of this ISO 8601 time with a UTC offset (default: now)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = None
        if options["now"]:
            try:
                now = dt.datetime.fromisoformat(options["now"])
            except ValueError:
                raise CommandError("--now must be an ISO 8601 date and time.") from None
            if now.tzinfo is None:
                raise CommandError("--now needs a UTC offset, e.g. 2026-12-01T07:30:00+01:00.")
        dispatcher = notifications.deliver_inline if options["inline"] else None
        result = notifications.reminders_sweep(now=now, dispatcher=dispatcher)
        mode = "delivered here" if options["inline"] else "enqueued for the worker"
        self.stdout.write(f"Claimed and {mode}:")
        self.stdout.write(f"  visit reminders: {result.claimed.get('reminder', 0)}")
        self.stdout.write(
            f"  daily digests: {result.claimed.get('digest', 0)} "
            f"(created now: {result.digests_created})"
        )
        self.stdout.write(f"  escalation notices: {result.claimed.get('escalationnotice', 0)}")
        self.stdout.write(f"  e-mail copies of notices: {result.claimed.get('noticemail', 0)}")
        self.stdout.write(f"Schedules extended: {result.schedules_extended}")
        self.stdout.write(
            f"Background jobs sent again: {result.jobs_requeued}; "
            f"marked failed (worker lost): {result.jobs_failed}"
        )
