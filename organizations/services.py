"""Writes for the organisations app: onboarding, verification, members and invitations."""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from config.outbox.services import outbox_enqueue
from organizations.access import role_require
from organizations.exceptions import (
    EmailNotVerified,
    EmailVerificationInvalid,
    InvitationInvalid,
    InvitationNotForYou,
    InvitationStateConflict,
    LastOwner,
    MembershipInvalid,
    OrganizationKindsInvalid,
)
from organizations.models import (
    SUPPLIER_KINDS,
    Invitation,
    Membership,
    Organization,
    OrganizationKind,
    Role,
    StartedTask,
    VerifiedEmail,
)
from organizations.signals import organization_verified

logger = logging.getLogger(__name__)

VALID_KINDS = {kind.value for kind in OrganizationKind}
# Emails are sent by a worker (organizations/tasks.py), enqueued by name through the outbox.
INVITATION_EMAIL_SEND_TASK = "organizations.tasks.invitation_email_send_task"
EMAIL_VERIFICATION_SEND_TASK = "organizations.tasks.email_verification_send_task"


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


# --- Verified email addresses -------------------------------------------------------------------
# A user proves they read an address by following a signed link emailed to it. The link names the
# user and the address; it stops working after EMAIL_VERIFICATION_MAX_AGE or once the account's
# address changes. Nothing is stored until the link is followed.

EMAIL_VERIFICATION_SALT = "kitstreet.organizations.email-verification"
EMAIL_VERIFICATION_MAX_AGE = 2 * 24 * 3600


def _normal_email(email: str | None) -> str:
    return (email or "").strip().lower()


def email_is_verified(*, user: AbstractBaseUser, email: str | None = None) -> bool:
    email = _normal_email(email if email is not None else getattr(user, "email", ""))
    return bool(email) and VerifiedEmail.objects.filter(user=user, email=email).exists()


def email_verification_token(*, user: AbstractBaseUser, email: str) -> str:
    return signing.dumps({"u": user.pk, "e": _normal_email(email)}, salt=EMAIL_VERIFICATION_SALT, compress=True)


@transaction.atomic
def email_verification_send(*, user: AbstractBaseUser, confirm_url: str) -> str:
    """Email the account's address a link that proves the user reads it. `confirm_url` holds
    `TOKEN` where the signed token goes. Sent by a worker through the outbox, never in the request."""
    email = _normal_email(user.email)
    if not email:
        raise EmailVerificationInvalid({"email": ["Your account has no email address: add one first."]})
    outbox_enqueue(EMAIL_VERIFICATION_SEND_TASK, args=[user.pk, email, confirm_url])
    return email


def email_verification_deliver(*, user: AbstractBaseUser, email: str, confirm_url: str) -> bool:
    """The worker's half: send the link if the account still has that address. Raises on a mail
    error, so the task retries."""
    if _normal_email(user.email) != email:
        return False  # the address changed since: a link for the old one would verify nothing
    link = confirm_url.replace("TOKEN", email_verification_token(user=user, email=email))
    send_mail(subject="Confirm your email address on Kitstreet",
              message=(f"Follow this link to confirm that {email} is yours:\n\n{link}\n\n"
                       "It works for 2 days. If you did not ask for it, ignore this email."),
              from_email=None, recipient_list=[email])
    return True


