"""REST endpoints of the credit app: one APIView per operation, thin (services do the work).

Money-moving POSTs (top-ups, repayments) accept `Idempotency-Key`; see `idempotent_response`."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import paginated_response
from credit.models import AccountKind, CreditLine, Currency, Dispute, EntryKind, Payout, SupplierTerms
from credit.selectors import (
    account_list,
    accounts_at,
    aging,
    credit_line_all,
    credit_line_list,
    dispute_at_stake,
    dispute_list,
    fx_rate_list,
    payout_list,
    payouts_to_settle,
    platform_line_list,
    invoice_list,
    posting_list,
    trust_for_line,
    trust_for_lines,
    trust_for_organization,
    trust_visible_organization_list,
)
from credit.services import (
    credit_line_grant,
    credit_line_update,
    credit_repay,
    credit_write_off,
    dispute_resolve,
    fx_rate_set,
    payout_reject,
    payout_request,
    payout_settle,
    wallet_convert,
    supplier_terms,
    supplier_terms_set,
    wallet_topup,
)
from credit.idempotency_api import IDEMPOTENCY_PARAMETER, idempotent_response
from credit.params import AT_PARAMETER, at_param, choice_param
from organizations.access import get_acting_organization
from organizations.models import Organization, Role

ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT}


def _scope(request, org: Organization | None) -> str:
    return f"org:{org.pk}" if org is not None else f"user:{request.user.pk}"


@extend_schema_field({"type": "string", "pattern": "^(" + "|".join(CreditLine.Status.values) + ")$"})
class LineStatusField(serializers.ChoiceField):
    """A credit line's status. Its schema is a pattern, not an enum: spectacular would name the
    enum `Status…Enum` and collide with the other apps' `status` enums (a warning fails CI)."""

    def __init__(self, **kwargs):
        super().__init__(choices=CreditLine.Status.choices, **kwargs)


@extend_schema_field({"type": "string", "pattern": "^(" + "|".join(Currency.values) + ")$"})
class CurrencyCodeField(serializers.ChoiceField):
    """A currency under another name than `currency` (base, quote, from/to). Its schema is a
    pattern, not an enum: spectacular would name the same choice set twice (a warning fails CI)."""

    def __init__(self, **kwargs):
        super().__init__(choices=Currency.choices, **kwargs)


class OrganizationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


# --- accounts --------------------------------------------------------------------------------

class AccountOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AccountKind.choices)
    currency = serializers.CharField()
    balance = serializers.DecimalField(max_digits=18, decimal_places=2)
    held = serializers.DecimalField(max_digits=18, decimal_places=2)
    available = serializers.DecimalField(max_digits=18, decimal_places=2)
    credit_line = serializers.IntegerField(source="credit_line_id", allow_null=True)


