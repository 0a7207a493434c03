"""`GET /api/v1/events/`: the acting organisation's event feed (the events its webhooks carry)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from config.api import paginated_response
from config.events.selectors import event_list
from config.events.models import EVENT_TYPES
from organizations.access import get_acting_organization

OBJECT_TYPES = ["purchase_order", "payment", "dispute", "payout", "shipment"]
FAMILIES = sorted({t.split(".")[0] + ".*" for t in EVENT_TYPES})


class EventListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        type = serializers.CharField(required=False, max_length=500)
        object_type = serializers.ChoiceField(choices=OBJECT_TYPES, required=False)
        object_id = serializers.IntegerField(required=False, min_value=1)
        after = serializers.IntegerField(required=False, min_value=0)

        def validate_type(self, value: str) -> list[str]:
            types = [t.strip() for t in value.split(",") if t.strip()]
            unknown = [t for t in types if t not in EVENT_TYPES and t not in FAMILIES]
            if not types or unknown:
                raise serializers.ValidationError(
                    f"Unknown event type {', '.join(unknown) or '(empty)'}; use {', '.join(FAMILIES)} or one of "
                    f"{', '.join(EVENT_TYPES)} (comma-separated).")
            return types

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        type = serializers.ChoiceField(choices=list(EVENT_TYPES))
        created_at = serializers.DateTimeField()
        object_type = serializers.ChoiceField(choices=OBJECT_TYPES)
        object_id = serializers.IntegerField()
        data = serializers.JSONField(help_text="The object as it was at the step: ids, status, amounts as strings.")

    @extend_schema(
        operation_id="v1_events_list",
        parameters=[
            OpenApiParameter("type", str, description="Comma-separated event types or families (po.*, payment.*, "
                                                      "dispute.*, payout.*)."),
            OpenApiParameter("object_type", str, enum=OBJECT_TYPES),
            OpenApiParameter("object_id", int),
            OpenApiParameter("after", int, description="Only events with a larger id (poll from the last one seen)."),
        ],
        responses={200: OutputSerializer(many=True), 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """Every purchase-order, payment, dispute and payout step that concerns the acting
        organisation, newest first: the same events its webhooks receive."""
        org = get_acting_organization(request)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        qs = event_list(organization=org, types=f.get("type"), object_type=f.get("object_type"),
                        object_id=f.get("object_id"), after_id=f.get("after"))
        return paginated_response(self, request, qs, lambda page: self.OutputSerializer(page, many=True).data)
