"""The product's URLs plus the floor of ``bench/pages.py``.

The floor is the cheapest page the stack can serve: the same middleware (session read and
save, log-in check, CSRF, security headers) and the same log-in, then a constant body of the
size given in the URL, with no query of its own and no template. A page's requests per second
divided by the floor's, measured in the same run, is what the page's own work costs.

The frame is an empty page in the product's frame (``base.html``: navigation by role, the
notification bell, the escalation banner): what every page pays before its own content.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from venousapp import urls as product

FLOOR_BYTE = b"x"


def floor(request: HttpRequest, size: int) -> HttpResponse:
    return HttpResponse(FLOOR_BYTE * size, content_type="text/html; charset=utf-8")


def frame(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")


urlpatterns = [
    path("bench/floor/<int:size>/", floor, name="bench-floor"),
    path("bench/frame/", frame, name="bench-frame"),
    *product.urlpatterns,
]
