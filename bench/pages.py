"""Benchmark of the pages and API routes under gunicorn, each next to a floor.

Run (PostgreSQL; the database is created and filled on first use, then reused)::

    make bench-pages                      # or: .venv/bin/python bench/pages.py [options]
    DATABASE_URL=postgres://venousapp:venousapp@127.0.0.1:5432/venousapp_bench_pages \\
    REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/pages.py --duration 5s

1. Seeds (or reuses) a database of its own: the demo centres and users (``demo.cases``),
   about 100 000 scheduled follow-up visits with their procedure records, schedules and
   results (``demo.followup.synthetic_visits_create``, bulk COPY), synthetic cases up to
   20 000 (``demo.cases.synthetic_cases_create``, bulk with history), their stored statuses,
   200 procedure plans (``planning.services.plan_create``), one case with its whole story
   (signed decision, signed plan, completed procedure, visits with results) that the
   case-scoped routes show, and a finished patency report of the centre. Everything goes
   through the project's services and bulk generators; a database already holding all of it
   is reused as it is (``--reseed`` drops and creates it again).
2. Starts gunicorn as ``make run`` does (production settings, DEBUG off, secrets and hosts
   from the environment) with 2 sync workers, on a free port of 18100-18199, with
   ``DJANGO_SETTINGS_MODULE=bench.settings``: the product's settings with ``bench.urls``,
   the product's URLs plus the floor (``bench/urls.py``). The product has no floor route.
3. Logs the clinician and the nurse in through the log-in form (session cookies); the
   evaluation API is also called with Basic auth, as the README shows it.
4. For each route runs wrk (``-t2 -c16 -d5s`` unless told otherwise) against the floor,
   with the route's own session and the case page's size, and against the route, side by
   side, in ``--rounds`` rounds (3 unless told otherwise) of alternating order: the ratio
   of the two rates is the share of the stack's capacity the route leaves, and the table
   gives the median round's with every round's ratio (a virtual machine's speed drifts
   from one minute to the next; one pair of runs can be off by a tenth).

Prints one Markdown row per route: requests per second, the floor's, their ratio, p50/p95/p99
latency, the response body's bytes and the SQL statements of one request (counted in this
process through Django's test client with ``CaptureQueriesContext``, on the same database,
after one warm-up request).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench-pages"
DEFAULT_DATABASE_URL = (
    "postgres://venousapp:venousapp@127.0.0.1:5432/venousapp_bench_pages?conn_max_age=60"
)
# As `make run` serves the app: DEBUG off, plain HTTP on 127.0.0.1. The secret key is made
# up per run unless given; the broker directory and static files are the benchmark's own.
ENVIRONMENT = {
    "DATABASE_URL": DEFAULT_DATABASE_URL,
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "VAR_DIR": str(VAR),
    "STATIC_ROOT": str(VAR / "static"),
    "LOG_LEVEL": "WARNING",
}
for _name, _value in ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django  # noqa: E402
import psycopg2  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.serializers.json import DjangoJSONEncoder  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import wrk  # noqa: E402
from cases import services as case_services  # noqa: E402
from cases.facts import case_facts  # noqa: E402
from cases.models import Case, Patient  # noqa: E402
from demo import cases as demo_cases  # noqa: E402
from demo.followup import seed_followup, synthetic_visits_create  # noqa: E402
from followup.models import PatencyReport, Schedule, Visit  # noqa: E402
from followup.selectors import patency_cohort_size  # noqa: E402
from followup.services.clock import centre_today, local_at  # noqa: E402
from followup.services.reports import patency_report_queue, patency_report_run  # noqa: E402
from followup.services.results import visit_result_record  # noqa: E402
from guidelines.decisions import services as decision_services  # noqa: E402
from guidelines.decisions.snapshot import card_rule_ids  # noqa: E402
from guidelines.engine import evaluate  # noqa: E402
from guidelines.ruleset import current_ruleset  # noqa: E402
from planning import services as planning_services  # noqa: E402
from planning.models import ProcedurePlan, ProcedureRecord  # noqa: E402
from venousapp import pagecache  # noqa: E402
from venousapp.accounts.models import Centre, User  # noqa: E402
from venousapp.models import JobStatus  # noqa: E402

PASSWORD = "bench-only-password-2026"  # noqa: S105 - throwaway accounts of a local benchmark
SHOWCASE = "BENCH-0001"  # hospital number of the patient whose case the case routes show
PLANNABLE = ("etr_candidate", "stent_indicated", "stent_conflict")
REASON = "Benchmark data: planned to give the plan pages content."
PORTS = range(18100, 18200)


# --- the database ---------------------------------------------------------------------------


def _maintenance() -> psycopg2.extensions.connection:
    """A connection to the server's ``postgres`` database (to create or drop ours)."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    conn.autocommit = True
    return conn


