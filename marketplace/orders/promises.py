"""What a vendor promises on each purchase order, from its order terms: confirm within
`confirm_within_hours` (48 by default), ship within `ship_within_days` (by default the longest lead
time of the order's listings, at least a day), and a late credit per day late, capped.

The promise is copied onto the purchase order when it is placed (`confirm_by`, `ship_by` and the
late-credit terms), so later changes of terms never move an order's deadlines; `ship_by` is set
again from the confirmation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from marketplace.catalogue.models import VendorOrderTerms
from marketplace.orders.models import PurchaseOrder

DEFAULT_CONFIRM_HOURS = 48
MIN_SHIP_DAYS = 1  # "on the shelf" (lead time 0) still ships the next day at the latest
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Promise:
    confirm_within_hours: int = DEFAULT_CONFIRM_HOURS
    ship_within_days: int = MIN_SHIP_DAYS
    late_credit_percent_per_day: Decimal = Decimal("0")
    late_credit_cap_percent: Decimal = Decimal("0")


def promises_for(*, lead_days: dict[int, int]) -> dict[int, Promise]:
    """The promise of each vendor (by id) given the longest lead time of its lines."""
    terms = {t.vendor_id: t for t in VendorOrderTerms.objects.filter(vendor_id__in=list(lead_days))}
    promises = {}
    for vendor_id, lead in lead_days.items():
        t = terms.get(vendor_id)
        days = t.ship_within_days if t is not None and t.ship_within_days is not None else lead
        promises[vendor_id] = Promise(
            confirm_within_hours=t.confirm_within_hours if t is not None else DEFAULT_CONFIRM_HOURS,
            ship_within_days=max(days, MIN_SHIP_DAYS),
            late_credit_percent_per_day=t.late_credit_percent_per_day if t is not None else Decimal("0"),
            late_credit_cap_percent=t.late_credit_cap_percent if t is not None else Decimal("0"),
        )
    return promises


def promise_apply(po: PurchaseOrder, promise: Promise, *, placed_at: datetime) -> None:
    """Copy the promise onto a new purchase order (not saved here)."""
    po.confirm_by = placed_at + timedelta(hours=promise.confirm_within_hours)
    po.ship_within_days = promise.ship_within_days
    po.ship_by = placed_at + timedelta(days=promise.ship_within_days)
    po.late_credit_percent_per_day = promise.late_credit_percent_per_day
    po.late_credit_cap_percent = promise.late_credit_cap_percent


def days_late(*, ship_by: datetime | None, shipped_at: datetime) -> int:
    """Whole days (started) after `ship_by`; 0 when on time."""
    if ship_by is None or shipped_at <= ship_by:
        return 0
    return math.ceil((shipped_at - ship_by) / timedelta(days=1))


def late_credit(po: PurchaseOrder, *, days: int) -> Decimal:
    """The vendor's late credit on this order: `percent_per_day × days` of its total, capped."""
    if days <= 0 or po.late_credit_percent_per_day <= 0:
        return Decimal("0.00")
    percent = min(po.late_credit_percent_per_day * days, po.late_credit_cap_percent, Decimal("100"))
    return (po.total * percent / Decimal("100")).quantize(CENT, ROUND_HALF_EVEN)
