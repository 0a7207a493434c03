"""REST endpoints of the marketplace app. Identity and organisations first; catalogue, kits,
quotes and orders are added below as one APIView per operation."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import WholeSerializer, paginated_response, validation_error_detail
from config.parsers import UPLOAD_PARSERS
from organizations.access import get_acting_organization
from organizations.api import OrganizationOutputSerializer, organization_output
from marketplace.exceptions import KitInvalid, NotAParty, OrderInvalid, StockListInvalid
from organizations.models import Organization, OrganizationKind, Role
from marketplace.models import Currency, Listing, Order, OrderStatus, Part, VendorOrderTerms
from organizations.selectors import organization_visible_list
from marketplace.selectors import (
    LISTING_ORDERINGS,
    fulfilment_record,
    kit_get,
    kit_list,
    listing_list,
    listing_search,
    order_list,
    offer_fill,
    offer_search,
    part_list,
    search_facets,
    search_filters,
    purchase_order_list,
    quote_list,
)
from organizations.services import organization_create
from marketplace.services import (
    kit_create,
    kit_update,
    listing_create,
    listing_update,
    order_place,
    part_get_or_create,
    order_terms_set,
    quote_create,
    stock_list_import,
)
from marketplace.selectors.rfqs import awarded_listing_list
from marketplace.services.orders import STEPS, order_step, purchase_order_dispute
from credit.api import DisputeOutputSerializer
from credit.idempotency_api import IDEMPOTENCY_PARAMETER, idempotent_response
from credit.selectors import dispute_list


class FulfilmentSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Purchase orders received")
    delivered = serializers.IntegerField()
    open = serializers.IntegerField()
    cancelled_by_supplier = serializers.IntegerField()
    fill_rate = serializers.FloatField(allow_null=True, help_text="delivered ÷ (delivered + cancelled by the supplier)")
    median_hours_to_confirm = serializers.FloatField(allow_null=True)
    median_hours_to_ship = serializers.FloatField(allow_null=True)
    listings = serializers.IntegerField()
    kits = serializers.IntegerField()


class OrganizationDetailOutputSerializer(OrganizationOutputSerializer):
    fulfilment = FulfilmentSerializer(allow_null=True, help_text="Suppliers only")


def organization_detail_output(org: Organization) -> dict:
    """The profile as GET shows it (POST answers the same shape)."""
    data = organization_output(org)
    data["fulfilment"] = fulfilment_record(supplier=org) if org.is_supplier else None
    return data


class OrganizationListCreateApi(APIView):
    acts_for_organization = False  # onboarding: the caller becomes the owner of a new organisation
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        kinds = serializers.ListField(child=serializers.ChoiceField(choices=OrganizationKind.choices), allow_empty=False)
        default_currency = serializers.ChoiceField(choices=["CNY", "USD"], default="CNY")
        location = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
        description = serializers.CharField(required=False, default="", allow_blank=True)

    @extend_schema(responses=OrganizationOutputSerializer(many=True))
    def get(self, request):
        """Organisations you can see: buyers, verified suppliers and your own. `?q=` searches names,
        `?kind=` filters by kind."""
        qs = organization_visible_list(
            viewer=get_acting_organization(request, required=False), is_operator=request.user.is_staff
        )
        if q := request.query_params.get("q"):
            qs = qs.filter(name__icontains=q)
        if (kind := request.query_params.get("kind")) in OrganizationKind.values:
            qs = qs.filter(**{f"is_{kind}": True})
        return paginated_response(self, request, qs.order_by("name", "id"), lambda page: [organization_output(x) for x in page])

    @extend_schema(request=InputSerializer, responses={201: OrganizationDetailOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        org = organization_create(owner=request.user, **data.validated_data)
        return Response(organization_detail_output(org), status=status.HTTP_201_CREATED)


class OrganizationDetailApi(APIView):
    @extend_schema(responses=OrganizationDetailOutputSerializer)
    def get(self, request, pk: int):
        """A public profile; for suppliers, their fulfilment record."""
        qs = organization_visible_list(
            viewer=get_acting_organization(request, required=False), is_operator=request.user.is_staff
        )
        return Response(organization_detail_output(get_object_or_404(qs, pk=pk)))


# --- Shared output pieces -----------------------------------------------------------------------



def money_str(value: Decimal | None) -> str | None:
    """Decimal → string: cents when the value has no finer part ("12.50"), else every
    significant digit a unit price carries ("0.0035")."""
    if value is None:
        return None
    value = Decimal(value)
    if value == value.quantize(Decimal("0.01")):
        return f"{value.quantize(Decimal('0.01'))}"
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
    return out


def listing_output(listing: Listing) -> dict:
    return listings_output([listing])[0]


# --- Catalogue ------------------------------------------------------------------------------------


class PartListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("q", str), OpenApiParameter("mpn", str, description="MPN prefix"),
                    OpenApiParameter("category", str)],
        responses=PartOutputSerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        qs = part_list(q=params.get("q"), mpn=params.get("mpn"), category=params.get("category"))
        return paginated_response(self, request, qs, lambda page: PartOutputSerializer(page, many=True).data)


class SearchFilterSerializer(serializers.Serializer):
    """The search's query parameters, shared by the flat listing search and the grouped parts search."""

    q = serializers.CharField(required=False, max_length=100, help_text="Words (synonyms count: cap = capacitor = MLCC) or MPNs")
    mpn = serializers.CharField(required=False, max_length=100, help_text="MPN prefix, dashes and case ignored")
    category = serializers.CharField(required=False, max_length=100)
    manufacturer = serializers.CharField(required=False, max_length=100)
    vendor = id_field(required=False)
    currency = serializers.ChoiceField(choices=Currency.choices, required=False,
                                       help_text="Only listings priced in this currency (prices compare within one)")
    in_stock = serializers.BooleanField(required=False, default=False, help_text="With qty: stock covers the order quantity")
    max_lead_time_days = serializers.IntegerField(required=False, min_value=0, max_value=3650)
    qty = serializers.IntegerField(required=False, min_value=1, max_value=100_000_000)
    ordering = serializers.ChoiceField(choices=list(LISTING_ORDERINGS), required=False)
    parameters = serializers.CharField(required=False, max_length=400, help_text=(
        "Comma-separated `key:value` or ranges `key>=value`, `key<=value`; values with units are normalised "
        "(capacitance>=10uF, resistance:4.7k, package:0402)"))
    exact_count = serializers.BooleanField(required=False, default=False,
                                           help_text="Count every match exactly (slower on broad searches)")
    page = serializers.IntegerField(required=False, min_value=1, max_value=10_000, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


def search_request(request) -> tuple[dict, object]:
    data = SearchFilterSerializer(data=request.query_params)
    data.is_valid(raise_exception=True)
    f = data.validated_data
    filters = search_filters(q=f.get("q"), mpn=f.get("mpn"), category=f.get("category"), manufacturer=f.get("manufacturer"),
                             vendor_id=f.get("vendor"), currency=f.get("currency"), in_stock=f["in_stock"],
                             max_lead_time_days=f.get("max_lead_time_days"), parameters=f.get("parameters", ""))
    return f, filters


def search_page_response(request, f: dict, page, results: list[dict], **extra) -> Response:
    """The paginated shape (`count`, `next`, `previous`, `results`) plus `count_is_estimate`: on broad
    searches the count is estimated unless `exact_count=1`, and `next` comes from the rows themselves."""
    from rest_framework.utils.urls import remove_query_param, replace_query_param

    url = request.build_absolute_uri()
    number = f["page"]
    previous = None
    if number > 1:
        previous = remove_query_param(url, "page") if number == 2 else replace_query_param(url, "page", number - 1)
    return Response({"count": page.count, "count_is_estimate": page.count_is_estimate,
                     "next": replace_query_param(url, "page", number + 1) if page.has_next else None,
                     "previous": previous, "results": results, **extra})


def run_search(request, *, group: bool):
    f, filters = search_request(request)
    page = offer_search(viewer=get_acting_organization(request, required=False), filters=filters, qty=f.get("qty"),
                        ordering=f.get("ordering"), offset=(f["page"] - 1) * f["page_size"], limit=f["page_size"],
                        exact_count=f["exact_count"], group=group)
    return f, filters, page


class FacetsOutputSerializer(serializers.Serializer):
    class ValueCount(serializers.Serializer):
        value = serializers.CharField()
        count = serializers.IntegerField()

    class InStock(serializers.Serializer):
        offers = serializers.IntegerField()
        in_stock = serializers.IntegerField()

    class LeadTime(serializers.Serializer):
        max_days = serializers.IntegerField()
        label = serializers.CharField()
        count = serializers.IntegerField()

    class Parameter(serializers.Serializer):
        class Value(serializers.Serializer):
            value = serializers.JSONField(help_text="Numbers in base units (F, Ω, V, A, Hz…); text lower-cased")
            label = serializers.CharField(help_text="e.g. 10 µF")
            count = serializers.IntegerField(help_text="Parts")

        key = serializers.CharField()
        numeric = serializers.BooleanField(help_text="Numeric parameters take ranges: key>=value")
        values = Value(many=True)

    estimated = serializers.BooleanField(help_text="Broad search: offer counts from a 1 % sample, part counts without offer-level filters")
    category = ValueCount(many=True, help_text="Parts per category")
    manufacturer = ValueCount(many=True, help_text="Parts per manufacturer")
    in_stock = InStock()
    lead_time = LeadTime(many=True, help_text="Offers with a lead time of at most max_days")
    parameters = Parameter(many=True, help_text="The category's parameters (with a category, or when one matches)")


class PartGroupOutputSerializer(serializers.Serializer):
    part = PartOutputSerializer()
    best_offer = ListingOutputSerializer(help_text="The cheapest matching offer at the quantity")
    offers = serializers.IntegerField(help_text="Matching offers of this part")
    total_stock = serializers.IntegerField()
    shortest_lead_time_days = serializers.IntegerField()
    fillable_offers = serializers.IntegerField(allow_null=True, help_text="With qty: offers whose stock covers it")


def part_groups_output(groups, qty: int | None) -> list[dict]:
    best = listings_output([g.best for g in groups], qty)
    parts = PartOutputSerializer([g.part for g in groups], many=True).data
    return [{"part": part, "best_offer": offer, "offers": g.offers, "total_stock": g.total_stock,
             "shortest_lead_time_days": g.shortest_lead_time_days, "fillable_offers": g.fillable_offers}
            for g, part, offer in zip(groups, parts, best)]


class PartSearchApi(APIView):
    @extend_schema(
        parameters=[SearchFilterSerializer, OpenApiParameter("facets", OpenApiTypes.BOOL, description="1: add facets")],
        responses=inline_serializer("PartSearchPage", {
            "count": serializers.IntegerField(help_text="Parts"), "count_is_estimate": serializers.BooleanField(),
            "next": serializers.URLField(allow_null=True), "previous": serializers.URLField(allow_null=True),
            "results": PartGroupOutputSerializer(many=True),
            "fuzzy": serializers.BooleanField(help_text="Nothing matched the MPN typed: these are the closest MPNs"),
            "suggestions": serializers.ListField(child=serializers.CharField()),
            "facets": FacetsOutputSerializer(required=False),
        }),
    )
    def get(self, request):
        """Search parts, grouped: one row per part with its best offer at the quantity, its number of
        matching offers, total stock and shortest lead time. Same filters and orderings as
        `GET /listings/`; the part's offers are at `GET /parts/{id}/?qty=`."""
        f, filters, page = run_search(request, group=True)
        extra = {"fuzzy": page.fuzzy, "suggestions": [p.mpn for p in page.suggestions]}
        if request.query_params.get("facets") in ("1", "true", "True"):
            extra["facets"] = search_facets(viewer=get_acting_organization(request, required=False), filters=filters,
                                            qty=f.get("qty"))
        return search_page_response(request, f, page, part_groups_output(page.rows, f.get("qty")), **extra)


class PartFacetsApi(APIView):
    @extend_schema(parameters=[SearchFilterSerializer], responses=FacetsOutputSerializer)
    def get(self, request):
        """Facets of a search: categories, manufacturers, in stock, lead time and (for one category)
        its parameters with values and counts, from what matches."""
        f, filters = search_request(request)
        return Response(search_facets(viewer=get_acting_organization(request, required=False), filters=filters,
                                      qty=f.get("qty")))


class ListingPriceQtySerializer(serializers.Serializer):
    qty = serializers.IntegerField(required=False, min_value=1, max_value=100_000_000)


class PartDetailApi(APIView):
    class OutputSerializer(PartOutputSerializer):
        class Parameter(serializers.Serializer):
            key = serializers.CharField()
            value = serializers.JSONField()
            label = serializers.CharField()

        class KitUse(serializers.Serializer):
            id = serializers.IntegerField()
            name = serializers.CharField()
            revision = serializers.IntegerField()
            owner = OrgRefSerializer()
            quantity = AmountField(help_text="Per kit unit")
            designators = serializers.CharField()
            as_substitute = serializers.BooleanField()

        class PriceChange(serializers.Serializer):
            at = serializers.DateTimeField()
            listing = serializers.IntegerField()
            vendor = OrgRefSerializer()
            currency = serializers.CharField()
            price_breaks = BreakSerializer(many=True)
            unit_price_at_qty = AmountField(allow_null=True)

        class BomUse(serializers.Serializer):
            id = serializers.IntegerField()
            name = serializers.CharField()
            quantity = AmountField(help_text="Per assembled board")
            lines = serializers.ListField(child=serializers.IntegerField())
            designators = serializers.CharField()

        normalized_parameters = Parameter(many=True)
        offers = ListingOutputSerializer(many=True)
        kits = KitUse(many=True)
        boms = BomUse(many=True, help_text="The caller's own uploaded BOMs that use the part")
        price_history = PriceChange(many=True)

    @extend_schema(parameters=[ListingPriceQtySerializer], responses=OutputSerializer)
    def get(self, request, pk: int):
        """A part: its parameters (as written and normalised), every offer the caller may see priced at
        `qty` (with `fills_qty`), the kits whose BOMs use it and its offers' price history."""
        qty = ListingPriceQtySerializer(data=request.query_params)
        qty.is_valid(raise_exception=True)
        return Response(part_detail_output(request, get_object_or_404(Part, pk=pk), qty.validated_data.get("qty")))


def part_detail_output(request, part: Part, qty: int | None) -> dict:
    from marketplace.selectors.search import part_boms, part_kits, part_offers, part_price_history
    from marketplace.units import QUANTITY_KEYS, format_measure

    viewer = get_acting_organization(request, required=False)
    data = dict(PartOutputSerializer(part).data)
    data["normalized_parameters"] = [
        {"key": key, "value": value,
         "label": format_measure(QUANTITY_KEYS.get(key, ""), value) if isinstance(value, (int, float)) else str(value)}
        for key, value in sorted(part.parameter_values.items())]
    data["offers"] = listings_output(part_offers(viewer=viewer, part=part, qty=qty), qty)
    data["kits"] = [{"id": k["kit"].pk, "name": k["kit"].name, "revision": k["kit"].revision,
                     "owner": {"id": k["kit"].owner_id, "name": k["kit"].owner.name}, "quantity": money_str(k["quantity"]),
                     "designators": ",".join(k["designators"]), "as_substitute": k["as_substitute"]}
                    for k in part_kits(viewer=viewer, part=part)]
    data["boms"] = [{"id": b["bom"].pk, "name": b["bom"].name, "quantity": money_str(b["quantity"]), "lines": b["lines"],
                     "designators": ",".join(b["designators"])} for b in part_boms(viewer=viewer, part=part)]
    data["price_history"] = [
        {"at": row["at"], "listing": row["listing"].pk, "vendor": {"id": row["vendor"].pk, "name": row["vendor"].name},
         "currency": row["currency"], "price_breaks": [{"min_qty": q, "unit_price": money_str(Decimal(p))} for q, p in row["price_breaks"]],
         "unit_price_at_qty": money_str(row["unit_price_at_qty"])}
        for row in part_price_history(viewer=viewer, part=part, qty=qty)]
    return data


SUPPLIERS_ONLY = "Only suppliers publish listings: add a supplier kind to this organisation."


class ListingListCreateApi(APIView):
    FilterSerializer = SearchFilterSerializer

    class InputSerializer(serializers.Serializer):
        part = id_field(required=False, help_text="A catalogue part id, or give manufacturer + mpn")
        manufacturer = serializers.CharField(required=False, max_length=100)
        mpn = serializers.CharField(required=False, max_length=100)
        category = serializers.CharField(required=False, max_length=100, default="")
        description = serializers.CharField(required=False, max_length=300, default="")
        stock = serializers.IntegerField(min_value=0, max_value=MAX_QTY)
        moq = serializers.IntegerField(min_value=1, max_value=MAX_QTY, default=1)
        multiple = serializers.IntegerField(min_value=1, max_value=MAX_QTY, default=1)
        lead_time_days = serializers.IntegerField(min_value=0, max_value=3650, default=0)
        currency = serializers.ChoiceField(choices=Currency.choices, required=False)
        condition = serializers.ChoiceField(choices=Listing.Condition.choices, default=Listing.Condition.NEW)
        date_code = serializers.CharField(required=False, max_length=20, default="", allow_blank=True)
        location = serializers.CharField(required=False, max_length=100, default="", allow_blank=True)
        is_active = serializers.BooleanField(default=True)
        price_breaks = BreakSerializer(many=True, allow_empty=False)

        def validate(self, attrs):
            if not attrs.get("part") and not (attrs.get("manufacturer") and attrs.get("mpn")):
                raise serializers.ValidationError({"part": ["Give a part id, or manufacturer and mpn."]})
            return attrs

    @extend_schema(parameters=[SearchFilterSerializer], responses=ListingOutputSerializer(many=True))
    def get(self, request):
        """Search listings (one row per offer). With `qty=N` each result has `order_qty`,
        `unit_price_at_qty`, `extended_price` and `fills_qty`, and `ordering=unit_price_at_qty` sorts by
        the price at that quantity. Broad searches estimate `count` (`count_is_estimate`)."""
        f, _, page = run_search(request, group=False)
        return search_page_response(request, f, page, listings_output(page.rows, f.get("qty")))

    @extend_schema(request=InputSerializer, responses={201: ListingOutputSerializer})
    def post(self, request):
        org = get_acting_organization(request)
        if not org.is_supplier:
            raise exceptions.PermissionDenied(SUPPLIERS_ONLY)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = dict(data.validated_data)
        if part_id := d.pop("part", None):
            part = Part.objects.filter(pk=part_id).first()
            if part is None:  # a bad reference in the body is a field error, not a missing URL
                raise serializers.ValidationError({"part": [f"Unknown part id {part_id}."]})
            for name in ("manufacturer", "mpn", "category", "description"):
                d.pop(name, None)
        else:
            part = part_get_or_create(manufacturer=d.pop("manufacturer"), mpn=d.pop("mpn"),
                                      category=d.pop("category"), description=d.pop("description"))
            d.pop("part", None)
        d["price_breaks"] = [(b["min_qty"], b["unit_price"]) for b in d["price_breaks"]]
        listing = listing_create(vendor=org, part=part, **d)
        return Response(listing_output(listing_list(viewer=org, vendor=org).get(pk=listing.pk)), status=status.HTTP_201_CREATED)


class ListingDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        stock = serializers.IntegerField(min_value=0, max_value=MAX_QTY, required=False)
        moq = serializers.IntegerField(min_value=1, max_value=MAX_QTY, required=False)
        multiple = serializers.IntegerField(min_value=1, max_value=MAX_QTY, required=False)
        lead_time_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
        currency = serializers.ChoiceField(choices=Currency.choices, required=False)
        condition = serializers.ChoiceField(choices=Listing.Condition.choices, required=False)
        date_code = serializers.CharField(required=False, max_length=20, allow_blank=True)
        location = serializers.CharField(required=False, max_length=100, allow_blank=True)
        is_active = serializers.BooleanField(required=False)
        price_breaks = BreakSerializer(many=True, allow_empty=False, required=False)

    @extend_schema(responses=ListingOutputSerializer)
    def get(self, request, pk: int):
        org = get_acting_organization(request, required=False)
        listing = listing_list(viewer=org, vendor=org).filter(pk=pk).first() if org else None
        listing = listing or get_object_or_404(listing_list(viewer=org), pk=pk)
        return Response(listing_output(listing))

    @extend_schema(request=InputSerializer, responses=ListingOutputSerializer)
    def patch(self, request, pk: int):
        """The vendor edits its own listing (another vendor's listing is a 404)."""
        org = get_acting_organization(request)
        listing = get_object_or_404(listing_list(viewer=org, vendor=org), pk=pk)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "price_breaks" in changes:
            changes["price_breaks"] = [(b["min_qty"], b["unit_price"]) for b in changes["price_breaks"]]
        listing_update(listing=listing, **changes)
        return Response(listing_output(listing_list(viewer=org, vendor=org).get(pk=pk)))


class StockListImportApi(APIView):
    parser_classes = UPLOAD_PARSERS

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()

    class OutputSerializer(serializers.Serializer):
        class RowErrorSerializer(serializers.Serializer):
            row = serializers.IntegerField()
            field = serializers.CharField()
            message = serializers.CharField()

        created = serializers.IntegerField()
        updated = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        dry_run = serializers.BooleanField()
        errors = RowErrorSerializer(many=True)

    MAX_BYTES = 10 * 1024 * 1024

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        parameters=[OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="1: report what would change, apply nothing")],
        responses={200: OutputSerializer, 400: OutputSerializer},
    )
    def post(self, request):
        """Upsert your stock list from CSV (columns: manufacturer, mpn, stock, moq, multiple,
        lead_time_days, currency, price_breaks like `1:0.50;500:0.40`). Any bad row: 400 with every
        error and nothing applied."""
        org = get_acting_organization(request)
        dry_run = request.query_params.get("dry_run", "").lower() in ("1", "true", "yes")

        def refused(errors: list[dict]) -> Response:
            # Every 400 has the documented import shape, whole-file problems as row 0.
            return Response({"created": 0, "updated": 0, "unchanged": 0, "dry_run": dry_run, "errors": errors},
                            status=status.HTTP_400_BAD_REQUEST)

        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return refused([{"row": 0, "field": field, "message": str(message)}
                            for field, messages in data.errors.items() for message in messages])
        upload = data.validated_data["file"]
        if upload.size > self.MAX_BYTES:
            return refused([{"row": 0, "field": "file", "message": "The file is larger than 10 MB; split it."}])
        try:
            result = stock_list_import(vendor=org, content=upload.read(), dry_run=dry_run)
        except StockListInvalid as exc:
            return refused(exc.errors)
        except DjangoValidationError as exc:  # e.g. the organisation is not a supplier
            return refused([{"row": 0, "field": field, "message": message}
                            for field, messages in validation_error_detail(exc).items() for message in messages])
        return Response(self.OutputSerializer(result.as_dict()).data)


