"""Reads of quotes."""

from decimal import Decimal

from django.db.models import F, Prefetch, QuerySet

from marketplace.sourcing.models import Quote, QuoteAllocation, QuoteLine, QuoteVendor
from marketplace.sourcing.quotes import quote_service_lines
from marketplace.sourcing.rates import cents
from organizations.models import Organization


def quote_list(*, organization: Organization) -> QuerySet[Quote]:
    return Quote.objects.filter(organization=organization).select_related("kit").prefetch_related(
        Prefetch("lines", queryset=QuoteLine.objects.select_related("part").prefetch_related(
            # The listing's currency: the page marks prices converted from another one (no wide listing row).
            Prefetch("allocations", queryset=QuoteAllocation.objects.select_related("vendor", "part").annotate(
                listing_currency=F("listing__currency"))))),
        Prefetch("vendors", queryset=QuoteVendor.objects.select_related("vendor")),
    )


def quote_vendor_subtotals(*, quote: Quote) -> list[dict]:
    """What each vendor would be paid if the quote were ordered — its parts (rounded per line as
    the purchase order will be), its services (assembly, design fees, NRE) and its quoted shipping —
    largest first.
    Uses `quote_list`'s prefetched allocations."""

    vendors: dict[int, dict] = {}

    def row(vendor_id: int, name: str = "") -> dict:
        return vendors.setdefault(vendor_id, {"vendor_id": vendor_id, "vendor": name, "parts": Decimal(0),
                                              "services": Decimal(0), "shipping": Decimal(0), "lines": 0})

    for line in quote.lines.all():
        for a in line.allocations.all():
            r = row(a.vendor_id, a.vendor.name)
            r["parts"] += cents(a.quantity * a.unit_price)
            r["lines"] += 1
    for _, vendor_id, _, qty, unit in quote_service_lines(quote=quote):
        row(vendor_id)["services"] += cents(qty * unit)
    for quoted in quote.vendors.all():  # the shipping each purchase order was quoted
        row(quoted.vendor_id, quoted.vendor.name)["shipping"] = quoted.shipping
    missing = [v for v, r in vendors.items() if not r["vendor"]]
    for pk, name in Organization.objects.filter(pk__in=missing).values_list("pk", "name"):
        vendors[pk]["vendor"] = name
    for r in vendors.values():
        r["total"] = r["parts"] + r["services"] + r["shipping"]
    return sorted(vendors.values(), key=lambda r: (-r["total"], r["vendor"]))
