"""REST endpoints of factories' rate cards: the published assembly price a quote can use."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from credit.models import Currency
from marketplace.factories.models import PROCESS_CHOICES
from marketplace.factories.rate_cards import rate_card_current, rate_card_publish
from organizations.access import get_acting_organization
from organizations.models import Role
from organizations.selectors import organization_visible_list


class RateCardSerializer(serializers.Serializer):
    currency = serializers.ChoiceField(choices=Currency.choices)
    setup_fee = serializers.DecimalField(max_digits=9, decimal_places=2, min_value=0, max_value=1_000_000,
                                         coerce_to_string=True, help_text="Per batch")
    per_placement = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=0, max_value=100,
                                             coerce_to_string=True, help_text="Per placement (a populated part's joint set)")
    per_unique_part = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0, max_value=100_000,
                                               coerce_to_string=True, help_text=(
                                                   "Loading fee per unique part the factory does not stock itself"))
    processes = serializers.ListField(child=serializers.ChoiceField(choices=PROCESS_CHOICES), min_length=1,
                                      max_length=len(PROCESS_CHOICES))
    min_batch = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=10_000_000)
    max_batch = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=10_000_000)


class RateCardOutputSerializer(RateCardSerializer):
    id = serializers.IntegerField()
    organization = serializers.IntegerField(source="organization_id")
    version = serializers.IntegerField(help_text="Each publish adds a version; quotes keep the one they used")
    created_at = serializers.DateTimeField()


class RateCardApi(APIView):
    required_roles = {"PUT": Role.ADMIN}

    @extend_schema(responses={200: RateCardOutputSerializer})
    def get(self, request, pk: int):
        """A factory's current rate card: public, like the rest of its profile (404 if it has none)."""
        org = get_object_or_404(organization_visible_list(viewer=get_acting_organization(request, required=False),
                                                          is_operator=request.user.is_staff), pk=pk)
        card = rate_card_current(organization=org)
        if card is None:
            raise Http404("This organisation publishes no assembly rate card.")
        return Response(RateCardOutputSerializer(card).data)

    @extend_schema(request=RateCardSerializer, responses={201: RateCardOutputSerializer})
    def put(self, request, pk: int):
        """Admins of a factory publish a new version of its card (the previous one stays for the
        quotes that used it)."""
        org = get_acting_organization(request, role=Role.ADMIN)
        if org.pk != pk:
            raise Http404
        data = RateCardSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        card = rate_card_publish(
            organization=org, currency=d["currency"], setup_fee=d["setup_fee"], per_placement=d["per_placement"],
            per_unique_part=d["per_unique_part"],
            processes=["through_hole" if p == "tht" else p for p in d["processes"]],
            min_batch=d.get("min_batch"), max_batch=d.get("max_batch"))
        return Response(RateCardOutputSerializer(card).data, status=status.HTTP_201_CREATED)
