from django.core.exceptions import PermissionDenied

from marketplace.access import get_acting_organization
from marketplace.selectors import membership_list


def acting_organization(request):
    """`org` and `memberships` for the page header's organisation switcher."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    try:
        org = get_acting_organization(request, required=False)
    except PermissionDenied:
        org = None
    return {"org": org, "memberships": list(membership_list(user=request.user))}
