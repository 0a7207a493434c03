"""REST endpoints of the buyer's stock list (`/api/v1/stock/`) and purchase plans
(`/api/v1/purchase-plans/`), scoped to the acting organisation: another's is never reachable."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import paginated_response
from config.parsers import UPLOAD_PARSERS
from marketplace.boms.api import BomErrorSerializer
from marketplace.boms.models import Bom
from marketplace.boms.reader import MAX_BYTES
from marketplace.catalogue.models import Part
from marketplace.catalogue.serializers import AmountField, id_field
from marketplace.exceptions import StockInvalid
from marketplace.kits.selectors import kit_get
from marketplace.plans.models import MAX_STOCK, PurchasePlan
from marketplace.plans.selectors import (
    plan_comparison,
    plan_need_rows,
    purchase_plan_get,
    purchase_plan_list,
    stock_list,
    stock_row_get,
)
from marketplace.plans.services import MAX_SOURCES, PlanSource, purchase_plan_create
from marketplace.plans.stock import stock_import, stock_row_delete, stock_row_set, stock_row_update
from marketplace.sourcing.options import MAX_QUANTITY
from organizations.access import get_acting_organization

# --- The stock list -------------------------------------------------------------------------------


class StockRowOutputSerializer(serializers.Serializer):
    class PartSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        manufacturer = serializers.CharField()
        mpn = serializers.CharField()

    part = PartSerializer()
    quantity = serializers.IntegerField(help_text="Units on hand")
    note = serializers.CharField(allow_blank=True, help_text="Where it is (bin, shelf), or anything else")
    updated_at = serializers.DateTimeField()


def _bool(value) -> bool:
    return str(value or "").lower() in ("1", "true", "yes", "on")


class StockImportErrorSerializer(BomErrorSerializer):
    """A stock file's errors: the BOM reader's, by row and column (its own name in the schema)."""


class StockListApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="MPN, manufacturer or note contains")],
                   responses=StockRowOutputSerializer(many=True))
    def get(self, request):
        """Your organisation's stock list (what it holds itself), by MPN."""
        org = get_acting_organization(request)
        return paginated_response(self, request, stock_list(organization=org, q=request.query_params.get("q", "")[:100]),
                                  lambda page: StockRowOutputSerializer(page, many=True).data)


class StockImportApi(APIView):
    parser_classes = UPLOAD_PARSERS

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=True)
        replace = serializers.BooleanField(required=False, default=False, help_text=(
            "true: parts the file does not name are removed from the list (a full count); "
            "false (default): only the parts it names change"))
        dry_run = serializers.BooleanField(required=False, default=False, help_text="true: report, change nothing")

    class OutputSerializer(serializers.Serializer):
        class SkippedSerializer(serializers.Serializer):
            row = serializers.IntegerField()
            mpn = serializers.CharField(allow_blank=True)
            manufacturer = serializers.CharField(allow_blank=True)
            reason = serializers.CharField()

        rows = serializers.IntegerField(help_text="Rows read")
        created = serializers.IntegerField()
        updated = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        removed = serializers.IntegerField(help_text="With replace: parts taken off the list")
        dry_run = serializers.BooleanField()
        skipped = SkippedSerializer(many=True, help_text="Rows whose MPN matched no part surely (nothing done with them)")

    @extend_schema(request={"multipart/form-data": InputSerializer},
                   responses={200: OutputSerializer, 400: StockImportErrorSerializer})
    def post(self, request):
        """Import a stock list (CSV, TSV, semicolon CSV or XLSX up to 10 MB): a quantity column
        (`Quantity`, `Qty`, `On hand`, `Stock`…) and an MPN (with `Manufacturer`) or a `Part ID`
        column per row; rows of one part are added up. MPNs are matched like BOM lines. Any bad
        row: 400 naming row and column, and nothing changes."""
        org = get_acting_organization(request)
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            problems = [(field, str(message)) for field, messages in data.errors.items() for message in messages]
            return Response({"file": [f"{field}: {message}" for field, message in problems],
                             "errors": [{"row": 0, "column": field, "message": message} for field, message in problems]},
                            status=status.HTTP_400_BAD_REQUEST)
        upload, d = data.validated_data["file"], data.validated_data
        try:
            if upload.size > MAX_BYTES:
                raise StockInvalid([{"row": 0, "column": "file", "message": "The file is larger than 10 MB; split it."}])
            result = stock_import(organization=org, content=upload.read(), filename=upload.name or "",
                                  replace=d["replace"], dry_run=d["dry_run"])
        except StockInvalid as exc:
            return Response({"file": exc.message_dict["file"], "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(self.OutputSerializer({**result.__dict__, "dry_run": d["dry_run"]}).data)


class StockRowApi(APIView):
    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=0, max_value=MAX_STOCK, help_text="Units on hand")
        note = serializers.CharField(required=False, allow_blank=True, max_length=200)

    class PatchSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(required=False, min_value=0, max_value=MAX_STOCK)
        note = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def _part(self, part: int) -> Part:
        found = Part.objects.filter(pk=part).first()
        if found is None:
            raise Http404
        return found

    @extend_schema(responses=StockRowOutputSerializer)
    def get(self, request, part: int):
        row = stock_row_get(organization=get_acting_organization(request), part_id=part)
        if row is None:
            raise Http404
        return Response(StockRowOutputSerializer(row).data)

    @extend_schema(request=InputSerializer, responses=StockRowOutputSerializer)
    def put(self, request, part: int):
        """Set how many units of this part you hold (the row is created if the list lacks it)."""
        org = get_acting_organization(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = stock_row_set(organization=org, part=self._part(part), quantity=data.validated_data["quantity"],
                            note=data.validated_data.get("note"))
        return Response(StockRowOutputSerializer(stock_row_get(organization=org, part_id=row.part_id)).data)

    @extend_schema(request=PatchSerializer, responses=StockRowOutputSerializer)
    def patch(self, request, part: int):
        """Change a row's units or note."""
        org = get_acting_organization(request)
        row = stock_row_get(organization=org, part_id=part)
        if row is None:
            raise Http404
        data = self.PatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = stock_row_update(row=row, quantity=data.validated_data.get("quantity"), note=data.validated_data.get("note"))
        if row is None:  # deleted by a concurrent request
            raise Http404
        return Response(StockRowOutputSerializer(row).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, part: int):
        """Take the part off your stock list."""
        org = get_acting_organization(request)
        row = stock_row_get(organization=org, part_id=part)
        if row is None:
            raise Http404
        stock_row_delete(row=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Purchase plans ---------------------------------------------------------------------------------


class PlanOptionsInputSerializer(serializers.Serializer):
    """The kit quote's sourcing options that apply to a plan (each kit is assembled as its own quote
    would be, so there is no `assembly`)."""

    max_vendors = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=200)
    allow_substitutes = serializers.BooleanField(required=False, allow_null=True, help_text=(
        "null (default): only where the BOMs list substitutes (their stock too); false: never"))
    max_lead_time_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=3650)
    exclude_vendors = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=500)
    currency = serializers.CharField(required=False, allow_null=True, max_length=3,
                                     help_text="The plan's currency (default: your organisation's)")

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(f"Unknown option(s): {', '.join(map(str, unknown))}.")
        return super().to_internal_value(data)


class PlanSourceOutputSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="Its index in the plan (needs refer to it)")
    bom = serializers.IntegerField(source="bom_id", allow_null=True)
    kit = serializers.IntegerField(source="kit_id", allow_null=True, help_text="The kit revision planned (a BOM's private kit)")
    name = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Units built")
    components = AmountField(help_text="Quoted alone: its parts")
    shipping = AmountField(help_text="Quoted alone: shipping of its own purchase orders")
    services = AmountField(help_text="Assembly, design fees and NRE of its kit tree")
    total = AmountField(help_text="Quoted alone: its total")
    shortfall = serializers.IntegerField(help_text="Quoted alone: units short")
    vendors = serializers.IntegerField(help_text="Quoted alone: parts vendors (purchase orders)")
    unsourced = serializers.IntegerField(help_text="BOM lines with no matched part")


class PlanListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    quote = serializers.IntegerField(source="quote_id", help_text="The quote to order the plan from")
    currency = serializers.CharField()
    total = AmountField(source="quote.total")
    separate_total = AmountField()
    use_stock = serializers.BooleanField()
    sources = PlanSourceOutputSerializer(many=True, source="sources.all")
    created_at = serializers.DateTimeField()


class PlanOutputSerializer(serializers.Serializer):
    class NeedSerializer(serializers.Serializer):
        class StockUsedSerializer(serializers.Serializer):
            part = serializers.IntegerField()
            mpn = serializers.CharField()
            quantity = serializers.IntegerField()

        class BySourceSerializer(serializers.Serializer):
            source = serializers.IntegerField(help_text="The source's position")
            name = serializers.CharField()
            quantity = serializers.IntegerField(help_text="What it needs, alone")

        part = serializers.IntegerField()
        mpn = serializers.CharField()
        manufacturer = serializers.CharField()
        needed = serializers.IntegerField(help_text="All sources together (attrition rounded up once)")
        from_stock = serializers.IntegerField(help_text="Covered by your stock")
        stock = StockUsedSerializer(many=True, help_text="The stock rows used: the part's own, then substitutes'")
        to_buy = serializers.IntegerField()
        bought = serializers.IntegerField(help_text="Units the plan buys (may exceed to_buy: minimum buys, multiples)")
        shortfall = serializers.IntegerField(help_text="Units no offer could supply")
        vendors = serializers.ListField(child=serializers.CharField())
        by_source = BySourceSerializer(many=True)

    class ComparisonSerializer(serializers.Serializer):
        separate_total = AmountField(help_text="Each source quoted alone, without your stock: the sum of their totals")
        together_total = AmountField(help_text="All sources planned together, before your stock")
        plan_total = AmountField(help_text="This plan: together, net of your stock (the quote's total)")
        saving_together = AmountField(help_text="separate − together: minimum buys, price breaks and shipping counted once")
        saving_stock = AmountField(help_text="together − plan: what your stock saves")
        saving = AmountField(help_text="separate − plan")
        separate_shortfall = serializers.IntegerField()
        together_shortfall = serializers.IntegerField()
        plan_shortfall = serializers.IntegerField()
        separate_purchase_orders = serializers.IntegerField(help_text="Parts purchase orders of the separate quotes")
        plan_purchase_orders = serializers.IntegerField(help_text="Parts purchase orders of the plan")

    class UnsourcedSerializer(serializers.Serializer):
        source = serializers.IntegerField()
        bom = serializers.IntegerField()
        line = serializers.IntegerField()
        mpn = serializers.CharField(allow_blank=True)
        quantity = serializers.IntegerField()

    id = serializers.IntegerField()
    name = serializers.CharField()
    quote = serializers.IntegerField(source="quote_id", help_text="Order the plan with POST /api/v1/orders/ {\"quote\": …}")
    currency = serializers.CharField()
    use_stock = serializers.BooleanField()
    valid_until = serializers.DateTimeField(source="quote.valid_until")
    sources = PlanSourceOutputSerializer(many=True)
    needs = NeedSerializer(many=True)
    comparison = ComparisonSerializer()
    unsourced = UnsourcedSerializer(many=True, help_text="BOM lines with no matched part: an order of the whole plan "
                                                          "is refused until they are matched (as for a BOM quote)")
    created_at = serializers.DateTimeField()


