"""HTML pages of the organisations app: signup, the organisation switcher, members and invitations."""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from config.errors import StateConflict, error_text
from organizations.access import get_acting_membership, set_acting_organization
from organizations.models import Invitation, OrganizationKind, Role
from organizations.selectors import (
    invitation_list,
    member_list,
    organization_member_list,
)
from organizations.services import (
    email_is_verified,
    email_verification_send,
    email_verify,
    invitation_accept,
    invitation_addressed_to,
    invitation_approve,
    invitation_create,
    invitation_request,
    invitation_revoke,
    membership_remove,
    membership_role_change,
    organization_create,
)


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
    # Django's check, not a prefix test: "/\\evil.example" starts with "/" yet browsers leave the site.
    safe = url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(next_url if safe else "/")


# --- Members and invitations ---------------------------------------------------------------------




@login_required
def member_list_view(request):
    """The acting organisation's people: everyone sees who is in it; admins change roles, remove
    members and invite."""
    actor = get_acting_membership(request)
    can_manage = actor.allows(Role.ADMIN)
    invitations = invitation_list(organization=actor.organization, status=Invitation.Status.PENDING) if can_manage else []
    return render(request, "organizations/member_list.html", {
        "actor": actor,
        "members": member_list(organization=actor.organization),
        "invitations": invitations,
        "can_manage": can_manage,
        "roles": Role.choices,
        "invite_form": InvitationForm(),
    })


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER,
                             help_text="Viewers only look; members buy, sell and run trials; admins also manage people, credit and terms.")


@login_required
@require_POST
def member_update_view(request, user_id: int):
    actor = get_acting_membership(request)
    target = get_object_or_404(member_list(organization=actor.organization), user_id=user_id)
    try:
        if request.POST.get("action") == "remove":
            membership_remove(actor=actor, membership=target)
            if target.pk == actor.pk:
                messages.success(request, f"You left {actor.organization.name}.")
                return redirect("home")
            messages.success(request, f"{target.user.get_username()} no longer belongs to {actor.organization.name}.")
        else:
            membership = membership_role_change(actor=actor, membership=target, role=request.POST.get("role", ""))
            messages.success(request, f"{membership.user.get_username()} is now {membership.get_role_display().lower()}.")
    except (ValidationError, StateConflict) as exc:  # PermissionDenied stays a 403 page
        messages.error(request, error_text(exc))
    return redirect("member-list")


@login_required
@require_POST
def invitation_create_view(request):
    actor = get_acting_membership(request)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            accept_url = request.build_absolute_uri(reverse("invitation-accept", args=["TOKEN"]))
            invitation = invitation_create(actor=actor, accept_url=accept_url, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"Invitation sent to {invitation.email}. The link works once and expires in 7 days.")
    else:
        messages.error(request, " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
    return redirect("member-list")


@login_required
@require_POST
def invitation_revoke_view(request, invitation_id: int):
    actor = get_acting_membership(request)
    invitation = get_object_or_404(invitation_list(organization=actor.organization), pk=invitation_id)
    try:
        invitation_revoke(actor=actor, invitation=invitation)
    except StateConflict as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"The invitation to {invitation.email} is revoked; its link no longer works.")
    return redirect("member-list")


@login_required
@require_POST
def invitation_approve_view(request, invitation_id: int):
    actor = get_acting_membership(request)
    invitation = get_object_or_404(invitation_list(organization=actor.organization), pk=invitation_id)
    try:
        membership = invitation_approve(actor=actor, invitation=invitation)
    except StateConflict as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"{membership.user.get_username()} joined {actor.organization.name} as "
                                  f"{membership.get_role_display().lower()}.")
    return redirect("member-list")


def _invitation_state_error(invitation: Invitation | None) -> str | None:
    if invitation is None:
        return "No such invitation: check the link in your email."
    if invitation.status == Invitation.Status.ACCEPTED:
        return "This invitation has already been used."
    if invitation.status == Invitation.Status.REVOKED:
        return "This invitation was revoked; ask for a new one."
    if invitation.expires_at <= timezone.now():
        return "This invitation has expired; ask for a new one."
    return None


def invitation_accept_view(request, token: str):
    """The link in the email. Visitors log in (or sign up) first and come back here. Only the
    account with the invited, verified address joins; another account may ask an admin."""
    if not request.user.is_authenticated:
        messages.info(request, "Log in, or sign up with the invited email address, to accept your invitation.")
        return redirect(f"{reverse('login')}?next={request.path}")
    invitation = Invitation.objects.select_related("organization", "invited_by").filter(token=token).first()
    error = _invitation_state_error(invitation)
    status = 400 if error else 200
    if request.method == "POST" and error is None:
        try:
            if request.POST.get("action") == "request":
                invitation_request(token=token, user=request.user)
                messages.success(request, f"Asked {invitation.organization.name} to let you join: an admin approves it.")
                return redirect("home")
            membership = invitation_accept(token=token, user=request.user)
        except ValidationError as exc:
            error, status = error_text(exc), 400
        except PermissionDenied as exc:
            error, status = str(exc), 403
        else:
            set_acting_organization(request, membership.organization)
            messages.success(request, f"Welcome to {membership.organization.name}: you are {membership.get_role_display().lower()}.")
            return redirect("home")
    addressed = invitation is not None and invitation_addressed_to(invitation=invitation, user=request.user)
    return render(request, "organizations/invitation_accept.html", {
        "invitation": invitation, "error": error,
        "addressed": addressed,
        "verified": addressed and email_is_verified(user=request.user, email=invitation.email),
        "requested": invitation is not None and invitation.requested_by_id == request.user.pk,
    }, status=status)


def _safe_next(request, default: str = "/") -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or default
    safe = url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return next_url if safe else default


@login_required
@require_POST
def email_verification_send_view(request):
    next_url = _safe_next(request)
    confirm_url = request.build_absolute_uri(reverse("email-verify", args=["TOKEN"]))
    try:
        email = email_verification_send(user=request.user, confirm_url=f"{confirm_url}?next={next_url}")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"We emailed a confirmation link to {email}: follow it to confirm the address.")
    return redirect(next_url)


@login_required
def email_verify_view(request, token: str):
    """The link in the confirmation email: records the address as verified, then goes back to
    where the user asked for it (an invitation, usually)."""
    try:
        verified = email_verify(user=request.user, token=token)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("home")
    messages.success(request, f"Thank you: {verified.email} is confirmed.")
    return redirect(_safe_next(request, default="/"))
