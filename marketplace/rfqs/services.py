"""RFQs: a buyer asks the market, verified suppliers bid, the buyer awards.

Awarded part lines become private listings (`Listing.reserved_for` = the buyer, `expires_at` =
the bid's `valid_until`, never active on the public market) with the awarded quantity as stock:
the quote engine reads them beside the public offers (`awarded_offers_for`), and an order from
such a quote reserves them with the same locked conditional update as any listing, so a bid can
never be oversold. An awarded assembly bid becomes an `AssemblyOffer` that the buyer's quotes of
that kit use instead of the kit's own factory. See docs/rfqs.md.

Locks: the RFQ row first (bids, close and award serialise on it), then listings in pk order.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from marketplace.catalogue.listings import part_get_or_create, price_break_errors
from marketplace.catalogue.models import (
    Currency,
    Listing,
    Part,
    PriceBreak,
    normalize_mpn,
)
from marketplace.exceptions import (
    AwardInvalid,
    BidInvalid,
    NotAVerifiedSupplier,
    RfqInvalid,
    RfqNotOpen,
)
from marketplace.kits.models import Kit
from marketplace.notifications.models import Notification
from marketplace.notifications.services import notify, webhooks_enqueue
from marketplace.orders.models import Order
from marketplace.orders.services import order_place
from marketplace.rfqs.models import Bid, BidLine, BidPriceBreak, Rfq, RfqLine
from marketplace.rfqs.selectors import can_bid, suppliers_fitting
from marketplace.sourcing.models import AssemblyOffer, Quote
from organizations.models import Organization

MAX_LINES = 200
MAX_QTY = 2_000_000_000
MAX_OPEN_DAYS = 90
DEFAULT_OPEN = timedelta(days=3)
MAX_BID_VALIDITY = timedelta(days=365)


def _rfq_payload(rfq: Rfq) -> dict:
    return {"rfq": {
        "id": rfq.pk, "title": rfq.title, "kind": rfq.kind, "status": rfq.status, "currency": rfq.currency,
        "closes_at": rfq.closes_at.isoformat(), "buyer": rfq.buyer_id,
        "lines": [{"line": l.pk, "manufacturer": l.manufacturer, "mpn": l.mpn, "quantity": l.quantity} for l in rfq.lines.all()],
    }}


def _check_closes_at(closes_at: datetime, now: datetime) -> dict:
    if closes_at <= now:
        return {"closes_at": ["Pick a closing time in the future."]}
    if closes_at > now + timedelta(days=MAX_OPEN_DAYS):
        return {"closes_at": [f"An RFQ stays open at most {MAX_OPEN_DAYS} days."]}
    return {}


def _announce(rfq: Rfq) -> None:
    """Tell the suppliers it fits (inbox and webhooks), and the buyer's own integrations."""
    suppliers = [s.pk for s in suppliers_fitting(rfq=rfq)]
    notify(organization_ids=suppliers, kind=Notification.Kind.RFQ_NEW, rfq=rfq,
           text=f"New RFQ that fits you: {rfq.title} (closes {timezone.localtime(rfq.closes_at):%Y-%m-%d %H:%M})")
    webhooks_enqueue(organization_ids=[*suppliers, rfq.buyer_id], event="rfq.created", event_key=f"rfq:{rfq.pk}:created",
                     payload=_rfq_payload(rfq))


