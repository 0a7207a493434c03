"""REST endpoints of the trials app: one APIView per operation, each calling one service or
selector. Every trial, report and forecast says `"simulated": true|false`."""

from decimal import Decimal

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.exports import export_csv_writer
from config.api import WholeSerializer, paginated_response
from credit.idempotency_api import IDEMPOTENCY_PARAMETER, idempotent_response
from organizations.access import get_acting_organization
from organizations.models import Role
from organizations.services import task_started
from marketplace.models import Order
from trials.exceptions import TrialInvalid
from trials.models import TrialMode, TrialStatus, TrialVerdict
from trials.science import UNIFORM
from trials.selectors.financing import trial_cash_plan, trial_financing_view
from trials.selectors.reports import trial_prior
from trials.selectors import (
    trial_forecast,
    trial_funnel,
    trial_get,
    trial_kit_get,
    trial_list,
    trial_report,
    trial_sales_list,
    trial_report_csv_rows,
    webhook_endpoint_list,
)
from trials.services import (
    plan_forecast_record,
    trial_create,
    trial_forecast_record,
    trial_reorder_quote,
    trial_restock_split,
    trial_sales_record,
    trial_start,
    trial_update,
    webhook_endpoint_create,
    webhook_endpoint_delete,
)

# --- Shared shapes ---------------------------------------------------------------------------


class TargetsSerializer(serializers.Serializer):
    scale_at = serializers.DecimalField(max_digits=4, decimal_places=3, min_value=Decimal(0), max_value=Decimal(1), default="0.8",
                                        help_text="Scale when sell-through is confidently at or above this fraction.")
    kill_below = serializers.DecimalField(max_digits=4, decimal_places=3, min_value=Decimal(0), max_value=Decimal(1), default="0.3",
                                          help_text="Kill when sell-through is confidently below this fraction.")


class ArmInputSerializer(WholeSerializer):
    label = serializers.CharField(max_length=60)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    units = serializers.IntegerField(min_value=1, max_value=5000)


class DemandSerializer(serializers.Serializer):
    base_daily = serializers.FloatField(min_value=0.001, max_value=100_000,
                                        help_text="Expected daily demand at the reference price.")
    dispersion = serializers.FloatField(min_value=0.01, max_value=10_000, required=False,
                                        help_text="Negative-binomial k (variance = mu + mu²/k); default 2.")
    reference_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"), required=False,
                                               help_text="Default: the first arm's price.")
    elasticity = serializers.FloatField(min_value=-20, max_value=0, required=False, help_text="Default -1.5.")
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, help_text="Default 0.")


class TrialInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kit = serializers.IntegerField(help_text="A kit revision id.")
    mode = serializers.ChoiceField(choices=TrialMode.choices)
    window_days = serializers.IntegerField(min_value=1, max_value=365)
    targets = TargetsSerializer(required=False)
    arms = ArmInputSerializer(many=True, allow_empty=False)
    demand = DemandSerializer(required=False, allow_null=True, help_text="Simulated trials only.")
    payment = serializers.ChoiceField(choices=Order.FORM_PAYMENTS,
                                      default="deposit", help_text="Live trials: how the batch's order is paid.")
    order = serializers.IntegerField(required=False, allow_null=True, min_value=1, help_text=(
        "Live trials: sell a batch you already ordered (e.g. a reorder on demand credit, whose sales then repay "
        "its line) instead of placing a new order."))


def _check_demand(demand: dict, arms: list[dict]) -> None:
    """The fields are bounded one by one above; their combination (the mean daily demand at each
    arm's price) is bounded here, before anything reaches numpy: a 400, never a 500."""
    from trials.demand import DemandModel

    try:
        DemandModel.from_dict(_demand_dict(demand), default_reference=arms[0]["unit_price"]).check_prices(
            [arm["unit_price"] for arm in arms])
    except ValueError as exc:
        raise serializers.ValidationError({"demand": [f"Invalid demand model: {exc}."]}) from None


def _demand_dict(data: dict | None) -> dict | None:
    return {k: (str(v) if k == "reference_price" else v) for k, v in data.items()} if data else None


