"""The market's own clock: the deadline sweep and the simulated counterparty of demo stalls.

`market_deadlines_sweep` is what the beat task (`marketplace.tasks.market_deadlines_task`) and
`manage.py market_deadlines [--as-of ISO-8601]` both run. As of a moment it
- cancels every purchase order still unconfirmed at its `confirm_by` (`purchase_order_expire`:
  the deposit refunded or the credit reservation released, the stock returned, one transaction
  per order), and offers the buyer a re-source of its lines without that vendor;
- reports once, in both feeds, every purchase order still shipping after its `ship_by`
  (`po.overdue`); the late credit itself is earned when the last unit ships.
Each order is re-checked under its lock, so running the sweep twice (or two at once) moves
nothing twice. A sweep as of a moment before one already swept is refused: deadlines are only
ever applied forward, so a backfill cannot undo what a later sweep saw.

`simulated_counterparty_run` plays the supplier for demo organisations nobody logs in to
(`Organization.simulated`): it confirms their orders a few minutes after they are placed and
ships them (tracked, lot-coded, marked simulated) a little later, so a demo order or trial never
waits on nobody.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from config.errors import DomainValidationError, StateConflict
from marketplace.exceptions import SweepInThePast
from marketplace.orders.models import MarketSweep, OrderStatus, PurchaseOrder
from marketplace.orders.services import po_event, purchase_order_confirm, purchase_order_expire, shipment_create

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    as_of: datetime
    expired: list[int]
    overdue: list[int]


def last_swept() -> datetime | None:
    return MarketSweep.objects.aggregate(latest=Max("as_of"))["latest"]


def market_deadlines_sweep(*, as_of: datetime | None = None) -> SweepResult:
    """Apply every deadline due as of `as_of` (now by default). Raises SweepInThePast for a
    moment before the latest sweep (nothing is changed)."""
    as_of = as_of or timezone.now()
    if timezone.is_naive(as_of):
        raise SweepInThePast({"as_of": ["Give the moment with its time zone (e.g. 2026-12-07T06:00:00+00:00)."]})
    latest = last_swept()
    if latest is not None and as_of < latest:
        raise SweepInThePast({"as_of": [
            f"The market was already swept as of {latest.isoformat()}; a sweep as of {as_of.isoformat()} would be "
            "in its past. Sweep as of that moment or later."]})
    expired = []
    due = PurchaseOrder.objects.filter(status=OrderStatus.PLACED, confirm_by__lte=as_of).order_by("pk")
    for po in due.only("pk", "order_id"):
        if purchase_order_expire(purchase_order=po, as_of=as_of) is not None:
            expired.append(po.pk)
    overdue = []
    late = (PurchaseOrder.objects.filter(status__in=[OrderStatus.CONFIRMED, OrderStatus.PARTLY_SHIPPED], ship_by__lte=as_of)
            .select_related("order", "vendor").order_by("pk"))
    for po in late:
        with transaction.atomic():
            po_event(po, "po.overdue", at=as_of, days_late=max((as_of - po.ship_by) // timedelta(days=1), 0))
        overdue.append(po.pk)
    MarketSweep.objects.create(as_of=as_of, expired=len(expired), overdue=len(overdue))
    return SweepResult(as_of=as_of, expired=expired, overdue=overdue)


def simulated_counterparty_run(*, now: datetime | None = None) -> dict[str, int]:
    """Confirm and ship for simulated vendors whose orders have waited the configured delays."""
    now = now or timezone.now()
    confirm_after = timedelta(minutes=getattr(settings, "SIMULATED_CONFIRM_AFTER_MINUTES", 5))
    ship_after = timedelta(minutes=getattr(settings, "SIMULATED_SHIP_AFTER_MINUTES", 30))
    done = {"confirmed": 0, "shipped": 0}
    mine = PurchaseOrder.objects.filter(vendor__simulated=True).select_related("vendor").order_by("pk")
    for po in mine.filter(status=OrderStatus.PLACED, created_at__lte=now - confirm_after):
        try:
            purchase_order_confirm(purchase_order=po, actor=po.vendor)
            done["confirmed"] += 1
        except (DomainValidationError, StateConflict) as exc:  # moved meanwhile, or refused: leave it
            logger.info("simulated counterparty: PO %s not confirmed: %s", po.pk, exc)
    for po in mine.filter(status__in=[OrderStatus.CONFIRMED, OrderStatus.PARTLY_SHIPPED],
                          confirmed_at__lte=now - ship_after):
        lines = [{"listing": line.listing_id, "quantity": line.quantity - line.shipped_quantity,
                  "lot": f"SIM-{po.vendor_id}-{line.listing_id}", "date_code": f"{now:%y%W}"}
                 for line in po.lines.filter(listing__isnull=False).order_by("pk") if line.shipped_quantity < line.quantity]
        try:
            shipment_create(purchase_order=po, actor=po.vendor, lines=lines or None, carrier="Kitstreet demo courier",
                            tracking=f"SIM-{po.pk}", simulated=True)
            done["shipped"] += 1
        except (DomainValidationError, StateConflict) as exc:
            logger.info("simulated counterparty: PO %s not shipped: %s", po.pk, exc)
    return done
