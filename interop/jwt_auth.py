"""CDS Hooks 2.0 authentication: the caller sends ``Authorization: Bearer <JWT>``, signed with
its private key. The token's ``iss`` names a registered, active :class:`CdsClient`; its
signature is checked with that client's key (a PEM public key, or its JWKS address); ``aud``
must be this service's address, and ``exp``, ``iat`` and ``jti`` must be present, the token
unexpired and its ``jti`` not used before by that client. Anything else is a 401.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from interop.models import CdsClient, HookCall
from venousapp.accounts.models import Centre
from venousapp.sql import quoted

# The signing algorithms the specification names (ES384 and RS384 SHALL be supported).
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
LEEWAY = dt.timedelta(seconds=30)
JWKS_TIMEOUT = 5  # seconds to fetch a client's JWKS
# How long a fetched JWKS is kept before it is fetched again.
JWKS_LIFESPAN = 300

_jwks_clients: dict[str, jwt.PyJWKClient] = {}
_lock = threading.Lock()


class NotAuthenticated(Exception):
    """The request is not from a registered client; the message says why (no secrets)."""


class Stale(NotAuthenticated):
    """The call's client or centre changed since this process read them: nothing was
    recorded, and a call verified again is answered with them as they are now."""


@dataclass(frozen=True)
class Caller:
    client: CdsClient
    call: HookCall


def _token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Send the CDS Hooks JWT as Authorization: Bearer <token>.")
    return token.strip()


def _jwks_client(url: str) -> jwt.PyJWKClient:
    with _lock:
        client = _jwks_clients.get(url)
        if client is None:
            client = jwt.PyJWKClient(url, lifespan=JWKS_LIFESPAN, timeout=JWKS_TIMEOUT)
            _jwks_clients[url] = client
        return client


_pem_keys: dict[str, Any] = {}


def _pem_key(pem: str) -> Any:
    """The public key of a PEM text, parsed once per process (parsing it took longer than
    checking a signature)."""
    key = _pem_keys.get(pem)
    if key is None:
        try:
            key = serialization.load_pem_public_key(pem.encode())
        except ValueError:
            raise NotAuthenticated("The client's registered key cannot be read.") from None
        if len(_pem_keys) > 100:
            _pem_keys.clear()
        _pem_keys[pem] = key
    return key


def _key(client: CdsClient, token: str) -> Any:
    if client.public_key_pem.strip():
        return _pem_key(client.public_key_pem.strip())
    if not client.jwks_url.startswith(("https://", "http://")):
        raise NotAuthenticated("The client's key address is not http(s).")
    try:
        return _jwks_client(client.jwks_url).get_signing_key_from_jwt(token).key
    except jwt.PyJWKClientError as exc:
        raise NotAuthenticated(f"The client's signing key could not be read: {exc}") from None


def audiences(request: HttpRequest) -> list[str]:
    """The addresses a token may name as ``aud``: the service as this request reached it,
    and as the site's configured address names it (behind a proxy they differ)."""
    path = request.path.rstrip("/")
    return sorted({request.build_absolute_uri(path), settings.SITE_URL.rstrip("/") + path})


_CLIENT_FIELDS = [field.attname for field in CdsClient._meta.concrete_fields]
_CENTRE_FIELDS = [field.attname for field in Centre._meta.concrete_fields]
# The active client of an issuer with its centre, written out in SQL and read without a
# queryset: the ORM took twice as long to build the query and its objects as the database
# took to answer, on every call. Plain columns only (text, numbers, flags, timestamps), which
# the database driver returns as the models hold them.
_COLUMNS = ", ".join(
    [f"c.{quoted(CdsClient, name)}" for name in _CLIENT_FIELDS]
    + [f"t.{quoted(Centre, name)}" for name in _CENTRE_FIELDS]
)
_OF_ISSUER = (
    f" FROM {quoted(CdsClient)} c JOIN {quoted(Centre)} t"
    f" ON t.{quoted(Centre, 'id')} = c.{quoted(CdsClient, 'centre')}"
    f" WHERE c.{quoted(CdsClient, 'issuer')} = %s AND c.{quoted(CdsClient, 'active')}"
)
CLIENT_OF_ISSUER = f"SELECT {_COLUMNS}{_OF_ISSUER}"
# True while the active client of an issuer and its centre hold the columns given (the
# issuer, then a ``Registration.row``).
UNCHANGED = (
    f"EXISTS (SELECT 1{_OF_ISSUER} AND ({_COLUMNS}) IS NOT DISTINCT FROM"  # noqa: S608
    f" ({', '.join(['%s'] * (len(_CLIENT_FIELDS) + len(_CENTRE_FIELDS)))}))"
)


@dataclass(frozen=True)
class Registration:
    """A registered, active client with its centre as one read found them (``row``: their
    columns in the order of ``CLIENT_OF_ISSUER``)."""

    client: CdsClient
    row: tuple[Any, ...]


def registration(issuer: str) -> Registration | None:
    with connection.cursor() as cursor:
        cursor.execute(CLIENT_OF_ISSUER, [issuer])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(_CLIENT_FIELDS)
    client = CdsClient.from_db(connection.alias, _CLIENT_FIELDS, row[:split])
    client.centre = Centre.from_db(connection.alias, _CENTRE_FIELDS, row[split:])
    return Registration(client=client, row=tuple(row))


# The registrations this process has read, by issuer, so that a call reads none. A call
# is recorded only while its client and centre are still, column for column, what it was
# answered with (``claim``); otherwise the registration is read again and the call answered
# again (``Stale``). A token that a kept key refuses is checked again with the key as it is
# now. A save or delete of a client or centre in this process forgets them all.
_registrations: dict[str, Registration] = {}


