"""RFQ reads: who may see an RFQ, the suppliers' board, bids as each party may see them, and
the awarded offers the buyer's quotes use.

Visibility, in one place:
- the buyer sees its RFQs and every bid on them;
- a verified supplier sees the open RFQs that fit it (its catalogue or declared categories; for
  assembly RFQs its declared capabilities), and any RFQ it bid on, with its own bid only;
- anybody else gets a 404 (another buyer never learns that an RFQ exists).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from credit.selectors import (
    credit_line_list,
    trust_for_organization,
    trust_visible_organization_list,
)
from marketplace.catalogue.models import Listing
from marketplace.factories.models import SupplierProfile
from marketplace.factories.selectors import _profile, supplier_categories
from marketplace.notifications.models import Notification
from marketplace.orders.selectors import fulfilment_record
from marketplace.rfqs.models import Bid, BidLine, BidPriceBreak, Rfq, RfqLine
from marketplace.sourcing.allocation import order_qty
from organizations.models import Organization

def _fits_q(supplier: Organization) -> Q:
    """The RFQs (as a Q on Rfq) whose lines or assembly job fit this supplier."""
    profile = _profile(supplier)
    mpns = Listing.objects.filter(vendor=supplier, is_active=True).values("part__mpn_normalized")
    line_fits = Q(mpn_normalized__in=mpns) | Q(category_key__in=supplier_categories(supplier, profile))
    if supplier.is_trader:  # a part nobody categorised goes to every trader: "who has this?"
        line_fits |= Q(category_key="")
    parts = Q(kind=Rfq.Kind.PARTS) & Exists(RfqLine.objects.filter(line_fits, rfq=OuterRef("pk")))
    if not (supplier.is_factory and profile is not None):
        return parts
    assembly = Q(kind=Rfq.Kind.ASSEMBLY, quantity__gte=profile.min_batch)
    if profile.max_batch is not None:
        assembly &= Q(quantity__lte=profile.max_batch)
    for process in ("smt", "through_hole", "box_build", "testing"):
        if not getattr(profile, process):
            assembly &= Q(**{f"needs_{process}": False})
    return parts | assembly


def can_bid(org: Organization | None) -> bool:
    return org is not None and org.is_supplier and org.verified


def rfq_board(*, supplier: Organization, q: str | None = None, kind: str | None = None,
              category: str | None = None) -> QuerySet[Rfq]:
    """Open RFQs a verified supplier may bid on, newest first; `q` searches titles and MPNs."""
    if not can_bid(supplier):
        return Rfq.objects.none()
    qs = Rfq.objects.filter(_fits_q(supplier), status=Rfq.Status.OPEN, closes_at__gt=timezone.now()).exclude(buyer=supplier)
    if kind in Rfq.Kind.values:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(lines__mpn_normalized__contains="".join(c for c in q.upper() if c.isalnum()) or q))
    if category:
        qs = qs.filter(lines__category_key=category.strip().upper())
    return _with_joins(qs.distinct()).order_by("-created_at", "-id")


def _with_joins(qs: QuerySet[Rfq]) -> QuerySet[Rfq]:
    return qs.select_related("buyer", "kit").prefetch_related(
        Prefetch("lines", queryset=RfqLine.objects.select_related("part").order_by("position", "id")))


def rfq_visible_list(*, viewer: Organization) -> QuerySet[Rfq]:
    """Every RFQ the viewer may open: its own, the board's, those it bid on, and those its inbox told
    it about — so every inbox link opens, also once the RFQ has closed or been awarded (the page then
    says so, without a bid form)."""
    own = Q(buyer=viewer)
    told = Exists(Notification.objects.filter(rfq=OuterRef("pk"), organization=viewer))
    if can_bid(viewer):
        fits = _fits_q(viewer) & Q(status=Rfq.Status.OPEN, closes_at__gt=timezone.now())
        bid_on = Exists(Bid.objects.filter(rfq=OuterRef("pk"), supplier=viewer))
        return _with_joins(Rfq.objects.filter(own | fits | bid_on | told))
    return _with_joins(Rfq.objects.filter(own | told))


def rfq_list_for_buyer(*, buyer: Organization, status: str | None = None) -> QuerySet[Rfq]:
    qs = Rfq.objects.filter(buyer=buyer).annotate(bid_count=Count("bids"))
    if status in Rfq.Status.values:
        qs = qs.filter(status=status)
    return _with_joins(qs).order_by("-created_at", "-id")


def bids_visible(*, rfq: Rfq, viewer: Organization) -> QuerySet[Bid]:
    """All bids for the buyer; a supplier's own bid for a supplier; nothing for anyone else."""
    qs = Bid.objects.filter(rfq=rfq).select_related("supplier").prefetch_related(
        Prefetch("lines", queryset=BidLine.objects.select_related("line").prefetch_related(
            Prefetch("price_breaks", queryset=BidPriceBreak.objects.order_by("min_qty")))))
    if rfq.buyer_id == viewer.pk:
        return qs.order_by("id")
    return qs.filter(supplier=viewer).order_by("id")