def database_prepare(*, reseed: bool) -> None:
    """Create the database if it is missing (drop it first with ``reseed``), then migrate."""
    if connection.vendor != "postgresql":
        sys.exit("bench/pages.py needs PostgreSQL (DATABASE_URL).")
    name = settings.DATABASES["default"]["NAME"]
    if "bench" not in name:
        # It adds 20 000 cases to the demo centre, and --reseed drops the database.
        sys.exit(f"DATABASE_URL names {name!r}: use a database of its own, named *bench*.")
    connections.close_all()
    server = _maintenance()
    with server.cursor() as cursor:
        quoted = '"' + name.replace('"', '""') + '"'
        if reseed:
            print(f"Dropping the database {name} (--reseed) ...", flush=True)
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            print(f"Creating the database {name} ...", flush=True)
            cursor.execute(f"CREATE DATABASE {quoted}")
    server.close()
    with _step("migrate"):
        call_command("migrate", verbosity=0, interactive=False)
    if static_stale():
        with _step(f"collectstatic into {settings.STATIC_ROOT} (compressed: a minute or two)"):
            call_command("collectstatic", verbosity=0, interactive=False)


def static_stale() -> bool:
    """Whether the collected files are missing or older than a file of ``static/``: the
    production storage renders ``{% static %}`` from its manifest, and collecting again
    compresses every file, which takes long enough to skip when nothing changed."""
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return True
    collected = manifest.stat().st_mtime
    return any(
        path.stat().st_mtime > collected
        for folder in settings.STATICFILES_DIRS
        for path in Path(folder).rglob("*")
    )


# --- the data -------------------------------------------------------------------------------


@dataclass
class Fixture:
    """What the routes need: the personas and the ids of the objects their pages show."""

    clinician: User
    nurse: User
    case: Case
    plan: ProcedurePlan
    report: PatencyReport
    facts: dict[str, object]
    counts: dict[str, int] = field(default_factory=dict)


@contextmanager
def _step(text: str) -> Iterator[None]:
    print(f"{text} ...", flush=True)
    started = time.perf_counter()
    yield
    print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)


