"""``manage.py seed_patency_demo``: the demo patency cohort (``demo.followup.PATENCY_DEMO``),
23 patients of the demo's centre A stented up to three years ago, with their visit
results, escalations, decisions and re-interventions, so that the Kaplan–Meier curves of
the patency page and the score trends have something to show. Run it after ``seed_demo``;
a second run adds nothing.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from demo.followup import PATENCY_DEMO, patency_cohort_create


class Command(BaseCommand):
    help = "Add the follow-up patency demo cohort (after seed_demo)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            created = patency_cohort_create()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Patency demo: {created} of {len(PATENCY_DEMO)} procedure(s) created "
                f"in {time.perf_counter() - started:.1f} s."
            )
        )