class AccountListApi(APIView):
    @extend_schema(
        operation_id="v1_accounts_list",
        parameters=[OpenApiParameter("kind", str, enum=AccountKind.values), OpenApiParameter("currency", str, enum=Currency.values),
                    AT_PARAMETER],
        responses={200: AccountOutputSerializer(many=True), 400: OpenApiTypes.OBJECT,
                   403: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """The acting organisation's ledger accounts. `available` = balance − held; with `at`,
        as they stood at that moment."""
        qs = account_list(organization=get_acting_organization(request))
        at = at_param(request)
        if kind := choice_param(request, "kind", AccountKind.values):
            qs = qs.filter(kind=kind)
        if currency := choice_param(request, "currency", Currency.values):
            qs = qs.filter(currency=currency)
        return paginated_response(self, request, qs, lambda page: AccountOutputSerializer(
            accounts_at(list(page), at=at) if at else page, many=True).data)


class AccountEntryListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class EntrySerializer(serializers.Serializer):
            id = serializers.IntegerField()
            kind = serializers.ChoiceField(choices=EntryKind.choices)
            memo = serializers.CharField()
            reference = serializers.CharField()
            created_at = serializers.DateTimeField()

        id = serializers.IntegerField(help_text="The posting's id.")
        amount = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="Signed: negative takes money out.")
        currency = serializers.CharField()
        entry_id = serializers.IntegerField()
        kind = serializers.CharField(source="entry.kind")
        memo = serializers.CharField(source="entry.memo")
        created_at = serializers.DateTimeField(source="entry.created_at")
        entry = EntrySerializer()

    @extend_schema(
        operation_id="v1_accounts_entries_list",
        parameters=[OpenApiParameter("kind", str, enum=EntryKind.values), AT_PARAMETER],
        responses={200: OutputSerializer(many=True), 400: OpenApiTypes.OBJECT,
                   403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request, pk: int):
        """The account's postings, newest first, each with its journal entry; with `at`, those
        written by that moment."""
        account = get_object_or_404(account_list(organization=get_acting_organization(request)), pk=pk)
        qs = posting_list(account=account, at=at_param(request))
        if kind := choice_param(request, "kind", EntryKind.values):
            qs = qs.filter(entry__kind=kind)
        return paginated_response(self, request, qs, lambda page: self.OutputSerializer(page, many=True).data)


# --- wallet top-ups --------------------------------------------------------------------------

class WalletTopupApi(APIView):
    """Operators only: record a bank receipt into an organisation's wallet."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
        amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
        currency = serializers.ChoiceField(choices=Currency.choices)
        reference = serializers.CharField(max_length=200, help_text="The bank receipt's reference.")

    class OutputSerializer(serializers.Serializer):
        entry = serializers.IntegerField()
        organization = serializers.IntegerField()
        amount = serializers.DecimalField(max_digits=18, decimal_places=2)
        currency = serializers.CharField()
        reference = serializers.CharField()
        wallet = AccountOutputSerializer()

    @extend_schema(request=InputSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={201: OutputSerializer, **ERRORS, 409: OpenApiTypes.OBJECT, 422: OpenApiTypes.OBJECT})
    def post(self, request):
        """Credit a bank receipt. A receipt is credited once on the whole platform: its reference,
        normalised (case, spaces, dashes, full-width forms), used before by any top-up is a 409
        whose `first` names that top-up (entry, organisation, amount, reference, time)."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        org = data.validated_data["organization"]

        def execute():
            entry = wallet_topup(organization=org, amount=data.validated_data["amount"], currency=data.validated_data["currency"],
                                 reference=data.validated_data["reference"], created_by=request.user)
            wallet = entry.postings.select_related("account").get(account__kind=AccountKind.WALLET).account
            return status.HTTP_201_CREATED, self.OutputSerializer({
                "entry": entry.pk, "organization": org.pk, "amount": data.validated_data["amount"],
                "currency": wallet.currency, "reference": entry.reference, "wallet": wallet,
            }).data

        return idempotent_response(request, scope=_scope(request, get_acting_organization(request, required=False)), execute=execute)


# --- credit lines ----------------------------------------------------------------------------

class TrustSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=0, max_value=100)
    reasons = serializers.ListField(child=serializers.CharField())
    suggested_limit = serializers.DecimalField(max_digits=18, decimal_places=2)


class CreditLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.SerializerMethodField(help_text="Your side of the line: supplier, buyer or voucher.")
    supplier = OrganizationRefSerializer(allow_null=True, help_text="The lender; null for a platform line (Kitstreet lends).")
    buyer = OrganizationRefSerializer()
    vouched_by = OrganizationRefSerializer(allow_null=True)
    voucher_share_percent = serializers.DecimalField(max_digits=5, decimal_places=2,
                                                     help_text="Share of a write-off the voucher pays.")
    pays_other_vendors = serializers.BooleanField(help_text="The line pays every vendor of an order (platform lines), "
                                                  "or the other vendors of the lender's kits (a fronting solution house).")
    currency = serializers.CharField()
    limit = serializers.DecimalField(max_digits=18, decimal_places=2)
    outstanding = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="Invoiced and not yet repaid.")
    reserved = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="Held for orders not yet delivered.")
    available = serializers.DecimalField(max_digits=18, decimal_places=2)
    overdue = serializers.DecimalField(max_digits=18, decimal_places=2)
    terms_days = serializers.IntegerField()
    grace_days = serializers.IntegerField()
    status = LineStatusField(help_text="`active`, or `frozen` (no new draws).")
    frozen_reason = serializers.CharField()
    kind = serializers.ChoiceField(choices=CreditLine.Kind.choices, help_text=(
        "`demand`: opened for a proven trial's reorder and repaid by a share of its sales."))
    trial = serializers.IntegerField(source="trial_id", allow_null=True, help_text="Demand lines: the trial behind it.")
    order = serializers.IntegerField(source="order_id", allow_null=True, help_text="Demand lines: the order it financed.")
    repayment_share = serializers.DecimalField(max_digits=4, decimal_places=3, help_text="Demand lines: share of each sale swept.")
    trust = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_role(self, line) -> str:
        org = self.context["organization"]
        if org is None:
            return "operator"
        return "supplier" if line.supplier_id == org.pk else "buyer" if line.buyer_id == org.pk else "voucher"

    @extend_schema_field(TrustSerializer)
    def get_trust(self, line) -> dict:
        trust = self.context.get("trust", {}).get(line.pk) or trust_for_line(line=line)
        return TrustSerializer(trust).data


