"""Site-wide HTML views: home and error pages. Domain pages live in the apps."""

from django import forms
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render

from config.lockout import lockout_message, login_locked_for
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


class LoginView(auth_views.LoginView):
    """Django's login page with the lockout (config/lockout.py): a locked username gets the form
    back with 429, `Retry-After` and a message saying when to try again."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        locked = login_locked_for(request.POST.get("username", ""))
        if not locked:
            return super().post(request, *args, **kwargs)
        form = self.get_form()
        form.is_bound = True
        form._errors, form.cleaned_data = forms.utils.ErrorDict(), {}
        form.add_error(None, lockout_message(locked))
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(locked)
        return response