@transaction.atomic
def email_verify(*, user: AbstractBaseUser, token: str) -> VerifiedEmail:
    """Record that `user` reads the address the link was sent to (400 when the link is forged,
    expired, for another account or for an address the account no longer has)."""
    try:
        data = signing.loads(token, salt=EMAIL_VERIFICATION_SALT, max_age=EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired:
        raise EmailVerificationInvalid({"token": ["This confirmation link has expired; ask for a new one."]}) from None
    except signing.BadSignature:
        raise EmailVerificationInvalid({"token": ["This confirmation link is not valid: check the link."]}) from None
    if not isinstance(data, dict) or data.get("u") != user.pk:
        raise EmailVerificationInvalid({"token": ["This confirmation link is for another account."]})
    if data.get("e") != _normal_email(user.email):
        raise EmailVerificationInvalid({"token": ["This link confirms an address your account no longer has."]})
    verified, _ = VerifiedEmail.objects.get_or_create(user=user, email=data["e"])
    return verified


# --- Invitations ---------------------------------------------------------------------------------


@transaction.atomic
def invitation_create(*, actor: Membership, email: str, role: str = Role.MEMBER, accept_url: str = "") -> Invitation:
    """Invite someone by email. Admins invite members and viewers (and admins); only owners invite
    owners. The email carries a one-time link valid for 7 days; a worker sends it (outbox)."""
    if role not in Role.values:
        raise InvitationInvalid({"role": [f"Choose one of {', '.join(Role.values)}."]})
    _check_can_manage(actor, None, role)
    email = _normal_email(email)
    organization = actor.organization
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise InvitationInvalid({"email": [f"{email} is already a member of {organization.name}."]})
    invitation = Invitation.objects.create(organization=organization, email=email, role=role, invited_by=actor.user)
    outbox_enqueue(INVITATION_EMAIL_SEND_TASK, args=[invitation.pk, accept_url])
    return invitation


def invitation_email_deliver(*, invitation: Invitation, accept_url: str = "") -> bool:
    """The worker's half of `invitation_create`: email the link once, while the invitation is
    pending. Raises on a mail error, so the task retries; True when this call sent it."""
    if invitation.status != Invitation.Status.PENDING or invitation.emailed_at is not None:
        return False
    organization = invitation.organization
    inviter = invitation.invited_by.get_username() if invitation.invited_by else "A colleague"
    link = accept_url.replace("TOKEN", invitation.token) if accept_url else invitation.token
    send_mail(
        subject=f"{inviter} invites you to {organization.name} on Kitstreet",
        message=(f"You are invited to join {organization.name} on Kitstreet as {invitation.get_role_display().lower()}.\n\n"
                 f"Accept (log in or sign up with {invitation.email} first): {link}\n\n"
                 "The link works once, only for an account with this email address, and expires in 7 days."),
        from_email=None, recipient_list=[invitation.email])
    Invitation.objects.filter(pk=invitation.pk, emailed_at=None).update(emailed_at=timezone.now())
    return True


def _usable(invitation: Invitation) -> None:
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationInvalid({"token": ["This invitation has already been used."]})
    if invitation.status == Invitation.Status.REVOKED:
        raise InvitationInvalid({"token": ["This invitation was revoked; ask for a new one."]})
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid({"token": ["This invitation has expired; ask for a new one."]})


def _locked_invitation(token: str) -> Invitation:
    invitation = Invitation.objects.select_for_update().filter(token=token).first()
    if invitation is None:
        raise InvitationInvalid({"token": ["No such invitation: check the link."]})
    _usable(invitation)
    return invitation


def invitation_addressed_to(*, invitation: Invitation, user: AbstractBaseUser) -> bool:
    return bool(invitation.email) and _normal_email(getattr(user, "email", "")) == _normal_email(invitation.email)


def _join(invitation: Invitation, user: AbstractBaseUser) -> Membership:
    membership, created = Membership.objects.select_for_update().get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role})
    if not created and not membership.allows(invitation.role):
        membership.role = invitation.role
        membership.save(update_fields=["role"])
    invitation.status, invitation.accepted_by, invitation.decided_at = Invitation.Status.ACCEPTED, user, timezone.now()
    invitation.save(update_fields=["status", "accepted_by", "decided_at"])
    return membership


@transaction.atomic
def invitation_accept(*, token: str, user: AbstractBaseUser) -> Membership:
    """The logged-in user joins with the invited role, if the invitation was sent to their
    account's address and they have verified it (403 otherwise: a link that leaked is not a
    membership). One use only; an existing member keeps the higher of the two roles."""
    invitation = _locked_invitation(token)
    if not invitation_addressed_to(invitation=invitation, user=user):
        raise InvitationNotForYou(
            f"This invitation was sent to another email address than your account's. Log in with the account "
            f"for that address, or ask {invitation.organization.name} to let you join: an admin approves it.")
    if not email_is_verified(user=user, email=invitation.email):
        raise EmailNotVerified(
            f"Confirm your email address {invitation.email} first: ask for a confirmation link "
            "(POST /api/v1/me/email/verification/ or the button on the invitation page), follow it, then accept.")
    return _join(invitation, user)


@transaction.atomic
def invitation_request(*, token: str, user: AbstractBaseUser) -> Invitation:
    """Ask to join with an invitation sent to another address: the organisation's admins see the
    request and approve it explicitly (`invitation_approve`). Nothing else changes."""
    invitation = _locked_invitation(token)
    if Membership.objects.filter(organization=invitation.organization, user=user).exists():
        raise InvitationInvalid({"token": [f"You already belong to {invitation.organization.name}."]})
    invitation.requested_by, invitation.requested_at = user, timezone.now()
    invitation.save(update_fields=["requested_by", "requested_at"])
    return invitation


@transaction.atomic
def invitation_approve(*, actor: Membership, invitation: Invitation) -> Membership:
    """An admin (an owner for owner invitations) lets the account that asked join with this
    invitation's role."""
    invitation = (Invitation.objects.select_for_update(of=("self",)).select_related("organization", "requested_by")
                  .get(pk=invitation.pk))
    _check_can_manage(actor, None, invitation.role)
    if invitation.status != Invitation.Status.PENDING:
        raise InvitationStateConflict(f"This invitation is already {invitation.get_status_display().lower()}.")
    if invitation.expires_at <= timezone.now():
        raise InvitationStateConflict("This invitation has expired; send a new one.")
    if invitation.requested_by is None:
        raise InvitationStateConflict("Nobody has asked to join with this invitation yet.")
    return _join(invitation, invitation.requested_by)


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
