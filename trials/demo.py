"""Demo data for trials: a history of closed simulated trials (mostly kills, a few hits, some
iterates) so the funnel page tells the Huaqiangbei story, and one draft ready to start.

Runs after the marketplace and credit seeders; finds kits in the database. Trials are run through
the real services in-process (no worker needed), then dated into the past."""

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.errors import StateConflict

from marketplace.models import Kit
from trials.models import DailyMetric, Trial, TrialArm
from trials.services import trial_create, trial_procure, trial_refresh, trial_run, trial_sales_record, trial_start

# (name suffix, base daily demand, arms as (label, price multiple of unit cost, units)) — demand is
# low for most: in the market, most small batches do not sell.
HISTORY = [
    ("first run", 0.6, [("at list", 2.2, 100)]),
    ("two prices", 0.9, [("low price", 1.8, 80), ("high price", 2.6, 80)]),
    ("colour test", 0.4, [("black", 2.2, 60), ("white", 2.2, 60)]),
    ("gift box edition", 0.5, [("gift box", 2.8, 100)]),
    ("hit: two prices", 9.0, [("low price", 1.9, 120), ("high price", 2.5, 120)]),
    ("bundle", 0.3, [("bundle of 2", 3.5, 50)]),
    ("retail pilot", 1.2, [("at list", 2.2, 150)]),
    ("marketplace listing", 2.6, [("at list", 2.0, 80)]),
    ("premium", 0.2, [("premium", 4.0, 60)]),
    ("hit: reorder", 12.0, [("at list", 2.3, 200)]),
    ("student price", 1.5, [("student", 1.6, 100), ("regular", 2.2, 100)]),
    ("clearance", 0.5, [("clearance", 1.4, 100)]),
    ("v2 enclosure", 0.7, [("v2", 2.4, 100)]),
    ("overseas shop", 0.35, [("USD shop", 2.6, 80)]),
]


def _kits():
    return list(Kit.objects.filter(is_active=True, is_current=True, owner__verified=True)
                .filter(~Q(name="")).order_by("pk")[:12])


def _unit_cost(kit) -> Decimal:
    from marketplace.sourcing.quotes import quote_create

    # A quick estimate at a typical batch, to set sensible shelf prices around the cost.
    quote = quote_create(organization=kit.owner, kit=kit, quantity=100)
    return max(quote.unit_cost, Decimal("5.00"))


def seed(ctx) -> None:
    kits = _kits()
    buyer = ctx.orgs.get("buyer:lumen")
    if not kits or buyer is None:
        ctx.say("  trials: no kits or no demo buyer yet; skipped")
        return
    rng = ctx.rng
    user = ctx.users["buyer"]
    costs = {kit.pk: _unit_cost(kit) for kit in kits}
    now = timezone.now()
    made = []
    for i, (suffix, base, arms) in enumerate(ctx.progress(HISTORY, desc="trials")):
        kit = kits[i % len(kits)]
        cost = costs[kit.pk]
        trial = trial_create(
            organization=buyer, created_by=user, name=f"{kit.name} — {suffix}", kit=kit, mode=Trial.Mode.SIMULATED,
            window_days=rng.choice([21, 28, 30]), scale_at=Decimal("0.8"), kill_below=Decimal("0.3"),
            arms=[{"label": label, "unit_price": (cost * Decimal(str(mult))).quantize(Decimal("1")), "units": units}
                  for label, mult, units in arms],
            demand={"base_daily": round(base * rng.uniform(0.85, 1.15), 2), "dispersion": 1.5, "elasticity": -1.8,
                    "reference_price": str((cost * Decimal("2.2")).quantize(Decimal("1"))), "seed": rng.randrange(10_000)},
        )
        trial_start(trial=trial, enqueue=False)
        trial_run(trial_id=trial.pk)
        made.append(trial)
    # Spread the history over the past months, oldest first, as if run one after another.
    day = now - timedelta(days=10 + 9 * len(made))
    for trial in made:
        trial.refresh_from_db()
        started = day
        closed = started + timedelta(days=trial.window_days)
        Trial.objects.filter(pk=trial.pk).update(created_at=started - timedelta(days=1), started_at=started,
                                                 selling_started_at=started, closed_at=closed, updated_at=closed)
        day += timedelta(days=rng.randint(5, 11))

    kit = kits[0]
    cost = costs[kit.pk]
    trial_create(
        organization=buyer, created_by=user, name=f"{kit.name} — next idea (ready to start)", kit=kit,
        mode=Trial.Mode.SIMULATED, window_days=30, scale_at=Decimal("0.8"), kill_below=Decimal("0.3"),
        arms=[{"label": "at 1.9× cost", "unit_price": (cost * Decimal("1.9")).quantize(Decimal("1")), "units": 100},
              {"label": "at 2.4× cost", "unit_price": (cost * Decimal("2.4")).quantize(Decimal("1")), "units": 100}],
        demand={"base_daily": 3.5, "dispersion": 2, "elasticity": -1.8,
                "reference_price": str((cost * Decimal("2.2")).quantize(Decimal("1"))), "seed": 2026},
    )
    live = _live_trial(ctx, buyer=buyer, user=user, kit=kits[1 % len(kits)], cost=costs[kits[1 % len(kits)].pk])
    verdicts = [t.verdict for t in Trial.objects.filter(pk__in=[t.pk for t in made])]
    ctx.say(f"  {len(made)} closed simulated trials ({verdicts.count('scale')} scale, {verdicts.count('iterate')} iterate, "
            f"{verdicts.count('kill')} kill), 1 draft ready to start, {'1 live trial selling' if live else 'no live trial'}; "
            f"{DailyMetric.objects.filter(trial__in=made).count()} daily metrics, {TrialArm.objects.filter(trial__in=made).count()} arms")