@transaction.atomic
def rfq_create(
    *, buyer: Organization, created_by: AbstractBaseUser | None, title: str, closes_at: datetime, lines: list[dict],
    currency: str = "CNY", max_bids: int | None = None, needed_by: date | None = None,
    source_quote: Quote | None = None, source_order: Order | None = None,
) -> Rfq:
    """A parts RFQ. Each line: `manufacturer`, `mpn`, `quantity`, optional `target_unit_price`,
    `needed_by`, `category`, `part` (a Part when the caller already knows it)."""
    now = timezone.now()
    errors = _check_closes_at(closes_at, now)
    if not title.strip():
        errors["title"] = ["Give the RFQ a title."]
    if currency not in Currency.values:
        errors["currency"] = [f"Choose one of {Currency.values}."]
    if max_bids is not None and max_bids < 1:
        errors["max_bids"] = ["At least 1, or leave it out for no cap."]
    if not lines:
        errors["lines"] = ["Ask for at least one part."]
    elif len(lines) > MAX_LINES:
        errors["lines"] = [f"At most {MAX_LINES} lines per RFQ."]
    line_errors, rows = [], []
    for i, spec in enumerate(lines[:MAX_LINES], start=1):
        part: Part | None = spec.get("part")
        manufacturer = " ".join(str(spec.get("manufacturer") or (part.manufacturer if part else "")).split())
        mpn = str(spec.get("mpn") or (part.mpn if part else "")).strip()
        quantity = int(spec.get("quantity") or 0)
        target = spec.get("target_unit_price")
        if not normalize_mpn(mpn):
            line_errors.append(f"Line {i}: give the manufacturer part number.")
            continue
        if not 1 <= quantity <= MAX_QTY:
            line_errors.append(f"Line {i}: quantity must be between 1 and {MAX_QTY:,}.")
            continue
        if target is not None and Decimal(target) < 0:
            line_errors.append(f"Line {i}: a target price cannot be negative.")
            continue
        if part is None:
            found = Part.objects.filter(mpn_normalized=normalize_mpn(mpn))
            if manufacturer:
                found = found.filter(manufacturer__iexact=manufacturer)
            part = found.order_by("pk").first()
        category = str(spec.get("category") or (part.category if part else "")).strip().upper()
        rows.append(RfqLine(part=part, manufacturer=manufacturer or (part.manufacturer if part else ""), mpn=mpn,
                            mpn_normalized=normalize_mpn(mpn), category_key=category[:100], quantity=quantity,
                            target_unit_price=target, needed_by=spec.get("needed_by") or needed_by, position=i))
    if line_errors:
        errors["lines"] = line_errors
    if errors:
        raise RfqInvalid(errors)
    rfq = Rfq.objects.create(buyer=buyer, created_by=created_by, title=title.strip()[:200], currency=currency,
                             closes_at=closes_at, max_bids=max_bids, needed_by=needed_by, source_quote=source_quote,
                             source_order=source_order)
    for row in rows:
        row.rfq = rfq
    RfqLine.objects.bulk_create(rows)
    _announce(rfq)
    return rfq


def quote_short_lines(quote: Quote) -> list[dict]:
    """What a quote could not source: each line's shortfall, and (BOM quotes) unsourced lines."""
    out = [{"part": line.part, "quantity": line.shortfall} for line in quote.lines.select_related("part") if line.shortfall]
    # BOM quotes carry lines no catalogue part matched (`Quote.unsourced`): ask for those by MPN.
    for row in getattr(quote, "unsourced", None) or []:
        if normalize_mpn(row.get("mpn") or "") and int(row.get("quantity") or 0) >= 1:  # a line with no MPN cannot be asked for
            out.append({"manufacturer": row.get("manufacturer", ""), "mpn": row["mpn"], "quantity": int(row["quantity"])})
    return out


@transaction.atomic
def rfq_create_from_quote(
    *, quote: Quote, buyer: Organization, created_by: AbstractBaseUser | None, closes_at: datetime | None = None,
    title: str | None = None, max_bids: int | None = None, source_order: Order | None = None,
) -> Rfq:
    """One click: ask the market for a quote's shortfalls (and unsourced lines)."""
    if quote.organization_id != buyer.pk:
        raise RfqInvalid({"from_quote": ["This quote was made for another organisation."]})
    lines = quote_short_lines(quote)
    if not lines:
        raise RfqInvalid({"from_quote": [f"Quote {quote.pk} is not short of anything: order it as it is."]})
    return rfq_create(
        buyer=buyer, created_by=created_by, currency=quote.currency, max_bids=max_bids,
        title=title or f"Shortfalls of {quote.quantity} × {quote.kit.name} (quote {quote.pk})",
        closes_at=closes_at or timezone.now() + DEFAULT_OPEN, lines=lines, source_quote=quote, source_order=source_order,
    )


