"""Demo world, RFQs: suppliers' declared categories and factories' capabilities, open RFQs on
the board with bids to compare (one from a short quote, one written by hand, one assembly job),
and an awarded one whose offers the buyer can order. Runs last, so the other demos' quotes and
trials are priced from the public market only."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from marketplace.catalogue.models import Part
from marketplace.factories.profiles import supplier_profile_update
from marketplace.factories.rate_cards import rate_card_publish
from marketplace.kits.models import Kit
from marketplace.rfqs.services import (
    bid_submit,
    rfq_award,
    rfq_create,
    rfq_create_assembly,
    rfq_create_from_quote,
)
from marketplace.sourcing.quotes import quote_create

CAPABILITIES = {
    "factory:longhua": {"smt": True, "through_hole": True, "testing": True, "min_batch": 200, "max_batch": 20_000,
                        "weekly_capacity": 2_000, "lead_time_days": 5, "categories": ["PCBA"]},
    "factory:baoan": {"box_build": True, "testing": True, "smt": True, "min_batch": 50, "max_batch": 2_000,
                      "weekly_capacity": 500, "lead_time_days": 2, "categories": ["Box build"]},
    "trader:huaxin": {"categories": ["Cellular module", "Wireless SoC", "MCU"]},
    "trader:mingtong": {"categories": ["Connector", "Cellular module"]},
}
# Published assembly prices, so "Assemble: by the cheapest factory" has a choice: Bao'an is cheap to
# set up (small runs), Longhua cheap per joint (large runs) and does through-hole too.
RATE_CARDS = {
    "factory:baoan": {"currency": "CNY", "setup_fee": "150.00", "per_placement": "0.012", "per_unique_part": "20.00",
                      "processes": ["smt", "box_build", "testing"], "min_batch": 10, "max_batch": 2_000},
    "factory:longhua": {"currency": "CNY", "setup_fee": "600.00", "per_placement": "0.004", "per_unique_part": "15.00",
                        "processes": ["smt", "through_hole", "testing"], "min_batch": 50, "max_batch": 20_000},
}


def seed(ctx) -> None:
    buyer, user = ctx.orgs.get("buyer:lumen"), ctx.users.get("buyer")
    if buyer is None or user is None:
        return
    for key, fields in CAPABILITIES.items():
        if key in ctx.orgs:
            supplier_profile_update(organization=ctx.orgs[key], **fields)
    for key, card in RATE_CARDS.items():
        if key in ctx.orgs:
            rate_card_publish(organization=ctx.orgs[key], **card)
    now = timezone.now()
    made = []

    # 1. Written by hand: a part nobody lists (every trader sees it) and an MCU in bulk.
    hand = rfq_create(
        buyer=buyer, created_by=user, title="LTE Cat-1 modules and MCUs for the tracker pilot", closes_at=now + timedelta(days=3),
        max_bids=5, lines=[
            {"manufacturer": "Quectel", "mpn": "EC200U-CN", "quantity": 300, "target_unit_price": Decimal("48.00"),
             "category": "Cellular module"},
            {"manufacturer": "STMicroelectronics", "mpn": "STM32G030F6P6", "quantity": 3000, "target_unit_price": Decimal("1.90")},
        ])
    lte, mcu = list(hand.lines.all())
    _bid(ctx, hand, "trader:huaxin", [(lte, 300, 3, [(1, "52.00"), (100, "49.50")]), (mcu, 5000, 2, [(1, "2.10"), (2500, "1.95")])])
    _bid(ctx, hand, "trader:mingtong", [(lte, 200, 7, [(1, "47.00")])])
    made.append(hand)

    # 2. From a quote that the market cannot fill: the shortfalls, in one click.
    kit = Kit.objects.filter(is_current=True, assembly_factory__isnull=False).order_by("pk").first()
    if kit is not None:
        for quantity in (20_000, 50_000, 200_000):
            quote = quote_create(organization=buyer, kit=kit, quantity=quantity, created_by=user)
            if quote.has_shortages:
                short = rfq_create_from_quote(quote=quote, buyer=buyer, created_by=user, closes_at=now + timedelta(days=2))
                first = short.lines.order_by("position").first()
                traders = [o for o in ctx.of_kind("trader") if o.verified][:2]
                for trader, price in zip(traders, ("1.00", "0.90")):
                    unit = Decimal(price) * (first.part.listings.order_by("pk").values_list("price_breaks__unit_price", flat=True).first() or 1)
                    _bid(ctx, short, trader, [(first, first.quantity, 10, [(1, f"{unit:.4f}")])])
                made.append(short)
                break

        # 3. An assembly job for 500 boards, routed to the factories whose batch and processes fit.
        assembly = rfq_create_assembly(buyer=buyer, created_by=user, kit=kit, quantity=500, closes_at=now + timedelta(days=4),
                                       processes=["smt", "testing"])
        _bid(ctx, assembly, "factory:longhua", [(assembly.lines.get(), 5_000, 10, [(1, "6.00"), (1_000, "4.80")])],
             setup="350.00")
        _bid(ctx, assembly, "factory:baoan", [(assembly.lines.get(), 2_000, 4, [(1, "7.20")])], setup="120.00")
        made.append(assembly)

    # 4. Awarded: connectors bought through an RFQ, reserved for Lumen Labs until the bid expires.
    connector = Part.objects.filter(category="Connector").order_by("pk").first()
    if connector is not None:
        done = rfq_create(buyer=buyer, created_by=user, title=f"{connector.mpn} for the dock", closes_at=now + timedelta(days=1),
                          lines=[{"part": connector, "quantity": 2_000}])
        bid = _bid(ctx, done, "trader:mingtong", [(done.lines.get(), 2_000, 5, [(1, "0.40"), (1_000, "0.33")])])
        if bid is not None:
            rfq_award(rfq=done, buyer=buyer, bid_ids=[bid.pk])
        made.append(done)
    ctx.say(f"  {len(made)} RFQs ({sum(r.bids.count() for r in made)} bids), capabilities for {len(CAPABILITIES)} suppliers")


def _bid(ctx, rfq, supplier, lines, *, setup="0"):
    supplier = ctx.orgs.get(supplier) if isinstance(supplier, str) else supplier
    if supplier is None or not supplier.verified:
        return None
    bid, _ = bid_submit(
        rfq=rfq, supplier=supplier, submitted_by=None, valid_until=timezone.now() + timedelta(days=21), setup_cost=Decimal(setup),
        lines=[{"line": line.pk, "quantity_available": qty, "moq": 1, "multiple": 1, "lead_time_days": lead,
                "price_breaks": [(q, Decimal(p)) for q, p in breaks]} for line, qty, lead, breaks in lines])
    return bid
