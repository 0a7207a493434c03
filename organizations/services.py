"""Writes for the organisations app: onboarding, verification, members and invitations."""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from organizations.access import role_require
from organizations.exceptions import (
    InvitationInvalid,
    InvitationStateConflict,
    LastOwner,
    MembershipInvalid,
    OrganizationKindsInvalid,
)
from organizations.models import SUPPLIER_KINDS, Invitation, Membership, Organization, OrganizationKind, Role, StartedTask
from organizations.signals import organization_verified

logger = logging.getLogger(__name__)

VALID_KINDS = {kind.value for kind in OrganizationKind}


def _unique_slug(name: str) -> str:
    base = slugify(name)[:200] or "org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _kind_flags(kinds: list[str]) -> dict[str, bool]:
    unknown = sorted(set(kinds) - VALID_KINDS)
    if unknown:
        raise OrganizationKindsInvalid({"kinds": [f"Unknown kind(s): {', '.join(unknown)}. Use {sorted(VALID_KINDS)}."]})
    if not kinds:
        raise OrganizationKindsInvalid({"kinds": ["Choose at least one kind: buyer or supplier (trader, solution_house, factory)."]})
    flags = {f"is_{kind}": kind in kinds for kind in VALID_KINDS}
    if any(kind in kinds for kind in SUPPLIER_KINDS):
        flags["is_supplier"] = True
    return flags


@transaction.atomic
def organization_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    kinds: list[str],
    default_currency: str = "CNY",
    location: str = "",
    description: str = "",
    verified: bool = False,
) -> Organization:
    """Self-serve onboarding: the caller becomes the owner. Suppliers start unverified; buyers
    have nothing to verify."""
    name = name.strip()
    if not name:
        raise OrganizationKindsInvalid({"name": ["Give the organisation a name."]})
    org = Organization(
        name=name,
        slug=_unique_slug(name),
        default_currency=default_currency,
        location=location,
        description=description,
        **_kind_flags(kinds),
    )
    if verified or not org.is_supplier:
        org.verified, org.verified_at = True, timezone.now()
    org.full_clean()
    org.save()
    Membership.objects.create(user=owner, organization=org, role=Membership.Role.OWNER)
    return org


@transaction.atomic
def organization_verify(*, organization: Organization) -> Organization:
    if not organization.verified:
        organization.verified, organization.verified_at = True, timezone.now()
        organization.save(update_fields=["verified", "verified_at"])
        organization_verified.send(sender=Organization, organization=organization)
    return organization


def membership_add(*, organization: Organization, user: AbstractBaseUser, role: str = Membership.Role.MEMBER) -> Membership:
    membership, _ = Membership.objects.get_or_create(organization=organization, user=user, defaults={"role": role})
    return membership


# --- Members and roles ---------------------------------------------------------------------------


def _owner_count(organization: Organization) -> int:
    return Membership.objects.filter(organization=organization, role=Role.OWNER).count()


def _check_can_manage(actor: Membership, target_role: str | None, new_role: str | None) -> None:
    """Admins manage members and viewers; only owners make, unmake or remove owners."""
    touches_owner = Role.OWNER in (target_role, new_role)
    role_require(actor, Role.OWNER if touches_owner else Role.ADMIN)


@transaction.atomic
def membership_role_change(*, actor: Membership, membership: Membership, role: str) -> Membership:
    """Change a member's role. The last owner cannot be demoted (409)."""
    if role not in Role.values:
        raise MembershipInvalid({"role": [f"Choose one of {', '.join(Role.values)}."]})
    # Lock the organisation's owner rows so two demotions cannot leave it without an owner.
    list(Membership.objects.select_for_update().filter(organization=membership.organization, role=Role.OWNER).order_by("pk"))
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _check_can_manage(actor, membership.role, role)
    if membership.role == Role.OWNER and role != Role.OWNER and _owner_count(membership.organization) <= 1:
        raise LastOwner("The last owner cannot be demoted: make someone else an owner first.")
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, actor: Membership, membership: Membership) -> None:
    """Remove a member, or leave (actor is the membership itself). The last owner cannot leave (409)."""
    list(Membership.objects.select_for_update().filter(organization=membership.organization, role=Role.OWNER).order_by("pk"))
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if actor.pk != membership.pk:
        _check_can_manage(actor, membership.role, None)
    if membership.role == Role.OWNER and _owner_count(membership.organization) <= 1:
        raise LastOwner("The last owner cannot leave or be removed: make someone else an owner first.")
    membership.delete()


