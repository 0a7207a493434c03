"""Writes of a supplier's declared capabilities (categories, processes, weekly capacity)."""

from django.db import transaction

from marketplace.exceptions import ProfileInvalid
from marketplace.factories.models import SupplierProfile
from organizations.models import Organization


@transaction.atomic
def supplier_profile_update(*, organization: Organization, **fields) -> SupplierProfile:
    """Declare categories (any supplier) and, for factories, processes, batch range, weekly
    capacity and lead time. Only the fields given change."""
    if not organization.is_supplier:
        raise ProfileInvalid({"non_field_errors": ["Only suppliers declare categories and capabilities."]})
    factory_only = {"smt", "through_hole", "box_build", "testing", "min_batch", "max_batch", "weekly_capacity", "lead_time_days"}
    if not organization.is_factory and any(fields.get(k) for k in factory_only):
        raise ProfileInvalid({"non_field_errors": ["Only factories declare processes, batches and capacity."]})
    profile, _ = SupplierProfile.objects.select_for_update().get_or_create(organization=organization)
    if "categories" in fields:
        fields["categories"] = sorted({" ".join(str(c).split()) for c in fields["categories"] if str(c).strip()})[:50]
    for name, value in fields.items():
        setattr(profile, name, value)
    if profile.max_batch is not None and profile.max_batch < profile.min_batch:
        raise ProfileInvalid({"max_batch": [f"The largest batch ({profile.max_batch}) is below the smallest ({profile.min_batch})."]})
    if profile.min_batch < 1:
        raise ProfileInvalid({"min_batch": ["At least 1."]})
    profile.save()
    return profile
