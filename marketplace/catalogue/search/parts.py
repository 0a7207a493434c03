"""A part's own page in the catalogue: every offer at a quantity and the price history."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch

from marketplace.catalogue.models import Listing, ListingPriceChange, Part, PriceBreak
from marketplace.catalogue.search.engine import PRICE_ORDERINGS
from marketplace.catalogue.search.filters import listing_visible_q
from marketplace.catalogue.search.pricing import (
    DisplayCurrency,
    attach_converted,
    price_at_qty,
)
from organizations.models import Organization

# --- The part page ------------------------------------------------------------------------------------


def part_offers(*, viewer: Organization | None, part: Part, qty: int | None,
                display: DisplayCurrency | None = None) -> list[Listing]:
    """Every offer of the part the viewer may see, priced at `qty`, cheapest first in the display
    currency (unpriced, and those without a rate into it, last)."""

    qs = Listing.objects.filter(listing_visible_q(viewer), is_active=True, part=part).select_related("vendor", "part") \
        .prefetch_related(Prefetch("price_breaks", queryset=PriceBreak.objects.order_by("min_qty")))
    if qty:
        display = display or DisplayCurrency()
        offers = list(price_at_qty(qs, qty, display).order_by(*PRICE_ORDERINGS["unit_price_at_qty"]))
        attach_converted(offers, display)
        return offers
    return list(qs.order_by("lead_time_days", "id"))


def part_price_history(*, viewer: Organization | None, part: Part, qty: int | None, limit: int = 200) -> list[dict]:
    """The part's offers' price changes, newest first: when, which offer, its breaks then and (with
    `qty`) its unit price at the quantity then — the break with the largest min_qty ≤ the order
    quantity, with today's MOQ and multiple (the history keeps prices, not terms)."""

    visible = Listing.objects.filter(listing_visible_q(viewer), part=part)
    changes = (ListingPriceChange.objects.filter(part=part, listing__in=visible)
               .select_related("listing", "listing__vendor").order_by("-created_at", "-id")[:limit])
    out = []
    for change in changes:
        row = {"at": change.created_at, "listing": change.listing, "vendor": change.listing.vendor,
               "currency": change.currency, "price_breaks": change.price_breaks, "unit_price_at_qty": None}
        if qty:
            listing = change.listing
            raised = max(qty, listing.moq)
            order_qty = -(-raised // listing.multiple) * listing.multiple
            applicable = [Decimal(price) for min_qty, price in change.price_breaks if min_qty <= order_qty]
            row["unit_price_at_qty"] = applicable[-1] if applicable else None
        out.append(row)
    return out