def demand_output(demand: dict | None) -> dict | None:
    """The demand model as stored, with `reference_price` (an amount) as a decimal string, never a float."""
    if not demand or demand.get("reference_price") is None:
        return demand
    return {**demand, "reference_price": str(Decimal(str(demand["reference_price"])).quantize(Decimal("0.01")))}


class DemandOutputField(serializers.JSONField):
    def to_representation(self, value):
        return super().to_representation(demand_output(value))


class TrialOutputSerializer(serializers.Serializer):
    class KitSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        revision = serializers.IntegerField()

    class ArmSerializer(serializers.Serializer):
        label = serializers.CharField()
        unit_price = serializers.DecimalField(max_digits=14, decimal_places=2)
        units = serializers.IntegerField()
        units_received = serializers.IntegerField()
        units_sold = serializers.IntegerField()
        on_hand = serializers.IntegerField()

    class CashSerializer(serializers.Serializer):
        deployed = serializers.DecimalField(max_digits=14, decimal_places=2, source="cash_deployed")
        recovered = serializers.DecimalField(max_digits=14, decimal_places=2, source="cash_recovered")
        currency = serializers.CharField()

    id = serializers.IntegerField()
    name = serializers.CharField()
    kit = KitSerializer()
    mode = serializers.CharField()
    simulated = serializers.BooleanField()
    window_days = serializers.IntegerField()
    targets = serializers.SerializerMethodField()
    currency = serializers.CharField()
    payment = serializers.CharField()
    demand = DemandOutputField(allow_null=True)
    status = serializers.ChoiceField(choices=TrialStatus.choices)
    failure_reason = serializers.CharField()
    progress = serializers.FloatField()
    verdict = serializers.SerializerMethodField()
    verdict_reason = serializers.CharField()
    best_arm = serializers.CharField()
    arms = ArmSerializer(many=True, source="arms.all")
    cash = CashSerializer(source="*")
    quote = serializers.IntegerField(source="quote_id", allow_null=True)
    order = serializers.IntegerField(source="order_id", allow_null=True)
    reorder_quote = serializers.IntegerField(source="reorder_quote_id", allow_null=True)
    task_id = serializers.CharField()
    days_to_verdict = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    selling_started_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(TargetsSerializer)
    def get_targets(self, trial) -> dict:
        return {"scale_at": str(trial.scale_at), "kill_below": str(trial.kill_below)}

    @extend_schema_field(serializers.ChoiceField(choices=TrialVerdict.choices, allow_null=True))
    def get_verdict(self, trial) -> str | None:
        return trial.verdict or None


def trial_output(trial) -> dict:
    return TrialOutputSerializer(trial).data


# --- Trials ----------------------------------------------------------------------------------


class TrialListCreateApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=TrialStatus.values),
            OpenApiParameter("verdict", OpenApiTypes.STR, enum=TrialVerdict.values),
            OpenApiParameter("mode", OpenApiTypes.STR, enum=TrialMode.values),
            OpenApiParameter("q", OpenApiTypes.STR, description="Search trial and kit names."),
        ],
        responses=TrialOutputSerializer(many=True),
    )
    def get(self, request):
        """The acting organisation's trials, newest first."""
        params = request.query_params
        qs = trial_list(
            organization=get_acting_organization(request),
            status=params.get("status") if params.get("status") in TrialStatus.values else None,
            verdict=params.get("verdict") if params.get("verdict") in TrialVerdict.values else None,
            mode=params.get("mode") if params.get("mode") in TrialMode.values else None,
            q=params.get("q") or None,
        )
        return paginated_response(self, request, qs, lambda page: [trial_output(x) for x in page])

    @extend_schema(request=TrialInputSerializer, responses={201: TrialOutputSerializer})
    def post(self, request):
        """A draft trial. `demand` only for simulated trials; targets are frozen once started."""
        data = TrialInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        org = get_acting_organization(request)
        targets = v.get("targets") or TargetsSerializer().to_internal_value({})
        trial = trial_create(
            organization=org, created_by=request.user, name=v["name"], kit=trial_kit_get(organization=org, kit_id=v["kit"]), mode=v["mode"],
            window_days=v["window_days"], scale_at=targets["scale_at"], kill_below=targets["kill_below"],
            arms=[dict(arm) for arm in v["arms"]], demand=_demand_dict(v.get("demand")), payment=v["payment"],
            order_id=v.get("order"),
        )
        return Response(trial_output(trial_get(organization=org, pk=trial.pk)), status=status.HTTP_201_CREATED)


