"""Orders and purchase orders: place (reserve stock without oversell, split per vendor, open
payment), then the lifecycle placed → confirmed → shipped → delivered, or cancelled.

Who may take each step (documented in docs/quotes.md too):
- confirm, ship: the vendor of the purchase order;
- deliver: the buyer (confirms receipt);
- cancel: the buyer while the PO is still `placed`, or `confirmed` when the vendor's terms let
  buyers cancel after confirmation (forfeiting per terms); the vendor while it is `placed` or
  `confirmed` (it cannot ship). Cancelling releases the reserved stock;
- default: the vendor of a shipped deposit order whose buyer did not pay the balance within the
  terms' grace period (the deposit is forfeited per terms, the goods go back into stock, the PO
  is cancelled);
- dispute: either party of a shipped or delivered PO (credit freezes what is still held).
"""

from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from credit import payments
from marketplace.catalogue.models import Listing
from marketplace.exceptions import (
    NotAParty,
    OrderInvalid,
    OutOfStock,
    PurchaseOrderStepNotAllowed,
    QuoteAlreadyOrdered,
    StepNotYours,
)
from marketplace.factories.capacity import capacity_release
from marketplace.kits.services import kit_freeze
from marketplace.orders.capacity import capacity_book_for_order
from marketplace.orders.models import (
    Order,
    OrderStatus,
    PurchaseOrder,
    PurchaseOrderLine,
)
from marketplace.sourcing.allocation import order_qty
from marketplace.sourcing.models import Quote, QuoteAllocation
from marketplace.sourcing.options import MAX_TOTAL
from marketplace.sourcing.quotes import quote_create, quote_service_lines
from marketplace.sourcing.rates import cents
from organizations.models import Organization

MAX_LINES = 500
STAGES = [OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED]


def _merge(lines: list[tuple[Listing, int]]) -> dict[int, int]:
    if not lines:
        raise OrderInvalid({"lines": ["Add at least one line (a listing and a quantity)."]})
    if len(lines) > MAX_LINES:
        raise OrderInvalid({"lines": [f"At most {MAX_LINES} lines per order."]})
    merged: dict[int, int] = defaultdict(int)
    for listing, quantity in lines:
        if int(quantity) < 1:
            raise OrderInvalid({"lines": [f"Listing {listing.pk}: quantity must be at least 1."]})
        merged[listing.pk] += int(quantity)
    return merged


def _usable(listing: Listing, buyer: Organization) -> bool:
    """On the public market, or the buyer's own awarded RFQ offer that has not expired."""
    if listing.reserved_for_id is not None:
        return listing.reserved_for_id == buyer.pk and listing.expires_at > timezone.now()
    return listing.is_active