class OrderTermsApi(APIView):
    """A supplier's order terms per purchase order. Anyone who may see the supplier reads them;
    only the supplier itself (acting as it) replaces them."""

    class InputSerializer(serializers.Serializer):
        currency = serializers.ChoiceField(choices=Currency.choices)
        shipping_fee = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))
        free_shipping_over = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"),
                                                      required=False, allow_null=True,
                                                      help_text="Subtotal from which shipping is free; null: never")
        min_order_value = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))

    class OutputSerializer(serializers.Serializer):
        organization = serializers.IntegerField(source="vendor_id")
        currency = serializers.CharField()
        shipping_fee = AmountField()
        free_shipping_over = AmountField(allow_null=True)
        min_order_value = AmountField()
        updated_at = serializers.DateTimeField(allow_null=True)

    def _terms(self, org: Organization):
        return getattr(org, "order_terms", None) or VendorOrderTerms(
            vendor=org, currency=org.default_currency, shipping_fee=Decimal(0), min_order_value=Decimal(0))

    @extend_schema(responses=OutputSerializer)
    def get(self, request, pk: int):
        qs = organization_visible_list(viewer=get_acting_organization(request, required=False),
                                       is_operator=request.user.is_staff).filter(is_supplier=True)
        return Response(self.OutputSerializer(self._terms(get_object_or_404(qs, pk=pk))).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def put(self, request, pk: int):
        org = get_acting_organization(request, role=Role.ADMIN)  # terms are an admin's, like credit terms
        if org.pk != pk:
            visible = organization_visible_list(viewer=org, is_operator=request.user.is_staff)
            get_object_or_404(visible, pk=pk)  # 404 for what the caller cannot see, 403 for the rest
            raise PermissionDenied("Only the supplier itself sets its order terms: act as it (X-Organization).")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        terms = order_terms_set(vendor=org, **{"free_shipping_over": None, **data.validated_data})
        return Response(self.OutputSerializer(terms).data)


# --- Kits and quotes -----------------------------------------------------------------------------


class KitOutputSerializer(serializers.Serializer):
    class BomLineSerializer(serializers.Serializer):
        part = serializers.IntegerField(source="part_id")
        manufacturer = serializers.CharField(source="part.manufacturer")
        mpn = serializers.CharField(source="part.mpn")
        quantity = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=True)
        designators = serializers.CharField()
        substitutes = serializers.SerializerMethodField()
        attrition = serializers.DecimalField(max_digits=5, decimal_places=4)

        def get_substitutes(self, line) -> list[int]:
            return sorted(p.pk for p in line.substitutes.all())

    class SubKitSerializer(serializers.Serializer):
        kit = serializers.IntegerField(source="child_id")
        name = serializers.CharField(source="child.name")
        revision = serializers.IntegerField(source="child.revision")
        quantity = serializers.IntegerField()

    class AssemblySerializer(serializers.Serializer):
        class CostBreakSerializer(serializers.Serializer):
            min_qty = serializers.IntegerField()
            unit_cost = AmountField()

        factory = serializers.IntegerField(source="assembly_factory_id")
        factory_name = serializers.CharField(source="assembly_factory.name")
        setup_cost = AmountField(source="assembly_setup_cost")
        unit_cost_breaks = CostBreakSerializer(many=True, source="assembly_breaks.all")

    id = serializers.IntegerField()
    owner = OrgRefSerializer()
    name = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    revision = serializers.IntegerField()
    family = serializers.IntegerField(source="family_id_or_self")
    is_current = serializers.BooleanField()
    frozen = serializers.BooleanField()
    currency = serializers.CharField()
    bom = BomLineSerializer(many=True, source="bom_lines.all")
    subkits = SubKitSerializer(many=True, source="subkits.all")
    assembly = serializers.SerializerMethodField()
    design_fee_per_unit = AmountField()
    nre = AmountField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(AssemblySerializer(allow_null=True))
    def get_assembly(self, kit) -> dict | None:
        return self.AssemblySerializer(kit).data if kit.assembly_factory_id else None


