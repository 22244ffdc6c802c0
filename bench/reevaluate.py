"""Benchmark: re-evaluate the stored cases after a publish, on PostgreSQL.

Run: ``DATABASE_URL=postgres://... .venv/bin/python bench/reevaluate.py [--cases N]``
(default N = 100 000; target < 60 s for 100 000 cases).

1. Migrates the database and, when it holds fewer than N cases, adds the missing ones with
   ``manage.py seed_demo --cases``.
2. Publishes a change through the real workflow (two bench guideline admins: draft,
   test cases, submit, approve): SVSAVF-2012-ETR-03's onset window 14 ↔ 21 days. That makes
   every stored status stale, and the publish starts the real job on commit
   (``guidelines.services.reevaluation.reevaluation_start``): here inline, in this process,
   as a Celery worker would run it (``reevaluation_run``: cases streamed in chunks with their
   patient and findings, statuses written per chunk, progress on the job row).

Prints the job's time, cases per second and how many overall statuses changed. Every stored
case is re-evaluated, so a database holding more than N cases measures all of them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "venousapp.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-0123456789abcdefghijklmnop")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from cases.models import Case  # noqa: E402
from guidelines.models import ReEvaluation, Rule  # noqa: E402
from guidelines.selectors import stored_evaluations  # noqa: E402
from guidelines.services import authoring  # noqa: E402
from venousapp.accounts.models import Centre, User  # noqa: E402

RULE = "SVSAVF-2012-ETR-03"


def _bench_admins() -> tuple[User, User]:
    group = Group.objects.get(name="guideline_admin")
    centre = Centre.objects.order_by("pk").first()
    admins = []
    for name in ("bench_admin_a", "bench_admin_b"):
        user, _ = User.objects.get_or_create(
            username=name, defaults={"centre": centre, "email": f"{name}@bench.invalid"}
        )
        user.groups.add(group)
        admins.append(User.objects.get(pk=user.pk))  # fresh permission cache
    return admins[0], admins[1]


def _publish_change() -> str:
    """Publish ETR-03 with the onset window flipped between 14 and 21 days."""
    author, approver = _bench_admins()
    rule = Rule.objects.get(rule_id=RULE)
    draft = authoring.rule_version_create_draft(
        rule=rule, author=author, change_note="bench/reevaluate.py"
    )
    definition = draft.definition
    onset = next(c for c in definition["criteria"] if c["id"] == "onset")
    old = onset["test"]["value"]
    onset["test"]["value"] = 21 if old == 14 else 14
    authoring.rule_version_update(version=draft, user=author, definition=definition)
    authoring.rule_version_submit(version=draft, user=author)
    authoring.rule_version_approve(version=draft, user=approver)
    return f"{RULE} v{draft.number}: onset window {old} → {onset['test']['value']} days"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cases", type=int, default=100_000, help="stored cases to re-evaluate (default 100000)"
    )
    args = parser.parse_args()

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0, interactive=False)
    stored = Case.objects.count()
    if stored < args.cases:
        missing = args.cases - stored
        print(f"seeding {missing:,} synthetic cases (seed_demo --cases {missing}) …", flush=True)
        started = time.perf_counter()
        # A separate process, so the benchmark's heap is that of a worker, not of the seeder.
        subprocess.run(  # noqa: S603
            [sys.executable, str(ROOT / "manage.py"), "seed_demo", "--cases", str(missing)],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        print(f"  seeded in {time.perf_counter() - started:.1f} s")

    # The job the publish starts runs in this process (as in a worker) whatever its size.
    settings.GUIDELINES_REEVALUATION_INLINE_MAX = sys.maxsize
    last = ReEvaluation.objects.order_by("-id").values_list("id", flat=True).first() or 0
    started = time.perf_counter()
    change = _publish_change()
    wall = time.perf_counter() - started
    job = ReEvaluation.objects.filter(id__gt=last).order_by("id").first()
    if job is None or job.status != "done" or job.started_at is None or job.finished_at is None:
        raise SystemExit(f"the publish did not run a re-evaluation to the end: {job!r}")
    elapsed = (job.finished_at - job.started_at).total_seconds()
    after = stored_evaluations()
    print(f"published {change} (rule set {job.ruleset})")
    print(
        f"re-evaluated {job.done:,} stored cases in {elapsed:.1f} s: "
        f"{job.done / elapsed:,.0f} cases/s (publish and re-evaluation: {wall:.1f} s)"
    )
    print(
        f"  overall status changed in {job.changed:,} cases; now {after.up_to_date:,} up to "
        f"date, {after.stale:,} stale (target: 100 000 cases in < 60 s)"
    )
    if after.stale:
        raise SystemExit("some stored cases are still stale after the job")


if __name__ == "__main__":
    main()