@transaction.atomic
def order_place(
    *,
    buyer: Organization,
    placed_by: AbstractBaseUser,
    payment: str,
    quote: Quote | None = None,
    lines: list[tuple[Listing, int]] | None = None,
    allow_shortfalls: bool = False,
) -> Order:
    """Place an order from a saved quote (its prices, its allocations, plus assembly and fees) or
    from listing lines (current prices). Listings are locked in pk order, stock is reserved with
    conditional updates (never below zero), one purchase order per vendor, then payment opens in
    the same transaction: if credit refuses, nothing is kept. `allow_shortfalls` orders what a
    short quote could source (see `order_place_partial`, which sends the rest to an RFQ).
    A buyer's awarded RFQ offers (private listings) are ordered like any listing until they expire."""
    if payment not in Order.Payment.values:
        raise OrderInvalid({"payment": [f"Choose one of {Order.Payment.values}."]})
    if (quote is None) == (lines is None):
        raise OrderInvalid({"non_field_errors": ["Order either from a quote or from listing lines, not both."]})

    # (vendor_id, listing_id | None, description, quantity, unit_price)
    wanted: list[tuple[int, int | None, str, int, Decimal]] = []
    if quote is not None:
        if quote.organization_id != buyer.pk:
            raise OrderInvalid({"quote": ["This quote was made for another organisation."]})
        if quote.valid_until <= timezone.now():
            raise OrderInvalid({"quote": [f"The quote expired on {quote.valid_until:%Y-%m-%d %H:%M}; ask for a new quote."]})
        if quote.orders.exclude(status=OrderStatus.CANCELLED).exists():
            raise QuoteAlreadyOrdered("An order was already placed from this quote; cancel it or ask for a new quote.")
        allocations = [a for line in quote.lines.prefetch_related("allocations__listing__part") for a in line.allocations.all()]
        short = [line for line in quote.lines.all() if line.shortfall]
        if allow_shortfalls and not allocations:
            raise OrderInvalid({"quote": ["Nothing in this quote can be sourced yet: ask the market for all of it instead."]})
        # One rule for kit and BOM quotes: a line short of stock and a BOM line no catalogue part
        # matched (`Quote.unsourced`) are both parts the order would lack — ask first (the
        # partial order + RFQ), never order the rest without a word.
        unsourced = [row for row in (quote.unsourced or []) if int(row.get("quantity") or 0) >= 1]
        if (short or unsourced) and not allow_shortfalls:
            what = [f"short of {len(short)} part(s)"] if short else []
            what += [f"{len(unsourced)} line(s) no catalogue part matched"] if unsourced else []
            raise OrderInvalid({"quote": [f"The quote is {' and has '.join(what)}; it cannot be ordered as a whole "
                                          "kit. Order what is available and ask the market for the rest instead."]})
        for a in allocations:
            wanted.append((a.vendor_id, a.listing_id, f"{a.listing.part}", a.quantity, a.unit_price))
        for _, vendor_id, description, qty, unit in quote_service_lines(quote=quote):
            wanted.append((vendor_id, None, description, qty, unit))
        # Exactly the purchase orders the quote priced, each with the shipping it was quoted.
        for quoted in quote.vendors.all():
            if quoted.shipping:
                wanted.append((quoted.vendor_id, None, "Shipping", 1, quoted.shipping))
        currency = quote.currency
    else:
        merged = _merge(lines)
        listings = {l.pk: l for l in Listing.objects.filter(pk__in=merged).select_related("part", "vendor")
                    .prefetch_related("price_breaks")}
        errors = []
        currencies = set()
        for listing_id, qty in sorted(merged.items()):
            listing = listings[listing_id]
            if not _usable(listing, buyer) or not listing.vendor.verified:
                errors.append(f"Listing {listing_id} is not available.")
                continue
            if listing.vendor_id == buyer.pk:
                errors.append(f"Listing {listing_id} is your own.")
                continue
            if qty != order_qty(qty, listing.moq, listing.multiple):
                errors.append(f"Listing {listing_id}: order at least {listing.moq} in multiples of {listing.multiple} "
                              f"(e.g. {order_qty(qty, listing.moq, listing.multiple)}).")
                continue
            price = None
            for b in listing.price_breaks.all():
                if b.min_qty <= qty:
                    price = b.unit_price
            if price is None:
                errors.append(f"Listing {listing_id} has no price for {qty} units.")
                continue
            currencies.add(listing.currency)
            wanted.append((listing.vendor_id, listing_id, str(listing.part), qty, price))
        if errors:
            raise OrderInvalid({"lines": errors})
        if len(currencies) > 1:
            raise OrderInvalid({"lines": [f"All lines must be in one currency (got {', '.join(sorted(currencies))}); "
                                          "place one order per currency."]})
        currency = currencies.pop()

    if sum((cents(qty * unit) for _, _, _, qty, unit in wanted), Decimal(0)) > MAX_TOTAL:
        raise OrderInvalid({"lines": ["The order would exceed 999,999,999,999.99; split it."]})

    # Lock in pk order (two orders touching the same listings cannot deadlock), then reserve.
    reserve: dict[int, int] = defaultdict(int)
    for _, listing_id, _, qty, _ in wanted:
        if listing_id is not None:
            reserve[listing_id] += qty
    locked = {l.pk: l for l in Listing.objects.select_for_update().filter(pk__in=reserve).select_related("part").order_by("pk")}
    for listing_id in sorted(reserve):
        if not _usable(locked[listing_id], buyer):
            if locked[listing_id].reserved_for_id:
                raise OrderInvalid({"lines": [f"The awarded offer for {locked[listing_id].part} (listing {listing_id}) "
                                              "has expired; ask for a new quote."]})
            raise OrderInvalid({"lines": [f"Listing {listing_id} was withdrawn."]})
        taken = Listing.objects.filter(pk=listing_id, stock__gte=reserve[listing_id]).update(stock=F("stock") - reserve[listing_id])
        if not taken:
            raise OutOfStock(f"Only {locked[listing_id].stock} of {locked[listing_id].part} left at listing {listing_id}; "
                             f"you asked for {reserve[listing_id]}. Nothing was reserved.")

    order = Order.objects.create(buyer=buyer, placed_by=placed_by, quote=quote, payment=payment, currency=currency,
                                 fx=quote.fx if quote is not None else {}, total=Decimal(0))
    by_vendor: dict[int, list] = defaultdict(list)
    for vendor_id, listing_id, description, qty, unit in wanted:
        by_vendor[vendor_id].append((listing_id, description, qty, unit))
    po_lines, total = [], Decimal(0)
    for vendor_id in sorted(by_vendor):
        po = PurchaseOrder.objects.create(order=order, vendor_id=vendor_id, currency=currency, total=Decimal(0))
        po_total = Decimal(0)
        for listing_id, description, qty, unit in by_vendor[vendor_id]:
            extended = cents(qty * unit)
            po_total += extended
            po_lines.append(PurchaseOrderLine(purchase_order=po, listing_id=listing_id, description=description[:300],
                                              quantity=qty, unit_price=unit, extended_price=extended))
        po.total = po_total
        po.save(update_fields=["total"])
        total += po_total
    PurchaseOrderLine.objects.bulk_create(po_lines)
    order.total = total
    order.save(update_fields=["total"])
    if quote is not None:
        kit_freeze(kit=quote.kit)
        capacity_book_for_order(order=order, quote=quote)  # factories that declared weekly capacity
    # Each purchase order opens its payment (deposit into escrow, or a credit reservation).
    for po in order.purchase_orders.select_related("vendor").order_by("pk"):
        payments.purchase_order_payment_open(purchase_order_id=po.pk, order_id=order.pk, buyer=order.buyer, vendor=po.vendor,
                                             currency=po.currency, total=po.total, method=order.payment,
                                             kit_owner_id=quote.kit.owner_id if quote is not None else None)
    return order