def _line_output(lines, org, *, many=False):
    items = list(lines) if many else [lines]
    context = {"organization": org, "trust": trust_for_lines(lines=items)}
    return CreditLineOutputSerializer(items if many else lines, many=many, context=context).data


class CreditLineListCreateApi(APIView):
    required_roles = {"POST": Role.ADMIN}  # managing credit, terms and webhooks is for admins
    class InputSerializer(serializers.Serializer):
        buyer = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(is_buyer=True))
        limit = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
        currency = serializers.ChoiceField(choices=Currency.choices, default="CNY")
        terms_days = serializers.IntegerField(min_value=0, max_value=365, default=30)
        grace_days = serializers.IntegerField(min_value=0, max_value=365, default=7)
        vouched_by = serializers.PrimaryKeyRelatedField(  # anyone others can see: buyers and verified suppliers
            queryset=Organization.objects.filter(Q(verified=True) | Q(is_supplier=False)), required=False, allow_null=True)
        voucher_share_percent = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100,
                                                         required=False, default=Decimal("0"))
        pays_other_vendors = serializers.BooleanField(required=False, default=False,
                                                      help_text="Front the other vendors of orders for your kits.")

    @extend_schema(
        operation_id="v1_credit_lines_list",
        parameters=[OpenApiParameter("role", str, enum=["supplier", "buyer", "voucher"]),
                    OpenApiParameter("status", str, enum=CreditLine.Status.values),
                    OpenApiParameter("q", str, description="Counterparty name contains")],
        responses={200: CreditLineOutputSerializer(many=True), 400: OpenApiTypes.OBJECT,
                   403: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        """Credit lines the organisation is party to (as supplier, buyer or voucher)."""
        org = get_acting_organization(request)
        qs = credit_line_list(organization=org)
        role = choice_param(request, "role", ["supplier", "buyer", "voucher"])
        if role in {"supplier", "buyer"}:
            qs = qs.filter(**{role: org})
        elif role == "voucher":
            qs = qs.filter(vouched_by=org)
        if line_status := choice_param(request, "status", CreditLine.Status.values):
            qs = qs.filter(status=line_status)
        if q := request.query_params.get("q"):
            qs = qs.filter(Q(buyer__name__icontains=q) | Q(supplier__name__icontains=q))
        return paginated_response(self, request, qs, lambda page: _line_output(page, org, many=True))

    @extend_schema(request=InputSerializer, responses={201: CreditLineOutputSerializer, **ERRORS})
    def post(self, request):
        """A supplier grants a buyer a line (admins and owners)."""
        org = get_acting_organization(request, role=Role.ADMIN)
        if not org.is_supplier:
            raise PermissionDenied("Only suppliers grant credit lines.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = credit_line_grant(supplier=org, **data.validated_data)
        return Response(_line_output(credit_line_list(organization=org).get(pk=line.pk), org), status=status.HTTP_201_CREATED)


class CreditLineDetailApi(APIView):
    required_roles = {"PATCH": Role.ADMIN}  # managing credit, terms and webhooks is for admins
    class InputSerializer(serializers.Serializer):
        limit = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
        status = LineStatusField(required=False, help_text="`frozen` stops new draws; `active` lifts it.")
        frozen_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        terms_days = serializers.IntegerField(min_value=0, max_value=365, required=False)

    @extend_schema(responses={200: CreditLineOutputSerializer, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        org = get_acting_organization(request)
        return Response(_line_output(get_object_or_404(credit_line_list(organization=org), pk=pk), org))

    @extend_schema(request=InputSerializer, responses={200: CreditLineOutputSerializer, **ERRORS})
    def patch(self, request, pk: int):
        """The supplier changes the limit or terms, or freezes (`status: frozen`) / unfreezes the line."""
        org = get_acting_organization(request, role=Role.ADMIN)
        line = get_object_or_404(credit_line_list(organization=org), pk=pk)
        if line.supplier_id != org.pk:
            raise PermissionDenied("Only the supplier who granted this line can change it.")
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        credit_line_update(line=line, **data.validated_data)
        return Response(_line_output(credit_line_list(organization=org).get(pk=pk), org))


class CreditLineRepaymentApi(APIView):
    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))

    class OutputSerializer(serializers.Serializer):
        class AllocationSerializer(serializers.Serializer):
            invoice = serializers.IntegerField(source="invoice_id")
            amount = serializers.DecimalField(max_digits=18, decimal_places=2)

        id = serializers.IntegerField()
        credit_line = serializers.IntegerField(source="credit_line_id")
        amount = serializers.DecimalField(max_digits=18, decimal_places=2)
        currency = serializers.CharField()
        entry = serializers.IntegerField(source="entry_id")
        allocations = AllocationSerializer(many=True)
        created_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={201: OutputSerializer, **ERRORS, 422: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        """The buyer repays from its wallet; the oldest invoices (by due date) are settled first."""
        org = get_acting_organization(request)
        line = get_object_or_404(credit_line_list(organization=org), pk=pk)
        if line.buyer_id != org.pk:
            raise PermissionDenied("Only the buyer repays its credit line.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def execute():
            repayment = credit_repay(line=line, amount=data.validated_data["amount"], created_by=request.user)
            return status.HTTP_201_CREATED, self.OutputSerializer(repayment).data

        return idempotent_response(request, scope=_scope(request, org), execute=execute)


class CreditLineInvoiceListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        amount = serializers.DecimalField(max_digits=18, decimal_places=2)
        paid = serializers.DecimalField(max_digits=18, decimal_places=2)
        outstanding = serializers.DecimalField(max_digits=18, decimal_places=2)
        currency = serializers.CharField()
        issued_on = serializers.DateField()
        due_date = serializers.DateField()
        status = serializers.CharField()
        paid_on = serializers.DateField(allow_null=True)
        purchase_order = serializers.IntegerField(source="purchase_order_id", allow_null=True)
        memo = serializers.CharField()

    @extend_schema(operation_id="v1_credit_lines_invoices_list",
                   parameters=[OpenApiParameter("status", str, enum=["open", "overdue", "paid"])],
                   responses={200: OutputSerializer(many=True), 400: OpenApiTypes.OBJECT,
                              403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        """The line's invoices (one per draw), soonest due first."""
        line = get_object_or_404(credit_line_list(organization=get_acting_organization(request)), pk=pk)
        qs = invoice_list(line=line)
        if invoice_status := choice_param(request, "status", ["open", "overdue", "paid"]):
            qs = qs.filter(status=invoice_status)
        return paginated_response(self, request, qs, lambda page: self.OutputSerializer(page, many=True).data)


def _bucket_field():
    return serializers.DecimalField(max_digits=18, decimal_places=2)


# Keys as the contract names them ("1-30", "90+"), which are not Python identifiers.
AgingBucketsSerializer = type("AgingBucketsSerializer", (serializers.Serializer,), {
    "__doc__": "Open amounts by days past due.", "current": _bucket_field(), "1-30": _bucket_field(),
    "31-60": _bucket_field(), "61-90": _bucket_field(), "90+": _bucket_field(),
})


class AgingPartySerializer(serializers.Serializer):
    """A counterparty in the aging report: an organisation, or Kitstreet itself (no id)."""

    id = serializers.IntegerField(allow_null=True, help_text="null when the counterparty is Kitstreet itself: the "
                                                             "lender of a platform credit line.")
    name = serializers.CharField()
    platform = serializers.SerializerMethodField(help_text="True for Kitstreet (a platform credit line).")

    def get_platform(self, obj) -> bool:
        return obj["id"] is None


class CreditAgingApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class CounterpartySerializer(serializers.Serializer):
            organization = AgingPartySerializer()
            currency = serializers.CharField()
            buckets = AgingBucketsSerializer()
            total = serializers.DecimalField(max_digits=18, decimal_places=2)

        class TotalSerializer(serializers.Serializer):
            currency = serializers.CharField()
            buckets = AgingBucketsSerializer()
            total = serializers.DecimalField(max_digits=18, decimal_places=2)

        side = serializers.ChoiceField(choices=["receivables", "payables"])
        as_of = serializers.DateField()
        buckets = serializers.ListField(child=serializers.CharField())
        counterparties = CounterpartySerializer(many=True)
        totals = TotalSerializer(many=True)

    @extend_schema(parameters=[OpenApiParameter("side", str, enum=["receivables", "payables"],
                                                description="Default: receivables for suppliers, payables for buyers")],
                   responses={200: OutputSerializer, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT})
    def get(self, request):
        """Open invoices by days past due (`current, 1-30, 31-60, 61-90, 90+`), per counterparty."""
        org = get_acting_organization(request)
        side = choice_param(request, "side", ["receivables", "payables"]) or ("receivables" if org.is_supplier else "payables")
        return Response(self.OutputSerializer(aging(organization=org, side=side)).data)


class OrganizationTrustApi(APIView):
    @extend_schema(responses={200: TrustSerializer, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        """An organisation's trust score as a borrower, with its reasons and a suggested limit. Only
        for the organisation itself, its counterparties on a credit line and operators (404 for
        anyone else: a stranger never learns the score, nor that there is one)."""
        viewer = get_acting_organization(request, required=not request.user.is_staff)
        visible = trust_visible_organization_list(viewer=viewer, is_operator=request.user.is_staff)
        org = get_object_or_404(visible.filter(is_buyer=True), pk=pk)
        return Response(TrustSerializer(trust_for_organization(organization=org)).data)


class SupplierTermsApi(APIView):
    required_roles = {"PUT": Role.ADMIN}  # managing credit, terms and webhooks is for admins
    class TermsSerializer(serializers.Serializer):
        deposit_percent = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
        release_on = serializers.ChoiceField(choices=SupplierTerms.ReleaseOn.choices)
        forfeit_percent = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
        buyer_may_cancel = serializers.BooleanField(required=False, help_text="Buyers may cancel after confirmation, forfeiting per terms.")
        default_grace_days = serializers.IntegerField(min_value=0, max_value=365, required=False,
                                                      help_text="Days after shipping before a default may be declared.")
        full_escrow_for_new_buyers = serializers.BooleanField(required=False, help_text="Buyers without a settled order "
                                                              "from you put the whole amount in escrow.")

    @extend_schema(responses={200: TermsSerializer, 403: OpenApiTypes.OBJECT})
    def get(self, request):
        """The acting supplier's deposit terms (defaults until set)."""
        return Response(self.TermsSerializer(supplier_terms(supplier=get_acting_organization(request))).data)

    @extend_schema(request=TermsSerializer, responses={200: TermsSerializer, **ERRORS})
    def put(self, request):
        """Set the deposit share, when it is released, and what a buyer forfeits by cancelling after confirmation."""
        org = get_acting_organization(request)
        if not org.is_supplier:
            raise PermissionDenied("Only suppliers set deposit terms.")
        data = self.TermsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(self.TermsSerializer(supplier_terms_set(supplier=org, **data.validated_data)).data)



# --- payouts ---------------------------------------------------------------------------------

class PayoutOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = OrganizationRefSerializer()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.CharField(help_text="`requested` (held on the wallet), `settled` or `rejected`.")
    reference = serializers.CharField(help_text="The outgoing bank transfer's reference, once settled.")
    reason = serializers.CharField(help_text="Why it was rejected.")
    entry = serializers.IntegerField(source="entry_id", allow_null=True)
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class PayoutListCreateApi(APIView):
    required_roles = {"POST": Role.ADMIN}  # money leaving the organisation is for admins
    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
        currency = serializers.ChoiceField(choices=Currency.choices, default="CNY")

    @extend_schema(operation_id="v1_payouts_list",
                   parameters=[OpenApiParameter("status", str, enum=Payout.Status.values)],
                   responses={200: PayoutOutputSerializer(many=True), 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT})
    def get(self, request):
        """The acting organisation's payouts, newest first; operators acting for none see the desk queue."""
        org = get_acting_organization(request, required=not request.user.is_staff)
        qs = payout_list(organization=org) if org is not None else payouts_to_settle()
        if payout_status := choice_param(request, "status", Payout.Status.values):
            qs = qs.filter(status=payout_status)
        return paginated_response(self, request, qs, lambda page: PayoutOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={201: PayoutOutputSerializer, **ERRORS, 422: OpenApiTypes.OBJECT})
    def post(self, request):
        """An admin asks to withdraw from the organisation's wallet: the amount is held at once."""
        org = get_acting_organization(request, role=Role.ADMIN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def execute():
            payout = payout_request(organization=org, requested_by=request.user, **data.validated_data)
            return status.HTTP_201_CREATED, PayoutOutputSerializer(payout).data

        return idempotent_response(request, scope=_scope(request, org), execute=execute)


class PayoutQueueApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(operation_id="v1_payouts_queue", 
                   responses={200: PayoutOutputSerializer(many=True), 403: OpenApiTypes.OBJECT})
    def get(self, request):
        """Operators: requested payouts waiting for a bank transfer, oldest first."""
        return paginated_response(self, request, payouts_to_settle(), lambda page: PayoutOutputSerializer(page, many=True).data)


class PayoutSettleApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        reference = serializers.CharField(max_length=200, help_text="The outgoing bank transfer's reference.")

    @extend_schema(request=InputSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={200: PayoutOutputSerializer, **ERRORS, 409: OpenApiTypes.OBJECT, 422: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        """Operators: the bank transfer went out; the wallet is debited against clearing."""
        payout = get_object_or_404(Payout.objects.all(), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def execute():
            done = payout_settle(payout=payout, reference=data.validated_data["reference"], settled_by=request.user)
            return status.HTTP_200_OK, PayoutOutputSerializer(done).data

        return idempotent_response(request, scope=f"user:{request.user.pk}", execute=execute)


class PayoutRejectApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300)

    @extend_schema(request=InputSerializer, responses={200: PayoutOutputSerializer, **ERRORS, 409: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        """Operators: the transfer will not go out; the hold on the wallet is released."""
        payout = get_object_or_404(Payout.objects.all(), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = payout_reject(payout=payout, reason=data.validated_data["reason"], rejected_by=request.user)
        return Response(PayoutOutputSerializer(done).data)


# --- disputes --------------------------------------------------------------------------------

class DisputeOutputSerializer(serializers.Serializer):
    class AtStakeSerializer(serializers.Serializer):
        method = serializers.CharField()
        currency = serializers.CharField()
        total = serializers.DecimalField(max_digits=18, decimal_places=2)
        held = serializers.DecimalField(max_digits=18, decimal_places=2)
        paid = serializers.DecimalField(max_digits=18, decimal_places=2)
        at_stake = serializers.DecimalField(max_digits=18, decimal_places=2)

    id = serializers.IntegerField()
    purchase_order = serializers.IntegerField(source="purchase_order_id")
    order = serializers.IntegerField(source="payment.order_id", allow_null=True)
    buyer = OrganizationRefSerializer(source="payment.buyer")
    supplier = OrganizationRefSerializer(source="payment.supplier")
    opened_by = OrganizationRefSerializer()
    reason = serializers.CharField()
    status = serializers.CharField(help_text="`open` (what is held stays held) or `resolved`.")
    refund_percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    refund_amount = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    note = serializers.CharField()
    entry = serializers.IntegerField(source="entry_id", allow_null=True)
    money = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(AtStakeSerializer)
    def get_money(self, dispute) -> dict:
        return self.AtStakeSerializer(dispute_at_stake(dispute=dispute)).data


def _disputes_for(request):
    org = get_acting_organization(request, required=not request.user.is_staff)
    if org is None:
        return Dispute.objects.select_related("payment__buyer", "payment__supplier", "opened_by").order_by("-created_at", "-id")
    return dispute_list(organization=org)


class DisputeListApi(APIView):
    @extend_schema(operation_id="v1_disputes_list",
                   parameters=[OpenApiParameter("status", str, enum=Dispute.Status.values)],
                   responses={200: DisputeOutputSerializer(many=True), 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT})
    def get(self, request):
        """Disputes on purchase orders you are party to; operators acting for none see them all."""
        qs = _disputes_for(request)
        if dispute_status := choice_param(request, "status", Dispute.Status.values):
            qs = qs.filter(status=dispute_status)
        return paginated_response(self, request, qs, lambda page: DisputeOutputSerializer(page, many=True).data)


class DisputeDetailApi(APIView):
    @extend_schema(responses={200: DisputeOutputSerializer, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        return Response(DisputeOutputSerializer(get_object_or_404(_disputes_for(request), pk=pk)).data)


class DisputeResolveApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        refund_percent = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100,
                                                  help_text="Share of what is held or paid that goes (back) to the buyer.")
        note = serializers.CharField(max_length=1000, help_text="Why: recorded as the ledger entry's reason.")

    @extend_schema(request=InputSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={200: DisputeOutputSerializer, **ERRORS, 409: OpenApiTypes.OBJECT, 422: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        """Operators: split what is held or paid between buyer and supplier; the payment closes."""
        dispute = get_object_or_404(Dispute.objects.all(), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def execute():
            done = dispute_resolve(dispute=dispute, resolved_by=request.user, **data.validated_data)
            return status.HTTP_200_OK, DisputeOutputSerializer(Dispute.objects.select_related(
                "payment__buyer", "payment__supplier", "opened_by").get(pk=done.pk)).data

        return idempotent_response(request, scope=f"user:{request.user.pk}", execute=execute)


# --- FX ----------------------------------------------------------------------------------------

class FxRateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    base = serializers.CharField()
    quote = serializers.CharField()
    rate = serializers.DecimalField(max_digits=18, decimal_places=8, help_text="1 base = rate quote.")
    valid_from = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class FxRateListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        base = CurrencyCodeField()
        quote = CurrencyCodeField()
        rate = serializers.DecimalField(max_digits=18, decimal_places=8, min_value=Decimal("0.00000001"))
        valid_from = serializers.DateTimeField(required=False, help_text="Default: now.")

    @extend_schema(operation_id="v1_fx_rates_list",
                   parameters=[OpenApiParameter("base", str, enum=Currency.values, description="Rates from this currency"),
                               OpenApiParameter("quote", str, enum=Currency.values, description="Rates into this currency"),
                               ],
                   responses={200: FxRateOutputSerializer(many=True), 400: OpenApiTypes.OBJECT})
    def get(self, request):
        """Exchange rates with their history, newest first (anyone logged in)."""
        qs = fx_rate_list(base=choice_param(request, "base", Currency.values), quote=choice_param(request, "quote", Currency.values))
        return paginated_response(self, request, qs, lambda page: FxRateOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: FxRateOutputSerializer, **ERRORS})
    def post(self, request):
        """Operators: a new rate for a pair from `valid_from`; earlier rates stay as history."""
        if not request.user.is_staff:
            raise PermissionDenied("Only operators set exchange rates.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rate = fx_rate_set(created_by=request.user, **data.validated_data)
        return Response(FxRateOutputSerializer(rate).data, status=status.HTTP_201_CREATED)


class WalletConversionApi(APIView):
    required_roles = {"POST": Role.ADMIN}
    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
        from_currency = CurrencyCodeField()
        to_currency = CurrencyCodeField()

    class OutputSerializer(serializers.Serializer):
        entry = serializers.IntegerField()
        memo = serializers.CharField()
        wallets = AccountOutputSerializer(many=True)

    @extend_schema(request=InputSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={201: OutputSerializer, **ERRORS, 422: OpenApiTypes.OBJECT})
    def post(self, request):
        """Convert wallet money into another currency at the rate in force (through the platform's FX accounts)."""
        org = get_acting_organization(request, role=Role.ADMIN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def execute():
            entry = wallet_convert(organization=org, created_by=request.user, **data.validated_data)
            wallets = account_list(organization=org).filter(kind=AccountKind.WALLET)
            return status.HTTP_201_CREATED, self.OutputSerializer({"entry": entry.pk, "memo": entry.memo, "wallets": wallets}).data

        return idempotent_response(request, scope=_scope(request, org), execute=execute)


# --- platform credit lines and write-offs ------------------------------------------------------

class PlatformCreditLineListCreateApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        buyer = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(is_buyer=True))
        limit = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0,
                                         help_text="Set it from the buyer's trust score (`GET /credit/trust/{id}/` suggests one).")
        currency = serializers.ChoiceField(choices=Currency.choices, default="CNY")
        terms_days = serializers.IntegerField(min_value=0, max_value=365, default=30)
        grace_days = serializers.IntegerField(min_value=0, max_value=365, default=7)
        vouched_by = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all(), required=False, allow_null=True)
        voucher_share_percent = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100,
                                                         required=False, default=Decimal("0"))

    @extend_schema(operation_id="v1_platform_credit_lines_list", 
                   responses={200: CreditLineOutputSerializer(many=True), 403: OpenApiTypes.OBJECT})
    def get(self, request):
        """Operators: every platform line."""
        return paginated_response(self, request, platform_line_list(),
                                  lambda page: _line_output(page, None, many=True))

    @extend_schema(request=InputSerializer, responses={201: CreditLineOutputSerializer, **ERRORS})
    def post(self, request):
        """Operators: grant a buyer one line that pays every vendor of its orders (Kitstreet lends)."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = credit_line_grant(supplier=None, **data.validated_data)
        return Response(_line_output(platform_line_list().get(pk=line.pk), None), status=status.HTTP_201_CREATED)


class PlatformCreditLineDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(request=CreditLineDetailApi.InputSerializer, responses={200: CreditLineOutputSerializer, **ERRORS})
    def patch(self, request, pk: int):
        """Operators: change a platform line's limit or terms, or freeze it."""
        line = get_object_or_404(platform_line_list(), pk=pk)
        data = CreditLineDetailApi.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        credit_line_update(line=line, **data.validated_data)
        return Response(_line_output(platform_line_list().get(pk=pk), None))


class CreditLineWriteOffApi(APIView):
    required_roles = {"POST": Role.ADMIN}
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300)

    @extend_schema(request=InputSerializer, responses={200: CreditLineOutputSerializer, **ERRORS})
    def post(self, request, pk: int):
        """The lender (a supplier's admin; operators for any line) writes off what is owed; a
        voucher pays its share of it. The line is frozen."""
        org = None
        if request.user.is_staff:
            line = get_object_or_404(credit_line_all(), pk=pk)
        else:
            org = get_acting_organization(request, role=Role.ADMIN)
            line = get_object_or_404(credit_line_list(organization=org), pk=pk)
            if line.supplier_id != org.pk:
                raise PermissionDenied("Only the lender writes off a line.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credit_write_off(line=line, reason=data.validated_data["reason"], created_by=request.user)
        return Response(_line_output(credit_line_all().get(pk=pk), org))
