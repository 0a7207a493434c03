from django.core.exceptions import PermissionDenied

from organizations.access import get_acting_membership
from organizations.selectors import membership_list


def acting_organization(request):
    """`org`, `role` and `memberships` for the page header: the organisation switcher and the
    navigation, which shows each user only what their organisation's kind and role allow."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    try:
        membership = get_acting_membership(request, required=False)
    except PermissionDenied:
        membership = None
    role = membership.role if membership else None
    return {
        "org": membership.organization if membership else None,
        "role": role,
        "can_write": bool(membership and membership.allows("member")),
        "can_admin": bool(membership and membership.allows("admin")),
        "memberships": list(membership_list(user=request.user)),
    }
