"""The floor of ``bench/pages.py`` lives in the benchmark's URLconf only: the product serves no
such route, and under ``bench.urls`` it sits behind the same log-in as every page."""

import pytest
from django.urls import Resolver404, resolve, reverse

FLOOR = "/bench/floor/1234/"


def test_the_floor_resolves_under_the_bench_urlconf_only():
    assert resolve(FLOOR, urlconf="bench.urls").url_name == "bench-floor"
    with pytest.raises(Resolver404):
        resolve(FLOOR, urlconf="venousapp.urls")


def test_the_product_serves_no_floor(client_for):
    assert client_for("clinician").get(FLOOR).status_code == 404
    assert client_for("clinician").get("/bench/frame/").status_code == 404


def test_the_bench_urlconf_keeps_the_product_routes():
    for name, args in (("cases:list", []), ("cases:detail", [7]), ("followup:worklist", [])):
        assert reverse(name, args=args, urlconf="bench.urls") == reverse(name, args=args)


def test_the_floor_answers_its_size_behind_the_log_in(settings, client_for):
    settings.ROOT_URLCONF = "bench.urls"
    response = client_for("nurse").get(FLOOR)
    assert response.status_code == 200
    assert response.content == b"x" * 1234
    anonymous = client_for("anonymous").get(FLOOR)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))


def test_the_frame_is_an_empty_page_of_the_product(settings, client_for):
    settings.ROOT_URLCONF = "bench.urls"
    page = client_for("clinician").get("/bench/frame/").content.decode()
    assert 'href="/cases/"' in page
    assert "<main" in page