class TrialDetailApi(APIView):
    class UpdateSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        window_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
        targets = TargetsSerializer(required=False)
        arms = ArmInputSerializer(many=True, allow_empty=False, required=False)
        demand = DemandSerializer(required=False, allow_null=True)

    @extend_schema(responses=TrialOutputSerializer)
    def get(self, request, pk: int):
        return Response(trial_output(trial_get(organization=get_acting_organization(request), pk=pk)))

    @extend_schema(request=UpdateSerializer, responses=TrialOutputSerializer)
    def patch(self, request, pk: int):
        """Edit a draft (name, window, targets, arms, demand model). 409 once started: the targets
        are frozen."""
        org = get_acting_organization(request)
        trial = trial_get(organization=org, pk=pk)
        data = self.UpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "targets" in changes:
            changes.update(changes.pop("targets"))
        if "arms" in changes:
            changes["arms"] = [dict(arm) for arm in changes["arms"]]
        if "demand" in changes:
            changes["demand"] = _demand_dict(changes["demand"])
        trial_update(trial=trial, **changes)
        return Response(trial_output(trial_get(organization=org, pk=pk)))


class TrialStartApi(APIView):
    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={202: inline_serializer("TrialStarted", {"task_id": serializers.CharField(),
                                                           "trial": serializers.IntegerField(),
                                                           "status": serializers.CharField()})},
    )
    def post(self, request, pk: int):
        """Queue the run in a Celery worker (after this request commits) and return at once; poll
        the trial for `status` and `progress`. 409 unless the trial is a draft."""
        org = get_acting_organization(request)
        trial = trial_get(organization=org, pk=pk)

        def execute():
            started = trial_start(trial=trial)
            task_started(user=request.user, task_id=started.task_id)  # its status is the starter's alone
            return status.HTTP_202_ACCEPTED, {"task_id": started.task_id, "trial": started.pk, "status": started.status}

        return idempotent_response(request, scope=f"org:{org.pk}", execute=execute)


class SaleEventSerializer(serializers.Serializer):
    arm = serializers.CharField(max_length=60, help_text="The arm's label.")
    units = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal(0))
    sold_at = serializers.DateTimeField()
    channel = serializers.CharField(max_length=60, required=False, default="", allow_blank=True)
    external_id = serializers.CharField(max_length=120, help_text="Your id for the sale: a retry with the same id is not counted twice.")


class SaleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    arm = serializers.CharField(source="arm.label")
    units = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    sold_at = serializers.DateTimeField()
    channel = serializers.CharField()
    external_id = serializers.CharField()
    created_at = serializers.DateTimeField()


class RepaymentSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The demand credit line.")
    due = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="The repayment share of the new sales' revenue.")
    swept = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="What moved from the wallet to the line.")
    short = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="What the wallet could not cover (still owed).")
    repayment = serializers.IntegerField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    stalled = serializers.CharField(allow_blank=True, help_text="Why the line is frozen for new draws, when sales stall.")


class TrialSalesApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class ArmSerializer(serializers.Serializer):
            label = serializers.CharField()
            units_sold = serializers.IntegerField()
            on_hand = serializers.IntegerField()

        accepted = serializers.IntegerField()
        duplicates = serializers.IntegerField(help_text="Events whose external_id was already recorded with the same content.")
        arms = ArmSerializer(many=True)
        status = serializers.CharField(help_text="The trial's status after this batch: `closed` when it stopped early.")
        verdict = serializers.CharField(allow_null=True)
        stopped_early = serializers.BooleanField(help_text="The sequential rule settled every arm before the window's end.")
        repayment = RepaymentSerializer(allow_null=True, help_text=(
            "A batch financed on demand credit: what this batch's sales swept to its line (null otherwise, "
            "and when every event was a replay)."))

    @extend_schema(responses=SaleOutputSerializer(many=True))
    def get(self, request, pk: int):
        """The sales recorded for a live trial, newest first (to reconcile with your channel)."""
        trial = trial_get(organization=get_acting_organization(request), pk=pk)
        return paginated_response(self, request, trial_sales_list(trial=trial), lambda page: SaleOutputSerializer(page, many=True).data)

    @extend_schema(request=SaleEventSerializer(many=True, allow_empty=False), parameters=[IDEMPOTENCY_PARAMETER], responses=OutputSerializer)
    def post(self, request, pk: int):
        """Live trials: record real sales and re-judge the trial at once (it may stop early). Idempotent
        per `external_id`; the same id with different content is a 409; any bad event rejects the
        whole batch (400) and records nothing; 409 for a simulated or not-selling trial."""
        org = get_acting_organization(request)
        trial = trial_get(organization=org, pk=pk)
        body = request.data.get("events") if isinstance(request.data, dict) else request.data
        data = SaleEventSerializer(data=body, many=True, allow_empty=False)
        data.is_valid(raise_exception=True)

        def execute():
            result = trial_sales_record(trial=trial, events=[dict(e) for e in data.validated_data])
            return status.HTTP_200_OK, self.OutputSerializer(result).data

        return idempotent_response(request, scope=f"org:{org.pk}", execute=execute)


class PriorSerializer(serializers.Serializer):
    alpha = serializers.FloatField()
    beta = serializers.FloatField()
    source = serializers.CharField(help_text="Whose closed trials it was fitted to, or `uniform` when too few.")
    trials_needed = serializers.IntegerField(required=False, help_text=(
        "Uniform priors: how many more closed trials of this mode and category would earn a fitted prior."))
    note = serializers.CharField(required=False, help_text="Uniform priors: which pools were too small, and by how much.")


class DemandEstimateSerializer(serializers.Serializer):
    daily_mean = serializers.FloatField(allow_null=True, help_text="Posterior mean of daily demand (not sales).")
    p10 = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)
    censored = serializers.BooleanField(help_text="Stock ran out: the estimate treats the sell-out day as 'at least'.")


class SequentialSerializer(serializers.Serializer):
    e_value = serializers.FloatField(help_text="Evidence that demand reaches the scale target (1 = none).")
    threshold = serializers.FloatField(help_text="Arms ÷ alpha: reaching it settles the arm as scale.")
    settled = serializers.JSONField(allow_null=True, help_text='{"by": "e_value"|"sold_out", "day", …} or null.')


class ReportSerializer(serializers.Serializer):
    """The shape of a trial report (documentation; the report is built by trials.selectors)."""

    class ArmSerializer(serializers.Serializer):
        class DaySerializer(serializers.Serializer):
            day = serializers.IntegerField()
            sold = serializers.IntegerField()
            on_hand = serializers.IntegerField()

        label = serializers.CharField()
        unit_price = serializers.CharField()
        units_received = serializers.IntegerField()
        units_sold = serializers.IntegerField()
        sell_through = serializers.FloatField()
        stockout_days = serializers.IntegerField()
        sellout_day = serializers.IntegerField(allow_null=True)
        censored = serializers.BooleanField(help_text="Sold out before the window ended: demand was higher than sales.")
        velocity = serializers.FloatField(help_text="Units per day over the days observed.")
        demand_per_in_stock_day = serializers.FloatField()
        estimated_window_demand = serializers.FloatField()
        revenue = serializers.CharField()
        cost = serializers.CharField()
        margin_per_stocked_unit = serializers.CharField()
        p_reach_scale = serializers.FloatField(allow_null=True, help_text="Null in an interim report.")
        p_below_kill = serializers.FloatField(allow_null=True, help_text="Null in an interim report.")
        projected_sell_through = serializers.FloatField(
            required=False, allow_null=True,
            help_text="Interim reports only: the in-stock sales rate carried over the whole window.")
        verdict = serializers.CharField(allow_null=True)
        reason = serializers.CharField()
        daily = DaySerializer(many=True)
        prior = PriorSerializer(help_text="The prior of the verdict's Beta posterior, frozen at start.")
        demand_estimate = DemandEstimateSerializer()
        sequential = SequentialSerializer(required=False, help_text="Live trials: the always-valid early-stop state.")

    class CashSerializer(serializers.Serializer):
        deployed = serializers.CharField()
        recovered = serializers.CharField()
        currency = serializers.CharField()

    class ReorderSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(allow_null=True, help_text="Null unless the verdict is scale.")
        horizon_days = serializers.IntegerField(help_text="The demand the reorder covers: this many days (one window).")
        service_level = serializers.FloatField(help_text="The probability that the quantity covers the horizon's demand.")
        why = serializers.CharField()
        suggested_quantity = serializers.IntegerField(allow_null=True, help_text="Same as quantity (kept for old clients).")
        quote = serializers.IntegerField(allow_null=True)

    trial = serializers.IntegerField()
    name = serializers.CharField()
    simulated = serializers.BooleanField()
    mode = serializers.CharField()
    status = serializers.CharField()
    failure_reason = serializers.CharField()
    final = serializers.BooleanField(help_text="False while the trial is open: an interim view without verdicts.")
    verdict = serializers.CharField(allow_null=True)
    reason = serializers.CharField()
    best_arm = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    window_days = serializers.IntegerField()
    days_observed = serializers.IntegerField()
    targets = TargetsSerializer()
    unit_cost = serializers.CharField()
    arms = ArmSerializer(many=True)
    cash = CashSerializer()
    reorder = ReorderSerializer()
    prior = PriorSerializer()
    stopped_early = serializers.BooleanField(help_text="Closed by the sequential rule before the window's end.")


