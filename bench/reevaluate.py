"""Benchmark: re-evaluate N stored cases after a publish, on PostgreSQL.

Run: ``DATABASE_URL=postgres://... .venv/bin/python bench/reevaluate.py [--cases N]``
(default N = 100 000; target < 60 s for 100 000 cases).

1. Migrates the database and, when it holds fewer than N cases, adds the missing ones with
   ``manage.py seed_demo --cases``.
2. Publishes a change through the real workflow (two bench guideline admins: draft,
   test cases, submit, approve): SVSAVF-2012-ETR-03's onset window 14 ↔ 21 days.
3. Re-evaluates N stored cases (the first N by id) with the rule set before and after the
   publish, with ``guidelines.impact.ruleset_compare``: the code path of the impact preview
   and its Celery task (cases streamed in chunks with their patient and findings).

Prints the time, cases per second and how many cases changed.
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

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from cases.models import Case  # noqa: E402
from guidelines import services  # noqa: E402
from guidelines.impact import ruleset_compare, stored_cases  # noqa: E402
from guidelines.models import Rule, RuleVersion  # noqa: E402
from guidelines.ruleset import current_ruleset  # noqa: E402
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
    draft = services.rule_version_create_draft(
        rule=rule, author=author, change_note="bench/reevaluate.py"
    )
    definition = draft.definition
    onset = next(c for c in definition["criteria"] if c["id"] == "onset")
    old = onset["test"]["value"]
    onset["test"]["value"] = 21 if old == 14 else 14
    services.rule_version_update(version=draft, user=author, definition=definition)
    services.rule_version_submit(version=draft, user=author)
    services.rule_version_approve(version=draft, user=approver)
    return f"{RULE} v{draft.number}: onset window {old} → {onset['test']['value']} days"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cases", type=int, default=100_000, help="stored cases to re-evaluate (default 100000)"
    )
    parser.add_argument("--chunk-size", type=int, default=2000)
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
    total = Case.objects.count()

    before = current_ruleset()
    change = _publish_change()
    after = current_ruleset()
    assert after is not before
    assert after.version != before.version
    print(f"published {change} (rule set {before.version} → {after.version})")
    versions = RuleVersion.objects.filter(rule__rule_id=RULE).count()

    step = max(total // 10, args.chunk_size)
    last = [0]

    def progress(done: int, of: int) -> None:
        if done - last[0] >= step or (done == of and last[0] != done):
            last[0] = done
            print(f"  {done:,} / {of:,}", flush=True)

    started = time.perf_counter()
    result = ruleset_compare(
        cases=stored_cases()[: args.cases],
        before=before,
        after=after,
        rule_id=RULE,
        progress=progress,
        chunk_size=args.chunk_size,
    )
    elapsed = time.perf_counter() - started
    print(
        f"re-evaluated {result.total:,} stored cases (2 evaluations each) in {elapsed:.1f} s: "
        f"{result.total / elapsed:,.0f} cases/s"
    )
    print(
        f"  {RULE} value changed in {result.rule_changed:,} cases, overall status in "
        f"{result.overall_changed:,}; transitions {dict(result.transitions)}"
    )
    print(f"  ({versions} versions of {RULE} stored; target: 100 000 cases in < 60 s)")


if __name__ == "__main__":
    main()
