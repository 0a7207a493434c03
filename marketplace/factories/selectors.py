"""Reads of suppliers' capabilities."""

from marketplace.catalogue.models import Listing
from marketplace.factories.models import SupplierProfile
from organizations.models import Organization


def _profile(supplier: Organization) -> SupplierProfile | None:
    return SupplierProfile.objects.filter(organization=supplier).first()


def supplier_categories(supplier: Organization, profile: SupplierProfile | None = None) -> set[str]:
    """Categories (upper case) a supplier sources: those of its live listings and those it declared."""
    cats = set(Listing.objects.filter(vendor=supplier, is_active=True).exclude(category_key="")
               .values_list("category_key", flat=True).distinct())
    profile = profile if profile is not None else _profile(supplier)
    if profile is not None:
        cats |= {str(c).strip().upper() for c in profile.categories if str(c).strip()}
    return cats


def supplier_profile_get(*, organization: Organization) -> SupplierProfile | None:
    return _profile(organization)


def category_key(category: str) -> str:
    return category.strip().upper()