# --- Lifecycle ---------------------------------------------------------------------------------


def _rollup(order: Order) -> None:
    statuses = list(order.purchase_orders.values_list("status", flat=True))
    open_ = [s for s in statuses if s != OrderStatus.CANCELLED]
    status = min(open_, key=STAGES.index) if open_ else OrderStatus.CANCELLED
    if order.status != status:
        order.status = status
        order.save(update_fields=["status", "updated_at"])


def _locked(purchase_order: PurchaseOrder, actor: Organization) -> tuple[PurchaseOrder, str]:
    """Lock the order, then the purchase order (always this order: no deadlocks between the
    buyer and vendors of one order); return the PO and the actor's party."""
    Order.objects.select_for_update().filter(pk=purchase_order.order_id).first()
    po = PurchaseOrder.objects.select_for_update(of=("self",)).select_related("order").get(pk=purchase_order.pk)
    if actor.pk == po.vendor_id:
        return po, "vendor"
    if actor.pk == po.order.buyer_id:
        return po, "buyer"
    raise NotAParty("You are not a party to this purchase order.")


def _step(po: PurchaseOrder, party: str, *, step: str, allowed: dict[str, set[str]]) -> None:
    if party not in allowed:  # the wrong party: never their step (403), unlike a step out of turn (409)
        who = " or ".join("the " + p for p in allowed)
        raise StepNotYours(f"Only {who} can {step} purchase order {po.pk}.")
    if po.status not in allowed[party]:
        raise PurchaseOrderStepNotAllowed(f"Purchase order {po.pk} is {po.status}; the {party} cannot {step} it now.")


@transaction.atomic
def purchase_order_confirm(*, purchase_order: PurchaseOrder, actor: Organization) -> PurchaseOrder:
    po, party = _locked(purchase_order, actor)
    _step(po, party, step="confirm", allowed={"vendor": {OrderStatus.PLACED}})
    po.status, po.confirmed_at = OrderStatus.CONFIRMED, timezone.now()
    po.save(update_fields=["status", "confirmed_at", "updated_at"])
    payments.purchase_order_payment_confirm(purchase_order_id=po.pk)
    _rollup(po.order)
    return po


@transaction.atomic
def purchase_order_ship(*, purchase_order: PurchaseOrder, actor: Organization) -> PurchaseOrder:
    po, party = _locked(purchase_order, actor)
    _step(po, party, step="ship", allowed={"vendor": {OrderStatus.CONFIRMED}})
    po.status, po.shipped_at = OrderStatus.SHIPPED, timezone.now()
    po.save(update_fields=["status", "shipped_at", "updated_at"])
    _rollup(po.order)
    return po


