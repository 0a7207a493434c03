"""Fulfilment endpoints: shipments of a purchase order (partial, tracked, lot-coded), receiving
them, tracing a lot to the buyers who received it, and re-sourcing an expired purchase order."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import paginated_response
from credit.idempotency_api import IDEMPOTENCY_PARAMETER, idempotent_response
from organizations.access import get_acting_organization
from marketplace.api import AmountField, OrderOutputSerializer, OrgRefSerializer, id_field, order_output
from marketplace.selectors import order_list, purchase_order_list
from marketplace.selectors.orders import lot_trace, resource_offer, shipment_list
from marketplace.services.orders import purchase_order_resource, shipment_create, shipment_receive

ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT}
LOT_PATTERN = r"[^/]{1,60}"


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
                   responses={201: ShipmentOutputSerializer, **ERRORS}, operation_id="v1_purchase_orders_shipments_create")
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

    @extend_schema(request=InputSerializer, responses={200: ShipmentOutputSerializer, **ERRORS},
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

    @extend_schema(request=None, parameters=[IDEMPOTENCY_PARAMETER], responses={201: OrderOutputSerializer, **ERRORS},
                   operation_id="v1_purchase_orders_resource")
    def post(self, request, pk: int):
        org = get_acting_organization(request)
        po = get_object_or_404(purchase_order_list(organization=org, role="buyer"), pk=pk)

        def execute():
            order = purchase_order_resource(purchase_order=po, buyer=org, placed_by=request.user)
            return status.HTTP_201_CREATED, order_output(order_list(organization=org).get(pk=order.pk), org)

        return idempotent_response(request, scope=f"org:{org.pk}", execute=execute)
