"""REST endpoints for RFQs, bids, awards, supplier capabilities, the inbox and market webhooks
(one APIView per operation). Who sees what is decided in marketplace/rfqs/selectors.py."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import WholeSerializer, paginated_response
from marketplace.catalogue.models import Currency
from marketplace.catalogue.serializers import (
    MAX_QTY,
    AmountField,
    BreakSerializer,
    OrgRefSerializer,
    id_field,
)
from marketplace.directory.api import FulfilmentSerializer
from marketplace.exceptions import NotAVerifiedSupplier, RfqInvalid
from marketplace.factories.models import PROCESSES
from marketplace.factories.profiles import supplier_profile_update
from marketplace.factories.selectors import supplier_profile_get
from marketplace.kits.selectors import kit_get
from marketplace.notifications.models import MarketWebhookEndpoint
from marketplace.notifications.selectors import notification_list
from marketplace.notifications.services import (
    market_webhook_create,
    market_webhook_delete,
    notifications_mark_read,
)
from marketplace.rfqs.models import Rfq
from marketplace.rfqs.selectors import (
    bid_list_for_supplier,
    bidder_standing,
    bids_visible,
    can_bid,
    rfq_board,
    rfq_list_for_buyer,
    rfq_visible_list,
)
from marketplace.rfqs.services import (
    bid_submit,
    rfq_award,
    rfq_cancel,
    rfq_close,
    rfq_create,
    rfq_create_assembly,
    rfq_create_from_quote,
)
from marketplace.sourcing.selectors import quote_list
from organizations.access import get_acting_organization
from organizations.models import Organization, Role
from organizations.selectors import organization_visible_list

# --- Output --------------------------------------------------------------------------------------


class RfqLineOutputSerializer(serializers.Serializer):
    line = serializers.IntegerField(source="pk")
    part = serializers.IntegerField(source="part_id", allow_null=True)
    manufacturer = serializers.CharField()
    mpn = serializers.CharField()
    category = serializers.CharField(source="category_key")
    quantity = serializers.IntegerField()
    target_unit_price = AmountField(allow_null=True)
    needed_by = serializers.DateField(allow_null=True)


class BidOutputSerializer(serializers.Serializer):
    class LineSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        line = serializers.IntegerField(source="line_id")
        quantity_available = serializers.IntegerField()
        moq = serializers.IntegerField()
        multiple = serializers.IntegerField()
        lead_time_days = serializers.IntegerField()
        price_breaks = BreakSerializer(many=True, source="price_breaks.all")
        awarded_listing = serializers.IntegerField(source="awarded_listing_id", allow_null=True,
                                                   help_text="The private listing the award made (order it by this id)")

    class StandingSerializer(serializers.Serializer):
        class CreditLineSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            currency = serializers.CharField()
            limit = AmountField()
            available = AmountField(allow_null=True)
            terms_days = serializers.IntegerField()
            status = serializers.CharField()

        class TrustSerializer(serializers.Serializer):
            score = serializers.IntegerField(help_text="0-100, from the credit app")
            reasons = serializers.ListField(child=serializers.CharField())

        fulfilment = FulfilmentSerializer()
        credit_line = CreditLineSerializer(allow_null=True, help_text="The credit this bidder extends to you, if any")
        trust = TrustSerializer(allow_null=True, help_text="The bidder's trust score; private to credit-line counterparties, "
                                                           "so null unless you and the bidder share a credit line")

    id = serializers.IntegerField()
    rfq = serializers.IntegerField(source="rfq_id")
    supplier = OrgRefSerializer()
    valid_until = serializers.DateTimeField()
    setup_cost = AmountField()
    note = serializers.CharField()
    revision = serializers.IntegerField()
    awarded = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    lines = LineSerializer(many=True, source="lines.all")
    standing = StandingSerializer(required=False, help_text="Buyer only: the bidder's record and the credit it gives you")

    def get_awarded(self, bid) -> bool:
        return bid.awarded_at is not None


class RfqOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    buyer = OrgRefSerializer()
    currency = serializers.CharField()
    status = serializers.CharField()
    closes_at = serializers.DateTimeField()
    max_bids = serializers.IntegerField(allow_null=True)
    needed_by = serializers.DateField(allow_null=True)
    source_quote = serializers.IntegerField(source="source_quote_id", allow_null=True)
    source_order = serializers.IntegerField(source="source_order_id", allow_null=True)
    kit = serializers.IntegerField(source="kit_id", allow_null=True)
    quantity = serializers.IntegerField(allow_null=True, help_text="Assembly RFQs: the batch")
    processes = serializers.ListField(child=serializers.CharField(), source="needed_processes")
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    awarded_at = serializers.DateTimeField(allow_null=True)
    lines = RfqLineOutputSerializer(many=True, source="lines.all")


class RfqDetailOutputSerializer(RfqOutputSerializer):
    """One RFQ with the bids the viewer may see (filled in by `rfq_detail_output`, never read from
    the RFQ's own relation, which holds every bidder's bid)."""

    bids = BidOutputSerializer(many=True, read_only=True, default=list,
                               help_text="The buyer sees every bid, a supplier only its own")


def rfqs_output(rfqs: list[Rfq]) -> list[dict]:
    return RfqOutputSerializer(rfqs, many=True).data


def bids_output(bids: list, *, viewer: Organization, rfq: Rfq) -> list[dict]:
    out = BidOutputSerializer(bids, many=True).data
    if rfq.buyer_id == viewer.pk and bids:
        standing = bidder_standing(buyer=viewer, suppliers=[b.supplier for b in bids], currency=rfq.currency)
        for bid, data in zip(bids, out):
            s = standing[bid.supplier_id]
            data["standing"] = BidOutputSerializer.StandingSerializer(
                {"fulfilment": s.fulfilment, "credit_line": s.credit_line, "trust": s.trust}).data
    return out


def rfq_detail_output(rfq: Rfq, viewer: Organization) -> dict:
    data = RfqOutputSerializer(rfq).data
    data["bids"] = bids_output(list(bids_visible(rfq=rfq, viewer=viewer)), viewer=viewer, rfq=rfq)
    return data


def _visible_rfq(request, pk: int) -> tuple[Rfq, Organization]:
    org = get_acting_organization(request)
    rfq = rfq_visible_list(viewer=org).filter(pk=pk).first()
    if rfq is None:
        if org.is_supplier and not org.verified:  # for any id, so the answer says nothing about which exist
            raise NotAVerifiedSupplier("Only verified suppliers see RFQs; ask an operator to verify your organisation.")
        raise Http404
    return rfq, org


# --- RFQs ----------------------------------------------------------------------------------------


class RfqListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class LineSerializer(WholeSerializer):
            manufacturer = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
            mpn = serializers.CharField(max_length=100)
            quantity = serializers.IntegerField(min_value=1, max_value=MAX_QTY)
            target_unit_price = AmountField(required=False, allow_null=True, min_value=0)
            needed_by = serializers.DateField(required=False, allow_null=True)
            category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                             help_text="Routes a part the catalogue does not know yet")

        title = serializers.CharField(max_length=200, required=False)
        currency = serializers.ChoiceField(choices=Currency.choices, default="CNY")
        closes_at = serializers.DateTimeField(required=False, help_text="Default for from_quote: in 3 days")
        max_bids = serializers.IntegerField(min_value=1, max_value=1000, required=False, allow_null=True)
        needed_by = serializers.DateField(required=False, allow_null=True)
        lines = LineSerializer(many=True, required=False, allow_empty=False, max_length=200)
        from_quote = id_field(required=False, help_text="Ask for this quote's shortfalls and unsourced lines")
        kit = id_field(required=False, help_text="Assembly RFQ: the kit to assemble…")
        quantity = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False, help_text="…at this batch")
        processes = serializers.ListField(child=serializers.ChoiceField(choices=PROCESSES), required=False, default=list)

        def validate(self, attrs):
            given = [k for k in ("lines", "from_quote", "kit") if k in attrs]
            if len(given) != 1:
                raise serializers.ValidationError("Give exactly one of `lines`, `from_quote` or `kit` (with `quantity`).")
            if "kit" in attrs and "quantity" not in attrs:
                raise serializers.ValidationError({"quantity": ["An assembly RFQ needs the batch size."]})
            if given[0] != "from_quote":
                for field in ("title", "closes_at"):
                    if field not in attrs and not (field == "title" and "kit" in attrs):
                        raise serializers.ValidationError({field: ["This field is required."]})
            return attrs

    @extend_schema(
        parameters=[OpenApiParameter("role", str, enum=["buyer", "supplier"]), OpenApiParameter("status", str),
                    OpenApiParameter("q", str), OpenApiParameter("kind", str, enum=Rfq.Kind.values),
                    OpenApiParameter("category", str)],
        responses=RfqOutputSerializer(many=True),
    )
    def get(self, request):
        """`role=buyer` (default for buyers): your RFQs. `role=supplier`: the board, the open RFQs
        that fit your catalogue, declared categories or capabilities, newest first (verified
        suppliers only)."""
        org = get_acting_organization(request)
        params = request.query_params
        role = params.get("role") or ("supplier" if org.is_supplier and not org.is_buyer else "buyer")
        if role == "supplier":
            if not can_bid(org):
                raise NotAVerifiedSupplier("Only verified suppliers see the RFQ board; ask an operator to verify you.")
            qs = rfq_board(supplier=org, q=params.get("q"), kind=params.get("kind"), category=params.get("category"))
        else:
            qs = rfq_list_for_buyer(buyer=org, status=params.get("status"))
        return paginated_response(self, request, qs, rfqs_output)

    @extend_schema(request=InputSerializer, responses={201: RfqDetailOutputSerializer})
    def post(self, request):
        """Ask the market: part lines written by hand, a quote's shortfalls (`from_quote`), or an
        assembly job (`kit`, `quantity`, `processes`). Fitting suppliers are notified."""
        org = get_acting_organization(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        if "from_quote" in d:
            quote = get_object_or_404(quote_list(organization=org), pk=d["from_quote"])
            rfq = rfq_create_from_quote(quote=quote, buyer=org, created_by=request.user, closes_at=d.get("closes_at"),
                                        title=d.get("title"), max_bids=d.get("max_bids"))
        elif "kit" in d:
            kit = kit_get(viewer=org, pk=d["kit"])
            if kit is None:
                raise RfqInvalid({"kit": [f"Unknown kit {d['kit']}."]})
            rfq = rfq_create_assembly(buyer=org, created_by=request.user, kit=kit, quantity=d["quantity"],
                                      closes_at=d["closes_at"], processes=d["processes"], title=d.get("title"),
                                      max_bids=d.get("max_bids"), needed_by=d.get("needed_by"))
        else:
            rfq = rfq_create(buyer=org, created_by=request.user, title=d["title"], currency=d["currency"],
                             closes_at=d["closes_at"], max_bids=d.get("max_bids"), needed_by=d.get("needed_by"),
                             lines=[dict(line) for line in d["lines"]])
        return Response(rfq_detail_output(rfq_list_for_buyer(buyer=org).get(pk=rfq.pk), org), status=status.HTTP_201_CREATED)


class RfqDetailApi(APIView):
    @extend_schema(responses=RfqDetailOutputSerializer)
    def get(self, request, pk: int):
        """The RFQ with the bids you may see: all of them (buyer, with each bidder's fulfilment record
        and the credit it gives you), or your own (supplier)."""
        rfq, org = _visible_rfq(request, pk)
        return Response(rfq_detail_output(rfq, org))


class RfqBidApi(APIView):
    class InputSerializer(serializers.Serializer):
        class LineSerializer(WholeSerializer):
            line = id_field()
            quantity_available = serializers.IntegerField(min_value=1, max_value=MAX_QTY)
            moq = serializers.IntegerField(min_value=1, max_value=MAX_QTY, default=1)
            multiple = serializers.IntegerField(min_value=1, max_value=MAX_QTY, default=1)
            lead_time_days = serializers.IntegerField(min_value=0, max_value=3650, default=0)
            price_breaks = BreakSerializer(many=True, allow_empty=False, max_length=50)

        valid_until = serializers.DateTimeField()
        setup_cost = AmountField(required=False, default=0, min_value=0, max_value=999_999_999_999,
                                 help_text="Assembly bids: one-time setup")
        note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
        lines = LineSerializer(many=True, allow_empty=False, max_length=200)

    @extend_schema(responses=BidOutputSerializer(many=True))
    def get(self, request, pk: int):
        """Bids on this RFQ you may see: all (buyer) or your own (supplier)."""
        rfq, org = _visible_rfq(request, pk)
        return paginated_response(self, request, list(bids_visible(rfq=rfq, viewer=org)),
                                  lambda page: bids_output(page, viewer=org, rfq=rfq))

    @extend_schema(request=InputSerializer, responses={201: BidOutputSerializer, 200: BidOutputSerializer})
    def post(self, request, pk: int):
        """Bid (201), or revise your bid (200, `revision` + 1) while the RFQ is open. 403 unless you
        are a verified supplier; 409 once it closed; 400 for a line of another RFQ or prices that
        rise with quantity."""
        org = get_acting_organization(request)
        if not can_bid(org):
            raise NotAVerifiedSupplier("Only verified suppliers can bid; ask an operator to verify your organisation.")
        rfq, org = _visible_rfq(request, pk)
        if rfq.buyer_id == org.pk:
            raise NotAVerifiedSupplier("You cannot bid on your own RFQ.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        lines = [{**line, "price_breaks": [(b["min_qty"], b["unit_price"]) for b in line["price_breaks"]]} for line in d["lines"]]
        bid, created = bid_submit(rfq=rfq, supplier=org, submitted_by=request.user, valid_until=d["valid_until"],
                                  lines=lines, setup_cost=d["setup_cost"], note=d["note"])
        bid = bids_visible(rfq=rfq, viewer=org).get(pk=bid.pk)
        return Response(bids_output([bid], viewer=org, rfq=rfq)[0], status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class RfqAwardApi(APIView):
    class InputSerializer(serializers.Serializer):
        bids = serializers.ListField(child=id_field(), allow_empty=False, max_length=100)

    @extend_schema(request=InputSerializer, responses=RfqDetailOutputSerializer)
    def post(self, request, pk: int):
        """Award whole bids: their lines become offers only your quotes use until each bid's
        `valid_until` (an assembly bid becomes the kit's assembly for you). Re-quote the kit to
        source them with the rest, or order the awarded listings directly."""
        org = get_acting_organization(request)
        rfq = get_object_or_404(rfq_list_for_buyer(buyer=org), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rfq_award(rfq=rfq, buyer=org, bid_ids=data.validated_data["bids"])
        return Response(rfq_detail_output(rfq_list_for_buyer(buyer=org).get(pk=pk), org))


class RfqStepApi(APIView):
    STEPS = {"close": rfq_close, "cancel": rfq_cancel}

    @extend_schema(request=None, responses=RfqDetailOutputSerializer, operation_id="v1_rfqs_step",
                   parameters=[OpenApiParameter("step", str, OpenApiParameter.PATH, enum=["close", "cancel"])])
    def post(self, request, pk: int, step: str):
        """The buyer closes bidding early (`close`) or withdraws the RFQ (`cancel`)."""
        org = get_acting_organization(request)
        if step not in self.STEPS:
            raise Http404
        rfq = get_object_or_404(rfq_list_for_buyer(buyer=org), pk=pk)
        self.STEPS[step](rfq=rfq)
        return Response(rfq_detail_output(rfq_list_for_buyer(buyer=org).get(pk=pk), org))


class MyBidListApi(APIView):
    @extend_schema(responses=BidOutputSerializer(many=True))
    def get(self, request):
        """Your bids as a supplier, most recently changed first."""
        org = get_acting_organization(request)
        return paginated_response(self, request, bid_list_for_supplier(supplier=org),
                                  lambda page: BidOutputSerializer(page, many=True).data)


# --- Capabilities --------------------------------------------------------------------------------


class CapabilitiesSerializer(serializers.Serializer):
    categories = serializers.ListField(child=serializers.CharField(max_length=100), max_length=50, required=False)
    processes = serializers.ListField(child=serializers.ChoiceField(choices=PROCESSES), required=False)
    min_batch = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False)
    max_batch = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False, allow_null=True)
    weekly_capacity = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)
    lead_time_days = serializers.IntegerField(min_value=0, max_value=365, required=False)


def capabilities_output(profile) -> dict:
    if profile is None:
        return {"categories": [], "processes": [], "min_batch": 1, "max_batch": None, "weekly_capacity": 0, "lead_time_days": 0}
    return {"categories": profile.categories, "processes": profile.processes, "min_batch": profile.min_batch,
            "max_batch": profile.max_batch, "weekly_capacity": profile.weekly_capacity, "lead_time_days": profile.lead_time_days}


class CapabilitiesApi(APIView):
    required_roles = {"PUT": Role.ADMIN}

    @extend_schema(responses=CapabilitiesSerializer)
    def get(self, request, pk: int):
        """A supplier's declared categories and (factories) processes, batch range, weekly capacity
        and lead time: public, like the rest of its profile."""
        org = get_object_or_404(organization_visible_list(viewer=get_acting_organization(request, required=False),
                                                          is_operator=request.user.is_staff), pk=pk)
        return Response(capabilities_output(supplier_profile_get(organization=org)))

    @extend_schema(request=CapabilitiesSerializer, responses=CapabilitiesSerializer)
    def put(self, request, pk: int):
        """Admins of the supplier declare what RFQs should reach it (only the fields sent change)."""
        org = get_acting_organization(request, role=Role.ADMIN)
        if org.pk != pk:
            raise Http404
        data = CapabilitiesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "processes" in fields:
            declared = set(fields.pop("processes"))
            fields.update({p: p in declared for p in PROCESSES})
        return Response(capabilities_output(supplier_profile_update(organization=org, **fields)))


# --- Inbox and webhooks --------------------------------------------------------------------------


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    rfq = serializers.IntegerField(source="rfq_id", allow_null=True)
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    read = serializers.SerializerMethodField()

    def get_read(self, n) -> bool:
        return n.read_at is not None


class NotificationListApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("unread", bool)], responses=NotificationOutputSerializer(many=True))
    def get(self, request):
        """Your organisation's inbox: new RFQs that fit you, new bids, awards, closings."""
        qs = notification_list(organization=get_acting_organization(request))
        if request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return paginated_response(self, request, qs, lambda page: NotificationOutputSerializer(page, many=True).data)


class NotificationReadApi(APIView):
    class InputSerializer(serializers.Serializer):
        ids = serializers.ListField(child=id_field(), required=False, max_length=500, help_text="Default: all")

    @extend_schema(request=InputSerializer, responses=inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField()}))
    def post(self, request):
        org = get_acting_organization(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notifications_mark_read(organization=org, ids=data.validated_data.get("ids"))
        return Response({"marked": marked})


class MarketWebhookOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    secret = serializers.CharField(help_text="Verify X-Kitstreet-Signature with it (HMAC-SHA256 of '<t>.' + body).")
    events = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_events(self, _) -> list[str]:
        return list(MarketWebhookEndpoint.EVENTS)


class MarketWebhookListCreateApi(APIView):
    required_roles = {"POST": Role.ADMIN}

    class InputSerializer(serializers.Serializer):
        url = serializers.URLField(max_length=500)

    @extend_schema(responses=MarketWebhookOutputSerializer(many=True))
    def get(self, request):
        org = get_acting_organization(request, role=Role.ADMIN)
        qs = MarketWebhookEndpoint.objects.filter(organization=org, is_active=True).order_by("-created_at", "-id")
        return paginated_response(self, request, qs, lambda page: MarketWebhookOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: MarketWebhookOutputSerializer})
    def post(self, request):
        """Admins register a URL for `rfq.created` (RFQs that fit you, and your own), `bid.received`
        (bids on your RFQs) and `rfq.awarded`, signed like the trial webhooks."""
        org = get_acting_organization(request, role=Role.ADMIN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = market_webhook_create(organization=org, url=data.validated_data["url"])
        return Response(MarketWebhookOutputSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class MarketWebhookDeleteApi(APIView):
    required_roles = {"DELETE": Role.ADMIN}

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        org = get_acting_organization(request, role=Role.ADMIN)
        endpoint = get_object_or_404(MarketWebhookEndpoint.objects.filter(organization=org, is_active=True), pk=pk)
        market_webhook_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)