class TrialReportApi(APIView):
    @extend_schema(responses=ReportSerializer)
    def get(self, request, pk: int):
        """Sell-through, velocity, stock-outs, posterior probabilities and verdict per arm; cash
        deployed and recovered. Frozen when the trial closes; interim before."""
        trial = trial_get(organization=get_acting_organization(request), pk=pk)
        return Response(trial_report(trial=trial))


class _Echo:
    def write(self, value):
        return value


class TrialReportCsvApi(APIView):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        """The daily metrics as CSV: one row per arm and day (`demand_simulated` only in simulated trials)."""
        trial = trial_get(organization=get_acting_organization(request), pk=pk)
        writer = export_csv_writer(_Echo())
        response = StreamingHttpResponse((writer.writerow(row) for row in trial_report_csv_rows(trial=trial)),
                                         content_type="text/csv")
        kind = "simulated" if trial.simulated else "live"
        response["Content-Disposition"] = f'attachment; filename="trial-{trial.pk}-{kind}-daily.csv"'
        return response


class TrialReorderQuoteApi(APIView):
    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False,
                                            help_text="Default: the report's suggested batch.")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kit = serializers.IntegerField(source="kit_id")
        quantity = serializers.IntegerField()
        currency = serializers.CharField()
        total = serializers.DecimalField(max_digits=14, decimal_places=2)
        unit_cost = serializers.DecimalField(max_digits=14, decimal_places=2)
        lead_time_days = serializers.IntegerField()
        valid_until = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, pk: int):
        """After a scale verdict: a quote for a larger batch of the same kit revision (409 otherwise)."""
        trial = trial_get(organization=get_acting_organization(request), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quote = trial_reorder_quote(trial=trial, user=request.user, quantity=data.validated_data.get("quantity"))
        return Response(self.OutputSerializer(quote).data, status=status.HTTP_201_CREATED)


class FinancingSerializer(serializers.Serializer):
    demand_p10 = serializers.IntegerField(help_text="Units the winning arm sells over the horizon in 9 of 10 futures.")
    reorder_units = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit_limit = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="0 when nothing is offered.")
    repayment_share = serializers.DecimalField(max_digits=4, decimal_places=3, help_text="Share of each sale's revenue that repays the line.")
    term_days = serializers.IntegerField(help_text="Days after delivery the draw falls due.")
    lender = serializers.CharField(help_text="Kitstreet, or the supplier that lends; empty when nothing is offered.")
    reason = serializers.CharField()
    currency = serializers.CharField()
    horizon_days = serializers.IntegerField()
    repayable = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="What the p10 demand repays, before the caps.")
    reorder_cost = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    reorder_cost_estimated = serializers.BooleanField()
    simulated = serializers.BooleanField()
    quantiles = serializers.DictField(child=serializers.IntegerField(), help_text="Horizon demand at p10, p50, p90.")
    ordered = serializers.JSONField(allow_null=True, help_text="The order placed on this offer, its line and what it owes.")


