from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from venousapp.accounts.forms import AccountForm


def account(request: HttpRequest) -> HttpResponse:
    """ "My account": the user's name and e-mail; password change is linked from here."""
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your account was updated."))
        return redirect("account")
    return render(request, "accounts/account.html", {"form": form})
