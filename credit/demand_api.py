"""Demand-backed credit, the lender's side: a supplier opts in to finance proven trials' reorders
(with its own maxima and repayment share); operators set the platform's appetite."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from credit.api import ERRORS
from credit.models import Currency
from credit.services import demand_appetite, demand_appetite_set
from organizations.access import get_acting_organization
from organizations.models import Role

MONEY = {"max_digits": 18, "decimal_places": 2, "min_value": Decimal("0")}


class AppetiteSerializer(serializers.Serializer):
    currency = serializers.ChoiceField(choices=Currency.choices)
    max_per_line = serializers.DecimalField(**MONEY, help_text="The most one trial's reorder may borrow from you.")
    max_total = serializers.DecimalField(**MONEY, help_text="The most all your demand lines may owe and reserve together.")
    repayment_share = serializers.DecimalField(max_digits=4, decimal_places=3, min_value=Decimal("0.001"),
                                               max_value=Decimal("1"), default=Decimal("0.5"),
                                               help_text="The share of each sale's revenue that repays you.")
    lends_on_simulated = serializers.BooleanField(default=False, help_text="Also finance trials whose demand was simulated.")
    active = serializers.BooleanField(default=True)


class AppetiteOutputSerializer(AppetiteSerializer):
    exposure = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="Owed and reserved on your demand lines now.")
    room = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="What one more line may get from you now.")


def _output(appetite) -> dict:
    return AppetiteOutputSerializer({
        "currency": appetite.currency, "max_per_line": appetite.max_per_line, "max_total": appetite.max_total,
        "repayment_share": appetite.repayment_share, "lends_on_simulated": appetite.lends_on_simulated,
        "active": appetite.active, "exposure": appetite.exposure, "room": appetite.room,
    }).data


class DemandAppetiteApi(APIView):
    required_roles = {"PUT": Role.ADMIN}  # lending the organisation's money is for admins

    @extend_schema(parameters=[OpenApiParameter("currency", str, enum=Currency.values)],
                   responses={200: AppetiteOutputSerializer, **ERRORS})
    def get(self, request):
        """Your appetite for demand-backed credit in a currency (CNY by default): zero until you opt in."""
        currency = request.query_params.get("currency", "CNY")
        if currency not in Currency.values:
            raise serializers.ValidationError({"currency": [f"Use one of: {', '.join(Currency.values)}."]})
        return Response(_output(demand_appetite(lender=get_acting_organization(request), currency=currency)))

    @extend_schema(request=AppetiteSerializer, responses={200: AppetiteOutputSerializer, **ERRORS})
    def put(self, request):
        """Opt in (or out) as a lender on proven trials' reorders: your maxima and repayment share.
        Offers then name you when you have the most room among the reorder's vendors."""
        org = get_acting_organization(request)
        if not org.is_supplier:
            raise PermissionDenied("Only suppliers lend on demand.")
        data = AppetiteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = demand_appetite_set(lender=org, **data.validated_data)
        return Response(_output(demand_appetite(lender=org, currency=row.currency)))
