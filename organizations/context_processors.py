from django.core.exceptions import PermissionDenied

from organizations.access import PagePermissions, get_acting_membership
from organizations.selectors import membership_list


def acting_organization(request):
    """`org`, `role`, `memberships` and `can` for every page: the organisation switcher, the
    navigation, and which forms and buttons a page shows. `can` (`organizations.access.PagePermissions`)
    reads the same role table the API enforces, so a page offers only what the server accepts;
    `can_write` / `can_admin` are its two most used answers."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    try:
        membership = get_acting_membership(request, required=False)
    except PermissionDenied:
        membership = None
    can = PagePermissions(membership)
    return {
        "org": membership.organization if membership else None,
        "role": can.role,
        "can": can,
        "can_write": can.write,
        "can_admin": can.manage,
        "memberships": list(membership_list(user=request.user)),
    }