class KitInputSerializer(serializers.Serializer):
    class BomLineSerializer(WholeSerializer):
        part = id_field()
        quantity = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=Decimal("0.0001"))
        designators = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)
        substitutes = serializers.ListField(child=id_field(), required=False, default=list)
        attrition = serializers.DecimalField(max_digits=5, decimal_places=4, min_value=Decimal("0"),
                                             max_value=Decimal("0.9999"), default=Decimal("0"))

    class SubKitSerializer(WholeSerializer):
        kit = id_field()
        quantity = serializers.IntegerField(min_value=1, max_value=10_000, default=1)

    class AssemblySerializer(WholeSerializer):
        class CostBreakSerializer(serializers.Serializer):
            min_qty = serializers.IntegerField(min_value=1, max_value=MAX_QTY)
            unit_cost = serializers.DecimalField(max_digits=14, decimal_places=6, min_value=Decimal("0"))

        factory = id_field()
        setup_cost = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), default=Decimal("0"))
        unit_cost_breaks = CostBreakSerializer(many=True, allow_empty=False)

    name = serializers.CharField(max_length=200)
    category = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    description = serializers.CharField(required=False, default="", allow_blank=True)
    bom = BomLineSerializer(many=True, required=False, default=list, max_length=2000)
    subkits = SubKitSerializer(many=True, required=False, default=list, max_length=100)
    assembly = AssemblySerializer(required=False, allow_null=True, default=None)
    design_fee_per_unit = serializers.DecimalField(max_digits=14, decimal_places=6, min_value=Decimal("0"), default=Decimal("0"))
    nre = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), default=Decimal("0"))
    currency = serializers.ChoiceField(choices=Currency.choices, required=False)


