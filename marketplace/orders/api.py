"""REST endpoints of orders and purchase orders: place, follow, step, dispute."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import paginated_response
from credit.api import DisputeOutputSerializer
from credit.idempotency_api import IDEMPOTENCY_PARAMETER, idempotent_response
from credit.selectors import dispute_list
from marketplace.catalogue.selectors import listing_list
from marketplace.catalogue.serializers import AmountField, OrgRefSerializer, id_field
from marketplace.exceptions import NotAParty, OrderInvalid
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.selectors import order_list, purchase_order_list
from marketplace.orders.services import (
    STEPS,
    order_complete,
    order_place,
    order_remainder_quote,
    order_step,
    purchase_order_dispute,
)
from marketplace.rfqs.services import order_place_partial
from marketplace.sourcing.api import QuoteOptionsInputSerializer, QuoteOutputSerializer
from marketplace.sourcing.offers import awarded_listing_list
from marketplace.sourcing.selectors import quote_list
from organizations.access import get_acting_organization
from organizations.models import Organization


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
