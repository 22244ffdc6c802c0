"""The one access helper of the cases app: 403 for a missing role permission, 404 for a case
of another centre (its existence is not revealed)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from cases import selectors
from cases.models import Case
from venousapp.accounts.requests import AuthenticatedHttpRequest


def require_perm(request: AuthenticatedHttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def case_for_request(
    request: AuthenticatedHttpRequest, pk: int, perm: str = "cases.view_case"
) -> Case:
    require_perm(request, perm)
    try:
        return selectors.case_get(user=request.user, pk=pk)
    except Case.DoesNotExist:
        raise Http404 from None