def bid_list_for_supplier(*, supplier: Organization) -> QuerySet[Bid]:
    return Bid.objects.filter(supplier=supplier).select_related("rfq__buyer", "supplier").prefetch_related(
        Prefetch("lines", queryset=BidLine.objects.select_related("line").prefetch_related("price_breaks"))
    ).order_by("-updated_at", "-id")


@dataclass
class BidderStanding:
    """What the buyer sees beside a bid's price: the bidder's public fulfilment record; the
    credit the bidder extends to the buyer, if any; and the bidder's trust score from the credit
    app. Trust scores are private to credit-line counterparties (the API contract), so it is
    shown only when the credit app lets the buyer see it (`trust_visible_organization_list`)."""

    fulfilment: dict
    credit_line: dict | None
    trust: dict | None


def bidder_standing(*, buyer: Organization, suppliers: list[Organization], currency: str) -> dict[int, BidderStanding]:
    ids = [s.pk for s in suppliers]
    granted = {line.supplier_id: line for line in credit_line_list(organization=buyer)
               .filter(buyer=buyer, supplier__in=ids, currency=currency).order_by("pk")}
    related = set(trust_visible_organization_list(viewer=buyer).filter(pk__in=ids).values_list("pk", flat=True))
    out = {}
    for supplier in suppliers:
        line = granted.get(supplier.pk)
        trust = trust_for_organization(organization=supplier) if supplier.pk in related else None
        out[supplier.pk] = BidderStanding(
            fulfilment=fulfilment_record(supplier=supplier),
            credit_line=None if line is None else {
                "id": line.pk, "currency": line.currency, "limit": line.limit, "available": line.available,
                "terms_days": line.terms_days, "status": line.status,
            },
            trust=None if trust is None else {"score": trust.score, "reasons": trust.reasons},
        )
    return out


def suppliers_fitting(*, rfq: Rfq) -> list[Organization]:
    """The verified suppliers whose board shows this RFQ (for the 'new RFQ' notifications):
    the same rule as `_fits_q`, asked the other way round."""
    candidates = Organization.objects.filter(is_supplier=True, verified=True).exclude(pk=rfq.buyer_id)
    if rfq.kind == Rfq.Kind.ASSEMBLY:
        profiles = SupplierProfile.objects.filter(organization__in=candidates.filter(is_factory=True),
                                                  min_batch__lte=rfq.quantity).filter(
            Q(max_batch__isnull=True) | Q(max_batch__gte=rfq.quantity))
        for process in rfq.needed_processes:
            profiles = profiles.filter(**{process: True})
        return list(Organization.objects.filter(pk__in=profiles.values("organization_id")).order_by("pk"))
    lines = list(rfq.lines.all())
    mpns = {l.mpn_normalized for l in lines if l.mpn_normalized}
    cats = {l.category_key for l in lines if l.category_key}
    listing = Listing.objects.filter(vendor=OuterRef("pk"), is_active=True)
    fits = Exists(listing.filter(part__mpn_normalized__in=mpns)) | Exists(listing.filter(category_key__in=cats))
    if any(not l.category_key for l in lines):
        fits |= Q(is_trader=True)
    declared = [pid for pid, categories in SupplierProfile.objects.filter(organization__in=candidates)
                .values_list("organization_id", "categories")
                if cats & {str(c).strip().upper() for c in categories or []}]
    return list(candidates.filter(fits | Q(pk__in=declared)).order_by("pk"))



def bid_comparison(*, rfq: Rfq, bids: list[Bid]) -> list[dict]:
    """The buyer's side-by-side view: per RFQ line, each bid's offer at the quantity asked (or
    all it has): order quantity after MOQ and multiple, unit price at that quantity, extended
    price and lead time; the cheapest unit price per line is flagged."""

    rows = []
    for line in rfq.lines.all():
        cells = []
        for bid in bids:
            bid_line = next((bl for bl in bid.lines.all() if bl.line_id == line.pk), None)
            if bid_line is None:
                cells.append(None)
                continue
            qty = min(order_qty(line.quantity, bid_line.moq, bid_line.multiple), bid_line.quantity_available)
            unit = None
            for b in bid_line.price_breaks.all():
                if b.min_qty <= qty:
                    unit = b.unit_price
            cells.append({"bid_line": bid_line, "qty": qty, "unit": unit, "short": max(0, line.quantity - qty),
                          "extended": None if unit is None else (qty * unit).quantize(Decimal("0.01")),
                          "lead": bid_line.lead_time_days, "best": False})
        priced = [c for c in cells if c and c["unit"] is not None]
        if priced:
            best = min(c["unit"] for c in priced)
            for c in priced:
                c["best"] = c["unit"] == best
        rows.append({"line": line, "cells": cells})
    return rows