@transaction.atomic
def rfq_create_assembly(
    *, buyer: Organization, created_by: AbstractBaseUser | None, kit: Kit, quantity: int, closes_at: datetime,
    processes: list[str], title: str | None = None, max_bids: int | None = None, needed_by: date | None = None,
) -> Rfq:
    """An assembly job: `kit` at `quantity`, routed to factories whose capabilities fit."""
    errors = _check_closes_at(closes_at, timezone.now())
    if not 1 <= int(quantity) <= 10_000_000:
        errors["quantity"] = ["Ask for between 1 and 10,000,000 boards."]
    unknown = set(processes) - {"smt", "through_hole", "box_build", "testing"}
    if unknown:
        errors["processes"] = [f"Unknown process(es): {sorted(unknown)}."]
    if errors:
        raise RfqInvalid(errors)
    rfq = Rfq.objects.create(
        buyer=buyer, created_by=created_by, kind=Rfq.Kind.ASSEMBLY, kit=kit, quantity=quantity, currency=kit.currency,
        title=(title or f"Assembly of {quantity} × {kit.name}")[:200], closes_at=closes_at, max_bids=max_bids,
        needed_by=needed_by, **{f"needs_{p}": True for p in processes},
    )
    RfqLine.objects.create(rfq=rfq, position=1, manufacturer="", mpn=f"{kit.name} rev {kit.revision}"[:100],
                           quantity=quantity, needed_by=needed_by)
    _announce(rfq)
    return rfq


def _locked_rfq(rfq: Rfq) -> Rfq:
    return Rfq.objects.select_for_update().get(pk=rfq.pk)


def _is_open(rfq: Rfq, now: datetime) -> bool:
    return rfq.status == Rfq.Status.OPEN and rfq.closes_at > now


