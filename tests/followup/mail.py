"""A fake SMTP server (aiosmtpd) in the test process, which the Celery worker process sends
real SMTP to. It keeps every message it received and can misbehave on demand:

- ``refuse(n)``: the next ``n`` messages are answered ``451`` (a server that refuses, then
  recovers): the message was not accepted;
- ``stall_next(seconds)``: the next message is received in full, then the server stays
  silent instead of answering ``250`` (a server that stalls after DATA): the sender cannot
  know whether it was accepted.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """The aiosmtpd handler: what arrived, and how to answer the next messages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[bytes] = []
        self._refusals = 0
        self._stall = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self._refusals > 0:
                self._refusals -= 1
                return "451 4.3.0 Temporary failure, try again later"
            self._messages.append(envelope.original_content or envelope.content)
            stall, self._stall = self._stall, 0.0
        if stall:
            await asyncio.sleep(stall)
        return "250 2.0.0 OK"

    def messages(self) -> list[bytes]:
        with self._lock:
            return list(self._messages)

    def refuse(self, count: int) -> None:
        with self._lock:
            self._refusals = count

    def stall_next(self, seconds: float) -> None:
        with self._lock:
            self._stall = seconds

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._refusals = 0
            self._stall = 0.0


class FakeSMTPServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> FakeSMTPServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
