"""REST endpoints of quotes: source a kit at a batch size; list and read quotes."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import paginated_response
from marketplace.catalogue.serializers import AmountField, OrgRefSerializer
from marketplace.factories.models import PROCESS_CHOICES
from marketplace.kits.selectors import kit_get
from marketplace.orders.selectors import on_time_rates
from marketplace.sourcing.options import ASSEMBLY_MODES
from marketplace.sourcing.quotes import quote_create
from marketplace.sourcing.selectors import quote_list, quote_purchase_order_count
from organizations.access import get_acting_organization


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
        on_time_rate = serializers.SerializerMethodField(help_text="The vendor's public on-time rate: share of its "
                                                         "shipped purchase orders that shipped by the promised date")

        def get_on_time_rate(self, quoted) -> float | None:
            rates = self.root.__dict__.setdefault("_on_time_rates", {})  # once per vendor per response
            if quoted.vendor_id not in rates:
                rates.update(on_time_rates(vendor_ids=[quoted.vendor_id]))
            return rates[quoted.vendor_id]

    class OptionsSerializer(serializers.Serializer):
        max_vendors = serializers.IntegerField(allow_null=True)
        allow_substitutes = serializers.BooleanField(allow_null=True)
        max_lead_time_days = serializers.IntegerField(allow_null=True)
        exclude_vendors = serializers.ListField(child=serializers.IntegerField())
        currency = serializers.CharField(allow_null=True)
        assembly = serializers.ChoiceField(choices=ASSEMBLY_MODES, default="author")
        processes = serializers.ListField(child=serializers.CharField(), default=["smt"])

    class AssemblySerializer(serializers.Serializer):
        class ItemSerializer(serializers.Serializer):
            description = serializers.CharField()
            quantity = serializers.IntegerField()
            unit_price = serializers.CharField(help_text="In the quote's currency (decimal string)")

        class RunnerUpSerializer(serializers.Serializer):
            factory = OrgRefSerializer()
            assembly_total = serializers.CharField()
            landed_difference = serializers.CharField(help_text="How much dearer its whole landed cost is")
            short_difference = serializers.IntegerField(help_text="How many more units it would leave short")

        class PassedOverSerializer(serializers.Serializer):
            factory = serializers.IntegerField()
            name = serializers.CharField()
            reason = serializers.CharField()

        mode = serializers.ChoiceField(choices=ASSEMBLY_MODES)
        factory = OrgRefSerializer(required=False, allow_null=True, help_text="auto: the factory chosen (null: none fits)")
        rate_card = serializers.DictField(required=False, help_text="auto: the card version used, with its prices")
        boards = serializers.IntegerField(required=False)
        placements_per_board = serializers.IntegerField(required=False)
        unique_parts = serializers.IntegerField(required=False)
        loaded_parts = serializers.IntegerField(required=False, help_text="Unique parts that pay the loading fee")
        parts_from_factory = serializers.IntegerField(required=False, help_text="Lines bought from the factory itself")
        items = ItemSerializer(many=True, required=False)
        total = serializers.CharField(required=False)
        why = serializers.CharField(required=False, help_text="Why this factory won (against the runner-up)")
        runner_up = RunnerUpSerializer(required=False)
        considered = serializers.IntegerField(required=False)
        passed_over = PassedOverSerializer(many=True, required=False)
        problem = serializers.CharField(required=False, help_text="auto: why no factory could be chosen")

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

    class NrePaidSerializer(serializers.Serializer):
        kit = serializers.IntegerField(help_text="The kit revision")
        name = serializers.CharField()
        amount = serializers.CharField(help_text="Its NRE, in the kit's currency")
        currency = serializers.CharField()
        order = serializers.IntegerField(help_text="The order that paid it")

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
    nre_paid = NrePaidSerializer(many=True, help_text="NRE the buyer already paid on an earlier order of the same kit "
                                 "revision: left out of this quote (charged once per revision per buyer)")
    total = AmountField()
    unit_cost = AmountField()
    lead_time_days = serializers.IntegerField()
    shortages = serializers.SerializerMethodField()
    vendors = VendorSerializer(many=True, source="vendors.all", help_text="The parts vendors and the shipping each quoted")
    purchase_orders = serializers.SerializerMethodField(help_text=(
        "Purchase orders an order of this quote places: one per vendor paid, for parts or services (assembly, design, NRE)"))
    shipping_cost = AmountField()
    optimality_gap = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=True,
                                              help_text="(total − proven lower bound) ÷ total of the sourcing; 0 = optimal")
    options = OptionsSerializer(help_text="The sourcing options the quote was made with")
    fx = serializers.SerializerMethodField(help_text="The exchange-rate snapshot the quote priced offers in other currencies at")
    unsourced = UnsourcedSerializer(many=True, help_text="BOM quotes: lines with no matched part (empty for kits)")
    assembly = serializers.SerializerMethodField(help_text="Who assembles the kit itself and, for auto, why")
    remainder_of = serializers.IntegerField(allow_null=True, help_text="A quote for the rest of this order (its id): parts only")
    held = serializers.DictField(child=serializers.IntegerField(), help_text=(
        "Purchase plans: units of each part (by id) the buyer's own stock covered, left out of the sourcing"))
    created_at = serializers.DateTimeField()

    def get_purchase_orders(self, quote) -> int:
        return quote_purchase_order_count(quote=quote)

    @extend_schema_field(AssemblySerializer)
    def get_assembly(self, quote) -> dict:
        return {"mode": (quote.options or {}).get("assembly", "author"), **(quote.assembly or {})}

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
    assembly = serializers.ChoiceField(choices=ASSEMBLY_MODES, required=False, help_text=(
        "author (default): the kit's own factory; auto: the factory whose rate card gives the lowest landed "
        "cost, chosen with the parts; none: no assembly of the kit itself"))
    processes = serializers.ListField(child=serializers.ChoiceField(choices=PROCESS_CHOICES), required=False,
                                      min_length=1, max_length=5,
                                      help_text="With auto: what the factory must do (default [\"smt\"])")

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