def _showcase(centre: Centre, clinician: User, nurse: User) -> Case:
    """A chronic post-thrombotic case (the demo's C6 one) with a signed decision, a signed
    plan, its completed procedure and every follow-up visit due so far done."""
    patient = Patient.objects.filter(centre=centre, identifier=SHOWCASE).first()
    case = patient.cases.order_by("pk").first() if patient else None
    if case is not None:
        return case
    template = next(c for c in demo_cases.DEMO_CASES if c.patient["identifier"] == "40104476")
    today = centre_today(centre)
    performed_on = today - dt.timedelta(days=200)
    with (
        _step("Creating the case every case route shows (decision, plan, procedure, visits)"),
        transaction.atomic(),
    ):
        patient = case_services.patient_get_or_create(
            centre=centre,
            data={**template.patient, "identifier": SHOWCASE, "name": "Bench Showcase"},
            user=clinician,
        )
        case = case_services.case_create(
            patient=patient,
            author=clinician,
            data={**template.data, "case_date": performed_on - dt.timedelta(days=10)},
            findings=[dict(f) for f in template.findings],
        )
        result = evaluate(case_facts(case), current_ruleset())
        decision_services.decision_sign(
            case=case,
            signed_by=clinician,
            feedback={
                rule_id: {"action": "accepted", "reason": "", "comment": ""}
                for rule_id in card_rule_ids(result)
            },
            comment="Agreed at the venous board.",
        )
        plan = planning_services.plan_create(
            case=case, author=clinician, indication_override_reason=REASON
        )
        planning_services.plan_sign(plan=plan, user=clinician, override_reason=REASON)
        record = planning_services.procedure_record_create(
            case=case,
            author=clinician,
            plan=plan,
            data={
                "performed_on": performed_on,
                "operators": clinician.get_full_name(),
                "access_used": "Right common femoral vein",
                "technical_success": True,
                "antithrombotic_regimen": "LMWH 4 weeks, then a DOAC.",
                "follow_up_entity": "post_thrombotic",
            },
        )
        planning_services.procedure_record_complete(
            record=record,
            user=clinician,
            now=local_at(centre, performed_on, 17),
        )
        stents = [(i.segment, i.side) for i in record.implants.all()]
        schedule = Schedule.objects.get(procedure=record)
        for visit in schedule.visits.filter(target_on__lt=today).order_by("target_on"):
            visit_result_record(
                visit=visit,
                user=nurse,
                now=local_at(centre, visit.target_on, 15),
                data={
                    "performed_on": visit.target_on,
                    "phasicity": "phasic",
                    "ulcer_status": "healing",
                    "compression_use": "daily",
                    "antithrombotic_adherence": "adherent",
                    "pain_vas": 2,
                },
                segments=[
                    {
                        "segment": segment,
                        "side": side,
                        "patency": "patent",
                        "in_stent_thrombus": False,
                        "isr_percent": 10,
                        "compression": False,
                    }
                    for segment, side in stents
                ]
                if visit.kind != "clinical"
                else [],
            )
    return case


def _plans(centre: Centre, clinician: User, wanted: int) -> None:
    have = ProcedurePlan.objects.filter(case__patient__centre=centre).count()
    if have >= wanted:
        return
    candidates = (
        Case.objects.filter(patient__centre=centre, overall_status__in=PLANNABLE, plans=None)
        .order_by("-pk")
        .values_list("pk", flat=True)[: wanted - have]
    )
    with _step(f"Creating {wanted - have} procedure plans (planning.services.plan_create)"):
        for pk in list(candidates):
            planning_services.plan_create(
                case=Case.objects.get(pk=pk), author=clinician, indication_override_reason=REASON
            )


def _report(centre: Centre, clinician: User) -> PatencyReport:
    """The centre's newest finished report over today's cohort (a new one after a top-up)."""
    report = (
        PatencyReport.objects.filter(
            centre=centre,
            entity="",
            status=JobStatus.DONE,
            total=patency_cohort_size(centre_id=centre.pk, entity=""),
        )
        .order_by("-finished_at")
        .first()
    )
    if report is not None:
        return report
    with _step("Computing a patency report of the centre (followup.services.reports)"):
        with transaction.atomic():
            queued = patency_report_queue(user=clinician, entity="")
        # Here, as a worker would; the message sent on commit then finds nothing to claim.
        patency_report_run(report_id=queued.pk)
    return PatencyReport.objects.get(pk=queued.pk)


