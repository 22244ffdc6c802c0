"""Requests as views see them: behind the log-in (LoginRequiredMiddleware, and the API's
authentication plus ``RequiredPerms``) the user is a real account of this app, with a
centre. Views annotate ``request`` with these types instead of casting ``request.user``."""

from django.http import HttpRequest
from rest_framework.request import Request

from venousapp.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User


class AuthenticatedRequest(Request):
    user: User