def kit_spec_from_input(data: dict, *, viewer: Organization) -> dict:
    """Resolve ids in a validated kit body to objects; unknown ids are a 400 naming the line."""
    spec = dict(data)
    errors: dict[str, list[str]] = {}
    if "bom" in data:
        ids = {line["part"] for line in data["bom"]} | {s for line in data["bom"] for s in line["substitutes"]}
        parts = Part.objects.in_bulk(ids)
        missing = sorted(ids - set(parts))
        if missing:
            errors["bom"] = [f"Unknown part id(s): {missing}."]
        else:
            spec["bom"] = [{**line, "part": parts[line["part"]], "substitutes": [parts[s] for s in line["substitutes"]]}
                           for line in data["bom"]]
    if "subkits" in data:
        kits = {k.pk: k for k in kit_list(viewer=viewer, current_only=False).filter(pk__in=[s["kit"] for s in data["subkits"]])}
        missing = sorted({s["kit"] for s in data["subkits"]} - set(kits))
        if missing:
            errors["subkits"] = [f"Unknown kit id(s): {missing}."]
        else:
            spec["subkits"] = [{"kit": kits[s["kit"]], "quantity": s["quantity"]} for s in data["subkits"]]
    if data.get("assembly"):
        factory = organization_visible_list(viewer=viewer).filter(pk=data["assembly"]["factory"]).first()
        if factory is None:
            errors["assembly"] = [f"Unknown factory {data['assembly']['factory']}."]
        else:
            spec["assembly"] = {**data["assembly"], "factory": factory,
                                "unit_cost_breaks": [(b["min_qty"], b["unit_cost"]) for b in data["assembly"]["unit_cost_breaks"]]}
    if errors:
        raise KitInvalid(errors)
    return spec