def seed(*, cases: int, visits: int, plans: int) -> Fixture:
    """Top the database up to what the routes need (see the module docstring)."""
    seeded = False
    if not demo_cases.demo_exists():
        with _step("Creating the demo centres, users and cases (demo.cases)"):
            demo_cases.demo_seed(demo_cases.SeedOptions(password=PASSWORD))
            seed_followup()
        seeded = True
    demo_cases.demo_users_create(password=PASSWORD)  # a known password, also on a reused database
    centre = Centre.objects.get(code=demo_cases.CENTRE_A.code)
    clinician = User.objects.get(username="clinician")
    nurse = User.objects.get(username="nurse")
    have = Visit.objects.filter(centre=centre).count()
    if have < visits:
        with _step(f"Creating {visits - have:,} scheduled visits (demo.followup, COPY)"):
            synthetic_visits_create(
                centre=centre, author=clinician, visits=visits - have, seed=have + 1
            )
        seeded = True
    have = Case.objects.filter(patient__centre=centre).count()
    if have < cases:
        with _step(f"Creating {cases - have:,} cases (demo.cases, bulk with history)"):
            demo_cases.synthetic_cases_create(
                centre=centre, author=clinician, count=cases - have, seed=have + 1
            )
        seeded = True
    options = demo_cases.SeedOptions(password=PASSWORD)
    if demo_cases.stored_statuses_refresh(options):
        print(f"Stored the cases' overall statuses in {options.timings['reevaluation']:.1f} s")
    case = _showcase(centre, clinician, nurse)
    _plans(centre, clinician, plans)
    report = _report(centre, clinician)
    if seeded:
        with _step("VACUUM ANALYZE"), connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    plan = ProcedurePlan.objects.filter(case=case).order_by("pk").first()
    assert plan is not None, "the showcase case has no plan"
    counts = {
        "cases": Case.objects.filter(patient__centre=centre).count(),
        "visits": Visit.objects.filter(centre=centre).count(),
        "plans": ProcedurePlan.objects.filter(case__patient__centre=centre).count(),
        "procedure records": ProcedureRecord.objects.filter(case__patient__centre=centre).count(),
    }
    facts = json.loads(json.dumps(case_facts(case), cls=DjangoJSONEncoder))
    return Fixture(clinician, nurse, case, plan, report, facts, counts)


# --- the routes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    path: str  # with {case}, {plan}, {report}
    persona: str  # clinician or nurse
    basic: bool = False  # Basic auth instead of the session
    method: str = "GET"

    def url_path(self, fixture: Fixture) -> str:
        return self.path.format(
            case=fixture.case.pk, plan=fixture.plan.pk, report=fixture.report.pk
        )

    def label(self) -> str:
        path = self.path.replace("{", "<").replace("}", ">")
        return f"{self.method} {path} ({self.persona}, {'Basic' if self.basic else 'session'})"


ROUTES = (
    Route("case-detail", "/cases/{case}/", "clinician"),
    Route("case-list", "/cases/", "clinician"),
    Route("decision-sign", "/cases/{case}/decisions/sign/", "clinician"),
    Route("decision-list", "/cases/{case}/decisions/", "clinician"),
    Route("worklist", "/followup/worklist/", "nurse"),
    Route("plan", "/planning/plans/{plan}/", "clinician"),
    Route("patency", "/followup/patency/?report={report}", "clinician"),
    Route("api-evaluate", "/api/v1/evaluate", "clinician", basic=True, method="POST"),
    Route("api-evaluate-session", "/api/v1/evaluate", "clinician", method="POST"),
    Route("api-cases", "/api/v1/cases/", "clinician"),
    # An empty page in the product's frame (bench/urls.py): what every page pays first.
    Route("frame", "/bench/frame/", "clinician"),
)
ROUTE_NAMES = [route.name for route in ROUTES]
FLOOR = Route("floor", "", "clinician")  # bench/urls.py; its persona is the measured route's


def floor_path(size: int) -> str:
    return f"/bench/floor/{size}/"


def basic_header(username: str) -> str:
    token = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    return f"Basic {token}"


def count_queries(
    route: Route, fixture: Fixture, body: bytes, floor_size: int
) -> tuple[int, int | None]:
    """SQL statements of one request (after a warm-up one), in this process, and of the next
    one if it was answered with the kept page (``venousapp.pagecache``; ``None`` if not)."""
    user = getattr(fixture, route.persona)
    client = Client(HTTP_HOST="127.0.0.1")
    headers: dict[str, str] = {}
    if route.basic:
        headers["Authorization"] = basic_header(user.username)
    else:
        client.force_login(user)
    path = floor_path(floor_size) if route.name == FLOOR.name else route.url_path(fixture)

    def request() -> int:
        if route.method == "POST":
            return client.post(
                path, body, content_type="application/json", headers=headers
            ).status_code
        return client.get(path, headers=headers).status_code

    status = request()
    if status != 200:
        sys.exit(f"{route.name}: {path} answered {status} in the test client.")
    caches[pagecache.CACHE].clear()
    with CaptureQueriesContext(connection) as made:
        request()
    with CaptureQueriesContext(connection) as kept:
        request()
    return len(made), (len(kept) if len(kept) < len(made) else None)


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    sys.exit(f"No free port in {PORTS.start}-{PORTS.stop - 1}.")


