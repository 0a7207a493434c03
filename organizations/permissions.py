"""The API's side of role enforcement, applied to every APIView by default (settings).

It runs before the view, so a viewer's write is a 403 whatever its body (never a 400 that would
validate input it may not send). A view that needs more than `member` for a method says so with
`required_roles = {"POST": Role.ADMIN}`; views that act for no organisation (token, onboarding,
accepting an invitation) set `acts_for_organization = False`. Safe methods pass: reads are checked
by the selectors, which filter by the acting organisation.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from organizations.access import get_acting_membership, role_require
from organizations.models import Role


class ActingRole(BasePermission):
    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or not getattr(view, "acts_for_organization", True):
            return True
        if not request.user or not request.user.is_authenticated:
            return True  # IsAuthenticated answers 401 first
        membership = get_acting_membership(request, required=False)
        if membership is None:
            return True  # the view decides: 403 "no organisation yet", or an operator endpoint
        role_require(membership, getattr(view, "required_roles", {}).get(request.method, Role.MEMBER))
        return True
