"""Site-wide HTML views: home and error pages. Domain pages live in the apps."""

from django.shortcuts import redirect, render

from organizations.access import get_acting_organization


def home(request):
    """The landing page: the login form for visitors, a dashboard for members. Each app adds its
    panel through templates/<app>/_home.html."""
    if not request.user.is_authenticated:
        return redirect("login")
    org = get_acting_organization(request, required=False)
    if org is None and request.user.is_staff:
        return redirect("desk")  # operators land on their own page
    return render(request, "home.html", {"org": org})


def permission_denied(request, exception=None):
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


