"""Benchmark of the nurse's worklist page with 100 000 scheduled visits at one centre.

Run (PostgreSQL; a database of its own is best, it is filled on first use)::

    DATABASE_URL=postgres://venousapp:venousapp@127.0.0.1:5432/venousapp_bench \\
    .venv/bin/python bench/worklist.py [VISITS] [REQUESTS] [--gunicorn]

1. Creates the centre ``bench-worklist`` with a nurse and a clinician, and tops it up to
   VISITS (default 100 000) synthetic scheduled visits (``demo.followup``, the generator of
   ``seed_demo --visits``): past visits done with a result, a few left open (missed or
   overdue), future ones planned.
2. Requests the worklist REQUESTS times (default 200) per variant (all open, each status
   filter, an entity filter, page 2) as the logged-in nurse, through Django's test client
   (whole middleware stack, in process) or, with ``--gunicorn``, from a gunicorn
   (2 sync workers) on 127.0.0.1 over HTTP.
3. Prints p50/p95 latency per variant and the SQL query count of one request.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "venousapp.settings_test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from demo.followup import synthetic_visits_create  # noqa: E402
from followup import selectors  # noqa: E402
from followup.models import Visit  # noqa: E402
from followup.services.clock import centre_today  # noqa: E402
from venousapp.accounts.models import Centre, User  # noqa: E402

CENTRE = "bench-worklist"
PASSWORD = "bench-only-password-2026"  # noqa: S105 - a throwaway benchmark account
VARIANTS = {
    "all open": "",
    "due soon": "?status=due_soon",
    "due": "?status=due",
    "overdue": "?status=overdue",
    "missed": "?status=missed",
    "entity filter": "?entity=post_thrombotic",
    "page 2": "?page=2",
}


def user(username: str, role: str, centre: Centre) -> User:
    person, created = User.objects.get_or_create(
        username=username, defaults={"centre": centre, "email": f"{username}@example.org"}
    )
    if created:
        person.set_password(PASSWORD)
        person.save()
        person.groups.add(Group.objects.get(name=role))
    return person


def ensure_visits(target: int) -> tuple[Centre, User]:
    centre, _ = Centre.objects.get_or_create(
        code=CENTRE, defaults={"name": "Benchmark centre", "time_zone": "Europe/Berlin"}
    )
    nurse = user("bench-nurse", "nurse", centre)
    clinician = user("bench-clinician", "clinician", centre)
    have = Visit.objects.filter(centre=centre).count()
    if have < target:
        print(f"Creating {target - have:,} synthetic visits at {CENTRE} ...", flush=True)
        started = time.perf_counter()
        made, schedules = synthetic_visits_create(
            centre=centre, author=clinician, visits=target - have, seed=7
        )
        print(
            f"  {made:,} visits in {schedules:,} schedules, {time.perf_counter() - started:.0f} s"
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE followup_visit")
    return centre, nurse


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95


def bench_test_client(nurse: User, requests: int) -> None:
    client = Client()
    client.force_login(nurse)
    for name, query in VARIANTS.items():
        url = f"/followup/worklist/{query}"
        client.get(url)  # warm-up
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        p50, p95 = percentiles(samples)
        rows = response.content.count(b"<tr data-visit=")
        print(
            f"  {name:<14} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   "
            f"{len(ctx.captured_queries):2d} queries   {rows} rows"
        )


def bench_gunicorn(requests: int) -> None:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings.SETTINGS_MODULE)
    pid = ROOT / "var" / "bench-gunicorn.pid"
    pid.parent.mkdir(exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "venousapp.wsgi",
        "-b",
        "127.0.0.1:8765",
        "-w",
        "2",
        "--pid",
        str(pid),
    ]
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = "http://127.0.0.1:8765"
        for _ in range(50):
            try:
                page = opener.open(f"{base}/accounts/login/").read().decode()
                break
            except OSError:
                time.sleep(0.2)
        token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": "bench-nurse", "password": PASSWORD}
        ).encode()
        login = f"{base}/accounts/login/"  # our own http:// server
        request = urllib.request.Request(login, data=data, headers={"Referer": login})  # noqa: S310
        opener.open(request).read()
        for name, query in VARIANTS.items():
            url = f"{base}/followup/worklist/{query}"
            opener.open(url).read()
            samples = []
            for _ in range(requests):
                started = time.perf_counter()
                body = opener.open(url).read()
                samples.append((time.perf_counter() - started) * 1000)
            assert b"Follow-up worklist" in body
            p50, p95 = percentiles(samples)
            print(f"  {name:<14} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    visits = int(args[0]) if args else 100_000
    requests = int(args[1]) if len(args) > 1 else 200
    if connection.vendor != "postgresql":
        sys.exit("bench/worklist.py needs PostgreSQL (DATABASE_URL).")
    call_command("migrate", verbosity=0)
    centre, nurse = ensure_visits(visits)
    today = centre_today(centre)
    counts = selectors.worklist_counts(centre_id=centre.pk, today=today)
    print(
        f"\n{Visit.objects.filter(centre=centre).count():,} visits at {CENTRE}; on the "
        f"worklist today: {counts}"
    )
    print(f"\nTest client, {requests} requests per variant:")
    bench_test_client(nurse, requests)
    if "--gunicorn" in sys.argv:
        print(f"\ngunicorn (2 sync workers, 127.0.0.1), {requests} requests per variant:")
        bench_gunicorn(requests)


if __name__ == "__main__":
    main()
