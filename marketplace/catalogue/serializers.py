"""Serializers and fields shared by the marketplace's APIs: money, references to organisations
and parts, listings with their price breaks."""

from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from config.api import WholeSerializer
from marketplace.catalogue.models import Listing
from marketplace.catalogue.search.offers import Offer, PartRef
from marketplace.catalogue.search.pricing import offer_fill

# --- Shared output pieces -----------------------------------------------------------------------

CENTS = Decimal("0.01")


def money_str(value: Decimal | None) -> str | None:
    """Decimal → string: cents when the value has no finer part ("12.50"), else every
    significant digit a unit price carries ("0.0035")."""
    if value is None:
        return None
    value = Decimal(value)
    cents = value.quantize(CENTS)
    if value == cents:
        return f"{cents}"
    return f"{value.normalize():f}"


class AmountField(serializers.DecimalField):
    """An amount as a decimal string, at the precision it carries (at least cents)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 24)
        kwargs.setdefault("decimal_places", 6)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return money_str(value)


class OrgRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PartRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    manufacturer = serializers.CharField()
    mpn = serializers.CharField()
    category = serializers.CharField()


MAX_QTY = 2_000_000_000  # the database's integer range, with room to spare
MAX_ID = 2**63 - 1  # the largest primary key; a bigger one is a 400, not a database OverflowError (500)


def id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class BreakSerializer(WholeSerializer):
    min_qty = serializers.IntegerField(min_value=1, max_value=MAX_QTY)
    unit_price = AmountField(min_value=Decimal("0"))


class PartOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    manufacturer = serializers.CharField()
    mpn = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    parameters = serializers.DictField()
    lifecycle = serializers.CharField()


class ConvertedSerializer(serializers.Serializer):
    currency = serializers.CharField(help_text="The display currency")
    unit_price_at_qty = AmountField(allow_null=True, help_text="× rate, half-even to 6 places (the sort uses the exact product)")
    extended_price = AmountField(allow_null=True, help_text="order_qty × unit price × rate, half-even to cents")
    rate = serializers.CharField(help_text="1 listing currency = rate display currency, 8 places")


class ListingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    vendor = OrgRefSerializer()
    part = PartRefSerializer()
    stock = serializers.IntegerField()
    moq = serializers.IntegerField()
    multiple = serializers.IntegerField()
    lead_time_days = serializers.IntegerField()
    currency = serializers.CharField()
    condition = serializers.CharField()
    date_code = serializers.CharField()
    location = serializers.CharField()
    is_active = serializers.BooleanField()
    updated_at = serializers.DateTimeField()
    price_breaks = BreakSerializer(many=True, source="price_breaks.all")
    order_qty = serializers.IntegerField(required=False, help_text="Only with ?qty=")
    unit_price_at_qty = AmountField(required=False, allow_null=True, help_text="Only with ?qty=")
    extended_price = AmountField(required=False, allow_null=True, help_text="Only with ?qty=")
    fills_qty = serializers.BooleanField(required=False, help_text="Only with ?qty=: stock covers order_qty and order_qty is the quantity asked")
    fill_problems = serializers.ListField(child=serializers.ChoiceField(choices=["stock", "moq", "multiple", "no_price"]),
                                         required=False, help_text="Only with ?qty=: why the offer does not fill it")
    converted = ConvertedSerializer(required=False, allow_null=True, help_text=(
        "Only with ?qty=: the price at the quantity in the display currency (`currency=`), what price orderings "
        "sort by; null when the listing's currency has no rate into it (then sorted after every priced offer)"))
    unconverted_reason = serializers.CharField(required=False, allow_null=True, help_text="Only with ?qty=: why `converted` is null")


def part_output(part: PartRef) -> dict:
    """`PartOutputSerializer`'s output for a search row's part, built directly (see `offers_output`)."""
    parameters = part.parameters
    return {"id": part.id, "manufacturer": part.manufacturer, "mpn": part.mpn, "category": part.category,
            "description": part.description,
            "parameters": None if parameters is None else {str(k): v for k, v in parameters.items()},
            "lifecycle": part.lifecycle}


def offers_output(offers: list[Offer], qty: int | None) -> list[dict]:
    """A search page's offers (`search.offers.Offer`) as `ListingOutputSerializer` declares them: the
    same JSON, key for key and in the same order, as `listings_output` gives for the same listings
    (tests compare), built directly. DRF's serializer walks ~25 fields per row, each with its
    `get_attribute` and `to_representation`: for a page of 50 that cost more than the page's queries."""
    # DRF's DateTimeField looks up the active time zone for every value; once per page is enough.
    when = serializers.DateTimeField(default_timezone=timezone.get_current_timezone() if settings.USE_TZ else None)
    out = []
    for o in offers:
        part = o.part
        data = {"id": o.id, "vendor": {"id": o.vendor.id, "name": o.vendor.name},
                "part": {"id": part.id, "manufacturer": part.manufacturer, "mpn": part.mpn, "category": part.category},
                "stock": o.stock, "moq": o.moq, "multiple": o.multiple, "lead_time_days": o.lead_time_days,
                "currency": o.currency, "condition": o.condition, "date_code": o.date_code, "location": o.location,
                "is_active": o.is_active, "updated_at": when.to_representation(o.updated_at),
                "price_breaks": [{"min_qty": b.min_qty, "unit_price": money_str(b.unit_price)} for b in o.price_breaks]}
        if o.order_qty is not None:
            c = o.converted
            data["order_qty"] = o.order_qty
            data["unit_price_at_qty"] = money_str(o.unit_price_at_qty)
            data["extended_price"] = money_str(o.extended_price)
            data["converted"] = None if c is None else {
                "currency": c["currency"], "unit_price_at_qty": money_str(c["unit_price_at_qty"]),
                "extended_price": money_str(c["extended_price"]), "rate": str(c["rate"])}
            data["unconverted_reason"] = o.unconverted_reason
            data.update(offer_fill(o, qty))
        else:  # as DRF gives them: a nullable field whose attribute is missing is null, not left out
            data["unit_price_at_qty"] = data["extended_price"] = None
        out.append(data)
    return out


def listings_output(listings: list[Listing], qty: int | None = None) -> list[dict]:
    # One serializer for the whole page: DRF copies its fields per instance, which costs more
    # than the query for a page of 50.
    out = ListingOutputSerializer(listings, many=True).data
    for listing, data in zip(listings, out):
        if hasattr(listing, "order_qty"):
            listing.qty_asked = qty or getattr(listing, "qty_asked", None) or listing.order_qty
            price = listing.unit_price_at_qty
            data["unit_price_at_qty"] = money_str(price)
            # Exact product in Python (SQLite computes the sort key in floating point).
            data["extended_price"] = money_str(listing.order_qty * price) if price is not None else None
            data.update(offer_fill(listing, listing.qty_asked))
        if hasattr(listing, "converted"):
            c = listing.converted
            data["converted"] = None if c is None else {
                "currency": c["currency"], "unit_price_at_qty": money_str(c["unit_price_at_qty"]),
                "extended_price": money_str(c["extended_price"]), "rate": str(c["rate"])}
            data["unconverted_reason"] = listing.unconverted_reason
        else:  # not priced at a quantity: nothing was converted (null would read as "no rate")
            data.pop("converted", None)
            data.pop("unconverted_reason", None)
    return out


def listing_output(listing: Listing) -> dict:
    return listings_output([listing])[0]
