"""Demand-backed credit, the trials side: a proven trial's reorder ordered on the credit its demand
earned, that batch's sales repaying it, and the line frozen while those sales stall.

The marketplace places the order (`payment: "demand_credit"`) and asks the financer registered for
that payment (`trial_reorder_finance`, registered in trials.apps) for the line, inside the order's
transaction: a refusal here rolls the whole order back. Credit keeps the money (credit.services.demand).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from credit.models import CreditLine
from credit.services.demand import demand_line_for_order, demand_line_open, demand_line_stall, demand_sweep
from trials.exceptions import TrialInvalid
from trials.models import Trial, TrialStatus, TrialVerdict

STALL_GRACE_DAYS = 7  # a tracked batch is not judged stalled in its first week


def _field_error(message: str) -> TrialInvalid:
    return TrialInvalid({"trial": [message]})


@transaction.atomic
def trial_reorder_finance(*, buyer, order, quote, reference) -> CreditLine:
    """Open the demand line of trial `reference` for `order` (already created, not yet paid):
    the trial must be the buyer's, closed with a scale verdict, the order from a quote of the
    trial's kit in its currency, and within the offer's limit. Refused: 400 (nothing kept);
    a second live order on the same trial: 409."""
    from trials.selectors.financing import trial_financing

    try:
        trial_id = int(reference)
    except (TypeError, ValueError):
        raise _field_error("Name the trial whose demand finances this order.") from None
    trial = (Trial.objects.select_for_update(of=("self",)).select_related("kit", "reorder_quote", "quote")
             .filter(pk=trial_id, organization=buyer).first())
    if trial is None:
        raise _field_error("Unknown trial.")
    if trial.status != TrialStatus.CLOSED or trial.verdict != TrialVerdict.SCALE:
        state = trial.get_verdict_display().lower() if trial.verdict else trial.get_status_display().lower()
        raise _field_error(f"Trial {trial.pk} is {state}: only a trial judged scale earns demand credit.")
    if quote is None or quote.kit_id != trial.kit_id:
        raise _field_error(f"Order the reorder from a quote of the trial's kit (“{trial.kit.name}”), e.g. its reorder quote.")
    if order.currency != trial.currency:
        raise _field_error(f"The trial's credit is in {trial.currency}; quote the reorder in {trial.currency}.")
    offer = trial_financing(trial=trial)
    if offer.credit_limit <= 0:
        raise _field_error(offer.reason)
    if order.total > offer.credit_limit:
        raise TrialInvalid({"payment": [
            f"The order costs {order.total} {order.currency}, over the {offer.credit_limit} {order.currency} the trial's "
            f"demand supports ({offer.reason}) Order fewer units, or pay the rest another way."
        ]})
    lender = None
    if offer.lender_id is not None:
        from organizations.models import Organization

        lender = Organization.objects.get(pk=offer.lender_id)
    line = demand_line_open(buyer=buyer, lender=lender, trial_id=trial.pk, order_id=order.pk, currency=trial.currency,
                            limit=offer.credit_limit, repayment_share=offer.repayment_share, terms_days=offer.term_days)
    trial.financing = {**offer.as_dict(), "order": order.pk, "line": line.pk, "ordered_at": timezone.now().isoformat()}
    trial.save(update_fields=["financing", "updated_at"])
    return line


def tracked_line(trial: Trial) -> CreditLine | None:
    """The demand line that financed the batch this live trial sells, if any."""
    if trial.simulated or not trial.order_id:
        return None
    return demand_line_for_order(order_id=trial.order_id)


def sales_sweep(*, trial: Trial, events) -> dict | None:
    """Inside the sales batch's transaction: sweep the line's share of the new events' revenue
    (once: the reference is the batch's first event, and events are new only once), then check
    the pace. Returns what moved, for the response."""
    line = tracked_line(trial)
    if line is None or not events:
        return None
    first = min(event.pk for event in events)
    sweep = demand_sweep(order_id=trial.order_id, revenues=[event.unit_price * event.units for event in events],
                         reference=f"trial-sales:{trial.pk}:{first}")
    stall = stall_check(trial=trial, line=line)
    return {**(sweep.as_dict() if sweep else {}), "stalled": stall}


def _expected_by(trial: Trial, line: CreditLine, day: int) -> int | None:
    """The financed forecast's pessimistic pace: its p10 demand over the horizon, pro rata."""
    source = Trial.objects.filter(pk=line.trial_id).only("financing", "window_days").first()
    financing = (source.financing or {}) if source else {}
    p10, horizon = financing.get("demand_p10"), financing.get("horizon_days")
    if not p10 or not horizon:
        return None
    return int(int(p10) * min(day, int(horizon)) / int(horizon))


def stall_check(*, trial: Trial, line: CreditLine | None = None, now: datetime | None = None) -> str:
    """Freeze the line's new draws while the tracked batch sells below the forecast's p10 pace
    (after a week of selling), and lift that freeze when it is back on pace. Returns the reason
    when stalled, else ""."""
    line = line or tracked_line(trial)
    if line is None or trial.status not in (TrialStatus.SELLING, TrialStatus.CLOSED) or not trial.selling_started_at:
        return ""
    now = now or timezone.now()
    end = min(now, trial.ends_at or now)
    day = max(0, (end - trial.selling_started_at) // timedelta(days=1))
    expected = _expected_by(trial, line, day)
    if expected is None:
        return ""
    sold = sum(arm.units_sold for arm in trial.arms.all())
    stalled = day >= STALL_GRACE_DAYS and sold < expected
    reason = (f"{sold:,} units sold in {day} days of trial {trial.pk}, below the {expected:,} the financed forecast's "
              f"p10 expected by now" if stalled else "")
    demand_line_stall(line=line, stalled=stalled, reason=reason)
    return reason
