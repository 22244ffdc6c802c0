"""Rendered pages kept in each process while the data they were rendered from is unchanged.

``@kept_page`` on a view keeps its rendered page (status 200, no cookie of its own, no
``no-store``) and answers the same request with it again, without running the view, while
nothing has changed:

- the data's generation (``venousapp.generation``, the number the request works from): any
  committed change to any table, made in any way by any process, makes every kept page
  unusable;
- the user (her permissions, role and centre are data), the address with its query, the
  language, the time zone, today's date (in her centre and in the active zone), the htmx
  headers, and what her session holds (a decision draft, for instance).

A page is neither kept nor answered from what is kept inside a transaction (its changes are
not counted until they commit), when there is no generation (SQLite), or when a message waits
to be shown. The CSRF tokens of a kept page are taken out and a fresh one is put in each
answer, as rendering would. A view that depends on anything else (the time of day, say)
either is not decorated or marks such answers ``no-store`` (``never_cache``).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.messages import get_messages
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token  # type: ignore[attr-defined]
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import get_language

from venousapp import generation
from venousapp.accounts.middleware import REFRESHED_KEY

CACHE = "pages"
# A masked CSRF token: 64 letters and digits standing alone.
_TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
# Stands for the CSRF token in a kept page; made up per process, so no page can contain it.
_PLACEHOLDER = b"csrf-" + secrets.token_hex(16).encode()
_SAFE_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class Kept:
    content: bytes
    headers: tuple[tuple[str, str], ...]
    has_token: bool

    def response(self, request: HttpRequest) -> HttpResponse:
        content = self.content
        if self.has_token:
            content = content.replace(_PLACEHOLDER, get_token(request).encode())
        return HttpResponse(content, headers=dict(self.headers))


def _messages_waiting(request: HttpRequest) -> bool:
    return hasattr(request, "_messages") and len(get_messages(request)) > 0


def _key(request: HttpRequest, user: Any, number: int, extra: tuple[str, ...]) -> str:
    centre = getattr(user, "centre", None)
    session = sorted((k, v) for k, v in request.session.items() if k != REFRESHED_KEY)
    htmx = sorted((k, v) for k, v in request.headers.items() if k.lower().startswith("hx-"))
    parts = [
        number,
        user.pk,
        request.get_full_path(),
        get_language(),
        timezone.get_current_timezone_name(),
        timezone.localdate(),
        centre.today() if centre is not None else None,
        htmx,
        session,
        extra,
    ]
    encoded = json.dumps(parts, default=str, separators=(",", ":")).encode()
    return "page:" + hashlib.sha256(encoded).hexdigest()


def lookup(request: HttpRequest, user: Any, *extra: str) -> tuple[HttpResponse | None, str | None]:
    """The kept answer to ``request`` from ``user`` (``None`` if there is none), and the key to
    keep the answer under (``None`` if it may not be kept). ``extra``: what else the answer
    depends on."""
    if (
        request.method not in _SAFE_METHODS
        or user is None
        or not user.is_authenticated
        or connection.in_atomic_block
        or _messages_waiting(request)
    ):
        return None, None
    number = generation.of_request()
    if number is None:
        return None, None
    key = _key(request, user, number, extra)
    kept = caches[CACHE].get(key)
    return (kept.response(request) if kept is not None else None), key


def store(request: HttpRequest, key: str, response: HttpResponse) -> None:
    """Keep ``response`` (rendered) under ``key`` from ``lookup``, if it may be kept."""
    cache_control = {
        part.split("=", 1)[0].strip().lower()
        for part in response.get("Cache-Control", "").split(",")
    }
    if (
        response.status_code != 200
        or response.streaming
        or response.cookies
        or "no-store" in cache_control
        or _messages_waiting(request)
    ):
        return
    caches[CACHE].set(key, _kept(request, response))


def _kept(request: HttpRequest, response: HttpResponse) -> Kept:
    secret = request.META.get("CSRF_COOKIE", "")
    has_token = False

    def mask(match: re.Match[bytes]) -> bytes:
        nonlocal has_token
        token = match.group().decode()
        if secret and constant_time_compare(_unmask_cipher_token(token), secret):
            has_token = True
            return _PLACEHOLDER
        return match.group()

    content = _TOKEN.sub(mask, response.content)
    return Kept(content=content, headers=tuple(response.headers.items()), has_token=has_token)


def kept_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Keep the pages of ``view`` (a page behind the log-in)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        kept, key = lookup(request, getattr(request, "user", None))
        if kept is not None:
            return kept
        response = view(request, *args, **kwargs)
        if key is not None:
            store(request, key, response)
        return response

    return wrapper
