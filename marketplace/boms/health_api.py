"""REST endpoints for a BOM's health, its suggested alternates, approving one, and watching it."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.boms.api import BomLineOutputSerializer, _owned_bom, bom_line_output
from marketplace.boms.health import bom_alternates, bom_health
from marketplace.boms.selectors import bom_line_rows
from marketplace.boms.watch import bom_alternate_approve, bom_watch
from marketplace.catalogue.models import Part
from marketplace.exceptions import BomLineInvalid

BATCH = OpenApiParameter("quantity", int, description="Batch size (boards) to judge the lines at; default 1")
MONEY = dict(max_digits=20, decimal_places=6)


class BatchSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(required=False, default=1, min_value=1, max_value=10_000_000)


class LineHealthSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    part = serializers.IntegerField()
    need = serializers.IntegerField(help_text="Pieces the batch needs")
    stock = serializers.IntegerField(help_text="Pieces on the market, all vendors")
    vendors = serializers.IntegerField(help_text="Vendors holding any stock")
    vendors_able_to_fill = serializers.IntegerField(help_text="Vendors who can fill the need alone")
    lead_time_days = serializers.IntegerField(allow_null=True)
    unit_price = serializers.DecimalField(allow_null=True, **MONEY)
    price_move = serializers.DecimalField(max_digits=9, decimal_places=3, allow_null=True,
                                          help_text="Cheapest first-break price move over 90 days (0.25 = +25 %)")
    lifecycle = serializers.CharField()
    risk = serializers.IntegerField(help_text="0 (fine) to 100")
    reasons = serializers.ListField(child=serializers.CharField())


class BomHealthSerializer(serializers.Serializer):
    bom = serializers.IntegerField()
    quantity = serializers.IntegerField()
    currency = serializers.CharField()
    score = serializers.IntegerField(help_text="100 − (worst line risk + mean line risk) ÷ 2; unmatched lines count 100")
    lines = LineHealthSerializer(many=True)
    unmatched_lines = serializers.ListField(child=serializers.IntegerField())


class AlternateSerializer(serializers.Serializer):
    part = serializers.IntegerField()
    manufacturer = serializers.CharField()
    mpn = serializers.CharField()
    unit_price = serializers.DecimalField(**MONEY)
    vendors = serializers.IntegerField()
    stock = serializers.IntegerField()
    saves = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True,
                                     help_text="What the batch saves against the line's part (negative: costs more)")


class LineAlternatesSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    why = serializers.ChoiceField(choices=["unmatched", "short", "end of life"])
    need = serializers.IntegerField()
    wants = serializers.CharField(help_text="What an alternate must meet")
    currency = serializers.CharField()
    current_unit_price = serializers.DecimalField(allow_null=True, **MONEY)
    alternates = AlternateSerializer(many=True)


class BomHealthApi(APIView):
    @extend_schema(parameters=[BATCH], responses=BomHealthSerializer)
    def get(self, request, pk: int):
        """Each matched line's risk at the batch (lifecycle, vendors able to fill it, stock ÷ need,
        one-vendor concentration, lead time, price moves) and the BOM's score."""
        bom = _owned_bom(request, pk)
        batch = BatchSerializer(data=request.query_params)
        batch.is_valid(raise_exception=True)
        return Response(BomHealthSerializer(bom_health(bom=bom, quantity=batch.validated_data["quantity"])).data)


class BomAlternatesApi(APIView):
    @extend_schema(parameters=[BATCH], responses=LineAlternatesSerializer(many=True))
    def get(self, request, pk: int):
        """Alternates for unmatched, short or end-of-life lines, priced at the batch, cheapest first."""
        bom = _owned_bom(request, pk)
        batch = BatchSerializer(data=request.query_params)
        batch.is_valid(raise_exception=True)
        rows = bom_alternates(bom=bom, quantity=batch.validated_data["quantity"])
        return Response(LineAlternatesSerializer(rows, many=True).data)


class BomAlternateApproveApi(APIView):
    class InputSerializer(BatchSerializer):
        part = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="A suggested alternate's part id")

    @extend_schema(request=InputSerializer, responses=BomLineOutputSerializer)
    def post(self, request, pk: int, line: int):
        """Approve a suggested alternate: it becomes the line's part, and the approval is kept."""
        bom = _owned_bom(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not bom.items.filter(line=line).exists():
            raise Http404
        part = Part.objects.filter(pk=data.validated_data["part"]).first()
        if part is None:
            raise BomLineInvalid({"part": [f"Unknown part id: {data.validated_data['part']}."]})
        bom_alternate_approve(bom=bom, line=line, part=part, quantity=data.validated_data["quantity"])
        return Response(bom_line_output(bom_line_rows(bom=bom, line=line)[0]))


class BomWatchApi(APIView):
    class InputSerializer(serializers.Serializer):
        watched = serializers.BooleanField()
        quantity = serializers.IntegerField(required=False, min_value=1, max_value=10_000_000,
                                            help_text="The batch (boards) to check the lines at")

    class OutputSerializer(serializers.Serializer):
        watched = serializers.BooleanField()
        quantity = serializers.IntegerField(source="watch_quantity")

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def put(self, request, pk: int):
        """Watch the BOM: when a listing change makes a line unfillable at the batch or its price
        rises by a quarter or more, the owner gets an inbox item and a `bom.line_at_risk` webhook."""
        bom = _owned_bom(request, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bom = bom_watch(bom=bom, watched=data.validated_data["watched"], quantity=data.validated_data.get("quantity"))
        return Response(self.OutputSerializer(bom).data)
