"""HTML pages of the trials app, as thin as the APIs: they parse the form, call a service or a
selector, and render. Simulated trials are labelled as such on every page."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from config.exports import export_csv_writer
from config.api import validation_error_detail
from config.errors import StateConflict
from organizations.access import get_acting_organization
from organizations.models import Role
from trials import charts
from trials.api import TrialInputSerializer, _demand_dict, _Echo
from trials.models import TrialMode, TrialStatus, TrialVerdict
from trials.selectors import (
    trial_forecast,
    trial_funnel,
    trial_get,
    trial_kit_get,
    trial_list,
    trial_report,
    trial_report_csv_rows,
    trial_sales_list,
    trial_visible_kit_list,
    webhook_delivery_list,
    webhook_endpoint_list,
)
from trials.services import (
    trial_create,
    trial_forecast_record,
    trial_reorder_quote,
    trial_restock_split,
    trial_start,
    webhook_endpoint_create,
    webhook_endpoint_delete,
)

ARM_ROWS = 3


@login_required
def trial_list_view(request):
    org = get_acting_organization(request)
    params = request.GET
    qs = trial_list(
        organization=org,
        status=params.get("status") if params.get("status") in TrialStatus.values else None,
        verdict=params.get("verdict") if params.get("verdict") in TrialVerdict.values else None,
        mode=params.get("mode") if params.get("mode") in TrialMode.values else None,
        q=params.get("q") or None,
    )
    page = Paginator(qs, 25).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(request, "trials/trial_list.html", {
        "page": page, "statuses": TrialStatus.choices, "verdicts": TrialVerdict.choices, "modes": TrialMode.choices,
        "filters": params, "query": query.urlencode(), "any_trials": trial_list(organization=org).exists(),
    })


def _form_payload(post) -> dict:
    """The HTML form's flat fields in the API's shape, so both validate the same way."""
    arms = []
    for i in range(ARM_ROWS):
        label, price, units = (post.get(f"arm{i}_{f}", "").strip() for f in ("label", "price", "units"))
        if label or price or units:
            arms.append({"label": label, "unit_price": price, "units": units})
    payload = {
        "name": post.get("name", ""), "kit": post.get("kit") or None, "mode": post.get("mode", ""),
        "window_days": post.get("window_days") or None, "payment": post.get("payment", "deposit"),
        "targets": {"scale_at": post.get("scale_at") or "0.8", "kill_below": post.get("kill_below") or "0.3"},
        "arms": arms,
    }
    if payload["mode"] == TrialMode.SIMULATED:
        demand = {k: post.get(k) for k in ("base_daily", "dispersion", "reference_price", "elasticity", "seed") if post.get(k)}
        payload["demand"] = demand or {}
    return payload


def _flatten_errors(detail, prefix="") -> list[str]:
    if isinstance(detail, dict):
        return [m for k, v in detail.items()
                for m in _flatten_errors(v, f"{FIELD_LABELS.get(k, k.replace('_', ' ').capitalize())}: " if k != "non_field_errors" else "")]
    if isinstance(detail, list):
        return [m for i, v in enumerate(detail) for m in _flatten_errors(v, prefix if not isinstance(v, dict) else f"{prefix}#{i + 1} ")]
    return [f"{prefix}{detail}"]


# The form's words for the API's fields: a message names what the user sees, not `unit_price`.
FIELD_LABELS = {
    "name": "Name", "kit": "Kit", "mode": "Mode", "window_days": "Window (days)", "payment": "Live trials pay by",
    "scale_at": "Scale at sell-through", "kill_below": "Kill below", "label": "label", "unit_price": "unit price",
    "units": "units", "base_daily": "Base daily demand", "dispersion": "Dispersion k",
    "reference_price": "Reference price", "elasticity": "Elasticity", "seed": "Seed",
}


def _form_errors(detail, post) -> tuple[list[str], set[str]]:
    """API error detail -> (messages in the form's words, names of the inputs to highlight)."""
    rows = [i for i in range(ARM_ROWS) if any(post.get(f"arm{i}_{f}", "").strip() for f in ("label", "price", "units"))]
    messages_, invalid = [], set()

    def add(field: str, label: str, errors) -> None:
        invalid.add(field)
        messages_.extend(f"{label}: {m}" if label else str(m) for m in _flatten_errors(errors))

    for key, value in detail.items():
        if key == "targets" and not isinstance(value, dict):  # the service's rule across both targets
            invalid.update({"scale_at", "kill_below"})
            messages_.append("Kill below must be less than Scale at sell-through; both are fractions from 0 to 1.")
        elif key in ("targets", "demand") and isinstance(value, dict):
            for sub, errors in value.items():
                add(sub, FIELD_LABELS.get(sub, sub), errors)
        elif key == "arms":
            # Per-arm errors arrive as a list (one dict per arm) or as {index: dict}.
            per_arm = dict(enumerate(value)) if isinstance(value, list) else value if isinstance(value, dict) else {}
            if per_arm and all(isinstance(v, dict) for v in per_arm.values()):
                for index, arm_errors in per_arm.items():
                    index = int(index)
                    row = rows[index] if index < len(rows) else index
                    for sub, errors in arm_errors.items():
                        field = f"arm{row}_{'price' if sub == 'unit_price' else sub}"
                        add(field, f"Arm {row + 1} {FIELD_LABELS.get(sub, sub)}", errors)
            else:
                add("arm0_label", "Arms", ["Fill in at least one arm: a label, a unit price and a number of units."]
                    if not rows else value)
        elif key == "non_field_errors":
            add("", "", value)
        else:
            add(key, FIELD_LABELS.get(key, key.replace("_", " ").capitalize()), value)
    invalid.discard("")
    return messages_, invalid


@login_required
def trial_create_view(request):
    org = get_acting_organization(request)
    kits = trial_visible_kit_list(organization=org)
    errors, invalid = [], set()
    values = request.POST if request.method == "POST" else {"kit": request.GET.get("kit", "")}
    if request.method == "POST":
        data = TrialInputSerializer(data=_form_payload(request.POST))
        if data.is_valid():
            v = data.validated_data
            try:
                targets = v.get("targets") or {"scale_at": Decimal("0.8"), "kill_below": Decimal("0.3")}
                trial = trial_create(
                    organization=org, created_by=request.user, name=v["name"], kit=trial_kit_get(organization=org, kit_id=v["kit"]), mode=v["mode"],
                    window_days=v["window_days"], scale_at=targets["scale_at"], kill_below=targets["kill_below"],
                    arms=[dict(a) for a in v["arms"]], demand=_demand_dict(v.get("demand")), payment=v["payment"],
                )
            except ValidationError as exc:
                errors, invalid = _form_errors(validation_error_detail(exc), request.POST)
            else:
                messages.success(request, "Draft saved. Forecast it, then start it when you are ready.")
                return redirect("trials:trial-detail", pk=trial.pk)
        else:
            errors, invalid = _form_errors(data.errors, request.POST)
    return render(request, "trials/trial_form.html", {
        "kits": kits, "errors": errors, "invalid": invalid, "values": values, "modes": TrialMode.choices,
        "arm_rows": [{"i": i, **{f: values.get(f"arm{i}_{f}", "") for f in ("label", "price", "units")},
                      "invalid": {f for f in ("label", "price", "units") if f"arm{i}_{f}" in invalid}} for i in range(ARM_ROWS)],
    })


def _financing_context(trial) -> dict:
    """The trial page's financing: the offer and cash plan of a closed trial, the line a live
    trial's financed batch repays."""
    from credit.services.demand import demand_line_figures
    from trials.selectors.financing import trial_cash_plan, trial_financing_view
    from trials.services.financing import tracked_line

    out = {}
    if trial.status == TrialStatus.CLOSED:
        out["financing"] = trial_financing_view(trial=trial)
        if trial.verdict == TrialVerdict.SCALE:
            out["cash_plan"] = trial_cash_plan(trial=trial)
    line = tracked_line(trial)
    if line is not None:
        out["tracked_line"] = demand_line_figures(line=line)
    return out


def _detail_context(request, trial, **extra) -> dict:
    report = trial_report(trial=trial)
    extra = {**_financing_context(trial), **extra}
    return {
        "trial": trial, "report": report, "charts": charts.report_charts(report),
        "arms": list(trial.arms.all()), "deliveries": webhook_delivery_list(trial=trial)[:10],
        "sales": [] if trial.simulated else trial_sales_list(trial=trial)[:10],
        "decisions": list(trial.decisions.all()[:10]), **extra,
    }


@login_required
def trial_detail_view(request, pk: int):
    trial = trial_get(organization=get_acting_organization(request), pk=pk)
    return render(request, "trials/trial_detail.html", _detail_context(request, trial))


@login_required
def trial_progress_view(request, pk: int):
    """Polled by the trial page while the run is in a worker."""
    trial = trial_get(organization=get_acting_organization(request), pk=pk)
    return JsonResponse({"status": trial.status, "progress": trial.progress, "simulated": trial.simulated,
                         "open": trial.is_open})


@login_required
@require_POST
def trial_start_view(request, pk: int):
    trial = trial_get(organization=get_acting_organization(request), pk=pk)
    try:
        trial_start(trial=trial)
    except StateConflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Started: a worker is running the trial now." if trial.simulated else
                         "Started: the batch is being quoted and ordered; selling starts when the order is delivered.")
    return redirect("trials:trial-detail", pk=pk)


