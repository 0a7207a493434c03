"""Demo data for trials: a history of closed simulated trials (mostly kills, a few hits, some
iterates) so the funnel page tells the Huaqiangbei story, and one draft ready to start.

Runs after the marketplace and credit seeders; finds kits in the database. Trials are run through
the real services in-process (no worker needed), then dated into the past."""

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
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
    history = _live_history(ctx, buyer=buyer, user=user, kit=kits[1 % len(kits)], cost=costs[kits[1 % len(kits)].pk])
    live = _live_trial(ctx, buyer=buyer, user=user, kit=kits[1 % len(kits)], cost=costs[kits[1 % len(kits)].pk])
    financed = _financed_reorder(ctx, buyer=buyer, user=user, made=made)
    verdicts = [t.verdict for t in Trial.objects.filter(pk__in=[t.pk for t in made])]
    ctx.say(f"  {len(made)} closed simulated trials ({verdicts.count('scale')} scale, {verdicts.count('iterate')} iterate, "
            f"{verdicts.count('kill')} kill), {len(history)} closed live trials (seeded history), 1 draft ready to start, "
            f"{'1 live trial selling' if live else 'no live trial'}, "
            f"{'a hit reordered on demand credit and selling' if financed else 'no demand-credit reorder'}; "
            f"{DailyMetric.objects.filter(trial__in=made).count()} daily metrics, {TrialArm.objects.filter(trial__in=made).count()} arms")


# (base daily demand the maker expected, the daily demand that came, units): the seeded live history.
LIVE_HISTORY = [(2.0, 0.6, 40), (1.5, 2.4, 40), (3.0, 1.0, 50), (1.0, 0.4, 30), (2.5, 3.2, 50), (1.2, 0.9, 40)]


def _live_history(ctx, *, buyer, user, kit, cost) -> list[Trial]:
    """Closed live trials of one kit, clearly seeded: no order was placed (named "seeded live
    history", cash deployed 0), but each was forecast as a draft, started (its prior frozen from the
    ones before it), sold through real sales events and closed by the real services, so the live
    prior is earned after five of them and the live calibration scores every forecast."""
    from trials.services import trial_close, trial_forecast_record

    rng, made = ctx.rng, []
    first = timezone.now() - timedelta(days=40 + 35 * len(LIVE_HISTORY))
    for i, (expected, actual, units) in enumerate(LIVE_HISTORY):
        price = (cost * Decimal("2.2")).quantize(Decimal("1"))
        trial = trial_create(
            organization=buyer, created_by=user, name=f"{kit.name} — shop pilot {i + 1} (seeded live history)", kit=kit,
            mode=Trial.Mode.LIVE, window_days=28, scale_at=Decimal("0.8"), kill_below=Decimal("0.3"),
            arms=[{"label": "at 2.2× cost", "unit_price": price, "units": units}],
        )
        trial_forecast_record(trial=trial, demand={"base_daily": expected, "dispersion": 2, "seed": i}, paths=2_000)
        trial = trial_start(trial=trial, enqueue=False)
        start = first + timedelta(days=35 * i)
        Trial.objects.filter(pk=trial.pk).update(  # seeded: the stock "arrived" without an order
            status=Trial.Status.SELLING, started_at=start, selling_started_at=start + timedelta(days=3),
            ends_at=start + timedelta(days=31), created_at=start - timedelta(days=1), progress=0.1)
        TrialArm.objects.filter(trial=trial).update(units_received=F("units"))
        trial.refresh_from_db()
        left = units
        for day in range(28):  # one batch a day, as a shop's integration would report them
            events = []
            for n in range(min(left, sum(rng.random() < actual / 4 for _ in range(4)))):
                left -= 1
                events.append({"arm": "at 2.2× cost", "units": 1, "unit_price": price, "channel": "seeded",
                               "sold_at": trial.selling_started_at + timedelta(days=day, hours=rng.randint(1, 22)),
                               "external_id": f"seeded-{trial.pk}-{day}-{n}"})
            if events:
                result = trial_sales_record(trial=trial, events=events,
                                            now=trial.selling_started_at + timedelta(days=day + 1))
                if result["status"] == Trial.Status.CLOSED:  # the sequential rule stopped it early
                    break
        made.append(trial_close(trial_id=trial.pk, now=trial.ends_at))
    return made


