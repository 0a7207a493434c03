"""REST endpoints of orders and purchase orders: place, follow, step, dispute; shipments of a
purchase order (partial, tracked, lot-coded), receiving them, tracing a lot to the buyers who
received it, and re-sourcing a purchase order its vendor let expire."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import paginated_response
from credit.api import CurrencyCodeField, DisputeOutputSerializer
from credit.idempotency_api import IDEMPOTENCY_PARAMETER, idempotent_response
from credit.selectors import dispute_list
from marketplace.catalogue.selectors import listing_list
from marketplace.catalogue.serializers import AmountField, OrgRefSerializer, id_field
from marketplace.exceptions import NotAParty, OrderInvalid
from marketplace.orders.models import Order, OrderStatus, PurchaseOrder
from marketplace.orders.selectors import lot_trace, order_list, purchase_order_list, resource_offer, shipment_list
from marketplace.orders.services import (
    STEPS,
    order_complete,
    order_place,
    order_remainder_quote,
    order_step,
    purchase_order_dispute,
    purchase_order_resource,
    shipment_create,
    shipment_receive,
)
from marketplace.rfqs.services import order_place_partial
from marketplace.sourcing.api import QuoteOptionsInputSerializer, QuoteOutputSerializer
from marketplace.sourcing.offers import awarded_listing_list
from marketplace.sourcing.selectors import quote_list
from organizations.access import get_acting_organization
from organizations.models import Organization


class ShipmentOutputSerializer(serializers.Serializer):
    class LineSerializer(serializers.Serializer):
        listing = serializers.IntegerField(source="listing_id", allow_null=True)
        po_line = serializers.IntegerField(source="po_line_id")
        quantity = serializers.IntegerField()
        lot = serializers.CharField()
        date_code = serializers.CharField()
        received_quantity = serializers.IntegerField()

    id = serializers.IntegerField()
    purchase_order = serializers.IntegerField(source="purchase_order_id")
    number = serializers.IntegerField()
    carrier = serializers.CharField()
    tracking = serializers.CharField()
    simulated = serializers.BooleanField(help_text="Shipped by the simulated counterparty of a demo stall")
    created_at = serializers.DateTimeField(help_text="When it shipped")
    received_at = serializers.DateTimeField(allow_null=True, help_text="When its last unit was received")
    lines = LineSerializer(many=True, source="lines.all")


class PurchaseOrderOutputSerializer(serializers.Serializer):
    class LineSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        listing = serializers.IntegerField(source="listing_id", allow_null=True)
        description = serializers.CharField()
        quantity = serializers.IntegerField()
        unit_price = AmountField()
        extended_price = AmountField()
        shipped_quantity = serializers.IntegerField()
        received_quantity = serializers.IntegerField()

    id = serializers.IntegerField()
    order = serializers.IntegerField(source="order_id")
    buyer = OrgRefSerializer(source="order.buyer")
    vendor = OrgRefSerializer()
    status = serializers.CharField()
    total = AmountField()
    currency = serializers.CharField()
    platform_fee = AmountField(help_text="The platform's take on this purchase order, fixed when it was placed; paid "
                                         "out of the releases to the vendor.")
    payment = serializers.CharField(source="order.payment")
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancelled_by_supplier = serializers.BooleanField(allow_null=True)
    cancel_reason = serializers.ChoiceField(choices=["", *PurchaseOrder.CancelReason.values])
    confirm_by = serializers.DateTimeField(allow_null=True, help_text="Unconfirmed by then, the market cancels it")
    ship_by = serializers.DateTimeField(allow_null=True, help_text="The promised ship date (set again on confirmation)")
    late_days = serializers.IntegerField(help_text="Days after ship_by its last unit shipped")
    late_credit = AmountField(help_text="The vendor's late credit to the buyer, posted when the order settles")
    ship_to = OrgRefSerializer(allow_null=True, help_text="Where the vendor ships: null for the buyer, or the "
                                                         "factory that assembles the order (consigned parts).")
    assembly_brief = serializers.JSONField(help_text=(
        "On the assembling factory's purchase order: kit, boards, placements_per_board, placements, "
        "unique_parts, rate_card and the consigned parts coming to it ({vendor, vendor_name, "
        "purchase_order, part, quantity}); empty otherwise."))
    lines = LineSerializer(many=True, source="lines.all")
    shipments = ShipmentOutputSerializer(many=True, source="shipments.all")


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
        payment = serializers.ChoiceField(choices=Order.Payment.choices, help_text=(
            "`demand_credit`: the reorder of a trial judged scale, on the credit its demand earned "
            "(GET /trials/{id}/financing/); give `trial`, order from a quote of the trial's kit"))
        trial = id_field(required=False, help_text="With `demand_credit`: the trial whose demand finances the order")
        partial = serializers.BooleanField(default=False, help_text="A short quote: order what is available and "
                                           "send the rest to an RFQ in the same step (the response adds `rfq`)")
        rfq_closes_at = serializers.DateTimeField(required=False, help_text="With `partial`: when that RFQ closes")
        fund_currency = CurrencyCodeField(
            required=False,
            help_text="Pay a `deposit` order from this currency's wallet: each payment (the deposit now, the balance on "
                      "delivery) is converted at the rate in force by an FX entry just before it (the quote's payment "
                      "preview shows the conversion).")

        def validate(self, attrs):
            if ("quote" in attrs) == ("lines" in attrs):
                raise serializers.ValidationError("Give either `quote` or `lines`.")
            if attrs["partial"] and "quote" not in attrs:
                raise serializers.ValidationError({"partial": ["A partial order is made from a quote."]})
            if (attrs["payment"] == Order.Payment.DEMAND_CREDIT) != ("trial" in attrs):
                raise serializers.ValidationError({"trial": [
                    "Give `trial` with `demand_credit` payment, and only then."]})
            if attrs["payment"] == Order.Payment.DEMAND_CREDIT and ("quote" not in attrs or attrs["partial"]):
                raise serializers.ValidationError({"quote": ["Order the trial's reorder as a whole, from a quote of its kit."]})
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
        (`deposit`, `credit`, or `demand_credit` with `trial`: a demand line pays every vendor, no
        wallet cash needed). Send an `Idempotency-Key` to make retries safe."""
        org = get_acting_organization(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data

        def execute():
            kwargs = {}
            if "quote" in d:
                kwargs["quote"] = get_object_or_404(quote_list(organization=org), pk=d["quote"])
                if d["partial"]:
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
            order = order_place(buyer=org, placed_by=request.user, payment=d["payment"],
                                fund_currency=d.get("fund_currency"), financing=d.get("trial"), **kwargs)
            return status.HTTP_201_CREATED, order_output(order_list(organization=org).get(pk=order.pk), org)

        return idempotent_response(request, scope=f"org:{org.pk}", execute=execute)


class OrderDetailApi(APIView):
    @extend_schema(responses=OrderOutputSerializer)
    def get(self, request, pk: int):
        org = get_acting_organization(request)
        return Response(order_output(get_object_or_404(order_list(organization=org), pk=pk), org))


class OrderRemainderQuoteApi(APIView):
    class InputSerializer(serializers.Serializer):
        options = QuoteOptionsInputSerializer(required=False, allow_null=True,
                                              help_text="Sourcing options (default: the order's quote's)")

    @extend_schema(request=InputSerializer, responses={201: QuoteOutputSerializer})
    def post(self, request, pk: int):
        """A quote for the rest of an order placed from a quote: per part, what the quote needed minus
        what this order (and orders from its earlier remainder quotes) bought and did not cancel,
        sourced from the market and your awarded RFQ offers; parts only (the order paid assembly,
        fees and NRE). `remainder_of` on the quote names the order. 400 if nothing is missing."""
        org = get_acting_organization(request)
        order = get_object_or_404(order_list(organization=org).filter(buyer=org), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quote = order_remainder_quote(order=order, buyer=org, created_by=request.user,
                                      options=data.validated_data.get("options"))
        return Response(QuoteOutputSerializer(quote_list(organization=org).get(pk=quote.pk)).data,
                        status=status.HTTP_201_CREATED)


class OrderCompleteApi(APIView):
    class InputSerializer(serializers.Serializer):
        payment = serializers.ChoiceField(choices=Order.Payment.choices)
        options = QuoteOptionsInputSerializer(required=False, allow_null=True,
                                              help_text="Sourcing options (default: the order's quote's)")

    @extend_schema(request=InputSerializer, parameters=[IDEMPOTENCY_PARAMETER], responses={201: OrderOutputSerializer})
    def post(self, request, pk: int):
        """Complete an order in one step: quote its remainder (typically from the RFQ award for the
        parts it lacked, and the market) and order that quote. 400 and nothing kept if the remainder
        still cannot be fully sourced. The response is the new order; its `quote` has `remainder_of`."""
        org = get_acting_organization(request)
        order = get_object_or_404(order_list(organization=org).filter(buyer=org), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def execute():
            placed = order_complete(order=order, buyer=org, placed_by=request.user, payment=data.validated_data["payment"],
                                    options=data.validated_data.get("options"))
            return status.HTTP_201_CREATED, order_output(order_list(organization=org).get(pk=placed.pk), org)

        return idempotent_response(request, scope=f"org:{org.pk}", execute=execute)


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


# --- Shipments, lots, re-sourcing -------------------------------------------------------------

STEP_ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT}


class PurchaseOrderShipmentListCreateApi(APIView):
    """The shipments of a purchase order. The vendor ships some or all of what is left to ship
    (several times: the order is `partly_shipped` until its last unit has gone); more than ordered
    is a 400 that changes nothing, a shipment on an order that is not confirmed (or is cancelled)
    a 409, the buyer's attempt a 403."""

    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            listing = id_field()
            quantity = serializers.IntegerField(min_value=1, max_value=100_000_000)
            lot = serializers.CharField(max_length=60, required=False, default="", allow_blank=True,
                                        help_text="The lot (batch) the units came from; traced by GET /lots/{lot}/trace/")
            date_code = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)

        lines = LineSerializer(many=True, allow_empty=False, max_length=500)
        carrier = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
        tracking = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)

    @extend_schema(responses={200: ShipmentOutputSerializer(many=True), 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
                   operation_id="v1_purchase_orders_shipments_list")
    def get(self, request, pk: int):
        org = get_acting_organization(request)
        po = get_object_or_404(purchase_order_list(organization=org), pk=pk)
        return paginated_response(self, request, shipment_list(purchase_order=po),
                                  lambda page: ShipmentOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={201: ShipmentOutputSerializer, **STEP_ERRORS}, operation_id="v1_purchase_orders_shipments_create")
    def post(self, request, pk: int):
        org = get_acting_organization(request)
        po = get_object_or_404(purchase_order_list(organization=org), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data

        def execute():
            shipment = shipment_create(purchase_order=po, actor=org, lines=[dict(line) for line in d["lines"]],
                                       carrier=d["carrier"], tracking=d["tracking"], user=request.user)
            return status.HTTP_201_CREATED, ShipmentOutputSerializer(shipment_list(purchase_order=po).get(pk=shipment.pk)).data

        return idempotent_response(request, scope=f"org:{org.pk}", execute=execute)


class ShipmentReceiveApi(APIView):
    """The buyer receives a shipment: all of it (no body, or no `lines`), or some units of it.
    The purchase order is delivered, and its payment settles, when its last unit is received."""

    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            listing = id_field()
            quantity = serializers.IntegerField(min_value=1, max_value=100_000_000)

        lines = LineSerializer(many=True, required=False, allow_empty=False, max_length=500)

    @extend_schema(request=InputSerializer, responses={200: ShipmentOutputSerializer, **STEP_ERRORS},
                   operation_id="v1_purchase_orders_shipments_receive")
    def post(self, request, pk: int, shipment_id: int):
        org = get_acting_organization(request)
        po = get_object_or_404(purchase_order_list(organization=org), pk=pk)
        shipment = get_object_or_404(shipment_list(purchase_order=po), pk=shipment_id)
        data = self.InputSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        lines = data.validated_data.get("lines")
        shipment_receive(purchase_order=po, actor=org, shipment=shipment,
                         lines=[dict(line) for line in lines] if lines is not None else None)
        return Response(ShipmentOutputSerializer(shipment_list(purchase_order=po).get(pk=shipment.pk)).data)


class LotTraceApi(APIView):
    """Who received which units of a lot: the shipping supplier sees its own lot (acting as
    itself), operators any supplier's; another supplier's lot is a 404, like a lot never shipped."""

    class OutputSerializer(serializers.Serializer):
        class ReceiptSerializer(serializers.Serializer):
            buyer = OrgRefSerializer()
            order = serializers.IntegerField()
            purchase_order = serializers.IntegerField()
            shipment = serializers.IntegerField()
            shipment_number = serializers.IntegerField()
            shipped_at = serializers.DateTimeField()
            carrier = serializers.CharField()
            tracking = serializers.CharField()
            listing = serializers.IntegerField(allow_null=True)
            part = serializers.CharField()
            date_code = serializers.CharField()
            quantity = serializers.IntegerField(help_text="Units of the lot shipped to this buyer")
            received_quantity = serializers.IntegerField()

        lot = serializers.CharField()
        suppliers = OrgRefSerializer(many=True)
        units_shipped = serializers.IntegerField()
        units_received = serializers.IntegerField()
        buyers = OrgRefSerializer(many=True)
        receipts = ReceiptSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
                   operation_id="v1_lots_trace")
    def get(self, request, lot: str):
        operator = request.user.is_staff
        org = get_acting_organization(request, required=not operator)
        rows = list(lot_trace(lot=lot, vendor=None if operator and org is None else org))
        if not rows or not lot.strip():
            raise Http404(f"No shipment of lot {lot!r} by you.")
        buyers, suppliers = {}, {}
        receipts = []
        for row in rows:
            po = row.shipment.purchase_order
            buyers[po.order.buyer_id] = po.order.buyer
            suppliers[row.vendor_id] = row.vendor
            receipts.append({
                "buyer": po.order.buyer, "order": po.order_id, "purchase_order": po.pk, "shipment": row.shipment_id,
                "shipment_number": row.shipment.number, "shipped_at": row.shipment.created_at,
                "carrier": row.shipment.carrier, "tracking": row.shipment.tracking, "listing": row.listing_id,
                "part": str(row.listing.part) if row.listing_id else "", "date_code": row.date_code,
                "quantity": row.quantity, "received_quantity": row.received_quantity,
            })
        return Response(self.OutputSerializer({
            "lot": lot, "suppliers": list(suppliers.values()), "buyers": list(buyers.values()), "receipts": receipts,
            "units_shipped": sum(r.quantity for r in rows), "units_received": sum(r.received_quantity for r in rows),
        }).data)


class PurchaseOrderResourceApi(APIView):
    """A cancelled purchase order's goods again, without its vendor: GET shows the offer (the
    allocation engine over the other live listings), POST places it as a new order in one click
    (paid like the original order)."""

    class OfferSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            listing = serializers.IntegerField()
            vendor = serializers.IntegerField()
            part = serializers.IntegerField()
            description = serializers.CharField()
            quantity = serializers.IntegerField()
            unit_price = AmountField()
            replaces_line = serializers.IntegerField()

        class ShortSerializer(serializers.Serializer):
            part = serializers.IntegerField()
            description = serializers.CharField()
            shortfall = serializers.IntegerField()

        purchase_order = serializers.IntegerField()
        excluded_vendor = serializers.IntegerField()
        currency = serializers.CharField()
        lines = LineSerializer(many=True)
        short = ShortSerializer(many=True)

    @extend_schema(responses={200: OfferSerializer, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
                   operation_id="v1_purchase_orders_resource_offer")
    def get(self, request, pk: int):
        org = get_acting_organization(request)
        po = get_object_or_404(purchase_order_list(organization=org, role="buyer"), pk=pk)
        return Response(self.OfferSerializer(resource_offer(purchase_order=po)).data)

    @extend_schema(request=None, parameters=[IDEMPOTENCY_PARAMETER], responses={201: OrderOutputSerializer, **STEP_ERRORS},
                   operation_id="v1_purchase_orders_resource")
    def post(self, request, pk: int):
        org = get_acting_organization(request)
        po = get_object_or_404(purchase_order_list(organization=org, role="buyer"), pk=pk)

        def execute():
            order = purchase_order_resource(purchase_order=po, buyer=org, placed_by=request.user)
            return status.HTTP_201_CREATED, order_output(order_list(organization=org).get(pk=order.pk), org)

        return idempotent_response(request, scope=f"org:{org.pk}", execute=execute)
