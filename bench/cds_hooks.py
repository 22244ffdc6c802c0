"""Benchmark of the CDS Hooks service next to ``POST /api/v1/evaluate`` with the same facts.

Run (PostgreSQL; a small database of its own, created and migrated on first use)::

    make bench-cds                         # or: .venv/bin/python bench/cds_hooks.py [options]

1. Prepares ``venousapp_bench_interop`` (``bench/pages.py``'s ``database_prepare``): a
   centre, a clinician with an API token, and a registered CDS Hooks client whose public key
   signs the calls.
2. Starts gunicorn as ``bench/pages.py`` does (production settings, 2 sync workers) on a free
   port of 18300-18399.
3. Runs wrk (``-t2 -c16`` by default) against ``POST /cds-services/venousapp-patient-view``
   with the facts as a prefetch (Patient, Conditions, Observations) and a fresh signed JWT
   per request (``bench/cds_hooks.lua``), and against ``POST /api/v1/evaluate`` with the same
   facts and the API token, alternating ``--rounds`` times, after a warm-up of each.

Prints p50/p95/p99 per run and the ratio of the p95s of each round (a hook run and the
evaluate run right after it, under the same load of this shared machine); the verdict is the
median of the rounds' ratios (target: at most 1.5). The ratio of each route's best round is
printed too; it pairs runs from different minutes, which on a virtual machine whose speed
drifts from one minute to the next says less.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench-interop"
os.environ.setdefault(
    "DATABASE_URL",
    "postgres://venousapp:venousapp@127.0.0.1:5432/venousapp_bench_interop?conn_max_age=60",
)
os.environ.setdefault("VAR_DIR", str(VAR))
os.environ.setdefault("STATIC_ROOT", str(VAR / "static"))
os.environ.setdefault("SITE_URL", "http://127.0.0.1")

import jwt  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from fhir.resources.R4B.bundle import Bundle  # noqa: E402

from bench import pages, wrk  # noqa: E402  (sets the production environment, django.setup)
from interop.models import CdsClient  # noqa: E402
from interop.resources import facts_resources  # noqa: E402
from venousapp.accounts.models import ApiToken, Centre, User  # noqa: E402
from venousapp.accounts.services import api_token_create, api_token_revoke  # noqa: E402

PORTS = range(18300, 18400)
LUA = Path(__file__).resolve().with_name("cds_hooks.lua")
SERVICE = "/cds-services/venousapp-patient-view"
ISSUER = "https://ehr.bench.example"
# Per route, before the rounds: after 3 s the first measured hook run was still the slowest
# of every benchmark (at 55–75 % of the rate of the later ones).
WARM_UP = "10s"
# A chronic post-thrombotic obstruction with an active ulcer: most rules read something.
FACTS = {
    "age": 54,
    "sex": "female",
    "side": "left",
    "lesion_entity": "chronic_post_thrombotic",
    "segments_involved": ["CIV", "EIV", "CFV"],
    "obstruction": {"type": "stenosis", "area_reduction_pct": 70, "diameter_reduction_pct": 55},
    "ceap": "C6,s Esi Ad Po",
    "ulcer": "active",
    "venous_claudication": True,
    "qol_impairment": "moderate",
    "bleeding_risk": {"level": "low", "factors": []},
    "life_expectancy_years": 25,
    "ambulatory": True,
    "pregnancy": False,
    "active_infection": False,
    "severe_tortuosity": False,
    "diameter_mismatch": False,
    "endovascular_contraindication": False,
    "villalta": 14,
    "vcss": 12,
    "conservative_therapy_months": 9,
    "inflow": "good",
    "long_term_anticoagulation_possible": True,
}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", default="10s", help="wrk duration per run (10s)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the two routes (5)")
    parser.add_argument("--reseed", action="store_true", help="drop and create the database")
    args = parser.parse_args()
    if not wrk.duration_valid(args.duration):
        parser.error("--duration: seconds, or a number with s, m or h")
    return args


def seed(public_pem: str) -> tuple[str, dt.date]:
    """The bench centre's clinician token and the registered client (key of this run)."""
    from django.contrib.auth.models import Group  # after django.setup (bench.pages)

    centre, _new = Centre.objects.get_or_create(code="bench-interop", name="Bench interop")
    user, _new = User.objects.get_or_create(
        username="bench-interop-clinician", defaults={"centre": centre}
    )
    user.groups.add(Group.objects.get(name="clinician"))
    # One token per run: the tokens of earlier runs would pile up on the benchmark user.
    for old in ApiToken.objects.filter(user=user):
        api_token_revoke(token=old)
    _row, secret = api_token_create(user=user, name="bench", lifetime=dt.timedelta(hours=2))
    CdsClient.objects.update_or_create(
        issuer=ISSUER,
        defaults={"name": "Bench record", "public_key_pem": public_pem, "centre": centre},
    )
    return secret, centre.today()


def hook_body(today: dt.date) -> dict:
    resources = facts_resources(FACTS, today=today, patient_id="bench-1")

    def searchset(kind: str) -> dict:
        items = [r for r in resources if r.get_resource_type() == kind]
        bundle = Bundle(type="searchset", entry=[{"resource": r} for r in items])
        return bundle.model_dump(mode="json", exclude_none=True)

    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/bench", "patientId": "bench-1"},
        "prefetch": {
            "patient": resources[0].model_dump(mode="json", exclude_none=True),
            "conditions": searchset("Condition"),
            "observations": searchset("Observation"),
        },
    }


