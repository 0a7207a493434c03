"""A supplier's order terms: the shipping fee per purchase order, free shipping over an amount,
and the minimum order value. Quotes read them (marketplace.sourcing.quotes.vendor_terms)."""

from decimal import Decimal

from django.db import transaction

from marketplace.catalogue.models import Currency, VendorOrderTerms
from marketplace.exceptions import OrderTermsInvalid
from organizations.models import Organization

MAX_TERM = Decimal("999999999.99")


@transaction.atomic
def order_terms_set(
    *, vendor: Organization, currency: str, shipping_fee: Decimal, free_shipping_over: Decimal | None,
    min_order_value: Decimal, confirm_within_hours: int = 48, ship_within_days: int | None = None,
    late_credit_percent_per_day: Decimal = Decimal("0"), late_credit_cap_percent: Decimal = Decimal("0"),
) -> VendorOrderTerms:
    """Create or replace the vendor's terms (one row per vendor): fees, and the promises every
    purchase order gets (confirm within hours, ship within days, late credit per day with a cap)."""
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
    if not 1 <= confirm_within_hours <= 720:
        errors["confirm_within_hours"] = ["From 1 to 720 hours (30 days)."]
    if ship_within_days is not None and not 1 <= ship_within_days <= 365:
        errors["ship_within_days"] = ["From 1 to 365 days, or empty for the listings' lead time."]
    for name, value in (("late_credit_percent_per_day", late_credit_percent_per_day),
                        ("late_credit_cap_percent", late_credit_cap_percent)):
        if not Decimal(0) <= value <= Decimal(100) or value != value.quantize(Decimal("0.01")):
            errors[name] = ["A percentage from 0 to 100, with at most two decimal places."]
    if not errors and late_credit_percent_per_day > 0 and late_credit_cap_percent <= 0:
        errors["late_credit_cap_percent"] = ["A late credit needs a cap above 0 %: the most it can reach."]
    if errors:
        raise OrderTermsInvalid(errors)
    terms = VendorOrderTerms.objects.select_for_update().filter(vendor=vendor).first() or VendorOrderTerms(vendor=vendor)
    terms.currency, terms.shipping_fee, terms.free_shipping_over, terms.min_order_value = (
        currency, shipping_fee, free_shipping_over, min_order_value)
    terms.confirm_within_hours, terms.ship_within_days = confirm_within_hours, ship_within_days
    terms.late_credit_percent_per_day, terms.late_credit_cap_percent = late_credit_percent_per_day, late_credit_cap_percent
    terms.full_clean()
    terms.save()
    return terms
