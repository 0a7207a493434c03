"""A supplier's order terms: the shipping fee per purchase order, free shipping over an amount,
and the minimum order value. Quotes read them (marketplace.services.quotes.vendor_terms)."""

from decimal import Decimal

from django.db import transaction

from marketplace.catalogue.models import Currency, VendorOrderTerms
from marketplace.exceptions import OrderTermsInvalid
from organizations.models import Organization

MAX_TERM = Decimal("999999999.99")


@transaction.atomic
def order_terms_set(
    *, vendor: Organization, currency: str, shipping_fee: Decimal, free_shipping_over: Decimal | None,
    min_order_value: Decimal,
) -> VendorOrderTerms:
    """Create or replace the vendor's terms (one row per vendor)."""
    errors: dict[str, list[str]] = {}
    if not vendor.is_supplier:
        errors["non_field_errors"] = ["Only suppliers set order terms."]
    if currency not in Currency.values:
        errors["currency"] = [f"Choose one of {', '.join(Currency.values)}."]
    for name, value in (("shipping_fee", shipping_fee), ("free_shipping_over", free_shipping_over),
                        ("min_order_value", min_order_value)):
        if value is not None and not Decimal(0) <= value <= MAX_TERM:
            errors[name] = [f"Give an amount from 0 to {MAX_TERM:,}."]
        elif value is not None and value != value.quantize(Decimal("0.01")):
            errors[name] = ["Give the amount in cents (two decimal places at most)."]
    if errors:
        raise OrderTermsInvalid(errors)
    terms = VendorOrderTerms.objects.select_for_update().filter(vendor=vendor).first() or VendorOrderTerms(vendor=vendor)
    terms.currency, terms.shipping_fee, terms.free_shipping_over, terms.min_order_value = (
        currency, shipping_fee, free_shipping_over, min_order_value)
    terms.full_clean()
    terms.save()
    return terms
