"""Site-wide HTML views: home, signup and the organisation switcher. Domain pages live in the apps."""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from config.lockout import lockout_message, login_locked_for
from marketplace.access import get_acting_organization, set_acting_organization
from marketplace.models import OrganizationKind
from marketplace.selectors import organization_member_list
from marketplace.services import organization_create


def home(request):
    """The landing page: the login form for visitors, a dashboard for members. Each app adds its
    panel through templates/<app>/_home.html."""
    if not request.user.is_authenticated:
        return redirect("login")
    org = get_acting_organization(request, required=False)
    return render(request, "home.html", {"org": org})


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


class SignupForm(UserCreationForm):
    organization_name = forms.CharField(max_length=200, label="Organisation name")
    kinds = forms.MultipleChoiceField(
        choices=OrganizationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Buyers can order at once. Suppliers are listed once an operator has verified them.",
    )
    location = forms.CharField(max_length=200, required=False, help_text="Stall or site, e.g. SEG Plaza 3F-A12")

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


def signup(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
                org = organization_create(
                    owner=user,
                    name=form.cleaned_data["organization_name"],
                    kinds=form.cleaned_data["kinds"],
                    location=form.cleaned_data["location"],
                )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            set_acting_organization(request, org)
            if org.is_supplier:
                messages.info(request, "Welcome! Your supplier profile is waiting for an operator to verify it; "
                              "until then your listings and kits are visible only to you.")
            else:
                messages.success(request, f"Welcome to Kitstreet, {org.name}.")
            return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_POST
def switch_organization(request):
    org = get_object_or_404(organization_member_list(user=request.user), pk=request.POST.get("organization"))
    set_acting_organization(request, org)
    messages.info(request, f"You are now acting for {org.name}.")
    next_url = request.POST.get("next") or "/"
    return redirect(next_url if next_url.startswith("/") and not next_url.startswith("//") else "/")


def permission_denied(request, exception=None):
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


