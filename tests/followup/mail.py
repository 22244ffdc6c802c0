"""A mail backend the test process and a Celery worker process both see: every message is
one file in ``$FOLLOWUP_MAIL_DIR``. Control files in that directory inject failures:

- ``fail_count`` holding N: the next N sends raise ``SMTPServerDisconnected`` (a mail server
  that is down, then comes back);
- ``block_once``: the first send writes its process id to ``blocked.pid`` and hangs, so the
  test can SIGKILL the worker child in the middle of a send.
"""

from __future__ import annotations

import fcntl
import os
import smtplib
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


def mail_dir() -> Path:
    return Path(os.environ["FOLLOWUP_MAIL_DIR"])


def sent_messages(directory: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(directory.glob("*.eml"))]


class FileBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        directory = mail_dir()
        with (directory / "lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            counter = directory / "fail_count"
            if counter.exists() and int(counter.read_text() or 0) > 0:
                counter.write_text(str(int(counter.read_text()) - 1))
                raise smtplib.SMTPServerDisconnected("test mail server is down")
            block = directory / "block_once"
            blocking = block.exists() and not (directory / "blocked.pid").exists()
            if blocking:
                (directory / "blocked.pid").write_text(str(os.getpid()))
        if blocking:
            time.sleep(120)  # killed by the test long before
        for message in email_messages:
            name = f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex}.eml"
            (directory / name).write_bytes(message.message().as_bytes())
        return len(email_messages)