@login_required
@require_POST
def trial_forecast_view(request, pk: int):
    trial = trial_get(organization=get_acting_organization(request), pk=pk)
    demand = trial.demand
    if not demand:
        try:
            demand = {"base_daily": float(request.POST.get("base_daily", "")), "seed": 0}
        except ValueError:
            messages.error(request, "A live trial has no demand model: enter an expected daily demand to forecast it.")
            return redirect("trials:trial-detail", pk=pk)
    arms = [{"label": a.label, "unit_price": a.unit_price, "units": a.units} for a in trial.arms.all()]
    try:
        if trial.status == TrialStatus.DRAFT:  # kept on the draft, scored when the trial closes
            forecast = trial_forecast_record(trial=trial, demand=demand)
        else:
            forecast = trial_forecast(arms=arms, demand=demand, window_days=trial.window_days,
                                      scale_at=trial.scale_at, kill_below=trial.kill_below)
    except (ValueError, InvalidOperation, KeyError):
        messages.error(request, "Expected daily demand must be a positive number.")
        return redirect("trials:trial-detail", pk=pk)
    return render(request, "trials/trial_detail.html",
                  _detail_context(request, trial, forecast=forecast, forecast_chart=charts.forecast_chart(forecast)))


@login_required
@require_POST
def trial_reorder_view(request, pk: int):
    trial = trial_get(organization=get_acting_organization(request), pk=pk)
    try:
        quote = trial_reorder_quote(trial=trial, user=request.user)
    except StateConflict as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(_flatten_errors(validation_error_detail(exc))))
    else:
        messages.success(request, f"Reorder quote #{quote.pk}: {quote.quantity:,} units, {quote.currency} {quote.total:,} "
                                  f"({quote.currency} {quote.unit_cost} a unit). Review it below and order it.")
        return redirect(reverse("marketplace:quote-detail", args=[quote.pk]) + "#order")
    return redirect("trials:trial-detail", pk=pk)


