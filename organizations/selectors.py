"""Reads for the organisations app."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from organizations.exceptions import NotAMember
from organizations.models import Invitation, Membership, Organization, StartedTask


def membership_list(*, user: AbstractBaseUser) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organization").order_by("created_at", "id")


def acting_membership(*, user: AbstractBaseUser, requested_id: str | int | None) -> Membership | None:
    """The membership a user acts through: for the requested organisation (X-Organization header
    or the browser's switcher) if they belong to it, else their first, else None."""
    if not user.is_authenticated:
        return None
    memberships = membership_list(user=user)
    if requested_id not in (None, ""):
        try:
            requested_id = int(requested_id)
        except (TypeError, ValueError):
            raise NotAMember(f"X-Organization must be an organisation id, not {requested_id!r}.") from None
        for membership in memberships:
            if membership.organization_id == requested_id:
                return membership
        raise NotAMember(f"You are not a member of organisation {requested_id}.")
    return memberships.first()


def acting_organization(*, user: AbstractBaseUser, requested_id: str | int | None) -> Organization | None:
    membership = acting_membership(user=user, requested_id=requested_id)
    return membership.organization if membership else None


def organization_visible_list(*, viewer: Organization | None, is_operator: bool = False) -> QuerySet[Organization]:
    """Organisations a viewer may see: buyers and verified suppliers, plus the viewer itself.
    Unverified suppliers stay hidden from everyone but their members and operators."""
    qs = Organization.objects.all()
    if is_operator:
        return qs
    visible = Q(verified=True) | Q(is_supplier=False)
    if viewer is not None:
        visible |= Q(pk=viewer.pk)
    return qs.filter(visible)


def organization_member_list(*, user: AbstractBaseUser) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user)


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    return (Membership.objects.filter(organization=organization).select_related("user")
            .order_by("user__username", "id"))


def invitation_list(*, organization: Organization, status: str | None = None) -> QuerySet[Invitation]:
    qs = Invitation.objects.filter(organization=organization).select_related("invited_by", "requested_by")
    return qs.filter(status=status) if status else qs


def task_is_owned_by(*, task_id: str, user: AbstractBaseUser) -> bool:
    return StartedTask.objects.filter(task_id=task_id, user_id=user.pk).exists()