@transaction.atomic
def purchase_order_deliver(*, purchase_order: PurchaseOrder, actor: Organization) -> PurchaseOrder:
    po, party = _locked(purchase_order, actor)
    _step(po, party, step="confirm delivery of", allowed={"buyer": {OrderStatus.SHIPPED}})
    po.status, po.delivered_at = OrderStatus.DELIVERED, timezone.now()
    po.save(update_fields=["status", "delivered_at", "updated_at"])
    payments.purchase_order_payment_deliver(purchase_order_id=po.pk)
    _rollup(po.order)
    return po


@transaction.atomic
def purchase_order_cancel(*, purchase_order: PurchaseOrder, actor: Organization) -> PurchaseOrder:
    po, party = _locked(purchase_order, actor)
    buyer_may = {OrderStatus.PLACED}
    if party == "buyer" and po.status == OrderStatus.CONFIRMED and payments.purchase_order_buyer_may_cancel(purchase_order_id=po.pk):
        buyer_may.add(OrderStatus.CONFIRMED)
    _step(po, party, step="cancel", allowed={"buyer": buyer_may, "vendor": {OrderStatus.PLACED, OrderStatus.CONFIRMED}})
    po.status, po.cancelled_at, po.cancelled_by_supplier = OrderStatus.CANCELLED, timezone.now(), party == "vendor"
    po.save(update_fields=["status", "cancelled_at", "cancelled_by_supplier", "updated_at"])
    payments.purchase_order_payment_cancel(purchase_order_id=po.pk, by_supplier=party == "vendor",
                                           after_confirmation=po.confirmed_at is not None)
    _restock(po)

    capacity_release(order_id=po.order_id, factory_id=po.vendor_id)
    _rollup(po.order)
    return po


def _restock(po: PurchaseOrder) -> None:
    released: dict[int, int] = defaultdict(int)
    for listing_id, qty in po.lines.filter(listing__isnull=False).values_list("listing_id", "quantity"):
        released[listing_id] += qty
    for listing_id in sorted(released):  # pk order, like order_place
        Listing.objects.filter(pk=listing_id).update(stock=F("stock") + released[listing_id])


@transaction.atomic
def purchase_order_default(*, purchase_order: PurchaseOrder, actor: Organization) -> PurchaseOrder:
    """The vendor declares the buyer's default on a shipped deposit order whose balance was not
    paid in the grace period: credit forfeits the deposit per terms (or refuses: too early, a
    credit order, disputed), the goods go back into stock, the PO is cancelled."""
    po, party = _locked(purchase_order, actor)
    _step(po, party, step="declare a default on", allowed={"vendor": {OrderStatus.SHIPPED}})
    payments.purchase_order_payment_default(purchase_order_id=po.pk, shipped_at=po.shipped_at or po.updated_at)
    po.status, po.cancelled_at, po.cancelled_by_supplier = OrderStatus.CANCELLED, timezone.now(), False
    po.save(update_fields=["status", "cancelled_at", "cancelled_by_supplier", "updated_at"])
    _restock(po)
    _rollup(po.order)
    return po


@transaction.atomic
def purchase_order_dispute(*, purchase_order: PurchaseOrder, actor: Organization, reason: str, user=None):
    """Either party disputes a shipped or delivered purchase order; returns credit's Dispute."""
    po, party = _locked(purchase_order, actor)
    _step(po, party, step="dispute", allowed={"vendor": {OrderStatus.SHIPPED, OrderStatus.DELIVERED},
                                               "buyer": {OrderStatus.SHIPPED, OrderStatus.DELIVERED}})
    return payments.dispute_open(purchase_order_id=po.pk, opened_by=actor, reason=reason, opened_by_user=user)


STEPS = {
    "confirm": purchase_order_confirm,
    "ship": purchase_order_ship,
    "deliver": purchase_order_deliver,
    "cancel": purchase_order_cancel,
    "default": purchase_order_default,
}