@contextmanager
def gunicorn(port: int) -> Iterator[None]:
    """gunicorn as ``make run`` starts it, but with 2 sync workers and the bench settings."""
    VAR.mkdir(parents=True, exist_ok=True)
    log = VAR / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "venousapp.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--worker-class",
        "sync",
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    with log.open("w") as output:
        server = subprocess.Popen(  # noqa: S603 - fixed arguments
            command, cwd=ROOT, env=os.environ.copy(), stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                sys.exit(f"gunicorn exited with {server.returncode}; see {log}")
            try:
                if fetch(port, "GET", "/healthz?worker=skip").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"gunicorn did not answer within 60 s; see {log}")
            time.sleep(0.3)
        yield
    finally:
        server.terminate()
        server.wait(30)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    cookies: SimpleCookie
    body: bytes


def fetch(
    port: int,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body or None, headers=dict(headers or {}))
        response = conn.getresponse()
        cookies: SimpleCookie = SimpleCookie()
        for value in response.headers.get_all("Set-Cookie") or []:
            cookies.load(value)
        return Answer(response.status, dict(response.headers), cookies, response.read())
    finally:
        conn.close()


def log_in(port: int, username: str) -> dict[str, str]:
    """The cookies a browser holds after the log-in form (session and CSRF)."""
    page = fetch(port, "GET", "/accounts/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if page.status != 200 or token is None or "csrftoken" not in page.cookies:
        sys.exit(f"The log-in page answered {page.status} without a CSRF token.")
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "username": username,
            "password": PASSWORD,
        }
    ).encode()
    answer = fetch(
        port,
        "POST",
        "/accounts/login/",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={page.cookies['csrftoken'].value}",
        },
        body=form,
    )
    if answer.status != 302 or "sessionid" not in answer.cookies:
        sys.exit(f"Logging {username} in answered {answer.status}; see {VAR / 'gunicorn.log'}")
    csrf = answer.cookies.get("csrftoken") or page.cookies["csrftoken"]
    return {"sessionid": answer.cookies["sessionid"].value, "csrftoken": csrf.value}


def request_headers(route: Route, sessions: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    headers = {}
    if route.basic:
        headers["Authorization"] = basic_header(route.persona)
    else:
        cookies = sessions[route.persona]
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if route.method == "POST":
            headers["X-CSRFToken"] = cookies["csrftoken"]
    if route.method == "POST":
        headers["Content-Type"] = "application/json"
    return headers


# --- the run --------------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Routes: " + ", ".join(ROUTE_NAMES),
    )
    parser.add_argument("--duration", default="5s", help="wrk -d per run (default 5s)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds per route, each a floor run and a route run (default 3); the table "
        "shows the round whose ratio is the median, and every round's ratio",
    )
    parser.add_argument(
        "--connections", type=int, default=16, help="wrk -c, open connections (default 16)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    parser.add_argument(
        "--only",
        action="append",
        choices=ROUTE_NAMES,
        metavar="ROUTE",
        help="measure only this route (repeatable); routes: " + ", ".join(ROUTE_NAMES),
    )
    parser.add_argument(
        "--reseed", action="store_true", help="drop the benchmark database and seed it again"
    )
    parser.add_argument("--cases", type=int, default=20_000, help="cases (default 20000)")
    parser.add_argument("--visits", type=int, default=100_000, help="visits (default 100000)")
    parser.add_argument("--plans", type=int, default=200, help="procedure plans (default 200)")
    args = parser.parse_args()
    if not wrk.duration_valid(args.duration):
        parser.error("--duration: a number of seconds, or a number with s, m or h (15s, 1m)")
    if args.connections < args.threads or args.threads < 1:
        parser.error("--connections must be at least --threads, and --threads at least 1")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