# --- Invitations ---------------------------------------------------------------------------------


@transaction.atomic
def invitation_create(*, actor: Membership, email: str, role: str = Role.MEMBER, accept_url: str = "") -> Invitation:
    """Invite someone by email. Admins invite members and viewers (and admins); only owners invite
    owners. The email carries a one-time link valid for 7 days."""
    if role not in Role.values:
        raise InvitationInvalid({"role": [f"Choose one of {', '.join(Role.values)}."]})
    _check_can_manage(actor, None, role)
    email = email.strip().lower()
    organization = actor.organization
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise InvitationInvalid({"email": [f"{email} is already a member of {organization.name}."]})
    invitation = Invitation.objects.create(organization=organization, email=email, role=role, invited_by=actor.user)
    link = accept_url.replace("TOKEN", invitation.token) if accept_url else invitation.token
    subject = f"{actor.user.get_username()} invites you to {organization.name} on Kitstreet"
    body = (f"You are invited to join {organization.name} on Kitstreet as {invitation.get_role_display().lower()}.\n\n"
            f"Accept (log in or sign up first): {link}\n\nThe link works once and expires in 7 days.")
    transaction.on_commit(lambda: _send_quietly(subject, body, email))
    return invitation


def _send_quietly(subject: str, body: str, to: str) -> None:
    # The invitation exists whatever the mail server says; admins also see its link on the page.
    try:
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[to])
    except Exception:  # noqa: BLE001 — a mail outage must not turn a committed invitation into a 500
        logger.exception("Could not email the invitation to %s", to)


def _usable(invitation: Invitation) -> None:
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationInvalid({"token": ["This invitation has already been used."]})
    if invitation.status == Invitation.Status.REVOKED:
        raise InvitationInvalid({"token": ["This invitation was revoked; ask for a new one."]})
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid({"token": ["This invitation has expired; ask for a new one."]})


@transaction.atomic
def invitation_accept(*, token: str, user: AbstractBaseUser) -> Membership:
    """The logged-in user joins with the invited role. One use only; an existing member keeps the
    higher of the two roles."""
    invitation = Invitation.objects.select_for_update().filter(token=token).first()
    if invitation is None:
        raise InvitationInvalid({"token": ["No such invitation: check the link."]})
    _usable(invitation)
    membership, created = Membership.objects.select_for_update().get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role})
    if not created and not membership.allows(invitation.role):
        membership.role = invitation.role
        membership.save(update_fields=["role"])
    invitation.status, invitation.accepted_by, invitation.decided_at = Invitation.Status.ACCEPTED, user, timezone.now()
    invitation.save(update_fields=["status", "accepted_by", "decided_at"])
    return membership


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _check_can_manage(actor, None, invitation.role)
    if invitation.status != Invitation.Status.PENDING:
        raise InvitationStateConflict(f"This invitation is already {invitation.get_status_display().lower()}.")
    invitation.status, invitation.decided_at = Invitation.Status.REVOKED, timezone.now()
    invitation.save(update_fields=["status", "decided_at"])
    return invitation


# --- Background tasks ----------------------------------------------------------------------------


def task_started(*, user: AbstractBaseUser, task_id: str) -> None:
    """Remember who started a task, so only they can read its status."""
    if user and user.is_authenticated and task_id:
        StartedTask.objects.get_or_create(task_id=task_id, defaults={"user": user})
