"""/healthz: database, broker and a real worker round trip, each reported separately."""

import time

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from venousapp.celery import app
from venousapp.tasks import ping


def _check_database() -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def _check_broker() -> dict[str, object]:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=2)
        transport = conn.transport_cls
    return {"ok": True, "transport": str(transport)}


def _check_worker(timeout: float) -> dict[str, object]:
    started = time.monotonic()
    result = ping.apply_async(expires=timeout + 5)
    answer = result.get(timeout=timeout)
    return {"ok": answer == "pong", "round_trip_ms": round((time.monotonic() - started) * 1000)}


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    timeout = 5.0 if request.GET.get("worker") != "skip" else 0
    checks: dict[str, dict[str, object]] = {}
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            checks[name] = check()
        except Exception as exc:
            checks[name] = {"ok": False, "error": exc.__class__.__name__}
    if timeout:
        try:
            checks["worker"] = _check_worker(timeout)
        except Exception as exc:
            checks["worker"] = {"ok": False, "error": exc.__class__.__name__}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse({"ok": healthy, "checks": checks}, status=200 if healthy else 503)