@login_required
@require_POST
def trial_demand_order_view(request, pk: int):
    """Order the reorder quote on the credit the trial's demand earned (the same service as
    POST /api/v1/orders/ with `payment: demand_credit`)."""
    from marketplace.orders.services import order_place

    trial = trial_get(organization=get_acting_organization(request), pk=pk)
    if not trial.reorder_quote_id:
        messages.error(request, "Quote the reorder first.")
        return redirect("trials:trial-detail", pk=pk)
    try:
        order = order_place(buyer=trial.organization, placed_by=request.user, payment="demand_credit",
                            quote=trial.reorder_quote, financing=trial.pk)
    except StateConflict as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(_flatten_errors(validation_error_detail(exc))))
    else:
        messages.success(request, f"Order {order.pk} placed on demand credit: {order.currency} {order.total:,}, no cash "
                                  "needed; each sale of the batch repays its share.")
        return redirect("marketplace:order-detail", pk=order.pk)
    return redirect("trials:trial-detail", pk=pk)


@login_required
def trial_report_csv_view(request, pk: int):
    trial = trial_get(organization=get_acting_organization(request), pk=pk)
    writer = export_csv_writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(r) for r in trial_report_csv_rows(trial=trial)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="trial-{trial.pk}-{"simulated" if trial.simulated else "live"}-daily.csv"'
    return response


