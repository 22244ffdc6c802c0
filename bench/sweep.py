"""Benchmark of the follow-up reminder sweep: claim and enqueue the due reminders among a
million scheduled visits.

Run (PostgreSQL and Redis; a database of its own is best, it is filled on first use)::

    DATABASE_URL=postgres://venousapp:venousapp@127.0.0.1:5432/venousapp_bench \\
    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/sweep.py [VISITS] [DUE]

1. Migrates, and tops the database up to VISITS (default 1 000 000) scheduled visits with
   the ``seed_demo --visits`` generator (``demo.followup``; bulk COPY with history rows).
2. Makes exactly DUE (default 10 000) visit reminders due now: every reminder already due
   counts as sent, then the DUE next ones are moved to one minute ago.
3. Runs ``followup.notifications.reminders_sweep`` once, as the beat entry would: it claims
   the due rows (``SELECT … FOR UPDATE SKIP LOCKED`` over the partial index, ``UPDATE``)
   and enqueues their ids to Celery through Redis after commit. No worker is needed: the
   messages go to a throwaway queue, purged at the end.

Prints the time (target < 5 s), the rows claimed, the messages enqueued and every SQL
statement the sweep ran (``CaptureQueriesContext``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "venousapp.settings_test")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from demo.followup import seed_followup  # noqa: E402
from followup import dispatch, notifications  # noqa: E402
from followup.models import Digest, EscalationNotice, Reminder, Visit  # noqa: E402
from venousapp.celery import app  # noqa: E402

QUEUE = "followup-bench"


def ensure_visits(target: int) -> None:
    have = Visit.objects.count()
    if have >= target:
        print(f"Visits: {have:,} already there")
        return
    os.environ.setdefault("DEMO_PASSWORD", "bench-only-password-2026")
    if not Visit.objects.exists():
        call_command("seed_demo", "--once", stdout=open(os.devnull, "w"))  # noqa: SIM115
    missing = target - Visit.objects.count()
    print(f"Creating {missing:,} synthetic visits (seed_demo --visits) ...", flush=True)
    started = time.perf_counter()

    def progress(done: int) -> None:
        if done % 100_000 < 20_000:
            print(f"  {done:,} / {missing:,}  ({time.perf_counter() - started:.0f} s)", flush=True)

    result = seed_followup(visits=missing, seed=int(time.time()), progress=progress)
    print(
        f"  {result.synthetic_visits:,} visits in {result.synthetic_schedules:,} schedules, "
        f"{result.seconds:.0f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE followup_reminder")
        cursor.execute("VACUUM ANALYZE followup_visit")


def make_due(due: int, now: object) -> None:
    """Exactly ``due`` unsent visit reminders are due at ``now``; nothing else is."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE followup_reminder SET sent_at = due_at "
            "WHERE sent_at IS NULL AND (due_at <= %s OR claimed_at IS NOT NULL)",
            [now],
        )
        cursor.execute(
            "UPDATE followup_reminder SET due_at = %s - interval '1 minute', claimed_at = NULL "
            "WHERE id IN (SELECT id FROM followup_reminder WHERE sent_at IS NULL "
            "ORDER BY due_at LIMIT %s)",
            [now, due],
        )
        cursor.execute("ANALYZE followup_reminder")
    EscalationNotice.objects.filter(sent_at__isnull=True).update(sent_at=now, skipped=True)
    Digest.objects.all().delete()


def queue_length() -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen(QUEUE)


def purge() -> None:
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete(QUEUE)


def main() -> None:
    visits = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    due = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    if connection.vendor != "postgresql":
        sys.exit("bench/sweep.py needs PostgreSQL (DATABASE_URL).")
    call_command("migrate", verbosity=0)
    ensure_visits(visits)
    now = timezone.now()
    make_due(due, now)
    app.conf.task_default_queue = QUEUE
    purge()
    unsent = Reminder.objects.filter(sent_at__isnull=True).count()
    print(
        f"\nVisits: {Visit.objects.count():,}; unsent reminders: {unsent:,}, of which due "
        f"now: {Reminder.objects.filter(sent_at__isnull=True, due_at__lte=now).count():,}"
    )
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        result = notifications.reminders_sweep(now=now)
        elapsed = time.perf_counter() - started
    enqueued = queue_length()
    print(f"\nSweep: {elapsed:.3f} s (target < 5 s): {result.as_text()}")
    print(
        f"Celery messages enqueued (Redis, queue {QUEUE!r}): {enqueued} "
        f"({dispatch.REMINDER_CHUNK} reminder ids per message)"
    )
    print(f"\nSQL statements: {len(ctx.captured_queries)}")
    for i, query in enumerate(ctx.captured_queries, start=1):
        sql = " ".join(query["sql"].split())
        if len(sql) > 300:
            sql = f"{sql[:240]} … {sql[-50:]}"
        print(f"{i:3d}. [{float(query['time']) * 1000:7.1f} ms] {sql}")
    claimed = Reminder.objects.filter(claimed_at=now).count()
    assert claimed == due, (claimed, due)
    purge()


if __name__ == "__main__":
    main()