class KitListCreateApi(APIView):
    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True)
        category = serializers.CharField(required=False, allow_blank=True)
        owner = id_field(required=False)

    @extend_schema(parameters=[FilterSerializer], responses=KitOutputSerializer(many=True))
    def get(self, request):
        """Current revisions of kits from verified solution houses (and your own)."""
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        qs = kit_list(viewer=get_acting_organization(request, required=False), q=f.get("q"),
                      category=f.get("category"), owner_id=f.get("owner"))
        return paginated_response(self, request, qs, lambda page: KitOutputSerializer(page, many=True).data)

    @extend_schema(request=KitInputSerializer, responses={201: KitOutputSerializer})
    def post(self, request):
        org = get_acting_organization(request)
        if not org.is_solution_house:  # who may publish, before what they sent: a 403 like any permission
            raise exceptions.PermissionDenied("Only solution houses publish kits; a buyer prices its own BOM instead (POST /api/v1/boms/).")
        data = KitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kit = kit_create(owner=org, **kit_spec_from_input(data.validated_data, viewer=org))
        return Response(KitOutputSerializer(kit_get(viewer=org, pk=kit.pk)).data, status=status.HTTP_201_CREATED)


class KitDetailApi(APIView):
    @extend_schema(responses=KitOutputSerializer)
    def get(self, request, pk: int):
        kit = kit_get(viewer=get_acting_organization(request, required=False), pk=pk)
        if kit is None:
            raise Http404
        return Response(KitOutputSerializer(kit).data)

    @extend_schema(request=KitInputSerializer(partial=True), responses=KitOutputSerializer)
    def patch(self, request, pk: int):
        """The owner edits its kit. A revision already used by a quote, order or trial is frozen:
        the edit makes a new revision, which is returned (with its own id)."""
        org = get_acting_organization(request)
        kit = kit_list(viewer=org, current_only=False).filter(pk=pk, owner=org).first()
        if kit is None:
            raise Http404
        data = KitInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changed = kit_update(kit=kit, **kit_spec_from_input(data.validated_data, viewer=org))
        return Response(KitOutputSerializer(kit_get(viewer=org, pk=changed.pk)).data)


