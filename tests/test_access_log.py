"""gunicorn's access log never holds a search term: the query string and the referrer are
left out (gunicorn.conf.py), under the command the compose file and `make run` use."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from tests.followup.mail import free_port


def test_the_access_log_shows_the_path_but_no_query_string_or_referrer(tmp_path: Path):
    port = free_port()
    log = tmp_path / "access.log"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "venousapp.wsgi", "-b", f"127.0.0.1:{port}"),
            *("--no-control-socket", "--access-logfile", str(log)),
        ],
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/accounts/login/?next=/cases/%3Fq%3DA-1001-DOE",
            headers={"Referer": f"http://127.0.0.1:{port}/cases/?q=Jane+Doe"},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    assert response.status == 200
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(20)
    written = log.read_text()
    assert '"GET /accounts/login/ HTTP/1.1" 200' in written
    assert "A-1001" not in written
    assert "Doe" not in written
