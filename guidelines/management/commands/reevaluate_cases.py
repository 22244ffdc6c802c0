"""``manage.py reevaluate_cases``: bring every stored case's overall status to the published rule
set and the current engine now, in this process (the job a publish or a deploy starts, run by
hand: after a bulk import or a failed job). ``--all`` re-evaluates every case, up to date or
not."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from guidelines.models import ReEvaluationTrigger
from guidelines.selectors import stored_evaluations
from guidelines.services import reevaluation


class Command(BaseCommand):
    help = (
        "Re-evaluate the stored cases whose overall status was computed with another rule set "
        "or engine version than the current ones (or never), in this process, and print "
        "counts and time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="Re-evaluate every stored case, also those already up to date.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        before = stored_evaluations()
        self.stdout.write(
            f"Rule set {before.ruleset}: {before.up_to_date:,} stored case(s) up to date, "
            f"{before.stale:,} to re-evaluate."
        )
        started = time.perf_counter()
        job = reevaluation.reevaluation_start(
            trigger=ReEvaluationTrigger.COMMAND, inline=True, everything=options["everything"]
        )
        elapsed = time.perf_counter() - started
        rate = job.done / elapsed if elapsed else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-evaluated {job.done:,} case(s) with rule set {job.ruleset} in "
                f"{elapsed:.1f} s ({rate:,.0f} cases/s); {job.changed:,} overall status(es) "
                "changed."
            )
        )