@transaction.atomic
def order_step(*, order: Order, actor: Organization, step: str) -> Order:
    """A step on a whole order (`/orders/{id}/{step}/`): applied to every purchase order of the
    order that is the actor's to move — a vendor's own POs; for the buyer, every open PO
    (cancel) or every shipped PO (deliver). All or nothing: one refusal (409) keeps them all."""
    pos = list(order.purchase_orders.order_by("pk"))
    if actor.pk == order.buyer_id:
        if step == "deliver":
            targets = [po for po in pos if po.status == OrderStatus.SHIPPED] or pos
        else:
            targets = [po for po in pos if po.status != OrderStatus.CANCELLED] or pos
    else:
        targets = [po for po in pos if po.vendor_id == actor.pk]
    if not targets:
        raise NotAParty("You are not a party to this order.")
    for po in targets:
        STEPS[step](purchase_order=po, actor=actor)
    order.refresh_from_db()
    return order


# --- The remainder of an order ----------------------------------------------------------------------


def order_remainder(*, order: Order) -> dict[int, int]:
    """What an order from a quote still lacks, per part: the quote's needed quantity minus every
    unit bought for it — by this order and by the orders placed from its remainder quotes —
    counting purchase orders that were not cancelled. Empty when nothing is missing."""
    if order.quote_id is None:
        raise OrderInvalid({"order": ["Only an order placed from a quote has a remainder (it knows what the kit needs)."]})
    needed = {line.part_id: line.needed_qty for line in order.quote.lines.all()}
    orders = Order.objects.filter(Q(pk=order.pk) | Q(quote__remainder_of=order.pk)).exclude(status=OrderStatus.CANCELLED)
    # Which line each bought listing served (a substitute counts for the line it was bought for):
    # an order from a quote buys exactly the quote's allocations.
    line_of = {(a.line.quote_id, a.listing_id): a.line.part_id
               for a in QuoteAllocation.objects.filter(line__quote__orders__in=orders).select_related("line")}
    bought: dict[int, int] = defaultdict(int)
    for quote_id, listing_id, quantity in (
            PurchaseOrderLine.objects.filter(purchase_order__order__in=orders, listing__isnull=False)
            .exclude(purchase_order__status=OrderStatus.CANCELLED)
            .values_list("purchase_order__order__quote_id", "listing_id", "quantity")):
        part_id = line_of.get((quote_id, listing_id))
        if part_id is not None:
            bought[part_id] += quantity
    return {part_id: qty - bought.get(part_id, 0) for part_id, qty in needed.items() if qty > bought.get(part_id, 0)}


def order_remainder_quote(*, order: Order, buyer: Organization, created_by: AbstractBaseUser | None = None,
                          options: dict | None = None) -> Quote:
    """A quote for what `order` still lacks (`order_remainder`): sourced like any quote from the
    market and the buyer's awarded RFQ offers (an RFQ sent for the rest of the order, once
    awarded, is one of its offers), parts only — the order paid assembly, fees and NRE."""
    if order.buyer_id != buyer.pk:
        raise OrderInvalid({"order": ["Only the buyer can quote the rest of its order."]})
    if order.status == OrderStatus.CANCELLED:
        raise OrderInvalid({"order": [f"Order {order.pk} is cancelled; quote the kit again instead."]})
    remaining = order_remainder(order=order)
    if not remaining:
        raise OrderInvalid({"order": [f"Order {order.pk} lacks nothing: every part it needs is ordered."]})
    quote = order.quote
    return quote_create(organization=buyer, kit=quote.kit, quantity=quote.quantity, created_by=created_by,
                        options=options if options is not None else quote.options, remaining=remaining,
                        remainder_of=order.pk)


@transaction.atomic
def order_complete(*, order: Order, buyer: Organization, placed_by: AbstractBaseUser, payment: str,
                   options: dict | None = None) -> Order:
    """"Complete order N" in one step: quote the remainder (from the awards and the market) and order
    it. Refused (400, nothing kept) if the remainder still cannot be fully sourced — the quote's
    shortfalls are named; ask the market again or order what is there with a partial order."""
    quote = order_remainder_quote(order=order, buyer=buyer, created_by=placed_by, options=options)
    short = [line for line in quote.lines.select_related("part") if line.shortfall]
    if short:
        names = ", ".join(f"{line.part} ({line.shortfall:,})" for line in short[:5])
        raise OrderInvalid({"order": [f"The rest of order {order.pk} is still short of {names}: nothing was ordered. "
                                      "Quote the remainder and order what is available with the rest sent to an RFQ."]})
    return order_place(buyer=buyer, placed_by=placed_by, payment=payment, quote=quote)