def tokens(key: ec.EllipticCurvePrivateKey, audience: str, count: int) -> str:
    now = int(time.time())
    lines = (
        jwt.encode(
            {
                "iss": ISSUER,
                "aud": audience,
                "iat": now,
                "exp": now + 1800,
                "jti": uuid.uuid4().hex,
            },
            key,
            algorithm="ES256",
        )
        for _ in range(count)
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    args = arguments()
    pages.VAR = VAR
    pages.PORTS = PORTS
    pages.database_prepare(reseed=args.reseed)
    key = ec.generate_private_key(ec.SECP256R1())
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    secret, today = seed(public)
    port = pages.free_port()
    base = f"http://127.0.0.1:{port}"
    rows: list[tuple[str, wrk.WrkResult]] = []
    with tempfile.TemporaryDirectory() as scratch, pages.gunicorn(port):
        hook_file = Path(scratch) / "hook.json"
        hook_file.write_text(json.dumps(hook_body(today)))
        facts_file = Path(scratch) / "facts.json"
        facts_file.write_text(json.dumps(FACTS))
        token_file = Path(scratch) / "tokens.txt"
        seconds = int(args.duration.rstrip("smh")) * {"s": 1, "m": 60, "h": 3600}.get(
            args.duration[-1], 1
        )
        needed = max(10_000, seconds * 1000)  # more than wrk sends in one run
        audience = f"http://127.0.0.1:{port}{SERVICE}"
        os.environ["BENCH_TOKENS_FILE"] = str(token_file)
        os.environ["BENCH_PAGES_LUA"] = str(wrk.LUA)
        json_header = "Content-Type: application/json"
        runs = {
            "cds": {
                "url": base + SERVICE,
                "body_file": hook_file,
                "headers": [json_header],
                "lua": LUA,
            },
            "evaluate": {
                "url": base + "/api/v1/evaluate",
                "body_file": facts_file,
                "headers": [json_header, f"Authorization: Token {secret}"],
                "lua": wrk.LUA,
            },
        }
        print(
            f"gunicorn {base} (2 sync workers), wrk -t{args.threads} -c{args.connections} "
            f"-d{args.duration}, {args.rounds} rounds\n",
            flush=True,
        )
        pages_lua = wrk.LUA

        def measure(name: str, duration: str) -> wrk.WrkResult:
            run = runs[name]
            wrk.LUA = run["lua"]  # type: ignore[assignment]
            if name == "cds":  # fresh tokens: a jti is taken once
                token_file.write_text(tokens(key, audience, needed))
            result = wrk.run(
                run["url"],  # type: ignore[arg-type]
                threads=args.threads,
                connections=args.connections,
                duration=duration,
                headers=run["headers"],  # type: ignore[arg-type]
                method="POST",
                body_file=run["body_file"],  # type: ignore[arg-type]
            )
            wrk.LUA = pages_lua
            if result.error_count:
                sys.exit(f"{name}: {result.errors} (see {VAR / 'gunicorn.log'})")
            return result

        for name in runs:  # warm-up, not counted: each worker's first calls load and compile
            measure(name, WARM_UP)
        for number in range(args.rounds):
            # every other round the other route first, so a drift of the machine's speed
            # does not favour one of them
            for name in list(runs)[:: -1 if number % 2 else 1]:
                result = measure(name, args.duration)
                rows.append((name, result))
                print(
                    f"{name:9} {result.rate:8.1f} req/s  p50 {result.p50_ms:6.1f} ms  "
                    f"p95 {result.p95_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms",
                    flush=True,
                )
    print_table(rows, args)


def print_table(rows: list[tuple[str, wrk.WrkResult]], args: argparse.Namespace) -> None:
    labels = {
        "cds": f"POST {SERVICE} (prefetch, signed JWT)",
        "evaluate": "POST /api/v1/evaluate (same facts, API token)",
    }
    print(f"\n`bench/cds_hooks.py {' '.join(sys.argv[1:])}`\n")
    print("| route | req/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for name, result in rows:
        print(
            f"| {labels[name]} | {result.rate:.0f} | {result.p50_ms:.1f} | "
            f"{result.p95_ms:.1f} | {result.p99_ms:.1f} |"
        )
    hooks = [result for name, result in rows if name == "cds"]
    evaluations = [result for name, result in rows if name == "evaluate"]  # round by round
    pairs = zip(hooks, evaluations, strict=True)
    ratios = [hook.p95_ms / evaluate.p95_ms for hook, evaluate in pairs]
    ratio = statistics.median(ratios)
    best = min(h.p95_ms for h in hooks) / min(e.p95_ms for e in evaluations)
    verdict = "within" if ratio <= 1.5 else "OVER"
    print(
        "\np95 of the hook / p95 of evaluate, each round (the two runs of a round are "
        f"adjacent, so under the same load of the machine): {', '.join(f'{r:.2f}' for r in ratios)}"
        f"\nmedian of the rounds: {ratio:.2f} ({verdict} 1.5); "
        f"best round of each route: {best:.2f}"
    )


if __name__ == "__main__":
    main()