@dataclass
class Bench:
    """The running server, the personas' cookies and the wrk settings of one run."""

    port: int
    fixture: Fixture
    sessions: dict[str, dict[str, str]]
    body_file: Path
    args: argparse.Namespace
    floor_size: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, route: Route) -> Answer:
        """One request as wrk sends it; exits unless it is a 200."""
        path = route.url_path(self.fixture)
        body = self.body_file.read_bytes() if route.method == "POST" else b""
        answer = fetch(self.port, route.method, path, headers=self.headers(route), body=body)
        if answer.status != 200:
            sys.exit(f"{route.name}: {route.method} {path} answered {answer.status}.")
        return answer

    def headers(self, route: Route) -> dict[str, str]:
        return request_headers(route, self.sessions)

    def load(self, route: Route, expected: int) -> wrk.WrkResult:
        """wrk against ``route``; warns when a response was an error or shorter than the
        ``expected`` body (a redirect to the log-in page, say)."""
        floor = route.name == FLOOR.name
        path = floor_path(self.floor_size) if floor else route.url_path(self.fixture)
        result = wrk.run(
            self.base + path,
            threads=self.args.threads,
            connections=self.args.connections,
            duration=self.args.duration,
            headers=[f"{k}: {v}" for k, v in self.headers(route).items()],
            method=route.method,
            body_file=self.body_file if route.method == "POST" else None,
        )
        if result.error_count or result.bytes_per_response < expected:
            print(
                f"  warning: {route.name}: errors {dict(result.errors)}, "
                f"{result.bytes_per_response:,.0f} bytes per response for a {expected:,}-byte body"
            )
        return result

    def measure(self, route: Route) -> wrk.Row:
        """The floor with the route's persona and the route itself, side by side in each
        round, in alternating order (the machine's speed drifts from minute to minute)."""
        for _ in range(4):  # both workers have served it once at least
            body = self.answer(route).body
        made, kept = count_queries(
            route, self.fixture, self.body_file.read_bytes(), self.floor_size
        )
        floor_route = replace(FLOOR, persona=route.persona)
        rounds = []
        for index in range(self.args.rounds):
            if index % 2 == 0:
                floor = self.load(floor_route, self.floor_size)
                page = self.load(route, len(body))
            else:
                page = self.load(route, len(body))
                floor = self.load(floor_route, self.floor_size)
            rounds.append((page, floor))
        page, floor = wrk.median_round(rounds)
        ratios = tuple(p.rate / f.rate if f.rate else 0.0 for p, f in rounds)
        return wrk.Row(route.name, route.label(), page, floor, len(body), made, kept, ratios)


def main() -> None:
    args = arguments()
    started = timezone.now()
    database_prepare(reseed=args.reseed)
    fixture = seed(cases=args.cases, visits=args.visits, plans=args.plans)
    routes = [r for r in ROUTES if not args.only or r.name in args.only]
    port = free_port()
    rows = []
    with tempfile.TemporaryDirectory() as scratch, gunicorn(port):
        body_file = Path(scratch) / "evaluate.json"
        body_file.write_text(json.dumps(fixture.facts))
        sessions = {name: log_in(port, name) for name in ("clinician", "nurse")}
        bench = Bench(port, fixture, sessions, body_file, args)
        bench.floor_size = len(bench.answer(ROUTES[0]).body)
        floor_sql, _kept = count_queries(FLOOR, fixture, b"", bench.floor_size)
        print(
            f"\nDatabase {settings.DATABASES['default']['NAME']}: "
            + ", ".join(f"{v:,} {k}" for k, v in fixture.counts.items())
            + f" at {demo_cases.CENTRE_A.code}"
        )
        print(
            f"Case {fixture.case.pk}, plan {fixture.plan.pk}, patency report {fixture.report.pk}; "
            f"floor {floor_path(bench.floor_size)}: {bench.floor_size:,} bytes (the case page), "
            f"{floor_sql} SQL statements per request"
        )
        print(
            f"gunicorn {bench.base} (2 sync workers), wrk -t{args.threads} -c{args.connections} "
            f"-d{args.duration}; for each route {args.rounds} rounds of the floor and the route "
            "side by side, in alternating order\n",
            flush=True,
        )
        for route in routes:
            rows.append(bench.measure(route))
            print(wrk.progress(rows[-1]), flush=True)
    print(f"\n{started:%Y-%m-%d %H:%M %Z}, `{' '.join(['bench/pages.py', *sys.argv[1:]])}`\n")
    print(wrk.table(rows))


if __name__ == "__main__":
    main()
