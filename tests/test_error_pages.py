"""Errors look like the rest of the app, with the navigation, and say what to do."""

from __future__ import annotations

from django.test import RequestFactory
from django.views.defaults import server_error


def test_404_is_styled_with_the_navigation(client_for):
    response = client_for("clinician").get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'id="error-404"' in html
    assert 'aria-label="Main"' in html  # the navigation
    assert "Log out" in html


def test_403_is_styled_and_explains(client_for):
    response = client_for("nurse").get("/cases/new/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="error-403"' in html
    assert "Not allowed for your role" in html


def test_500_page_renders_without_a_request_context(db):
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert 'id="error-500"' in response.content.decode()


def test_pages_have_a_favicon(client_for):
    html = client_for("clinician").get("/cases/").content.decode()
    assert 'rel="icon"' in html
