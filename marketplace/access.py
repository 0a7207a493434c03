"""Who is acting: the one place APIs, HTML views and templates learn the acting organisation.

API clients send `X-Organization: <id>`; the browser's header switcher stores the choice in the
session; without either, the user's first membership is used.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from marketplace.exceptions import NotAMember
from marketplace.models import Organization
from marketplace.selectors import acting_organization

SESSION_KEY = "acting_organization_id"
_CACHE_ATTR = "_kitstreet_acting_organization"


def get_acting_organization(request: HttpRequest, *, required: bool = True) -> Organization | None:
    """The acting organisation, or 403 (PermissionDenied) when the user asked for one they do not
    belong to, or has none and `required` is set."""
    # DRF's Request wraps the HttpRequest; cache on the underlying one so both see the same value.
    raw = getattr(request, "_request", request)
    if not hasattr(raw, _CACHE_ATTR):
        requested = raw.META.get("HTTP_X_ORGANIZATION")
        if requested is None and hasattr(raw, "session"):
            requested = raw.session.get(SESSION_KEY)
        try:
            org = acting_organization(user=request.user, requested_id=requested)
        except NotAMember as exc:
            if raw.META.get("HTTP_X_ORGANIZATION") is None:
                # A stale browser choice (membership removed): fall back silently.
                raw.session.pop(SESSION_KEY, None)
                org = acting_organization(user=request.user, requested_id=None)
            else:
                raise PermissionDenied(str(exc)) from None
        setattr(raw, _CACHE_ATTR, org)
    org = getattr(raw, _CACHE_ATTR)
    if org is None and required:
        raise PermissionDenied("You do not belong to an organisation yet: create one (POST /api/v1/organizations/ or /signup/).")
    return org


def set_acting_organization(request: HttpRequest, organization: Organization) -> None:
    request.session[SESSION_KEY] = organization.pk
    setattr(request, _CACHE_ATTR, organization)