class TrialFinancingApi(APIView):
    @extend_schema(responses=FinancingSerializer)
    def get(self, request, pk: int):
        """The demand-backed credit a closed trial has earned: what its pessimistic (p10) demand
        would repay at its price after the repayment share, capped by the reorder's cost and the
        lender's room. Iterate, kill or open trials get a zero limit and the reason."""
        trial = trial_get(organization=get_acting_organization(request), pk=pk)
        return Response(FinancingSerializer(trial_financing_view(trial=trial)).data)


class CashPlanSerializer(serializers.Serializer):
    class WeekSerializer(serializers.Serializer):
        week = serializers.IntegerField(help_text="0 = the week the reorder is ordered.")
        out = serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2),
                                    help_text="Cash out by kind: deposits, balances, supplier_terms, assembly.")
        sales_in = serializers.DictField(source="in", child=serializers.DecimalField(max_digits=14, decimal_places=2),
                                         help_text="Sales in at p10, p50, p90.")
        own_cash = serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2),
                                         help_text="Cumulative own cash without demand credit, per scenario.")
        with_credit = serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True),
                                            help_text="Cumulative own cash with demand credit (null if not financed).")

    trial = serializers.IntegerField()
    currency = serializers.CharField()
    available = serializers.BooleanField()
    reason = serializers.CharField()
    financed = serializers.BooleanField(required=False)
    reorder_units = serializers.IntegerField(required=False)
    reorder_cost = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    delivery_week = serializers.IntegerField(required=False)
    due_week = serializers.IntegerField(required=False, allow_null=True)
    weeks = WeekSerializer(many=True)
    peak_own_cash = serializers.JSONField(help_text="{without_credit: {p10, p50, p90}, with_demand_credit: {…} or null}")


class TrialCashPlanApi(APIView):
    @extend_schema(responses=CashPlanSerializer)
    def get(self, request, pk: int):
        """Week by week, the reorder's cash out and in (sales at the forecast's p10/p50/p90), and the
        peak own cash the maker needs with and without demand credit."""
        trial = trial_get(organization=get_acting_organization(request), pk=pk)
        return Response(CashPlanSerializer(trial_cash_plan(trial=trial)).data)