@transaction.atomic
def bid_submit(
    *, rfq: Rfq, supplier: Organization, submitted_by: AbstractBaseUser | None, valid_until: datetime,
    lines: list[dict], setup_cost: Decimal = Decimal(0), note: str = "",
) -> tuple[Bid, bool]:
    """Place or revise (same bid, revision + 1) the supplier's bid. Lines: `line` (an RfqLine id
    of this RFQ), `quantity_available`, `moq`, `multiple`, `lead_time_days`, `price_breaks`
    [(min_qty, unit_price)]. Returns (bid, created)."""
    if not can_bid(supplier):
        raise NotAVerifiedSupplier("Only verified suppliers can bid; ask an operator to verify your organisation.")
    if supplier.pk == rfq.buyer_id:
        raise PermissionDenied("You cannot bid on your own RFQ.")
    now = timezone.now()
    rfq = _locked_rfq(rfq)
    if not _is_open(rfq, now):
        raise RfqNotOpen(f"RFQ {rfq.pk} is {rfq.status if rfq.status != Rfq.Status.OPEN else 'closed'}; "
                         "bids are taken only while it is open.")
    own_lines = {l.pk: l for l in rfq.lines.all()}
    errors: dict[str, list[str]] = {}
    if valid_until <= now:
        errors["valid_until"] = ["A bid must be valid into the future."]
    elif valid_until > now + MAX_BID_VALIDITY:
        errors["valid_until"] = ["A bid can be valid for at most a year."]
    if setup_cost < 0:
        errors["setup_cost"] = ["Setup cost cannot be negative."]
    if not lines:
        errors["lines"] = ["Bid on at least one line."]
    line_errors, seen = [], set()
    for spec in lines:
        line_id = spec["line"]
        if line_id not in own_lines:
            line_errors.append(f"Line {line_id} is not a line of RFQ {rfq.pk}.")
            continue
        if line_id in seen:
            line_errors.append(f"Line {line_id} appears twice; send one offer per line.")
            continue
        seen.add(line_id)
        qty, moq, multiple = int(spec["quantity_available"]), int(spec.get("moq", 1)), int(spec.get("multiple", 1))
        if not (1 <= qty <= MAX_QTY and 1 <= moq <= MAX_QTY and 1 <= multiple <= MAX_QTY):
            line_errors.append(f"Line {line_id}: quantities must be between 1 and {MAX_QTY:,}.")
            continue
        if moq > qty:
            line_errors.append(f"Line {line_id}: the MOQ ({moq}) is more than you have ({qty}).")
        breaks = sorted((int(q), Decimal(p)) for q, p in spec.get("price_breaks") or [])
        for message in price_break_errors(breaks, moq=moq):
            line_errors.append(f"Line {line_id}: {message}")
        spec["_breaks"] = breaks
    if line_errors:
        errors["lines"] = line_errors
    if errors:
        raise BidInvalid(errors)

    bid = Bid.objects.filter(rfq=rfq, supplier=supplier).first()
    created = bid is None
    if created:
        bid = Bid.objects.create(rfq=rfq, supplier=supplier, submitted_by=submitted_by, valid_until=valid_until,
                                 setup_cost=setup_cost, note=note[:500])
    else:
        bid.lines.all().delete()
        bid.revision += 1
        bid.valid_until, bid.setup_cost, bid.note, bid.submitted_by = valid_until, setup_cost, note[:500], submitted_by
        bid.save(update_fields=["revision", "valid_until", "setup_cost", "note", "submitted_by", "updated_at"])
    for spec in lines:
        bid_line = BidLine.objects.create(
            bid=bid, line_id=spec["line"], quantity_available=spec["quantity_available"], moq=spec.get("moq", 1),
            multiple=spec.get("multiple", 1), lead_time_days=spec.get("lead_time_days", 0))
        BidPriceBreak.objects.bulk_create([BidPriceBreak(bid_line=bid_line, min_qty=q, unit_price=p) for q, p in spec["_breaks"]])

    verb = "bid" if created else f"revised its bid (revision {bid.revision})"
    notify(organization_ids=[rfq.buyer_id], kind=Notification.Kind.BID_NEW, rfq=rfq,
           text=f"{supplier.name} {verb} on {rfq.title}")
    webhooks_enqueue(organization_ids=[rfq.buyer_id], event="bid.received", event_key=f"bid:{bid.pk}:r{bid.revision}",
                     payload={"rfq": {"id": rfq.pk, "title": rfq.title},
                              "bid": {"id": bid.pk, "supplier": supplier.pk, "revision": bid.revision,
                                      "valid_until": bid.valid_until.isoformat()}})
    if created and rfq.max_bids and rfq.bids.count() >= rfq.max_bids:
        _close(rfq, now, reason=f"it reached its cap of {rfq.max_bids} bid{'s' if rfq.max_bids > 1 else ''}")
    return bid, created


def _close(rfq: Rfq, now: datetime, *, reason: str) -> None:
    rfq.status, rfq.closed_at = Rfq.Status.CLOSED, now
    rfq.save(update_fields=["status", "closed_at"])
    count = rfq.bids.count()
    notify(organization_ids=[rfq.buyer_id], kind=Notification.Kind.RFQ_CLOSED, rfq=rfq,
           text=f"{rfq.title} closed ({reason}) with {count} bid{'s' if count != 1 else ''}: compare and award.")
    notify(organization_ids=list(rfq.bids.values_list("supplier_id", flat=True)), kind=Notification.Kind.RFQ_CLOSED, rfq=rfq,
           text=f"{rfq.title} closed ({reason}); the buyer is comparing bids.")


@transaction.atomic
def rfq_close(*, rfq: Rfq, now: datetime | None = None) -> Rfq:
    """Close an open RFQ at its deadline (or the buyer closing early). Does nothing otherwise."""
    now = now or timezone.now()
    rfq = _locked_rfq(rfq)
    if rfq.status == Rfq.Status.OPEN:
        _close(rfq, now, reason="its closing time came" if rfq.closes_at <= now else "the buyer closed it")
    return rfq


CLOSING_SOON = timedelta(hours=24)


