"""REST endpoints of the catalogue: parts, search and facets, listings, stock-list import, order terms."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import paginated_response, validation_error_detail
from config.parsers import UPLOAD_PARSERS
from marketplace.catalogue.listings import (
    listing_create,
    listing_update,
    part_get_or_create,
    stock_list_import,
)
from marketplace.catalogue.imports import stock_list_import_list, stock_list_import_start
from marketplace.catalogue.models import Currency, Listing, Part, StockListImport, VendorOrderTerms
from marketplace.catalogue.search.filters import search_filters
from marketplace.catalogue.search.pricing import DisplayCurrency
from marketplace.catalogue.search.results import offer_search, search_facets
from marketplace.catalogue.selectors import LISTING_ORDERINGS, listing_list, part_list
from marketplace.catalogue.serializers import (
    MAX_QTY,
    AmountField,
    BreakSerializer,
    ListingOutputSerializer,
    PartOutputSerializer,
    id_field,
    listing_output,
    offers_output,
    part_output,
)
from marketplace.catalogue.terms import order_terms_set
from marketplace.exceptions import StockListInvalid
from organizations.access import get_acting_organization
from organizations.models import Organization, Role
from organizations.selectors import organization_visible_list


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


def display_currency_field() -> serializers.ChoiceField:
    """`currency=`: the buyer's display currency (the platform's by default); unknown → a clear 400."""
    return serializers.ChoiceField(
        choices=Currency.choices, required=False, default=settings.KITSTREET_DEFAULT_CURRENCY,
        error_messages={"invalid_choice": "Unknown currency “{input}”: prices are compared and shown in one of "
                                          + ", ".join(Currency.values) + "."},
        help_text="The display currency: price orderings compare every offer converted into it at today's rate "
                  "(`converted` in each row); offers whose currency has no rate into it sort last")


class SearchFilterSerializer(serializers.Serializer):
    """The search's query parameters, shared by the flat listing search and the grouped parts search.
    A text filter left empty (`?category=`, as a search form sends it) is no filter."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="Words (synonyms count: cap = capacitor = MLCC) or MPNs")
    mpn = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="MPN prefix, dashes and case ignored")
    category = serializers.CharField(required=False, allow_blank=True, max_length=100)
    manufacturer = serializers.CharField(required=False, allow_blank=True, max_length=100)
    vendor = id_field(required=False)
    currency = display_currency_field()
    listing_currency = serializers.ChoiceField(choices=Currency.choices, required=False,
                                               help_text="Only listings priced in this currency")
    in_stock = serializers.BooleanField(required=False, default=False, help_text="With qty: stock covers the order quantity")
    max_lead_time_days = serializers.IntegerField(required=False, min_value=0, max_value=3650)
    qty = serializers.IntegerField(required=False, min_value=1, max_value=100_000_000)
    ordering = serializers.ChoiceField(choices=list(LISTING_ORDERINGS), required=False)
    parameters = serializers.CharField(required=False, allow_blank=True, max_length=400, help_text=(
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
                             vendor_id=f.get("vendor"), currency=f.get("listing_currency"), in_stock=f["in_stock"],
                             max_lead_time_days=f.get("max_lead_time_days"), parameters=f.get("parameters", ""))
    return f, filters


class FilterReportSerializer(serializers.Serializer):
    filter = serializers.CharField(help_text="As typed, e.g. capacitance>=banana")
    reason = serializers.CharField(help_text="Why it was not applied, in words")


def filter_report(filters) -> dict:
    """What the search applied of `parameters`, and what it could not read (not applied: the results
    are not narrowed by it), so a client can tell the person."""
    return {"parameters_applied": filters.applied_parameters,
            "parameters_not_understood": [{"filter": u.text, "reason": u.reason} for u in filters.unread]}


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
                        exact_count=f["exact_count"], group=group, display=DisplayCurrency(f["currency"]))
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

    estimated = serializers.BooleanField(help_text="Broad search: every count is scaled from a page sample of the matching parts (else exact)")
    category = ValueCount(many=True, help_text="Parts per category")
    manufacturer = ValueCount(many=True, help_text="Parts per manufacturer")
    in_stock = InStock()
    lead_time = LeadTime(many=True, help_text="Offers with a lead time of at most max_days")
    parameters = Parameter(many=True, help_text="The category's parameters (with a category, or when one matches)")


