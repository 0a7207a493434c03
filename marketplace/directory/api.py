"""REST endpoints that show across rooms: organisations with their public fulfilment record and
capabilities, and a part's page (its offers, the kits that use it, its price history)."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import paginated_response
from marketplace.boms.selectors import part_boms
from marketplace.catalogue.api import display_currency_field
from marketplace.catalogue.models import Part
from marketplace.catalogue.search.parts import part_offers, part_price_history
from marketplace.catalogue.search.pricing import DisplayCurrency
from marketplace.catalogue.serializers import (
    AmountField,
    BreakSerializer,
    ListingOutputSerializer,
    OrgRefSerializer,
    PartOutputSerializer,
    listings_output,
    money_str,
)
from marketplace.catalogue.units import QUANTITY_KEYS, format_measure
from marketplace.kits.selectors import part_kits
from marketplace.orders.selectors import fulfilment_record
from organizations.access import get_acting_organization
from organizations.api import OrganizationOutputSerializer, organization_output
from organizations.models import Organization, OrganizationKind
from organizations.selectors import organization_visible_list
from organizations.services import organization_create


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


class ListingPriceQtySerializer(serializers.Serializer):
    qty = serializers.IntegerField(required=False, min_value=1, max_value=100_000_000)
    currency = display_currency_field()


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
        return Response(part_detail_output(request, get_object_or_404(Part, pk=pk), qty.validated_data.get("qty"),
                                           currency=qty.validated_data["currency"]))


def part_detail_output(request, part: Part, qty: int | None, currency: str | None = None) -> dict:
    viewer = get_acting_organization(request, required=False)
    data = dict(PartOutputSerializer(part).data)
    data["normalized_parameters"] = [
        {"key": key, "value": value,
         "label": format_measure(QUANTITY_KEYS.get(key, ""), value) if isinstance(value, (int, float)) else str(value)}
        for key, value in sorted(part.parameter_values.items())]
    data["offers"] = listings_output(part_offers(viewer=viewer, part=part, qty=qty, display=DisplayCurrency(currency)), qty)
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