def rfq_remind_closing(*, now: datetime | None = None) -> int:
    """Beat: once per RFQ, a day before it closes, tell the suppliers it fits (bidders can still
    revise, the others can still bid). The row lock and the flag make a doubled beat harmless."""
    now = now or timezone.now()
    reminded = 0
    due = Rfq.objects.filter(status=Rfq.Status.OPEN, closes_at__gt=now, closes_at__lte=now + CLOSING_SOON,
                             closing_reminded_at__isnull=True).order_by("pk")
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            rfq = Rfq.objects.select_for_update().get(pk=pk)
            if rfq.closing_reminded_at is not None or rfq.status != Rfq.Status.OPEN:
                continue
            rfq.closing_reminded_at = now
            rfq.save(update_fields=["closing_reminded_at"])
            bidders = set(rfq.bids.values_list("supplier_id", flat=True))
            suppliers = bidders | {s.pk for s in suppliers_fitting(rfq=rfq)}
            notify(organization_ids=list(suppliers), kind=Notification.Kind.RFQ_CLOSING, rfq=rfq,
                   text=f"{rfq.title} closes {timezone.localtime(rfq.closes_at):%Y-%m-%d %H:%M}: last chance to "
                        f"{'revise your bid' if bidders else 'bid'}.")
            reminded += 1
    return reminded


def rfq_close_due(*, now: datetime | None = None) -> int:
    """The beat task's service: close every open RFQ past its closing time, one transaction each."""
    now = now or timezone.now()
    closed = 0
    for rfq in Rfq.objects.filter(status=Rfq.Status.OPEN, closes_at__lte=now).order_by("pk"):
        if rfq_close(rfq=rfq, now=now).closed_at == now:
            closed += 1
    return closed


@transaction.atomic
def rfq_cancel(*, rfq: Rfq) -> Rfq:
    rfq = _locked_rfq(rfq)
    if rfq.status not in (Rfq.Status.OPEN, Rfq.Status.CLOSED):
        raise RfqNotOpen(f"RFQ {rfq.pk} is {rfq.status}; it cannot be cancelled.")
    rfq.status, rfq.closed_at = Rfq.Status.CANCELLED, rfq.closed_at or timezone.now()
    rfq.save(update_fields=["status", "closed_at"])
    return rfq


def _award_parts_line(rfq: Rfq, bid: Bid, bid_line: BidLine) -> Listing:
    line = bid_line.line
    part = line.part
    if part is None:
        part = part_get_or_create(manufacturer=line.manufacturer or "Unknown", mpn=line.mpn,
                                  category=line.category_key.title())
        RfqLine.objects.filter(pk=line.pk).update(part=part)
    listing = Listing.objects.create(
        vendor=bid.supplier, part=part, stock=bid_line.quantity_available, moq=bid_line.moq, multiple=bid_line.multiple,
        lead_time_days=bid_line.lead_time_days, currency=rfq.currency, is_active=False, reserved_for=rfq.buyer,
        expires_at=bid.valid_until, location=f"RFQ {rfq.pk}",
    )
    PriceBreak.objects.bulk_create([PriceBreak(listing=listing, min_qty=b.min_qty, unit_price=b.unit_price)
                                    for b in bid_line.price_breaks.all()])
    Listing.objects.filter(pk=listing.pk).refresh_search_columns()
    bid_line.awarded_listing = listing
    bid_line.save(update_fields=["awarded_listing"])
    return listing