class PartGroupOutputSerializer(serializers.Serializer):
    part = PartOutputSerializer()
    best_offer = ListingOutputSerializer(help_text="With qty: the cheapest matching offer that can fill the quantity from "
                                                   "stock (the cheapest offer when none can); without qty: the cheapest")
    cheaper_offer = ListingOutputSerializer(allow_null=True, help_text="A cheaper offer that cannot fill the quantity (too "
                                                                       "little stock), listed after the best; null when none")
    offers = serializers.IntegerField(help_text="Matching offers of this part")
    total_stock = serializers.IntegerField()
    shortest_lead_time_days = serializers.IntegerField()
    fillable_offers = serializers.IntegerField(allow_null=True, help_text="With qty: offers whose stock covers it")


def part_groups_output(groups, qty: int | None) -> list[dict]:
    """`PartGroupOutputSerializer` rows, built directly (`offers_output`, `part_output`)."""
    best = offers_output([g.best for g in groups], qty)
    cheaper = iter(offers_output([g.cheaper for g in groups if g.cheaper is not None], qty))
    return [{"part": part_output(g.part), "best_offer": offer, "cheaper_offer": next(cheaper) if g.cheaper is not None else None,
             "offers": g.offers, "total_stock": g.total_stock,
             "shortest_lead_time_days": g.shortest_lead_time_days, "fillable_offers": g.fillable_offers}
            for g, offer in zip(groups, best)]


class PartSearchApi(APIView):
    @extend_schema(
        parameters=[SearchFilterSerializer, OpenApiParameter("facets", OpenApiTypes.BOOL, description="1: add facets")],
        responses=inline_serializer("PartSearchPage", {
            "count": serializers.IntegerField(help_text="Parts"), "count_is_estimate": serializers.BooleanField(),
            "next": serializers.URLField(allow_null=True), "previous": serializers.URLField(allow_null=True),
            "results": PartGroupOutputSerializer(many=True),
            "fuzzy": serializers.BooleanField(help_text="Nothing matched the MPN typed: these are the closest MPNs"),
            "suggestions": serializers.ListField(child=serializers.CharField()),
            "parameters_applied": serializers.ListField(child=serializers.CharField(), help_text="e.g. capacitance ≥ 10 µF"),
            "parameters_not_understood": FilterReportSerializer(many=True, help_text="Filters not applied, with the reason"),
            "facets": FacetsOutputSerializer(required=False),
        }),
    )
    def get(self, request):
        """Search parts, grouped: one row per part with its best offer at the quantity, its number of
        matching offers, total stock and shortest lead time. Same filters and orderings as
        `GET /listings/`; the part's offers are at `GET /parts/{id}/?qty=`."""
        f, filters, page = run_search(request, group=True)
        extra = {"fuzzy": page.fuzzy, "suggestions": [p.mpn for p in page.suggestions], **filter_report(filters)}
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
        f, filters, page = run_search(request, group=False)
        return search_page_response(request, f, page, offers_output(page.rows, f.get("qty")), **filter_report(filters))

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