class TrialRestockSplitApi(APIView):
    class InputSerializer(serializers.Serializer):
        units = serializers.IntegerField(min_value=1, max_value=100_000, help_text="Units to restock across the arms.")

    class OutputSerializer(serializers.Serializer):
        class ShareSerializer(serializers.Serializer):
            label = serializers.CharField()
            units = serializers.IntegerField()

        id = serializers.IntegerField()
        kind = serializers.CharField()
        units = serializers.IntegerField(source="payload.units")
        allocation = ShareSerializer(many=True, source="payload.allocation")
        reason = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, pk: int):
        """Split a restock across a selling trial's arms by Thompson sampling on posterior margin per
        unit; recorded as a decision with its reason (409 unless the trial is selling)."""
        trial = trial_get(organization=get_acting_organization(request), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = trial_restock_split(trial=trial, units=data.validated_data["units"], user=request.user)
        return Response(self.OutputSerializer(decision).data, status=status.HTTP_201_CREATED)


class TrialDraftForecastApi(APIView):
    class InputSerializer(serializers.Serializer):
        demand = DemandSerializer(required=False, help_text="Live drafts: your demand model (simulated drafts use theirs).")
        paths = serializers.IntegerField(min_value=100, max_value=50_000, default=10_000)

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT}, operation_id="v1_trials_draft_forecast_create")
    def post(self, request, pk: int):
        """Forecast a draft and keep it: the last forecast before the start is scored against what
        happened when the trial closes (the funnel's calibration). 409 once started."""
        trial = trial_get(organization=get_acting_organization(request), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        demand = _demand_dict(data.validated_data.get("demand")) or trial.demand
        if not demand:
            raise TrialInvalid({"demand": ["A live draft has no demand model: send one (at least base_daily)."]})
        if data.validated_data["paths"] * trial.window_days > 5_000_000:
            raise TrialInvalid({"paths": ["paths × window_days is at most 5,000,000."]})
        try:
            forecast = trial_forecast_record(trial=trial, demand=demand, paths=data.validated_data["paths"])
        except (KeyError, ValueError) as exc:
            raise TrialInvalid({"demand": [f"Invalid demand model: {exc}"]}) from exc
        return Response(forecast)


# --- Forecast and funnel ------------------------------------------------------------------------


class TrialForecastApi(APIView):
    class InputSerializer(TrialInputSerializer):
        name = serializers.CharField(max_length=200, required=False, default="")
        kit = serializers.IntegerField(required=False, help_text="Optional: the forecast needs only the demand model.")
        mode = serializers.ChoiceField(choices=TrialMode.choices, required=False, default=TrialMode.SIMULATED)
        demand = DemandSerializer()
        paths = serializers.IntegerField(min_value=100, max_value=100_000, default=10_000)

        def validate(self, attrs):
            from trials.demand import MAX_CELLS_PER_ARM

            if attrs["paths"] * attrs["window_days"] > MAX_CELLS_PER_ARM:
                raise serializers.ValidationError(
                    {"paths": [f"paths × window_days is at most {MAX_CELLS_PER_ARM:,}: use fewer paths for a long window."]})
            _check_demand(attrs["demand"], attrs["arms"])
            return attrs

    class OutputSerializer(serializers.Serializer):
        class ArmSerializer(serializers.Serializer):
            class QuantilesSerializer(serializers.Serializer):
                p10 = serializers.FloatField()
                p50 = serializers.FloatField()
                p90 = serializers.FloatField()

            label = serializers.CharField()
            units = serializers.IntegerField()
            unit_price = serializers.CharField()
            mean_daily_demand = serializers.FloatField()
            sell_through = QuantilesSerializer()
            p_scale = serializers.FloatField(help_text="Share of paths the verdict rule would call scale.")
            p_kill = serializers.FloatField(help_text="Share of paths the verdict rule would call kill.")
            p_sellout = serializers.FloatField()
            median_cumulative = serializers.ListField(child=serializers.IntegerField())

        forecast = serializers.BooleanField()
        prior = PriorSerializer(help_text="The prior behind P(scale) and P(kill): the one a trial of this kit would start with (uniform without a kit).")
        simulated = serializers.BooleanField()
        paths = serializers.IntegerField()
        window_days = serializers.IntegerField()
        targets = TargetsSerializer()
        demand = serializers.JSONField()
        arms = ArmSerializer(many=True)
        note = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        """Monte Carlo over the demand model (vectorised; 10,000 paths by default) before any money
        is committed: p10/p50/p90 sell-through and P(scale), P(kill) per arm. A forecast, not a result.
        With a `kit` the forecast is kept: a trial of the same plan (mode, window, targets, arms) started
        later without a forecast of its own is scored against it when it closes."""
        org = get_acting_organization(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        targets = v.get("targets") or TargetsSerializer().to_internal_value({})
        if not targets["kill_below"] < targets["scale_at"]:
            raise TrialInvalid({"targets": ["kill_below must be below scale_at."]})
        # With a kit, P(scale) and P(kill) use the prior a trial of it would start with.
        prior = (trial_prior(organization=org, kit=trial_kit_get(organization=org, kit_id=v["kit"]), mode=v["mode"])
                 if v.get("kit") else UNIFORM)
        forecast = trial_forecast(
            arms=[dict(arm) for arm in v["arms"]], demand=_demand_dict(v["demand"]), window_days=v["window_days"],
            scale_at=targets["scale_at"], kill_below=targets["kill_below"], paths=v["paths"], prior=prior,
        )
        if v.get("kit"):  # kept: a trial of this plan started later is scored against it
            plan_forecast_record(organization=org, kit=trial_kit_get(organization=org, kit_id=v["kit"]), mode=v["mode"],
                                 window_days=v["window_days"], scale_at=targets["scale_at"],
                                 kill_below=targets["kill_below"], arms=[dict(arm) for arm in v["arms"]], forecast=forecast)
        return Response({**forecast, "demand": demand_output(forecast["demand"])})


FLAGS = {"true": True, "1": True, "false": False, "0": False}


class TrialFunnelApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class CashSerializer(serializers.Serializer):
            currency = serializers.CharField()
            deployed = serializers.CharField()
            recovered = serializers.CharField()

        class CalibrationSerializer(serializers.Serializer):
            class BinSerializer(serializers.Serializer):
                lo = serializers.FloatField()
                hi = serializers.FloatField()
                n = serializers.IntegerField()
                forecast = serializers.FloatField(help_text="Mean forecast probability in the bin.")
                observed = serializers.FloatField(help_text="How often it happened.")

            forecasts_scored = serializers.IntegerField(help_text="Closed trials that had a forecast before they started.")
            arms_scored = serializers.IntegerField()
            p10_p90_coverage = serializers.FloatField(allow_null=True, help_text="Share of arms whose sell-through fell in the forecast's p10–p90 (about 0.8 if calibrated).")
            brier_scale = serializers.FloatField(allow_null=True, help_text="Mean (P(scale) − scaled)²: 0 is perfect, 0.25 is a coin.")
            brier_kill = serializers.FloatField(allow_null=True)
            reliability = serializers.DictField(child=BinSerializer(many=True), help_text="Bins of P(scale) and P(kill) for the reliability chart.")

        simulated = serializers.BooleanField(help_text="The filter applied: live trials unless ?simulated=true.")
        calibration = CalibrationSerializer()
        trials = serializers.IntegerField()
        by_mode = serializers.DictField(child=serializers.IntegerField())
        stages = serializers.DictField(child=serializers.IntegerField())
        by_verdict = serializers.DictField(child=serializers.IntegerField())
        hit_rate = serializers.FloatField(allow_null=True, help_text="Scale verdicts ÷ judged trials.")
        median_days_to_verdict = serializers.FloatField(allow_null=True)
        cash = CashSerializer(many=True)
        cash_total = serializers.DictField(allow_null=True, help_text="`cash` converted into CNY at the rates in force "
                                           "(`currency`, `deployed`, `recovered`, `rates` used); null when a rate is missing.")

    @extend_schema(
        parameters=[OpenApiParameter("simulated", OpenApiTypes.BOOL, description="Simulated trials (true) instead of live ones (false, the default).")],
        responses=OutputSerializer,
    )
    def get(self, request):
        """The funnel of live trials (or simulated ones with ?simulated=true: never both, so simulated
        cash is never added to real cash), with the forecasts' calibration."""
        flag = (request.query_params.get("simulated") or "false").lower()
        if flag not in FLAGS:
            raise serializers.ValidationError({"simulated": ["Use true or false."]})
        return Response(trial_funnel(organization=get_acting_organization(request), simulated=FLAGS[flag]))


# --- Webhooks ----------------------------------------------------------------------------------


class WebhookOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    secret = serializers.CharField(help_text="Verify X-Kitstreet-Signature with it (HMAC-SHA256 of '<t>.' + body).")
    created_at = serializers.DateTimeField()


class WebhookListCreateApi(APIView):
    required_roles = {"POST": Role.ADMIN}  # managing credit, terms and webhooks is for admins
    class InputSerializer(serializers.Serializer):
        url = serializers.URLField(max_length=500)

    @extend_schema(responses=WebhookOutputSerializer(many=True))
    def get(self, request):
        qs = webhook_endpoint_list(organization=get_acting_organization(request))
        return paginated_response(self, request, qs, lambda page: WebhookOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: WebhookOutputSerializer})
    def post(self, request):
        """Register a URL: on every verdict of your trials Kitstreet POSTs a signed `trial.verdict`
        event to it, retried with exponential backoff until it answers 2xx."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_create(organization=get_acting_organization(request), url=data.validated_data["url"])
        return Response(WebhookOutputSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDeleteApi(APIView):
    required_roles = {"DELETE": Role.ADMIN}  # managing credit, terms and webhooks is for admins
    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        from django.shortcuts import get_object_or_404

        endpoint = get_object_or_404(webhook_endpoint_list(organization=get_acting_organization(request)), pk=pk)
        webhook_endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)
