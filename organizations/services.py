"""Writes for the organisations app: onboarding, verification, members and invitations."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from organizations.exceptions import OrganizationKindsInvalid
from organizations.signals import organization_verified
from organizations.models import SUPPLIER_KINDS, Membership, Organization, OrganizationKind

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