def _live_trial(ctx, *, buyer, user, kit, cost) -> Trial | None:
    """A live trial ten days into its window: a real order paid by deposit (the wallet is topped up
    for it), delivered through the purchase-order steps, and real sales events since. Skipped (and
    said so) if the market or the money cannot support it in this world."""
    from credit.services import wallet_topup
    from marketplace.orders.services import purchase_order_confirm, purchase_order_deliver, purchase_order_ship

    rng, now = ctx.rng, timezone.now()
    arms = [{"label": "at 2.0× cost", "unit_price": (cost * 2).quantize(Decimal("1")), "units": 60},
            {"label": "at 2.6× cost", "unit_price": (cost * Decimal("2.6")).quantize(Decimal("1")), "units": 60}]
    try:
        with transaction.atomic():
            wallet_topup(organization=buyer, amount=(cost * 120 * 3).quantize(Decimal("0.01")), currency=kit.currency,
                         reference="DEMO-LIVE-TRIAL-FUNDS")
            trial = trial_create(
                organization=buyer, created_by=user, name=f"{kit.name} — live pilot in two shops", kit=kit,
                mode=Trial.Mode.LIVE, window_days=30, scale_at=Decimal("0.8"), kill_below=Decimal("0.3"), arms=arms,
            )
            trial_start(trial=trial, enqueue=False)
            trial = trial_procure(trial_id=trial.pk)
            if trial.status != Trial.Status.PROCURING:
                raise StateConflict(trial.failure_reason)
            for po in trial.order.purchase_orders.select_related("vendor", "order").order_by("pk"):
                purchase_order_confirm(purchase_order=po, actor=po.vendor)
                purchase_order_ship(purchase_order=po, actor=po.vendor)
                purchase_order_deliver(purchase_order=po, actor=buyer)
            trial_refresh(trial_id=trial.pk, now=now - timedelta(days=10))  # stock arrived ten days ago
            events = []
            for day in range(10):
                for arm, rate in ((arms[0], 2.2), (arms[1], 1.1)):
                    for n in range(sum(rng.random() < rate / 3 for _ in range(3))):
                        events.append({"arm": arm["label"], "units": 1, "unit_price": arm["unit_price"],
                                       "sold_at": now - timedelta(days=10 - day, hours=-rng.randint(1, 20)),
                                       "channel": rng.choice(["shop: Nanshan", "shop: Futian", "online"]),
                                       "external_id": f"demo-{day}-{arm['label']}-{n}"})
            trial_sales_record(trial=trial, events=[e for e in events if e["sold_at"] <= now])
            return trial_refresh(trial_id=trial.pk)
    except (ValidationError, StateConflict) as exc:
        ctx.say(f"  trials: live demo trial skipped ({getattr(exc, 'message', None) or exc})")
        return None
