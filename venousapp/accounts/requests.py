"""Requests as views see them: behind the log-in (LoginRequiredMiddleware, and the API's
authentication plus ``RequiredPerms``) the user is a person with an account of this app, and
so of a centre (only the system account has none, and it cannot log in). Views annotate
``request`` with these types instead of casting ``request.user``; services that act for the
logged-in person take a ``Person``."""

from django.http import HttpRequest
from rest_framework.request import Request

from venousapp.accounts.models import Person


class AuthenticatedHttpRequest(HttpRequest):
    user: Person


class AuthenticatedRequest(Request):
    user: Person
