"""Operators' money APIs: the platform's fee schedule and revenue, suppliers' rolling reserves,
and bank statement reconciliation. One APIView per operation, thin (services do the work)."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import paginated_response
from credit.models import BankStatementLine
from credit.params import AT_PARAMETER, at_param, choice_param
from credit.selectors import platform_revenue, reserve_held, reserve_list, statement_line_list
from credit.services import fee_schedule_current, fee_schedule_set, reserve_set, statement_import, statement_line_resolve
from organizations.models import Organization

ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT}
PERCENT = {"max_digits": 5, "decimal_places": 2, "min_value": Decimal("0"), "max_value": Decimal("100")}
MONEY = {"max_digits": 18, "decimal_places": 2}


class FeeScheduleApi(APIView):
    """The platform's take on purchase orders (operators)."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        default_percent = serializers.DecimalField(**PERCENT, help_text="Percent of each purchase order.")
        by_category = serializers.DictField(child=serializers.DecimalField(**PERCENT), required=False,
                                            help_text="{part category: percent}, overriding the default for those lines.")

    class OutputSerializer(serializers.Serializer):
        default_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
        by_category = serializers.DictField(child=serializers.DecimalField(max_digits=5, decimal_places=2))
        since = serializers.DateTimeField(source="created_at", allow_null=True,
                                          help_text="When it came into force; null: never set (no fee).")

    @extend_schema(operation_id="v1_platform_fees_retrieve", responses={200: OutputSerializer, 403: OpenApiTypes.OBJECT})
    def get(self, request):
        """The fee schedule in force."""
        return Response(self.OutputSerializer(fee_schedule_current()).data)

    @extend_schema(operation_id="v1_platform_fees_update", request=InputSerializer, responses={200: OutputSerializer, **ERRORS})
    def put(self, request):
        """Set the fee schedule for purchase orders placed from now on. Each purchase order keeps
        the `platform_fee` it was placed under; each release to its supplier pays the fee to the
        platform's revenue account in the same entry until it is collected."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = fee_schedule_set(default_percent=data.validated_data["default_percent"],
                                    by_category=data.validated_data.get("by_category") or {}, created_by=request.user)
        return Response(self.OutputSerializer(schedule).data)


class RevenueApi(APIView):
    permission_classes = [IsAdminUser]

    class OutputSerializer(serializers.Serializer):
        class RevenueAccountSerializer(serializers.Serializer):
            account = serializers.IntegerField(source="pk")
            currency = serializers.CharField()
            balance = serializers.DecimalField(**MONEY, help_text="Fees collected, in this currency.")

        accounts = RevenueAccountSerializer(many=True)
        at = serializers.DateTimeField(allow_null=True)

    @extend_schema(operation_id="v1_platform_revenue_retrieve", parameters=[AT_PARAMETER],
                   responses={200: OutputSerializer, **ERRORS})
    def get(self, request):
        """The platform's revenue accounts (fees collected), per currency; with `at`, as then."""
        at = at_param(request)
        return Response(self.OutputSerializer({"accounts": platform_revenue(at=at), "at": at}).data)


class ReserveOutputSerializer(serializers.Serializer):
    class HeldSerializer(serializers.Serializer):
        currency = serializers.CharField()
        held = serializers.DecimalField(**MONEY)

    organization = serializers.IntegerField(source="organization_id")
    organization_name = serializers.CharField(source="organization.name")
    percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    days = serializers.IntegerField()
    held = serializers.SerializerMethodField(help_text="What its reserve accounts hold now, per currency.")

    @extend_schema_field(HeldSerializer(many=True))
    def get_held(self, reserve) -> list[dict]:
        return self.context["held"].get(reserve.organization_id, [])


class ReserveListApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(operation_id="v1_platform_reserves_list", responses={200: ReserveOutputSerializer(many=True), 403: OpenApiTypes.OBJECT})
    def get(self, request):
        """Suppliers under a rolling reserve, with what their reserve accounts hold now."""

        def serialize(page):
            held = reserve_held(organization_ids=[r.organization_id for r in page])
            return ReserveOutputSerializer(page, many=True, context={"held": held}).data

        return paginated_response(self, request, reserve_list(), serialize)


class ReserveSetApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        percent = serializers.DecimalField(**PERCENT, help_text="Share of each release held back; 0 removes the reserve.")
        days = serializers.IntegerField(min_value=0, max_value=365, help_text="How long each share is held.")

    @extend_schema(operation_id="v1_platform_reserves_update", request=InputSerializer,
                   responses={200: ReserveOutputSerializer, 204: None, **ERRORS, 404: OpenApiTypes.OBJECT})
    def put(self, request, pk: int):
        """Set a supplier's rolling reserve: `percent` of what each release pays it is held on its
        reserve account for `days`, then moved back to its wallet by the beat."""
        organization = get_object_or_404(Organization.objects.all(), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reserve = reserve_set(organization=organization, percent=data.validated_data["percent"],
                              days=data.validated_data["days"], updated_by=request.user)
        if reserve is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        held = reserve_held(organization_ids=[organization.pk])
        return Response(ReserveOutputSerializer(reserve, context={"held": held}).data)


# --- bank statements ---------------------------------------------------------------------------

class StatementLineSerializer(serializers.Serializer):
    class MatchSerializer(serializers.Serializer):
        direction = serializers.CharField(help_text="`in`: a top-up's receipt; `out`: a payout's transfer.")
        entry = serializers.IntegerField(source="entry_id")
        organization = serializers.IntegerField(source="organization_id")
        organization_name = serializers.CharField(source="organization.name")
        reference = serializers.CharField()

    id = serializers.IntegerField()
    row = serializers.IntegerField(help_text="Row in its file (the header is row 1).")
    date = serializers.DateField()
    amount = serializers.DecimalField(**MONEY, help_text="Signed: positive came in, negative went out.")
    currency = serializers.CharField()
    reference = serializers.CharField()
    counterparty = serializers.CharField()
    status = serializers.ChoiceField(choices=BankStatementLine.Status.choices)
    match = MatchSerializer(allow_null=True)
    note = serializers.CharField(help_text="Why it did not match, or the operator's note.")


class BankStatementImportApi(APIView):
    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser, FormParser]
    MAX_BYTES = 5 * 1024 * 1024

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="CSV with the header date,amount,currency,reference,counterparty.")

    class OutputSerializer(serializers.Serializer):
        statement = serializers.IntegerField(allow_null=True, help_text="Null when every line was imported before.")
        matched = StatementLineSerializer(many=True)
        unmatched = StatementLineSerializer(many=True)
        rematched = StatementLineSerializer(many=True, help_text="Lines imported before, unmatched then, matched now.")
        already_imported = serializers.IntegerField(help_text="Lines seen in an earlier import: not added again.")

    @extend_schema(operation_id="v1_bank_statements_create", request={"multipart/form-data": InputSerializer},
                   responses={201: OutputSerializer, 200: OutputSerializer, **ERRORS, 409: OpenApiTypes.OBJECT})
    def post(self, request):
        """Import the platform bank account's statement: each line is matched to the top-up
        (money in) or payout (money out) recorded with its reference (normalised) and amount.
        201 when lines were added, 200 when the whole statement had been imported before (nothing
        added; lines still unmatched are tried again). Any bad row: 400 naming every bad row."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > self.MAX_BYTES:
            raise serializers.ValidationError({"file": ["The statement is larger than 5 MB; split it."]})
        result = statement_import(content=upload.read(), filename=upload.name or "", imported_by=request.user)
        body = self.OutputSerializer({"statement": result.statement.pk if result.statement else None,
                                      "matched": result.matched, "unmatched": result.unmatched,
                                      "rematched": result.rematched, "already_imported": result.already_imported}).data
        return Response(body, status=status.HTTP_201_CREATED if result.statement else status.HTTP_200_OK)


class BankStatementLineListApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(operation_id="v1_bank_statements_lines_list",
                   parameters=[OpenApiParameter("status", str, enum=BankStatementLine.Status.values)],
                   responses={200: StatementLineSerializer(many=True), **ERRORS})
    def get(self, request):
        """Imported statement lines, oldest first; `?status=unmatched` is what is left to resolve."""
        qs = statement_line_list(status=choice_param(request, "status", BankStatementLine.Status.values))
        return paginated_response(self, request, qs, lambda page: StatementLineSerializer(page, many=True).data)


class BankStatementLineResolveApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                     help_text="What the line is and what was done; needed unless it matches now.")

    @extend_schema(operation_id="v1_bank_statements_lines_resolve", request=InputSerializer,
                   responses={200: StatementLineSerializer, **ERRORS, 404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        """Close an unmatched line: matched if its top-up or payout was recorded since, else
        resolved with the note."""
        line = get_object_or_404(statement_line_list(), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = statement_line_resolve(line=line, note=data.validated_data.get("note", ""), resolved_by=request.user)
        return Response(StatementLineSerializer(statement_line_list().get(pk=line.pk)).data)
