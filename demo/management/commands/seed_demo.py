"""``manage.py seed_demo``: demo centres, users and cases; ``--cases N`` adds synthetic ones.

The demo password comes from the environment (``DEMO_PASSWORD``) or a default, never from
the command line, so it does not end up in shell history.
"""

import os
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from demo import cases as demo_cases
from demo.followup import seed_followup


class Command(BaseCommand):
    help = (
        "Create the demo centres, one user per role and about a dozen realistic cases "
        "(get-or-create, so re-running adds nothing). --cases N adds N synthetic cases for "
        f"benchmarks. The password is ${demo_cases.PASSWORD_ENV} or "
        f"{demo_cases.DEFAULT_PASSWORD!r}."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="Do nothing (but print the logins) if the demo centre already exists; "
            "this also skips --cases.",
        )
        parser.add_argument(
            "--cases",
            type=int,
            default=0,
            metavar="N",
            help="Also create N synthetic cases (bulk, with history rows).",
        )
        parser.add_argument(
            "--visits",
            type=int,
            default=0,
            metavar="N",
            help="Also create about N synthetic scheduled follow-up visits (PostgreSQL).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="Random seed of the synthetic cases (default 2026).",
        )
        parser.add_argument(
            "--centre",
            default=demo_cases.CENTRE_A.code,
            help=f"Centre code of the synthetic cases (default {demo_cases.CENTRE_A.code}).",
        )
        parser.add_argument(
            "--no-logins",
            action="store_true",
            help="Do not print the demo logins (make run prints them once the app is up).",
        )
        parser.add_argument(
            "--logins-only",
            action="store_true",
            help="Only print the demo logins and where to log in; change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["logins_only"]:
            if not demo_cases.demo_exists():
                raise CommandError("There is no demo data yet: run seed_demo first.")
            self._print_logins(
                demo_cases.demo_logins(password=demo_cases.demo_password(dict(os.environ)))
            )
            return
        if options["cases"] < 0 or options["visits"] < 0:
            raise CommandError("--cases and --visits must be zero or more.")
        started = time.perf_counter()
        seed_options = demo_cases.SeedOptions(
            password=demo_cases.demo_password(dict(os.environ)),
            once=options["once"],
            synthetic=options["cases"],
            seed=options["seed"],
            synthetic_centre=options["centre"],
            progress=self._progress(options["cases"]),
        )
        try:
            demo_cases.demo_password_validate(seed_options.password)
        except ValidationError as exc:
            raise CommandError(
                f"The demo password is not acceptable ({demo_cases.PASSWORD_ENV}): "
                + " ".join(exc.messages)
            ) from None
        try:
            result = demo_cases.demo_seed(seed_options)
        except ValidationError as exc:
            raise CommandError(
                "The demo data does not validate: " + " ".join(exc.messages)
            ) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None

        if not result.created:
            self.stdout.write("Demo data already present (--once): nothing changed.")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Demo data ready: {result.demo_cases} new demo case(s).")
            )
        if "synthetic" in seed_options.timings:
            elapsed = seed_options.timings["synthetic"]
            rate = result.synthetic_cases / elapsed if elapsed else 0
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created {result.synthetic_cases} synthetic case(s) at {options['centre']} "
                    f"in {elapsed:.1f} s ({rate:,.0f} cases/s)."
                )
            )
        if "reevaluation" in seed_options.timings:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Stored the overall status of {result.reevaluated_cases} case(s) in "
                    f"{seed_options.timings['reevaluation']:.1f} s."
                )
            )
        if result.created:
            self._seed_followup(options)
        if not options["no_logins"]:
            self._print_logins(result.logins)
        if not settings.DEBUG and seed_options.password == demo_cases.DEFAULT_PASSWORD:
            self.stderr.write(
                f"Warning: DEBUG is off and the demo users have the published default "
                f"password; set {demo_cases.PASSWORD_ENV} or keep this database off the network."
            )
        self.stdout.write(f"Total time: {time.perf_counter() - started:.1f} s")

    def _seed_followup(self, options: dict[str, Any]) -> None:
        try:
            seeded = seed_followup(
                visits=options["visits"], seed=options["seed"], centre_code=options["centre"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Follow-up: {seeded.demo_procedures} demo procedure(s), "
                f"{seeded.synthetic_visits} synthetic visit(s) in {seeded.seconds:.1f} s."
            )
        )

    def _progress(self, total: int) -> Any:
        step = max(total // 10, demo_cases.BATCH_SIZE)

        def report(done: int) -> None:
            if total >= 10 * demo_cases.BATCH_SIZE and (
                done % step < demo_cases.BATCH_SIZE or done == total
            ):
                self.stdout.write(f"  {done:,} / {total:,} synthetic cases")

        return report

    def _print_logins(self, logins: list[demo_cases.Login]) -> None:
        header = ("Username", "Role", "Centre", "Password")
        rows = [header, *((x.username, x.role, x.centre, x.password) for x in logins)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        line = "  ".join("-" * w for w in widths)
        self.stdout.write("")
        for i, row in enumerate(rows):
            self.stdout.write(
                "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            )
            if i == 0:
                self.stdout.write(line)
        port = os.environ.get("PORT", "8000")
        self.stdout.write(f"\nLog in at http://127.0.0.1:{port}{reverse('login')}")