def registrations_forget(**_kwargs: Any) -> None:
    _registrations.clear()


@dataclass(frozen=True)
class Verified:
    registration: Registration
    claims: dict[str, Any]

    @property
    def client(self) -> CdsClient:
        return self.registration.client


def _issuer(token: str) -> Any:
    """The token's ``iss`` as it claims it, read only to find the client whose key then
    checks the whole token (``jwt.decode`` below, which requires that same issuer). Reading
    it with ``jwt.decode`` too validated and decoded every part of the token twice."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, RecursionError):
        raise NotAuthenticated("The token is not a JWT.") from None
    return claims.get("iss") if isinstance(claims, dict) else None


def verify(request: HttpRequest) -> Verified:
    """The registered client that signed this request and the token's claims;
    NotAuthenticated otherwise. Nothing is read from the body before this."""
    token = _token(request)
    issuer = _issuer(token)
    if not isinstance(issuer, str):
        raise NotAuthenticated("Unknown issuer.")
    kept = _registrations.get(issuer)
    if kept is not None:
        try:
            return _verified(request, token, kept)
        except NotAuthenticated:
            _registrations.pop(issuer, None)  # its key may have changed since: read it again
    found = registration(issuer)
    if found is None:
        raise NotAuthenticated("Unknown issuer.")
    verified = _verified(request, token, found)
    _registrations[issuer] = found
    return verified


def _verified(request: HttpRequest, token: str, found: Registration) -> Verified:
    client = found.client
    try:
        claims = jwt.decode(
            token,
            key=_key(client, token),
            algorithms=ALGORITHMS,
            audience=audiences(request),
            issuer=client.issuer,
            leeway=LEEWAY,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"The token was refused: {exc}") from None
    if "\x00" in str(claims["jti"]):
        raise NotAuthenticated("The token's jti holds a NUL character.")
    return Verified(registration=found, claims=claims)


REPLAYED = "This token was used before (jti)."
IssuedCards = dict[str, dict[str, str]]  # {card uuid: {"rule_id", "value", "indicator"}}


def call_record(
    verified: Verified,
    *,
    hook: str,
    hook_instance: str,
    cards: IssuedCards | None = None,
    card_prefix: uuid.UUID | None = None,
) -> HookCall:
    """The (unsaved) record of a call with this verified token and the cards it answered
    (whose uuids begin with ``card_prefix``'s first half)."""
    claims = verified.claims
    return HookCall(
        client=verified.client,
        jti=str(claims["jti"])[:200],
        hook=hook[:64],
        hook_instance=hook_instance[:100],
        called_at=timezone.now(),
        expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), tz=dt.UTC),
        cards=cards or {},
        card_prefix=card_prefix,
    )


# Every column of a call but its id, in the model's order.
_CALL_FIELDS = [field for field in HookCall._meta.concrete_fields if not field.primary_key]


@functools.cache
def _relaxed_insert() -> str:
    """PostgreSQL: the INSERT of a call while its registration is unchanged, which also
    relaxes the commit of its own transaction (names and types from the model, values as
    parameters: ``_relaxed_values``, then the issuer and the registration's row)."""
    columns = ", ".join(quoted(HookCall, field.name) for field in _CALL_FIELDS)
    values = ", ".join(f"%s::{field.db_type(connection)}" for field in _CALL_FIELDS)
    return (
        "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) "  # noqa: S608
        f"INSERT INTO {quoted(HookCall)} ({columns}) SELECT {values} FROM relaxed"
        f" WHERE {UNCHANGED} RETURNING {quoted(HookCall, 'id')}"
    )


def _relaxed_values(call: HookCall) -> list[Any]:
    """The values of ``_relaxed_insert``, in its order, as psycopg2 adapts them (the model's
    own preparation of each took half as long as the statement)."""
    values = [getattr(call, field.attname) for field in _CALL_FIELDS]
    return [json.dumps(value) if isinstance(value, dict) else value for value in values]


def claim(
    verified: Verified,
    *,
    hook: str,
    hook_instance: str,
    cards: IssuedCards | None = None,
    card_prefix: uuid.UUID | None = None,
) -> Caller:
    """Record the call with the cards it answered; its token's ``jti`` is taken once (a
    replay is NotAuthenticated). A call whose client or centre changed since they were read
    is not recorded (``Stale``).

    Outside a transaction on PostgreSQL the record is one statement, committed on its own
    without waiting for the write-ahead log to reach the disk: a call changes no patient
    data, and what a database crash could lose is the last fraction of a second of call
    records (a token seen then could be replayed once within its few minutes; feedback on
    those cards would be refused). Inside a caller's transaction, and on other databases,
    it is an ordinary save in a savepoint, so the caller's transaction stays usable."""
    call = call_record(
        verified, hook=hook, hook_instance=hook_instance, cards=cards, card_prefix=card_prefix
    )
    issuer = verified.client.issuer
    try:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                current = [issuer, *verified.registration.row]
                cursor.execute(_relaxed_insert(), _relaxed_values(call) + current)
                inserted = cursor.fetchone()
            if inserted is not None:
                (call.pk,) = inserted
        else:
            with transaction.atomic():
                now = registration(issuer)
                if now is not None and now.row == verified.registration.row:
                    call.save()
    except IntegrityError:
        raise NotAuthenticated(REPLAYED) from None
    if call.pk is None:
        _registrations.pop(issuer, None)
        raise Stale("The client's registration changed during the call.")
    return Caller(client=verified.client, call=call)