class QuoteOutputSerializer(serializers.Serializer):
    class LineSerializer(serializers.Serializer):
        class AllocationSerializer(serializers.Serializer):
            listing = serializers.IntegerField(source="listing_id")
            vendor = serializers.IntegerField(source="vendor_id")
            vendor_name = serializers.CharField(source="vendor.name")
            part = serializers.IntegerField(source="part_id", help_text="The part bought: the BOM part or a substitute")
            mpn = serializers.CharField(source="part.mpn")
            quantity = serializers.IntegerField()
            unit_price = AmountField()
            extended_price = AmountField()

        part = serializers.IntegerField(source="part_id")
        mpn = serializers.CharField(source="part.mpn")
        manufacturer = serializers.CharField(source="part.manufacturer")
        needed_qty = serializers.IntegerField()
        allocations = AllocationSerializer(many=True, source="allocations.all")
        cost = AmountField()
        shortfall = serializers.IntegerField()

    class ShortageSerializer(serializers.Serializer):
        part = serializers.IntegerField()
        mpn = serializers.CharField()
        shortfall = serializers.IntegerField()

    class VendorSerializer(serializers.Serializer):
        vendor = serializers.IntegerField(source="vendor_id")
        name = serializers.CharField(source="vendor.name")
        subtotal = AmountField()
        shipping = AmountField()
        lead_time_days = serializers.IntegerField()

    class OptionsSerializer(serializers.Serializer):
        max_vendors = serializers.IntegerField(allow_null=True)
        allow_substitutes = serializers.BooleanField(allow_null=True)
        max_lead_time_days = serializers.IntegerField(allow_null=True)
        exclude_vendors = serializers.ListField(child=serializers.IntegerField())
        currency = serializers.CharField(allow_null=True)
    class FxSerializer(serializers.Serializer):
        rates = serializers.DictField(child=serializers.CharField(), help_text=(
            "1 unit of each other currency = this many of the quote's currency (decimal strings)"))
        rate_ids = serializers.DictField(child=serializers.IntegerField(allow_null=True), help_text="The FxRate rows used")
        as_of = serializers.CharField(allow_blank=True, help_text="When the rates were read (ISO 8601)")
        valid_from = serializers.DictField(child=serializers.CharField(), help_text=(
            "Since when each rate used was in force (ISO 8601), by currency"))
        left_out = serializers.ListField(child=serializers.CharField(), help_text=(
            "Currencies of live offers for these parts that were left out: no rate into the quote's currency"))

    class UnsourcedSerializer(serializers.Serializer):
        line = serializers.IntegerField(help_text="The BOM line")
        mpn = serializers.CharField(allow_blank=True)
        quantity = serializers.IntegerField(help_text="Needed for the whole batch")

    id = serializers.IntegerField()
    kit = serializers.IntegerField(source="kit_id")
    kit_name = serializers.CharField(source="kit.name")
    kit_revision = serializers.IntegerField(source="kit.revision")
    quantity = serializers.IntegerField()
    currency = serializers.CharField()
    valid_until = serializers.DateTimeField()
    lines = LineSerializer(many=True, source="lines.all")
    components_cost = AmountField()
    assembly_cost = AmountField()
    design_fees = AmountField()
    nre = AmountField()
    total = AmountField()
    unit_cost = AmountField()
    lead_time_days = serializers.IntegerField()
    shortages = serializers.SerializerMethodField()
    vendors = VendorSerializer(many=True, source="vendors.all", help_text="One purchase order each, as an order will place it")
    shipping_cost = AmountField()
    optimality_gap = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=True,
                                              help_text="(total − proven lower bound) ÷ total of the sourcing; 0 = optimal")
    options = OptionsSerializer(help_text="The sourcing options the quote was made with")
    fx = serializers.SerializerMethodField(help_text="The exchange-rate snapshot the quote priced offers in other currencies at")
    unsourced = UnsourcedSerializer(many=True, help_text="BOM quotes: lines with no matched part (empty for kits)")
    created_at = serializers.DateTimeField()

    @extend_schema_field(FxSerializer)
    def get_fx(self, quote) -> dict:
        return self.fx_output(quote.fx)

    @staticmethod
    def fx_output(fx: dict | None) -> dict:
        fx = fx or {}
        return {"rates": fx.get("rates") or {}, "rate_ids": fx.get("rate_ids") or {}, "as_of": fx.get("as_of", ""),
                "valid_from": fx.get("valid_from") or {}, "left_out": fx.get("left_out") or []}

    @extend_schema_field(ShortageSerializer(many=True))
    def get_shortages(self, quote) -> list[dict]:
        return [{"part": line.part_id, "mpn": line.part.mpn, "shortfall": line.shortfall}
                for line in quote.lines.all() if line.shortfall]


