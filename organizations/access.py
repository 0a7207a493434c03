"""Who is acting, and with which role: the one place APIs, HTML views and templates learn the
acting organisation and where roles are enforced.

API clients send `X-Organization: <id>`; the browser's header switcher stores the choice in the
session; without either, the user's first membership is used.

Roles are enforced here, once: any request that is not a safe method (GET/HEAD/OPTIONS) and acts
for an organisation needs at least `member`, so a viewer's write is a 403 on every API and page
without each view remembering it. Operations that manage the organisation (members, credit lines,
terms, payouts, webhooks) ask for `Role.ADMIN` explicitly.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from organizations.exceptions import NotAMember, RoleTooLow
from organizations.models import Membership, Organization, Role
from organizations.selectors import acting_membership

SESSION_KEY = "acting_organization_id"
_CACHE_ATTR = "_kitstreet_acting_membership"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

ROLE_WORDS = {
    Role.MEMBER: "Viewers can only look: ask an admin of {org} to make you a member to buy, sell or run trials.",
    Role.ADMIN: "Only an admin or owner of {org} can do this.",
    Role.OWNER: "Only an owner of {org} can do this.",
}


def get_acting_membership(request: HttpRequest, *, required: bool = True) -> Membership | None:
    """The membership the user acts through (organisation and role), or 403 (PermissionDenied)
    when they asked for an organisation they do not belong to, or have none and `required` is set."""
    # DRF's Request wraps the HttpRequest; cache on the underlying one so both see the same value.
    raw = getattr(request, "_request", request)
    if not hasattr(raw, _CACHE_ATTR):
        requested = raw.META.get("HTTP_X_ORGANIZATION")
        if requested is None and hasattr(raw, "session"):
            requested = raw.session.get(SESSION_KEY)
        try:
            membership = acting_membership(user=request.user, requested_id=requested)
        except NotAMember as exc:
            if raw.META.get("HTTP_X_ORGANIZATION") is None:
                # A stale browser choice (membership removed): fall back silently.
                raw.session.pop(SESSION_KEY, None)
                membership = acting_membership(user=request.user, requested_id=None)
            else:
                raise PermissionDenied(str(exc)) from None
        setattr(raw, _CACHE_ATTR, membership)
    membership = getattr(raw, _CACHE_ATTR)
    if membership is None and required:
        raise PermissionDenied("You do not belong to an organisation yet: create one (POST /api/v1/organizations/ or /signup/).")
    return membership


def get_acting_organization(request: HttpRequest, *, required: bool = True, role: Role | str | None = None) -> Organization | None:
    """The acting organisation. With `required` (the default), the member's role must allow
    `role`; when `role` is not given, writes (non-safe methods) need `member` and reads `viewer`."""
    membership = get_acting_membership(request, required=required)
    if membership is None:
        return None
    if required:
        needed = role or (Role.VIEWER if request.method in SAFE_METHODS else Role.MEMBER)
        role_require(membership, needed)
    return membership.organization


def role_require(membership: Membership, needed: Role | str) -> None:
    if not membership.allows(needed):
        raise RoleTooLow(ROLE_WORDS.get(Role(needed), "Your role does not allow this.").format(org=membership.organization.name))


def acting_role(request: HttpRequest) -> str | None:
    membership = get_acting_membership(request, required=False)
    return membership.role if membership else None


def set_acting_organization(request: HttpRequest, organization: Organization) -> None:
    raw = getattr(request, "_request", request)
    raw.session[SESSION_KEY] = organization.pk
    if hasattr(raw, _CACHE_ATTR):
        delattr(raw, _CACHE_ATTR)


def get_acting_supplier(request):
    """The acting organisation, which must be a supplier: buyer-only organisations get a 403 that
    says why, instead of empty supplier pages."""
    org = get_acting_organization(request)
    if not org.is_supplier:
        raise PermissionDenied(f"{org.name} buys on Kitstreet; stock lists, incoming purchase orders and receivables "
                               "are for suppliers (traders, solution houses, factories). Switch organisation in the header "
                               "if you also sell.")
    return org
