"""``manage.py load_guidelines``: load the shipped rule files into the database (idempotent).

See ``guidelines/loader.py``: new rules get an active v1, a changed rule file becomes a new
active version (the old one superseded, printed), an unchanged file changes nothing.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from guidelines.loader import guidelines_load
from guidelines.schema import RuleSetError


class Command(BaseCommand):
    help = "Load guidelines/rules/*.json (and the developers' test cases) into the database."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = guidelines_load()
        except RuleSetError as error:
            raise CommandError("The rule files do not validate:\n" + str(error)) from None
        for line in report.lines:
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.created)} rule(s) created, {len(report.updated)} updated, "
                f"{len(report.unchanged)} unchanged; {report.test_cases_added} test case(s) added."
            )
        )
