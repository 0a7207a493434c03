"""Who is acting, and with which role: the one place APIs, HTML views and templates learn the
acting organisation and where roles are enforced.

API clients send `X-Organization: <id>`; the browser's header switcher stores the choice in the
session; without either, the user's first membership is used.

Roles are enforced here, once: any request that is not a safe method (GET/HEAD/OPTIONS) and acts
for an organisation needs at least `member`, so a viewer's write is a 403 on every API and page
without each view remembering it. Operations that manage the organisation (members, credit lines,
terms, payouts, webhooks) ask for `Role.ADMIN` explicitly.
"""

from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from organizations.exceptions import NotAMember, RoleTooLow
from organizations.models import Membership, Organization, Role
from organizations.selectors import acting_membership

SESSION_KEY = "acting_organization_id"
_CACHE_ATTR = "_kitstreet_acting_membership"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# The role each kind of action needs: the one table the API (`get_acting_organization`, and through it
# `organizations.permissions.ActingRole`) and the pages (`page_permissions`, the `can` template
# variable, `{% readonly_note %}`) read, so a page never offers what the server would refuse.
ACTION_ROLES: dict[str, Role] = {
    "read": Role.VIEWER,    # every safe request
    "write": Role.MEMBER,   # buy, sell, quote, upload, bid, award, run trials: every non-safe request
    "manage": Role.ADMIN,   # people, credit lines, order terms, payouts, webhooks
    "own": Role.OWNER,      # owners and roles
}

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
        needed = role or ACTION_ROLES["read" if request.method in SAFE_METHODS else "write"]
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


class PagePermissions:
    """What the acting member may do, for views and templates (`can.write`, `can.manage`,
    `can.may("write")`), read from `ACTION_ROLES` as the API reads it; `note()` says, in words,
    who can do what this person may not."""

    def __init__(self, membership: Membership | None):
        self.membership = membership

    def may(self, action: str) -> bool:
        return bool(self.membership and self.membership.allows(ACTION_ROLES[action]))

    @property
    def write(self) -> bool:
        return self.may("write")

    @property
    def manage(self) -> bool:
        return self.may("manage")

    @property
    def own(self) -> bool:
        return self.may("own")

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    @cached_property
    def admins(self) -> list[str]:
        """Who can change roles in the acting organisation (names shown in the read-only note)."""
        if self.membership is None:
            return []
        return list(Membership.objects.filter(organization_id=self.membership.organization_id, role__in=[Role.ADMIN, Role.OWNER])
                    .order_by("role", "user__username").values_list("user__username", flat=True)[:3])

    def note(self, action: str = "write", doing: str = "") -> str:
        """One sentence for a page whose forms this member does not see ('' when they may act)."""
        if self.may(action) or self.membership is None:
            return ""
        org = self.membership.organization.name
        needed = ACTION_ROLES[action]
        who = {Role.MEMBER: "members, admins and owners", Role.ADMIN: "admins and owners", Role.OWNER: "owners"}[needed]
        what = doing or "change anything here"
        ask = f" Ask {' or '.join(self.admins)} to change your role." if self.admins and needed == Role.MEMBER else ""
        return (f"You are a {self.membership.get_role_display().lower()} at {org}, so you can read this page but not "
                f"{what}: only {who} of {org} can.{ask}")


def page_permissions(request: HttpRequest) -> PagePermissions:
    """The acting member's `PagePermissions` (nobody's when the user has no organisation)."""
    try:
        membership = get_acting_membership(request, required=False) if request.user.is_authenticated else None
    except PermissionDenied:
        membership = None
    return PagePermissions(membership)


def get_acting_supplier(request):
    """The acting organisation, which must be a supplier: buyer-only organisations get a 403 that
    says why, instead of empty supplier pages."""
    org = get_acting_organization(request)
    if not org.is_supplier:
        raise PermissionDenied(f"{org.name} buys on Kitstreet; stock lists, incoming purchase orders and receivables "
                               "are for suppliers (traders, solution houses, factories). Switch organisation in the header "
                               "if you also sell.")
    return org
