from typing import cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from venousapp.accounts import services
from venousapp.accounts.client_ip import client_ip
from venousapp.accounts.forms import AccountForm, ApiTokenForm
from venousapp.accounts.models import ApiToken, User
from venousapp.accounts.requests import AuthenticatedHttpRequest


def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "My account": the user's name and e-mail, her API tokens; password change is
    linked from here."""
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your account was updated."))
        return redirect("account")
    return _account_page(request, form=form)


def api_token_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Make an API token and show it on this one answer: it is rendered here rather than
    after a redirect because it is kept nowhere (a session would store it), and the answer
    may not be cached."""
    if request.method != "POST":
        return redirect("account")
    user = _user(request)
    token_form = ApiTokenForm(request.POST)
    new_token = None
    if token_form.is_valid():
        _, new_token = services.api_token_create(
            user=user, name=token_form.cleaned_data["name"], lifetime=token_form.lifetime
        )
        token_form = ApiTokenForm()
    response = _account_page(request, token_form=token_form, new_token=new_token)
    add_never_cache_headers(response)
    return response


def api_token_revoke(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("account")
    token = get_object_or_404(ApiToken, user=_user(request), digest=request.POST.get("token", ""))
    services.api_token_revoke(token=token)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("account")


def _account_page(
    request: AuthenticatedHttpRequest,
    *,
    form: AccountForm | None = None,
    token_form: ApiTokenForm | None = None,
    new_token: str | None = None,
) -> HttpResponse:
    user = _user(request)
    context = {
        "form": form if form is not None else AccountForm(instance=user),
        "token_form": token_form if token_form is not None else ApiTokenForm(),
        "tokens": list(user.auth_token_set.all()),
        "new_token": new_token,
    }
    return render(request, "accounts/account.html", context)


def _user(request: AuthenticatedHttpRequest) -> User:
    # LoginRequiredMiddleware lets no anonymous visitor reach these views.
    return cast(User, request.user)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page; the e-mail goes out from a task (``services``), and requests are
    limited per address and per client."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        accepted = services.password_reset_request(
            email=form.cleaned_data["email"], client_ip=client_ip(self.request)
        )
        if not accepted:
            form.add_error(
                None,
                _(
                    "Too many password reset requests for this address or from your "
                    "network. Please try again in an hour."
                ),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return HttpResponseRedirect(self.get_success_url())