class StockListImportJobSerializer(serializers.Serializer):
    """A stock-list import job: queued, running (with progress), done or failed."""

    class RowErrorSerializer(serializers.Serializer):
        row = serializers.IntegerField()
        field = serializers.CharField()
        message = serializers.CharField()

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=StockListImport.Status.choices)
    filename = serializers.CharField()
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    percent = serializers.IntegerField(min_value=0, max_value=100)
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)
    status_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_status_url(self, obj) -> str:
        path = reverse("api:listing-import-detail-api", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


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
        import_id = serializers.IntegerField(required=False, help_text="The import job (absent on a dry run).")

    MAX_BYTES = 10 * 1024 * 1024

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        parameters=[OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="1: report what would change, apply nothing")],
        responses={200: OutputSerializer, 202: StockListImportJobSerializer, 400: OutputSerializer},
    )
    def post(self, request):
        """Upsert your stock list from CSV or XLSX (columns: manufacturer, mpn, stock, moq, multiple,
        lead_time_days, currency, price_breaks like `1:0.50;500:0.40`). Any bad row: 400 with every
        error and nothing applied. Up to `STOCK_LIST_SYNC_MAX_ROWS` rows (20,000) it is applied
        now (200); a larger file is applied by a worker: 202 with the job and its `status_url`
        (`GET /api/v1/listings/import/{id}/`, with progress)."""
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
            if dry_run:
                return Response(self.OutputSerializer(stock_list_import(vendor=org, content=upload.read(), dry_run=True).as_dict()).data)
            job = stock_list_import_start(vendor=org, user=request.user, content=upload.read(), filename=upload.name or "")
        except StockListInvalid as exc:
            return refused(exc.errors)
        except DjangoValidationError as exc:  # e.g. the organisation is not a supplier
            return refused([{"row": 0, "field": field, "message": message}
                            for field, messages in validation_error_detail(exc).items() for message in messages])
        if job.status == StockListImport.Status.FAILED:
            return refused(job.errors)
        if job.status != StockListImport.Status.DONE:
            return Response(StockListImportJobSerializer(job, context={"request": request}).data,
                            status=status.HTTP_202_ACCEPTED, headers={"Location": reverse("api:listing-import-detail-api", args=[job.pk])})
        return Response(self.OutputSerializer({"created": job.created, "updated": job.updated, "unchanged": job.unchanged,
                                               "dry_run": False, "errors": [], "import_id": job.pk}).data)


class StockListImportDetailApi(APIView):
    @extend_schema(responses=StockListImportJobSerializer)
    def get(self, request, pk: int):
        """One of your stock-list imports: status, rows done of all, and the counts once done
        (404 for another organisation's)."""
        org = get_acting_organization(request)
        job = get_object_or_404(stock_list_import_list(vendor=org), pk=pk)
        return Response(StockListImportJobSerializer(job, context={"request": request}).data)


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
        confirm_within_hours = serializers.IntegerField(min_value=1, max_value=720, default=48,
                                                        help_text="Confirm each purchase order within this many hours")
        ship_within_days = serializers.IntegerField(min_value=1, max_value=365, required=False, allow_null=True,
                                                    help_text="Ship within this many days of confirmation; null: "
                                                              "the listing's lead time")
        late_credit_percent_per_day = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=Decimal("0"),
                                                               max_value=Decimal("100"), default=Decimal("0"))
        late_credit_cap_percent = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=Decimal("0"),
                                                           max_value=Decimal("100"), default=Decimal("0"))

    class OutputSerializer(serializers.Serializer):
        organization = serializers.IntegerField(source="vendor_id")
        currency = serializers.CharField()
        shipping_fee = AmountField()
        free_shipping_over = AmountField(allow_null=True)
        min_order_value = AmountField()
        confirm_within_hours = serializers.IntegerField()
        ship_within_days = serializers.IntegerField(allow_null=True)
        late_credit_percent_per_day = serializers.DecimalField(max_digits=5, decimal_places=2)
        late_credit_cap_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
        updated_at = serializers.DateTimeField(allow_null=True)

    def _terms(self, org: Organization):
        return getattr(org, "order_terms", None) or VendorOrderTerms(
            vendor=org, currency=org.default_currency, shipping_fee=Decimal(0), min_order_value=Decimal(0),
            late_credit_percent_per_day=Decimal(0), late_credit_cap_percent=Decimal(0))

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
        terms = order_terms_set(vendor=org, **{"free_shipping_over": None, "ship_within_days": None, **data.validated_data})
        return Response(self.OutputSerializer(terms).data)