@transaction.atomic
def rfq_award(*, rfq: Rfq, buyer: Organization, bid_ids: list[int]) -> Rfq:
    """Award whole bids. Parts: each awarded bid line becomes a private listing for the buyer;
    assembly: the bid becomes the kit's assembly offer for the buyer. The RFQ is then awarded."""
    if rfq.buyer_id != buyer.pk:
        raise PermissionDenied("Only the buyer awards its RFQ.")
    now = timezone.now()
    rfq = _locked_rfq(rfq)
    if rfq.status not in (Rfq.Status.OPEN, Rfq.Status.CLOSED):
        raise RfqNotOpen(f"RFQ {rfq.pk} is {rfq.status}; it cannot be awarded again.")
    ids = sorted(set(bid_ids))
    if not ids:
        raise AwardInvalid({"bids": ["Choose at least one bid to award."]})
    bids = {b.pk: b for b in Bid.objects.filter(pk__in=ids, rfq=rfq).select_related("supplier").prefetch_related(
        "lines__line", "lines__price_breaks")}
    errors = []
    foreign = [pk for pk in ids if pk not in bids]
    if foreign:
        errors.append(f"Bid(s) {foreign} are not bids on RFQ {rfq.pk}.")
    expired = [pk for pk, b in bids.items() if b.valid_until <= now]
    if expired:
        errors.append(f"Bid(s) {expired} have expired; ask the supplier to revise or choose another.")
    unverified = [pk for pk, b in bids.items() if not b.supplier.verified]
    if unverified:
        errors.append(f"Bid(s) {unverified} come from a supplier that is no longer verified.")
    if rfq.kind == Rfq.Kind.ASSEMBLY and len(ids) > 1:
        errors.append("An assembly job goes to one factory: award one bid.")
    if errors:
        raise AwardInvalid({"bids": errors})

    for pk in ids:
        bid = bids[pk]
        for bid_line in bid.lines.all():
            if rfq.kind == Rfq.Kind.PARTS:
                _award_parts_line(rfq, bid, bid_line)
            else:
                AssemblyOffer.objects.create(buyer=rfq.buyer, kit=rfq.kit, factory=bid.supplier, bid_line=bid_line,
                                             setup_cost=bid.setup_cost, lead_time_days=bid_line.lead_time_days,
                                             expires_at=bid.valid_until)
        bid.awarded_at = now
        bid.save(update_fields=["awarded_at"])
    rfq.status, rfq.awarded_at, rfq.closed_at = Rfq.Status.AWARDED, now, rfq.closed_at or now
    rfq.save(update_fields=["status", "awarded_at", "closed_at"])

    winners = [bids[pk].supplier_id for pk in ids]
    losers = list(rfq.bids.exclude(pk__in=ids).values_list("supplier_id", flat=True))
    notify(organization_ids=winners, kind=Notification.Kind.AWARDED, rfq=rfq,
           text=f"You won {rfq.title}: your offer is reserved for {rfq.buyer.name} until it expires.")
    notify(organization_ids=losers, kind=Notification.Kind.AWARDED, rfq=rfq,
           text=f"{rfq.title} was awarded to another supplier.")
    webhooks_enqueue(organization_ids=[rfq.buyer_id, *winners], event="rfq.awarded", event_key=f"rfq:{rfq.pk}:awarded",
                     payload={"rfq": {"id": rfq.pk, "title": rfq.title, "kind": rfq.kind},
                              "awarded": [{"bid": pk, "supplier": bids[pk].supplier_id} for pk in ids]})
    return rfq


def awarded_listings(*, rfq: Rfq) -> list[Listing]:
    """The private listings an award made (to order them directly after a partial order)."""
    return list(Listing.objects.filter(bid_line__bid__rfq=rfq).filter(Q(reserved_for=rfq.buyer_id))
                .select_related("part", "vendor").prefetch_related("price_breaks").order_by("pk"))


@transaction.atomic
def order_place_partial(
    *, buyer: Organization, placed_by: AbstractBaseUser, payment: str, quote: Quote, rfq_closes_at: datetime | None = None,
    rfq_max_bids: int | None = None,
) -> tuple[Order, Rfq]:
    """Order what a short quote can source and ask the market for the rest, in one step: if
    either fails, neither is kept."""

    order = order_place(buyer=buyer, placed_by=placed_by, payment=payment, quote=quote, allow_shortfalls=True)
    rfq = rfq_create_from_quote(quote=quote, buyer=buyer, created_by=placed_by, closes_at=rfq_closes_at,
                                max_bids=rfq_max_bids, source_order=order,
                                title=f"Rest of order {order.pk}: {quote.quantity} × {quote.kit.name}")
    return order, rfq
