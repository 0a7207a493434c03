"""REST endpoints of solution kits."""

from decimal import Decimal

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import WholeSerializer, paginated_response
from marketplace.catalogue.models import Currency, Part
from marketplace.catalogue.serializers import (
    MAX_QTY,
    AmountField,
    OrgRefSerializer,
    id_field,
)
from marketplace.exceptions import KitInvalid
from marketplace.kits.selectors import kit_get, kit_list
from marketplace.kits.services import kit_create, kit_update
from organizations.access import get_acting_organization
from organizations.models import Organization
from organizations.selectors import organization_visible_list


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