def _financed_reorder(ctx, *, buyer, user, made: list[Trial]) -> Trial | None:
    """The capability of issue 25 end to end: the best simulated hit's reorder (a small one, within
    its offer) ordered on demand credit with no cash, delivered, and sold by a live trial whose
    sales repay the line. Skipped (and said so) if this world cannot support it."""
    from marketplace.orders.services import order_place, purchase_order_confirm, purchase_order_deliver, purchase_order_ship
    from trials.selectors.financing import trial_financing
    from trials.services import trial_reorder_quote

    hits = [t for t in Trial.objects.filter(pk__in=[t.pk for t in made], verdict=Trial.Verdict.SCALE).order_by("pk")]
    now = timezone.now()
    for hit in hits:
        try:
            with transaction.atomic():
                offer = trial_financing(trial=hit)
                if offer.credit_limit <= 0:
                    continue
                arm = hit.arms.get(label=hit.best_arm)
                # The largest reorder (in tens) the offer covers, at most the suggested size.
                unit_cost = hit.quote.unit_cost if hit.quote_id else Decimal("1")
                units = int(min(offer.reorder_units, offer.credit_limit / (unit_cost * Decimal("1.15"))) // 10 * 10)
                if units < 10:
                    continue
                quote = trial_reorder_quote(trial=hit, user=user, quantity=units)
                if quote.total > trial_financing(trial=Trial.objects.get(pk=hit.pk)).credit_limit:
                    raise StateConflict("the reorder quote came out over the limit")
                order = order_place(buyer=buyer, placed_by=user, payment="demand_credit", quote=quote, financing=hit.pk)
                for po in order.purchase_orders.select_related("vendor", "order").order_by("pk"):
                    purchase_order_confirm(purchase_order=po, actor=po.vendor)
                    purchase_order_ship(purchase_order=po, actor=po.vendor)
                    purchase_order_deliver(purchase_order=po, actor=buyer)
                trial = trial_create(
                    organization=buyer, created_by=user, name=f"{hit.kit.name} — reorder on demand credit, selling",
                    kit=hit.kit, mode=Trial.Mode.LIVE, window_days=hit.window_days, scale_at=Decimal("0.8"),
                    kill_below=Decimal("0.3"), order_id=order.pk,
                    arms=[{"label": arm.label, "unit_price": arm.unit_price, "units": units}],
                )
                trial_start(trial=trial, enqueue=False)
                trial = trial_refresh(trial_id=trial.pk, now=now - timedelta(days=6))  # delivered six days ago
                Trial.objects.filter(pk=trial.pk).update(started_at=now - timedelta(days=8))
                events = [{"arm": arm.label, "units": 1, "unit_price": arm.unit_price, "channel": "online",
                           "sold_at": now - timedelta(days=6 - day, hours=-ctx.rng.randint(1, 20)),
                           "external_id": f"demo-reorder-{day}-{n}"}
                          for day in range(6) for n in range(max(1, units // 20))]
                trial_sales_record(trial=trial, events=[e for e in events if e["sold_at"] <= now][:units])
                return trial_refresh(trial_id=trial.pk)
        except (ValidationError, StateConflict) as exc:
            ctx.say(f"  trials: demand-credit reorder of trial {hit.pk} skipped ({getattr(exc, 'message', None) or exc})")
    return None


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
            Trial.objects.filter(pk=trial.pk).update(started_at=now - timedelta(days=12),  # ordered two days before
                                                     created_at=now - timedelta(days=13))
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