class QuoteOptionsInputSerializer(serializers.Serializer):
    """Checked for shape here; the rules (ranges, currency) are the service's, as 400s too."""

    max_vendors = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=200)
    allow_substitutes = serializers.BooleanField(required=False, allow_null=True,
                                                 help_text="null (default): only where the BOM lists substitutes")
    max_lead_time_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=3650)
    exclude_vendors = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=500)
    currency = serializers.CharField(required=False, allow_null=True, max_length=3,
                                     help_text="The quote's currency (default: the kit's); offers in other currencies "
                                               "are converted at the rates in force, recorded in the quote's `fx`")

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(f"Unknown option(s): {', '.join(map(str, unknown))}.")
        return super().to_internal_value(data)


class KitQuoteApi(APIView):
    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=1, max_value=10_000_000)
        options = QuoteOptionsInputSerializer(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: QuoteOutputSerializer})
    def post(self, request, pk: int):
        """Price the kit at a batch size from the live listings and save the quote (valid 7 days)."""
        org = get_acting_organization(request)
        kit = kit_get(viewer=org, pk=pk, with_bom=False)  # the quote reads the tree itself
        if kit is None:
            raise Http404
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quote = quote_create(organization=org, kit=kit, quantity=data.validated_data["quantity"], created_by=request.user,
                             options=data.validated_data.get("options"))
        return Response(QuoteOutputSerializer(quote_list(organization=org).get(pk=quote.pk)).data,
                        status=status.HTTP_201_CREATED)


class QuoteListApi(APIView):
    @extend_schema(responses=QuoteOutputSerializer(many=True))
    def get(self, request):
        org = get_acting_organization(request)
        return paginated_response(self, request, quote_list(organization=org).order_by("-created_at", "-id"),
                         lambda page: QuoteOutputSerializer(page, many=True).data)


class QuoteDetailApi(APIView):
    @extend_schema(responses=QuoteOutputSerializer)
    def get(self, request, pk: int):
        org = get_acting_organization(request)
        return Response(QuoteOutputSerializer(get_object_or_404(quote_list(organization=org), pk=pk)).data)


# --- Orders -------------------------------------------------------------------------------------


class PurchaseOrderOutputSerializer(serializers.Serializer):
    class LineSerializer(serializers.Serializer):
        listing = serializers.IntegerField(source="listing_id", allow_null=True)
        description = serializers.CharField()
        quantity = serializers.IntegerField()
        unit_price = AmountField()
        extended_price = AmountField()

    id = serializers.IntegerField()
    order = serializers.IntegerField(source="order_id")
    buyer = OrgRefSerializer(source="order.buyer")
    vendor = OrgRefSerializer()
    status = serializers.CharField()
    total = AmountField()
    currency = serializers.CharField()
    payment = serializers.CharField(source="order.payment")
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancelled_by_supplier = serializers.BooleanField(allow_null=True)
    lines = LineSerializer(many=True, source="lines.all")


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    buyer = OrgRefSerializer()
    quote = serializers.IntegerField(source="quote_id", allow_null=True)
    payment = serializers.CharField()
    currency = serializers.CharField()
    status = serializers.CharField()
    total = AmountField()
    fx = serializers.SerializerMethodField(help_text="An order from a quote: the quote's exchange-rate snapshot "
                                                     "(empty rates when everything was in one currency)")
    created_at = serializers.DateTimeField()
    purchase_orders = PurchaseOrderOutputSerializer(many=True, source="visible_purchase_orders")

    @extend_schema_field(QuoteOutputSerializer.FxSerializer)
    def get_fx(self, order) -> dict:
        return QuoteOutputSerializer.fx_output(order.fx)


def orders_output(orders: list[Order], viewer: Organization) -> list[dict]:
    """A vendor sees only its own purchase orders of someone else's order."""
    for order in orders:
        pos = list(order.purchase_orders.all())
        if order.buyer_id != viewer.pk:
            pos = [po for po in pos if po.vendor_id == viewer.pk]
        for po in pos:
            po.order = order  # avoid a query per PO for order.buyer / order.payment
        order.visible_purchase_orders = pos
    return OrderOutputSerializer(orders, many=True).data


def order_output(order: Order, viewer: Organization) -> dict:
    return orders_output([order], viewer)[0]


class OrderListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            listing = id_field()
            quantity = serializers.IntegerField(min_value=1, max_value=100_000_000)

        quote = id_field(required=False)
        lines = LineSerializer(many=True, required=False, allow_empty=False, max_length=500)
        payment = serializers.ChoiceField(choices=Order.Payment.choices)
        partial = serializers.BooleanField(default=False, help_text="A short quote: order what is available and "
                                           "send the rest to an RFQ in the same step (the response adds `rfq`)")
        rfq_closes_at = serializers.DateTimeField(required=False, help_text="With `partial`: when that RFQ closes")

        def validate(self, attrs):
            if ("quote" in attrs) == ("lines" in attrs):
                raise serializers.ValidationError("Give either `quote` or `lines`.")
            if attrs["partial"] and "quote" not in attrs:
                raise serializers.ValidationError({"partial": ["A partial order is made from a quote."]})
            return attrs

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=OrderStatus.values)],
                   responses=OrderOutputSerializer(many=True))
    def get(self, request):
        """Orders you placed, and orders containing your purchase orders as vendor."""
        org = get_acting_organization(request)
        order_status = request.query_params.get("status")
        if order_status is not None and order_status not in OrderStatus.values:
            raise serializers.ValidationError({"status": [f"Use one of: {', '.join(OrderStatus.values)}."]})
        return paginated_response(self, request, order_list(organization=org, status=order_status),
                         lambda page: orders_output(page, org))

    @extend_schema(
        request=InputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: OrderOutputSerializer},
    )
    def post(self, request):
        """Place an order from a quote or from listing lines; stock is reserved and payment opened
        (`deposit` or `credit`). Send an `Idempotency-Key` to make retries safe."""
        org = get_acting_organization(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data

        def execute():
            kwargs = {}
            if "quote" in d:
                kwargs["quote"] = get_object_or_404(quote_list(organization=org), pk=d["quote"])
                if d["partial"]:
                    from marketplace.services.rfqs import order_place_partial

                    order, rfq = order_place_partial(buyer=org, placed_by=request.user, payment=d["payment"],
                                                     quote=kwargs["quote"], rfq_closes_at=d.get("rfq_closes_at"))
                    return status.HTTP_201_CREATED, {**order_output(order_list(organization=org).get(pk=order.pk), org),
                                                     "rfq": rfq.pk}
            else:
                ids = [x["listing"] for x in d["lines"]]
                visible = {l.pk: l for l in listing_list(viewer=org).filter(pk__in=ids)}
                visible.update({l.pk: l for l in awarded_listing_list(buyer=org).filter(pk__in=ids)})
                missing = sorted({x["listing"] for x in d["lines"]} - set(visible))
                if missing:
                    raise OrderInvalid({"lines": [f"Unknown listing id(s): {missing}."]})
                kwargs["lines"] = [(visible[x["listing"]], x["quantity"]) for x in d["lines"]]
            order = order_place(buyer=org, placed_by=request.user, payment=d["payment"], **kwargs)
            return status.HTTP_201_CREATED, order_output(order_list(organization=org).get(pk=order.pk), org)

        return idempotent_response(request, scope=f"org:{org.pk}", execute=execute)


class OrderDetailApi(APIView):
    @extend_schema(responses=OrderOutputSerializer)
    def get(self, request, pk: int):
        org = get_acting_organization(request)
        return Response(order_output(get_object_or_404(order_list(organization=org), pk=pk), org))


class OrderStepApi(APIView):
    """`confirm` and `ship` by the vendor (its purchase orders in the order), `deliver` by the buyer
    (shipped POs), `cancel` by the buyer (before confirmation) or the vendor (before shipping).
    A step out of turn is a 409, the other party's step a 403; an order you are not party to is a 404."""

    @extend_schema(request=None, responses=OrderOutputSerializer, operation_id="v1_orders_step",
                   parameters=[OpenApiParameter("step", str, OpenApiParameter.PATH, enum=list(STEPS))])
    def post(self, request, pk: int, step: str):
        org = get_acting_organization(request)
        if step not in STEPS:
            raise Http404
        order = get_object_or_404(order_list(organization=org), pk=pk)
        try:
            order_step(order=order, actor=org, step=step)
        except NotAParty:
            raise Http404 from None
        return Response(order_output(order_list(organization=org).get(pk=pk), org))


class PurchaseOrderListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("role", str, enum=["vendor", "buyer", "any"]), OpenApiParameter("status", str)],
        responses=PurchaseOrderOutputSerializer(many=True),
    )
    def get(self, request):
        """Purchase orders you are party to; `role=vendor` for incoming ones."""
        org = get_acting_organization(request)
        qs = purchase_order_list(organization=org, role=request.query_params.get("role", "any"),
                                 status=request.query_params.get("status"))
        return paginated_response(self, request, qs, lambda page: PurchaseOrderOutputSerializer(page, many=True).data)


class PurchaseOrderStepApi(APIView):
    """One purchase order's lifecycle step (see OrderStepApi for who may take which)."""

    @extend_schema(request=None, responses=PurchaseOrderOutputSerializer, operation_id="v1_purchase_orders_step",
                   parameters=[OpenApiParameter("step", str, OpenApiParameter.PATH, enum=list(STEPS))])
    def post(self, request, pk: int, step: str):
        org = get_acting_organization(request)
        if step not in STEPS:
            raise Http404
        po = get_object_or_404(purchase_order_list(organization=org), pk=pk)
        STEPS[step](purchase_order=po, actor=org)
        return Response(PurchaseOrderOutputSerializer(purchase_order_list(organization=org).get(pk=pk)).data)


class PurchaseOrderDisputeApi(APIView):
    """Either party disputes a shipped or delivered purchase order: what is still held stays held
    (delivery, default and cancellation are refused) until an operator resolves the dispute
    (`POST /api/v1/disputes/{id}/resolve/`)."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=1000)

    @extend_schema(request=InputSerializer, responses={201: DisputeOutputSerializer, 400: OpenApiTypes.OBJECT,
                                                       403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT,
                                                       409: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        org = get_acting_organization(request)
        po = get_object_or_404(purchase_order_list(organization=org), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = purchase_order_dispute(purchase_order=po, actor=org, reason=data.validated_data["reason"], user=request.user)
        return Response(DisputeOutputSerializer(dispute_list(organization=org).get(pk=dispute.pk)).data, status=201)