@login_required
def funnel_view(request):
    org = get_acting_organization(request)
    flag = "true" if request.GET.get("simulated") == "true" else "false"
    simulated = flag == "true"
    funnel = trial_funnel(organization=org, simulated=simulated)
    calibration = funnel["calibration"]
    reliability = charts.reliability_chart(calibration["reliability"]) if calibration["arms_scored"] else None
    stages, verdicts = funnel["stages"], funnel["by_verdict"]
    chart = charts.funnel_chart([
        ("Started", stages["started"], "#495057"),
        ("Judged", stages["judged"], "#1f6feb"),
        ("Not killed", verdicts["scale"] + verdicts["iterate"], "#9a6700"),
        ("Scale (hits)", verdicts["scale"], "#1a7f37"),
    ]) if funnel["trials"] else None
    closed = trial_list(organization=org, status=TrialStatus.CLOSED, mode=TrialMode.SIMULATED if simulated else TrialMode.LIVE)
    page = Paginator(closed, 25).get_page(request.GET.get("page"))
    return render(request, "trials/funnel.html", {"funnel": funnel, "chart": chart, "page": page, "flag": flag,
                                                  "calibration": calibration, "reliability": reliability})


@login_required
def webhook_list_view(request):
    org = get_acting_organization(request, role=Role.ADMIN if request.method == "POST" else None)
    if request.method == "POST":
        try:
            if request.POST.get("delete"):
                endpoint = get_object_or_404(webhook_endpoint_list(organization=org), pk=request.POST["delete"])
                webhook_endpoint_delete(endpoint=endpoint)
                messages.success(request, "Webhook removed.")
            else:
                endpoint = webhook_endpoint_create(organization=org, url=request.POST.get("url", "").strip())
                messages.success(request, f"Webhook registered. Its signing secret is {endpoint.secret}.")
        except ValidationError as exc:
            messages.error(request, " ".join(_flatten_errors(validation_error_detail(exc))))
        return redirect(reverse("trials:webhooks"))
    return render(request, "trials/webhooks.html", {"endpoints": webhook_endpoint_list(organization=org)})



@login_required
@require_POST
def trial_restock_split_view(request, pk: int):
    trial = trial_get(organization=get_acting_organization(request), pk=pk)
    try:
        units = int(request.POST.get("units", ""))
        decision = trial_restock_split(trial=trial, units=units, user=request.user)
    except ValueError:
        messages.error(request, "Enter a whole number of units to restock.")
    except StateConflict as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(_flatten_errors(validation_error_detail(exc))))
    else:
        messages.success(request, "Restock split: " + ", ".join(
            f"{a['label']} {a['units']}" for a in decision.payload["allocation"]) + ".")
    return redirect("trials:trial-detail", pk=pk)