def plan_output(plan: PurchasePlan) -> dict:
    return {
        "id": plan.pk, "name": plan.name, "quote_id": plan.quote_id, "currency": plan.currency, "use_stock": plan.use_stock,
        "quote": plan.quote, "sources": list(plan.sources.all()), "created_at": plan.created_at,
        "needs": [{"part": r["part"].pk, "mpn": r["part"].mpn, "manufacturer": r["part"].manufacturer,
                   "needed": r["need"].needed, "from_stock": r["need"].from_stock, "stock": r["need"].stock,
                   "to_buy": r["need"].to_buy, "bought": r["bought"], "shortfall": r["shortfall"], "vendors": r["vendors"],
                   "by_source": r["by_source"]} for r in plan_need_rows(plan)],
        "comparison": plan_comparison(plan),
        "unsourced": [{k: u.get(k) for k in ("source", "bom", "line", "mpn", "quantity")}
                      for u in plan.quote.unsourced or []],
    }


class PurchasePlanListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class SourceSerializer(serializers.Serializer):
            bom = id_field(required=False, help_text="One of your BOMs")
            kit = id_field(required=False, help_text="A kit you may see (any revision)")
            quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, help_text="Units to build")

            def validate(self, attrs):
                if ("bom" in attrs) == ("kit" in attrs):
                    raise serializers.ValidationError("Give a bom or a kit.")
                return attrs

        name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
        sources = SourceSerializer(many=True, allow_empty=False, max_length=MAX_SOURCES)
        use_stock = serializers.BooleanField(required=False, default=True,
                                             help_text="Take your stock list off the need (default true)")
        options = PlanOptionsInputSerializer(required=False, allow_null=True)

    @extend_schema(responses=PlanListItemSerializer(many=True))
    def get(self, request):
        """Your organisation's purchase plans, newest first."""
        org = get_acting_organization(request)
        return paginated_response(self, request, purchase_plan_list(organization=org),
                                  lambda page: PlanListItemSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: PlanOutputSerializer})
    def post(self, request):
        """Plan the purchase of several BOMs and kits, each at its own build quantity: the need per
        part summed across them, your stock taken off, the rest sourced in one joint plan (a
        part's minimum buy, price breaks and each vendor's shipping counted once) and saved as a
        quote to order from — with what quoting each alone would cost beside it."""
        org = get_acting_organization(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        sources = []
        for s in d["sources"]:
            if "bom" in s:
                bom = Bom.objects.filter(owner=org, pk=s["bom"]).first()
                if bom is None:
                    raise serializers.ValidationError({"sources": [f"You have no BOM {s['bom']}."]})
                sources.append(PlanSource(bom=bom, quantity=s["quantity"]))
            else:
                kit = kit_get(viewer=org, pk=s["kit"], with_bom=False)
                if kit is None:
                    raise serializers.ValidationError({"sources": [f"There is no kit {s['kit']} you may see."]})
                sources.append(PlanSource(kit=kit, quantity=s["quantity"]))
        plan = purchase_plan_create(organization=org, sources=sources, name=d["name"], options=d.get("options"),
                                    use_stock=d["use_stock"], created_by=request.user)
        plan = purchase_plan_get(organization=org, pk=plan.pk)
        return Response(PlanOutputSerializer(plan_output(plan)).data, status=status.HTTP_201_CREATED)


class PurchasePlanDetailApi(APIView):
    @extend_schema(responses=PlanOutputSerializer)
    def get(self, request, pk: int):
        plan = purchase_plan_get(organization=get_acting_organization(request), pk=pk)
        if plan is None:
            raise Http404
        return Response(PlanOutputSerializer(plan_output(plan)).data)
