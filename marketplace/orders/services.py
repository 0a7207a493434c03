"""Orders and purchase orders: place (reserve stock without oversell, split per vendor, open
payment), then the lifecycle placed → confirmed → partly shipped → shipped → delivered, or cancelled.

Every purchase order carries its vendor's promise from the moment it is placed (`confirm_by`,
`ship_by`; see orders/promises.py), and every step writes an event for both parties
(`config.events`: the feed and the webhooks), in the step's own transaction.

Who may take each step (documented in docs/quotes.md too):
- confirm, ship: the vendor of the purchase order; `ship` sends every unit still to go in one
  shipment, `shipment_create` sends some of them (tracked, lot-coded), several times;
- deliver: the buyer (confirms receipt of everything shipped); `shipment_receive` receives one
  shipment, or part of it; the purchase order is delivered when its last unit is received;
- expire: the market, when the vendor has not confirmed by `confirm_by` (the deadline sweep);
- cancel: the buyer while the PO is still `placed`, or `confirmed` when the vendor's terms let
  buyers cancel after confirmation (forfeiting per terms); the vendor while it is `placed` or
  `confirmed` (it cannot ship). Cancelling releases the reserved stock;
- default: the vendor of a shipped deposit order whose buyer did not pay the balance within the
  terms' grace period (the deposit is forfeited per terms, the goods go back into stock, the PO
  is cancelled);
- dispute: either party of a shipped or delivered PO (credit freezes what is still held).
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from config.events.services import event_record
from credit import payments
from marketplace.catalogue.models import Listing
from marketplace.exceptions import (
    NotAParty,
    OrderInvalid,
    OutOfStock,
    PurchaseOrderStepNotAllowed,
    QuoteAlreadyOrdered,
    ShipmentInvalid,
    StepNotYours,
)
from marketplace.factories.capacity import capacity_release
from marketplace.kits.services import kit_freeze, kit_nre_record, kit_nre_release
from marketplace.orders.assembly import assembly_route
from marketplace.orders.capacity import capacity_book_for_order
from marketplace.orders.financing import order_financer
from marketplace.orders.models import (
    Order,
    OrderStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
    ShipmentLine,
)
from marketplace.orders.selectors import resource_offer
from marketplace.orders.promises import days_late, late_credit, promise_apply, promises_for
from marketplace.sourcing.allocation import order_qty
from marketplace.sourcing.models import Quote, QuoteAllocation
from marketplace.sourcing.options import MAX_TOTAL
from marketplace.sourcing.quotes import quote_create, quote_nre_charged, quote_service_lines
from marketplace.sourcing.rates import cents
from organizations.models import Organization

MAX_LINES = 500
FINANCED = {"demand_credit"}  # payment methods whose line comes from a registered financer
STAGES = [OrderStatus.PLACED, OrderStatus.CONFIRMED, OrderStatus.PARTLY_SHIPPED, OrderStatus.SHIPPED,
          OrderStatus.DELIVERED]
SHIPPING = {OrderStatus.CONFIRMED, OrderStatus.PARTLY_SHIPPED}  # a vendor may (still) ship
MAX_SHIPMENT_LINES = 500


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
    fund_currency: str | None = None,
    financing: int | None = None,
) -> Order:
    """Place an order from a saved quote (its prices, its allocations, plus assembly and fees) or
    from listing lines (current prices). Listings are locked in pk order, stock is reserved with
    conditional updates (never below zero), one purchase order per vendor, then payment opens in
    the same transaction: if credit refuses, nothing is kept. `allow_shortfalls` orders what a
    short quote could source (see `order_place_partial`, which sends the rest to an RFQ).
    A buyer's awarded RFQ offers (private listings) are ordered like any listing until they expire.
    `fund_currency`: a deposit order paid from that currency's wallet, converted at the rate in
    force (credit's FX entry before each payment). Each purchase order records the platform's
    fee, from its amounts by part category; an order from a quote records the kit revisions
    whose NRE it pays (once per revision per buyer).
    `payment="demand_credit"` with `financing` (a trial id): the financer registered for it opens
    the credit line that pays every vendor (marketplace.orders.financing)."""
    if payment not in Order.Payment.values:
        raise OrderInvalid({"payment": [f"Pay by {' or '.join(label.lower() for label in Order.Payment.labels)}."]})
    financer = order_financer(payment) if payment in FINANCED else None
    if payment in FINANCED and financer is None:
        raise OrderInvalid({"payment": [f"Paying by {payment} is not available here."]})
    if payment in FINANCED and financing is None:
        raise OrderInvalid({"trial": ["Name the trial whose demand finances this order."]})
    if (quote is None) == (lines is None):
        raise OrderInvalid({"non_field_errors": ["Order either from a quote or from listing lines, not both."]})

    # (vendor_id, listing_id | None, description, quantity, unit_price)
    wanted: list[tuple[int, int | None, str, int, Decimal]] = []
    categories: dict[int, str] = {}  # listing id -> its part's category (the platform's fee may differ by category)
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
            categories[a.listing_id] = a.listing.part.category
        for _, vendor_id, description, qty, unit in quote_service_lines(quote=quote):
            wanted.append((vendor_id, None, description, qty, unit))
        # Exactly the purchase orders the quote priced, each with the shipping it was quoted.
        for quoted in quote.vendors.all():
            if quoted.shipping:
                wanted.append((quoted.vendor_id, None, "Shipping", 1, quoted.shipping))
        if not wanted:  # a purchase plan whose stock covers every part (docs/purchase-plans.md)
            raise OrderInvalid({"quote": ["This quote buys nothing: your stock covers every part."]})
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
            categories[listing_id] = listing.part.category
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
    # Each vendor's promise: its terms, or the longest lead time of what it sells here.
    lead_days = {vendor_id: max((locked[l].lead_time_days for l, *_ in rows if l is not None), default=0)
                 for vendor_id, rows in by_vendor.items()}
    if quote is not None:
        for quoted in quote.vendors.all():
            if quoted.vendor_id in lead_days:
                lead_days[quoted.vendor_id] = max(lead_days[quoted.vendor_id], quoted.lead_time_days)
    promises = promises_for(lead_days=lead_days)
    po_lines, total = [], Decimal(0)
    fee_basis: dict[int, dict[str, Decimal]] = {}
    for vendor_id in sorted(by_vendor):
        po = PurchaseOrder(order=order, vendor_id=vendor_id, currency=currency, total=Decimal(0))
        promise_apply(po, promises[vendor_id], placed_at=order.created_at)
        po.save(force_insert=True)
        po_total, basis = Decimal(0), defaultdict(Decimal)
        for listing_id, description, qty, unit in by_vendor[vendor_id]:
            extended = cents(qty * unit)  # each line rounded once; the purchase order is their sum
            po_total += extended
            basis[categories.get(listing_id, "") if listing_id else ""] += extended
            po_lines.append(PurchaseOrderLine(purchase_order=po, listing_id=listing_id, description=description[:300],
                                              quantity=qty, unit_price=unit, extended_price=extended))
        po.total = po_total
        po.save(update_fields=["total"])
        fee_basis[po.pk] = dict(basis)
        total += po_total
    PurchaseOrderLine.objects.bulk_create(po_lines)
    order.total = total
    order.save(update_fields=["total"])
    if quote is not None:
        kit_freeze(kit=quote.kit)
        capacity_book_for_order(order=order, quote=quote)  # factories that declared weekly capacity
        assembly_route(order=order, quote=quote)  # consigned parts ship to the assembling factory
        po_of = {po.vendor_id: po.pk for po in order.purchase_orders.all()}
        kit_nre_record(buyer=buyer, payments=[(kit, po_of[kit.owner_id], order.pk, kit.nre, kit.currency)
                                              for kit in quote_nre_charged(quote=quote) if kit.owner_id in po_of])
    # A financed order: the financer opens the line that pays every vendor (or refuses: all rolls back).
    line = financer(buyer=buyer, order=order, quote=quote, reference=financing) if financer is not None else None
    # Each purchase order opens its payment (deposit into escrow, or a credit reservation).
    for po in order.purchase_orders.select_related("vendor").order_by("pk"):
        record = payments.purchase_order_payment_open(
            purchase_order_id=po.pk, order_id=order.pk, buyer=order.buyer, vendor=po.vendor, currency=po.currency,
            total=po.total, method="credit" if line is not None else order.payment,
            kit_owner_id=quote.kit.owner_id if quote is not None else None,
            fee_basis=fee_basis[po.pk], fund_currency=fund_currency,
            credit_line_id=line.pk if line is not None else None)
        if record.platform_fee:
            po.platform_fee = record.platform_fee
            po.save(update_fields=["platform_fee"])
        po.order = order
        po_event(po, "po.placed")
    return order


# --- Events ------------------------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def po_event(po: PurchaseOrder, type: str, *, key: str | None = None, at=None, **data) -> None:
    """The step in the buyer's and the vendor's event feeds (and their webhooks)."""
    event_record(
        type=type, object_type="purchase_order", object_id=po.pk, key=key, at=at,
        organization_ids=[po.order.buyer_id, po.vendor_id],
        data={"order": po.order_id, "buyer": po.order.buyer_id, "vendor": po.vendor_id, "status": po.status,
              "total": str(po.total), "currency": po.currency, "confirm_by": _iso(po.confirm_by),
              "ship_by": _iso(po.ship_by), **data},
    )


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
def purchase_order_confirm(*, purchase_order: PurchaseOrder, actor: Organization, at=None) -> PurchaseOrder:
    po, party = _locked(purchase_order, actor)
    _step(po, party, step="confirm", allowed={"vendor": {OrderStatus.PLACED}})
    po.status, po.confirmed_at = OrderStatus.CONFIRMED, at or timezone.now()
    po.ship_by = po.confirmed_at + timedelta(days=po.ship_within_days)  # the promise runs from the confirmation
    po.save(update_fields=["status", "confirmed_at", "ship_by", "updated_at"])
    payments.purchase_order_payment_confirm(purchase_order_id=po.pk)
    _rollup(po.order)
    po_event(po, "po.confirmed", at=po.confirmed_at, simulated=po.vendor.simulated)
    return po


@transaction.atomic
def purchase_order_ship(*, purchase_order: PurchaseOrder, actor: Organization) -> PurchaseOrder:
    """Ship every unit still to go, in one shipment (no lot or tracking: use `shipment_create`)."""
    shipment_create(purchase_order=purchase_order, actor=actor, lines=None)
    return PurchaseOrder.objects.select_related("order").get(pk=purchase_order.pk)


@transaction.atomic
def purchase_order_deliver(*, purchase_order: PurchaseOrder, actor: Organization) -> PurchaseOrder:
    """The buyer received everything: every shipment, whole."""
    po, party = _locked(purchase_order, actor)
    _step(po, party, step="confirm delivery of", allowed={"buyer": {OrderStatus.SHIPPED}})
    _receive(po, ShipmentLine.objects.filter(shipment__purchase_order=po).order_by("pk"), quantities=None)
    return po


def _clean_text(value, *, field: str, max_length: int, errors: list[str], where: str) -> str:
    value = str(value or "").strip()
    if len(value) > max_length:
        errors.append(f"{where}: {field} is at most {max_length} characters.")
    return value[:max_length]


@transaction.atomic
def shipment_create(*, purchase_order: PurchaseOrder, actor: Organization, lines: list[dict] | None,
                    carrier: str = "", tracking: str = "", user=None, simulated: bool = False, at=None) -> Shipment:
    """The vendor ships some units: `lines` = [{"listing", "quantity", "lot", "date_code"}], or None
    for every unit still to go. Several shipments per purchase order; it is partly shipped until
    its last unit has gone (then its service lines go with that last shipment). More than ordered
    is refused whole (400), a shipment on an order that is not confirmed is a 409. Shipping the
    last unit after `ship_by` earns the buyer the vendor's late credit (recorded with the payment,
    posted in the ledger when the order settles)."""
    po, party = _locked(purchase_order, actor)
    _step(po, party, step="ship", allowed={"vendor": SHIPPING})
    at = at or timezone.now()
    errors: list[str] = []
    carrier = _clean_text(carrier, field="carrier", max_length=100, errors=errors, where="Shipment")
    tracking = _clean_text(tracking, field="tracking", max_length=100, errors=errors, where="Shipment")
    po_lines = list(PurchaseOrderLine.objects.select_for_update().filter(purchase_order=po).order_by("pk"))
    goods = [line for line in po_lines if line.listing_id is not None]
    # (po_line, quantity, lot, date_code) to ship
    picks: list[tuple[PurchaseOrderLine, int, str, str]] = []
    if lines is None:
        picks = [(line, line.quantity - line.shipped_quantity, "", "") for line in goods if line.shipped_quantity < line.quantity]
    else:
        if not lines:
            raise ShipmentInvalid({"lines": ["Add at least one line (a listing and a quantity)."]})
        if len(lines) > MAX_SHIPMENT_LINES:
            raise ShipmentInvalid({"lines": [f"At most {MAX_SHIPMENT_LINES} lines per shipment."]})
        by_listing: dict[int, list[PurchaseOrderLine]] = defaultdict(list)
        for line in goods:
            by_listing[line.listing_id].append(line)
        left = {line.pk: line.quantity - line.shipped_quantity for line in goods}
        for n, wanted in enumerate(lines, start=1):
            where = f"Line {n}"
            listing_id, quantity = wanted.get("listing"), wanted.get("quantity")
            lot = _clean_text(wanted.get("lot"), field="lot", max_length=60, errors=errors, where=where)
            date_code = _clean_text(wanted.get("date_code"), field="date_code", max_length=20, errors=errors, where=where)
            if listing_id not in by_listing:
                errors.append(f"{where}: listing {listing_id} is not on purchase order {po.pk}.")
                continue
            if not isinstance(quantity, int) or quantity < 1:
                errors.append(f"{where}: quantity must be a whole number of at least 1.")
                continue
            remaining = sum(left[line.pk] for line in by_listing[listing_id])
            if quantity > remaining:
                ordered = sum(line.quantity for line in by_listing[listing_id])
                errors.append(f"{where}: listing {listing_id} has {remaining} unit(s) left to ship of {ordered} ordered; "
                              f"{quantity} is more than ordered.")
                continue
            for line in by_listing[listing_id]:  # fill the order's lines of that listing in turn
                take = min(quantity, left[line.pk])
                if take:
                    picks.append((line, take, lot, date_code))
                    left[line.pk] -= take
                    quantity -= take
    if errors:
        raise ShipmentInvalid({"lines": errors})
    shipped = defaultdict(int)
    for line, qty, _, _ in picks:
        shipped[line.pk] += qty
    done = all(line.shipped_quantity + shipped[line.pk] >= line.quantity for line in goods)
    if done:  # the last shipment carries the service lines (assembly, fees, shipping) too
        picks += [(line, line.quantity - line.shipped_quantity, "", "") for line in po_lines
                  if line.listing_id is None and line.shipped_quantity < line.quantity]
    if not picks:
        raise PurchaseOrderStepNotAllowed(f"Purchase order {po.pk} has nothing left to ship.")
    number = (Shipment.objects.filter(purchase_order=po).order_by("-number").values_list("number", flat=True).first() or 0) + 1
    shipment = Shipment.objects.create(purchase_order=po, number=number, carrier=carrier, tracking=tracking,
                                       shipped_by=user, simulated=simulated, created_at=at)
    ShipmentLine.objects.bulk_create([
        ShipmentLine(shipment=shipment, po_line=line, listing_id=line.listing_id, vendor_id=po.vendor_id, quantity=qty,
                     lot=lot, date_code=date_code) for line, qty, lot, date_code in picks])
    for line, qty, _, _ in picks:
        line.shipped_quantity += qty
    PurchaseOrderLine.objects.bulk_update([line for line, *_ in picks], ["shipped_quantity"])
    shipment_data = {"shipment": shipment.pk, "number": number, "carrier": carrier, "tracking": tracking,
                     "units": sum(q for line, q, *_ in picks if line.listing_id is not None), "simulated": simulated}
    if not done:
        po.status = OrderStatus.PARTLY_SHIPPED
        po.save(update_fields=["status", "updated_at"])
        _rollup(po.order)
        po_event(po, "po.partly_shipped", key=f"po.partly_shipped:shipment:{shipment.pk}", at=at, **shipment_data)
        return shipment
    po.status, po.shipped_at = OrderStatus.SHIPPED, at
    po.late_days = days_late(ship_by=po.ship_by, shipped_at=at)
    po.late_credit = late_credit(po, days=po.late_days)
    po.save(update_fields=["status", "shipped_at", "late_days", "late_credit", "updated_at"])
    _rollup(po.order)
    po_event(po, "po.shipped", at=at, **shipment_data)
    if po.late_days:
        if po.late_credit:
            payments.purchase_order_payment_late(purchase_order_id=po.pk, amount=po.late_credit, days=po.late_days)
        po_event(po, "po.late", at=at, days_late=po.late_days, late_credit=str(po.late_credit))
    return shipment


@transaction.atomic
def shipment_receive(*, purchase_order: PurchaseOrder, actor: Organization, shipment: Shipment,
                     lines: list[dict] | None = None) -> Shipment:
    """The buyer receives a shipment: all of it, or `lines` = [{"listing", "quantity"}] of it.
    When the last unit of a fully shipped purchase order is received it is delivered (the
    payment settles). Receiving more than was shipped is a 400."""
    po, party = _locked(purchase_order, actor)
    _step(po, party, step="receive", allowed={"buyer": {OrderStatus.PARTLY_SHIPPED, OrderStatus.SHIPPED}})
    if shipment.purchase_order_id != po.pk:
        raise ShipmentInvalid({"shipment": [f"Shipment {shipment.pk} is not one of purchase order {po.pk}'s."]})
    rows = list(ShipmentLine.objects.select_for_update().filter(shipment=shipment).order_by("pk"))
    quantities: dict[int, int] | None = None
    if lines is not None:
        if not lines:
            raise ShipmentInvalid({"lines": ["Add at least one line (a listing and a quantity), or leave lines out "
                                             "to receive the whole shipment."]})
        errors, quantities = [], defaultdict(int)
        by_listing: dict[int, list[ShipmentLine]] = defaultdict(list)
        for row in rows:
            if row.listing_id is not None:
                by_listing[row.listing_id].append(row)
        left = {row.pk: row.quantity - row.received_quantity for row in rows}
        for n, wanted in enumerate(lines, start=1):
            listing_id, quantity = wanted.get("listing"), wanted.get("quantity")
            if listing_id not in by_listing:
                errors.append(f"Line {n}: listing {listing_id} is not in shipment {shipment.number}.")
                continue
            if not isinstance(quantity, int) or quantity < 1:
                errors.append(f"Line {n}: quantity must be a whole number of at least 1.")
                continue
            remaining = sum(left[row.pk] for row in by_listing[listing_id])
            if quantity > remaining:
                errors.append(f"Line {n}: only {remaining} unit(s) of listing {listing_id} in this shipment are not "
                              f"received yet; {quantity} is more than was shipped.")
                continue
            for row in by_listing[listing_id]:
                take = min(quantity, left[row.pk])
                quantities[row.pk] += take
                left[row.pk] -= take
                quantity -= take
        if errors:
            raise ShipmentInvalid({"lines": errors})
    _receive(po, rows, quantities=quantities)
    shipment.refresh_from_db()
    return shipment


def _receive(po: PurchaseOrder, rows, *, quantities: dict[int, int] | None) -> None:
    """Mark shipment lines received (all that is outstanding, or `quantities` by row), then
    deliver the purchase order if that was its last unit."""
    now = timezone.now()
    rows = list(rows)
    changed, by_po_line, shipments = [], defaultdict(int), set()
    for row in rows:
        qty = row.quantity - row.received_quantity if quantities is None else quantities.get(row.pk, 0)
        if qty:
            row.received_quantity += qty
            by_po_line[row.po_line_id] += qty
            changed.append(row)
            shipments.add(row.shipment_id)
    ShipmentLine.objects.bulk_update(changed, ["received_quantity"])
    po_lines = list(PurchaseOrderLine.objects.select_for_update().filter(purchase_order=po).order_by("pk"))
    for line in po_lines:
        line.received_quantity += by_po_line.get(line.pk, 0)
    complete = po.status == OrderStatus.SHIPPED and all(line.received_quantity >= line.shipped_quantity for line in po_lines)
    if not changed and not complete:
        raise PurchaseOrderStepNotAllowed(f"Everything shipped in that shipment of purchase order {po.pk} is already received.")
    PurchaseOrderLine.objects.bulk_update(po_lines, ["received_quantity"])
    for shipment_id in sorted(shipments):
        if not ShipmentLine.objects.filter(shipment_id=shipment_id, received_quantity__lt=F("quantity")).exists():
            Shipment.objects.filter(pk=shipment_id, received_at=None).update(received_at=now)
    units = sum(by_po_line.values())
    if complete:
        # Rows that predate shipments (or a legacy `ship`) have nothing to receive: delivered all the same.
        PurchaseOrderLine.objects.filter(purchase_order=po).update(received_quantity=F("shipped_quantity"))
        po.status, po.delivered_at = OrderStatus.DELIVERED, now
        po.save(update_fields=["status", "delivered_at", "updated_at"])
        payments.purchase_order_payment_deliver(purchase_order_id=po.pk)
        _rollup(po.order)
        po_event(po, "po.delivered", units_received=units)
        return
    receipt = po.shipments.aggregate(n=Sum("lines__received_quantity"))["n"] or 0
    po_event(po, "po.received", key=f"po.received:purchase_order:{po.pk}:{receipt}", units_received=units,
             shipments=sorted(shipments))


@transaction.atomic
def purchase_order_cancel(*, purchase_order: PurchaseOrder, actor: Organization) -> PurchaseOrder:
    po, party = _locked(purchase_order, actor)
    buyer_may = {OrderStatus.PLACED}
    if party == "buyer" and po.status == OrderStatus.CONFIRMED and payments.purchase_order_buyer_may_cancel(purchase_order_id=po.pk):
        buyer_may.add(OrderStatus.CONFIRMED)
    _step(po, party, step="cancel", allowed={"buyer": buyer_may, "vendor": {OrderStatus.PLACED, OrderStatus.CONFIRMED}})
    _cancel(po, by_supplier=party == "vendor", reason=party, at=timezone.now())
    po_event(po, "po.cancelled", cancelled_by=party)
    return po


def _cancel(po: PurchaseOrder, *, by_supplier: bool, reason: str, at) -> None:
    """Cancel a locked purchase order: its payment returns every cent held (less a forfeit the
    terms allow), its stock every unit, its factory capacity every slot."""
    po.status, po.cancelled_at, po.cancelled_by_supplier, po.cancel_reason = OrderStatus.CANCELLED, at, by_supplier, reason
    po.save(update_fields=["status", "cancelled_at", "cancelled_by_supplier", "cancel_reason", "updated_at"])
    payments.purchase_order_payment_cancel(purchase_order_id=po.pk, by_supplier=by_supplier,
                                           after_confirmation=po.confirmed_at is not None)
    _restock(po)
    kit_nre_release(purchase_order_id=po.pk)  # its NRE was not paid after all: the next order pays it
    capacity_release(order_id=po.order_id, factory_id=po.vendor_id)
    _rollup(po.order)


@transaction.atomic
def purchase_order_expire(*, purchase_order: PurchaseOrder, as_of=None) -> PurchaseOrder | None:
    """The market cancels a purchase order its vendor did not confirm by `confirm_by`: the whole
    deposit back (or the credit reservation released) and every unit back in stock, in this one
    transaction; the buyer is offered a re-source of its lines without that vendor. Does nothing
    (returns None) unless the order is still unconfirmed and due as of `as_of`: run it twice,
    nothing moves twice."""
    as_of = as_of or timezone.now()
    Order.objects.select_for_update().filter(pk=purchase_order.order_id).first()
    po = PurchaseOrder.objects.select_for_update(of=("self",)).select_related("order").get(pk=purchase_order.pk)
    if po.status != OrderStatus.PLACED or po.confirm_by is None or po.confirm_by > as_of:
        return None
    _cancel(po, by_supplier=True, reason=PurchaseOrder.CancelReason.UNCONFIRMED, at=as_of)
    po_event(po, "po.expired", at=as_of, resource=f"/api/v1/purchase-orders/{po.pk}/resource/")
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
    po.cancel_reason = PurchaseOrder.CancelReason.DEFAULT
    po.save(update_fields=["status", "cancelled_at", "cancelled_by_supplier", "cancel_reason", "updated_at"])
    _restock(po)
    kit_nre_release(purchase_order_id=po.pk)  # its NRE was not paid after all: the next order pays it
    _rollup(po.order)
    po_event(po, "po.defaulted")
    return po


@transaction.atomic
def purchase_order_dispute(*, purchase_order: PurchaseOrder, actor: Organization, reason: str, user=None):
    """Either party disputes a shipped or delivered purchase order; returns credit's Dispute."""
    po, party = _locked(purchase_order, actor)
    shipped = {OrderStatus.PARTLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
    _step(po, party, step="dispute", allowed={"vendor": shipped, "buyer": shipped})
    return payments.dispute_open(purchase_order_id=po.pk, opened_by=actor, reason=reason, opened_by_user=user)


@transaction.atomic
def purchase_order_resource(*, purchase_order: PurchaseOrder, buyer: Organization, placed_by: AbstractBaseUser) -> Order:
    """The buyer's one click after a vendor let its purchase order expire (or cancelled it): the
    same goods from other vendors (`resource_offer`), placed as a new order paid the same way."""
    po = PurchaseOrder.objects.select_related("order").get(pk=purchase_order.pk)
    if po.order.buyer_id != buyer.pk:
        raise StepNotYours(f"Only the buyer can re-source purchase order {po.pk}.")
    if po.status != OrderStatus.CANCELLED or not po.cancelled_by_supplier:
        raise PurchaseOrderStepNotAllowed(f"Purchase order {po.pk} is {po.status}; only an order its vendor cancelled "
                                          "or let expire is re-sourced.")
    offer = resource_offer(purchase_order=po)
    if not offer["lines"]:
        raise OrderInvalid({"lines": ["No other vendor has these parts in stock now; ask the market with an RFQ."]})
    listings = {l.pk: l for l in Listing.objects.filter(pk__in=[line["listing"] for line in offer["lines"]])}
    return order_place(buyer=buyer, placed_by=placed_by, payment=po.order.payment,
                       lines=[(listings[line["listing"]], line["quantity"]) for line in offer["lines"]])


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
