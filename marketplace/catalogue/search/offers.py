"""A search page's offers as plain rows: what the page shows of each listing, read in two queries
(the listings with their vendor and part, then their price breaks) and priced at the quantity in
Python from those breaks.

Why not model instances: a page of 50 listings loaded with `select_related` and a prefetch of their
breaks builds some 280 model instances (listing, vendor, part, each break) and clones a queryset per
listing for the prefetch cache; that cost more than the queries. The rows here hold only the columns
the API and the search page read. The price at the quantity is `price_at_qty`'s rule, applied to the
breaks already loaded (`price_from_breaks`); tests compare both, and the API's output with the DRF
serializers' (`tests/marketplace/selectors/test_search_offer_rows.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from marketplace.catalogue.models import Listing, PriceBreak
from marketplace.catalogue.search.pricing import (
    DisplayCurrency,
    order_qty_of,
    price_from_breaks,
)


@dataclass(slots=True)
class VendorRef:
    id: int
    name: str

    @property
    def pk(self) -> int:
        return self.id


@dataclass(slots=True)
class PartRef:
    id: int
    manufacturer: str
    mpn: str
    category: str
    description: str
    parameters: dict
    lifecycle: str

    @property
    def pk(self) -> int:
        return self.id


class Break(NamedTuple):
    min_qty: int
    unit_price: Decimal


@dataclass(slots=True)
class Offer:
    """One listing as a search page shows it. With a quantity: `order_qty`, `unit_price_at_qty`
    (None when no break applies), `extended_price`, `converted` into the display currency (None
    without a rate) and `unconverted_reason`; without one, all None."""

    id: int
    vendor_id: int
    vendor: VendorRef
    part_id: int
    part: PartRef
    stock: int
    moq: int
    multiple: int
    lead_time_days: int
    currency: str
    condition: str
    date_code: str
    location: str
    is_active: bool
    updated_at: datetime
    price_breaks: list[Break]
    order_qty: int | None = None
    unit_price_at_qty: Decimal | None = None
    extended_price: Decimal | None = None
    converted: dict | None = None
    unconverted_reason: str | None = None
    fill: dict | None = None  # the search page's offer_fill, set by the view

    @property
    def pk(self) -> int:
        return self.id


COLUMNS = ("id", "vendor_id", "vendor__name", "part_id", "part__manufacturer", "part__mpn", "part__category",
           "part__description", "part__parameters", "part__lifecycle", "stock", "moq", "multiple", "lead_time_days",
           "currency", "condition", "date_code", "location", "is_active", "updated_at")


def offer_rows(ids: list[int], qty: int | None, display: DisplayCurrency) -> list[Offer]:
    """The listings `ids` as offers, in that order (ids no longer there are left out), priced at
    `qty` (when given) and converted into `display`: two queries."""
    offers = load_offers(ids, qty)
    price_offers(offers, qty, display)
    return offers


def load_offers(ids: list[int], qty: int | None) -> list[Offer]:
    """The listings `ids` with their vendor and part, in that order, with `order_qty` at `qty` but not
    yet their breaks nor prices (`price_offers`): one query."""
    if not ids:
        return []
    by_id = {}
    for (pk, vendor_id, vendor_name, part_id, manufacturer, mpn, category, description, parameters, lifecycle,
         stock, moq, multiple, lead, currency, condition, date_code, location, is_active, updated_at) in (
            Listing.objects.filter(pk__in=ids).values_list(*COLUMNS)):
        by_id[pk] = Offer(pk, vendor_id, VendorRef(vendor_id, vendor_name), part_id,
                          PartRef(part_id, manufacturer, mpn, category, description, parameters, lifecycle),
                          stock, moq, multiple, lead, currency, condition, date_code, location, is_active, updated_at,
                          [], order_qty=order_qty_of(qty, moq=moq, multiple=multiple) if qty else None)
    return [by_id[pk] for pk in ids if pk in by_id]


def price_offers(offers: list[Offer], qty: int | None, display: DisplayCurrency) -> None:
    """Every offer's price breaks (one query for all) and, at `qty`, its price and converted price."""
    if not offers:
        return
    breaks: dict[int, list[Break]] = {}
    for listing_id, min_qty, unit_price in (PriceBreak.objects.filter(listing_id__in=sorted({o.id for o in offers}))
                                            .order_by("listing_id", "min_qty")
                                            .values_list("listing_id", "min_qty", "unit_price")):
        breaks.setdefault(listing_id, []).append(Break(min_qty, unit_price))
    for offer in offers:
        offer.price_breaks = breaks.get(offer.id, [])
    if not qty:
        return
    for offer in offers:
        offer.unit_price_at_qty = price_from_breaks(offer.price_breaks, offer.order_qty)
        if offer.unit_price_at_qty is not None:
            offer.extended_price = offer.order_qty * offer.unit_price_at_qty
        offer.converted = display.converted(offer)
        offer.unconverted_reason = display.missing_reason(offer)
