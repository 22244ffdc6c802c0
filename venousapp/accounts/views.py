from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from venousapp.accounts import services
from venousapp.accounts.client_ip import client_ip
from venousapp.accounts.forms import AccountForm


def account(request: HttpRequest) -> HttpResponse:
    """ "My account": the user's name and e-mail; password change is linked from here."""
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your account was updated."))
        return redirect("account")
    return render(request, "accounts/account.html", {"form": form})


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
