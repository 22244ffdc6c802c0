"""The client's address, as throttling (failed log-ins, password reset requests) must see it.

Behind a reverse proxy every request arrives from the proxy (``REMOTE_ADDR``): throttling by
that address would lock a user out for everybody. The proxy names the client in
X-Forwarded-For, appending the address it was connected from to whatever the client sent,
so only the entries appended by trusted proxies are believed: starting from ``REMOTE_ADDR``,
while the current hop is one of ``settings.TRUSTED_PROXIES``, step to the header's next entry
from the right (nginx's ``real_ip_recursive``). With no trusted proxy (the default) the header
is ignored; a client connecting directly may send it but is known by its own address.

django-axes' optional resolver, django-ipware, is not used: it takes the address from the
header without checking that the request came through a trusted proxy, so a client that
reaches the app directly could choose the address it is throttled under.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client: ``REMOTE_ADDR``, or behind trusted proxies the address
    the nearest untrusted hop has according to them (``AXES_CLIENT_IP_CALLABLE``)."""
    address = _address(request.META.get("REMOTE_ADDR"))
    if address is None:  # a Unix socket, or a server that sent nonsense
        return None
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    while hops and _trusted(address):
        hop = _address(hops.pop())
        if hop is None:
            break
        address = hop
    return str(address)


def _address(text: str | None) -> Address | None:
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)
