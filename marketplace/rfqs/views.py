"""HTML pages for RFQs: buyers (my RFQs, new RFQ, compare bids, award), suppliers (the board,
bid, my bids, capabilities) and everyone's inbox. Thin: selectors read, services write, domain
errors become messages."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from config.errors import StateConflict, error_text
from config.pages import int_or_none, paginate
from marketplace.catalogue.listings import parse_price_breaks
from marketplace.factories.models import PROCESS_LABELS, PROCESSES
from marketplace.factories.profiles import supplier_profile_update
from marketplace.factories.selectors import supplier_profile_get
from marketplace.notifications.selectors import notification_list
from marketplace.notifications.services import notifications_mark_read
from marketplace.orders.models import Order
from marketplace.rfqs.models import Rfq
from marketplace.rfqs.selectors import (
    bid_comparison,
    bid_list_for_supplier,
    bidder_standing,
    bids_visible,
    can_bid,
    rfq_board,
    rfq_list_for_buyer,
    rfq_visible_list,
)
from marketplace.rfqs.services import (
    bid_submit,
    order_place_partial,
    rfq_award,
    rfq_close,
    rfq_create,
    rfq_create_assembly,
    rfq_create_from_quote,
)
from marketplace.sourcing.selectors import quote_list
from organizations.access import get_acting_organization
from organizations.models import Role

ERRORS = (ValidationError, StateConflict, PermissionDenied)


def _when(value: str | None) -> datetime | None:
    """A datetime-local input ("2026-11-30T18:00") in the site's time zone."""
    try:
        parsed = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _lines_from_text(text: str) -> list[dict]:
    """One part per line: `manufacturer, MPN, quantity[, target unit price]`."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        cells = [c.strip() for c in raw.split(",")]
        if len(cells) < 3:
            raise ValidationError(f"Line {number}: write manufacturer, MPN, quantity[, target price].")
        try:
            quantity = int(cells[2])
            target = Decimal(cells[3]) if len(cells) > 3 and cells[3] else None
        except (ValueError, InvalidOperation):
            raise ValidationError(f"Line {number}: the quantity must be a whole number and the price a number.") from None
        lines.append({"manufacturer": cells[0], "mpn": cells[1], "quantity": quantity, "target_unit_price": target})
    return lines


# --- Buyers --------------------------------------------------------------------------------------


@login_required
def rfq_list_view(request):
    org = get_acting_organization(request)
    status = request.GET.get("status")
    return render(request, "marketplace/rfq_list.html", {
        "page": paginate(request, rfq_list_for_buyer(buyer=org, status=status)), "statuses": Rfq.Status.choices,
        "status": status})


@login_required
def rfq_create_view(request):
    org = get_acting_organization(request)
    form = {"title": "", "lines": "", "closes_at": "", "max_bids": "", "currency": org.default_currency}
    if request.method == "GET":  # prefilled from elsewhere, e.g. a BOM's unsourced lines
        form.update({k: request.GET[k] for k in ("title", "lines") if k in request.GET})
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in form}
        try:
            closes_at = _when(form["closes_at"])
            if closes_at is None:
                raise ValidationError("Pick a closing date and time.")
            rfq = rfq_create(buyer=org, created_by=request.user, title=form["title"], currency=form["currency"],
                             closes_at=closes_at, max_bids=int_or_none(form["max_bids"]), lines=_lines_from_text(form["lines"]))
        except ERRORS as exc:
            messages.error(request, f"RFQ not created: {error_text(exc)}")
        else:
            messages.success(request, f"RFQ {rfq.pk} is open: fitting suppliers were notified.")
            return redirect("marketplace:rfq-detail", pk=rfq.pk)
    return render(request, "marketplace/rfq_form.html", {"form": form})


@login_required
@require_POST
def rfq_from_quote_view(request, pk: int):
    """The quote page's buttons: ask the market for the shortfalls, optionally ordering what is
    available in the same step (`partial`), or ask factories to assemble the batch (`assembly`)."""
    org = get_acting_organization(request)
    quote = get_object_or_404(quote_list(organization=org), pk=pk)
    try:
        if request.POST.get("assembly"):
            rfq = rfq_create_assembly(buyer=org, created_by=request.user, kit=quote.kit, quantity=quote.quantity,
                                      closes_at=_when(request.POST.get("closes_at")) or timezone.now() + timedelta(days=3),
                                      processes=[p for p in PROCESSES if request.POST.get(p)])
            messages.success(request, f"Assembly RFQ {rfq.pk} sent to the factories that fit.")
        elif request.POST.get("partial"):
            order, rfq = order_place_partial(buyer=org, placed_by=request.user, payment=request.POST.get("payment", ""),
                                             quote=quote)
            messages.success(request, f"Order {order.pk} placed for what is available ({order.total} {order.currency}); "
                                      f"RFQ {rfq.pk} asks the market for the rest.")
        else:
            rfq = rfq_create_from_quote(quote=quote, buyer=org, created_by=request.user)
            messages.success(request, f"RFQ {rfq.pk} asks the market for the shortfalls.")
    except ERRORS as exc:
        messages.error(request, error_text(exc))
        return redirect("marketplace:quote-detail", pk=pk)
    return redirect("marketplace:rfq-detail", pk=rfq.pk)


@login_required
def rfq_detail_view(request, pk: int):
    org = get_acting_organization(request)
    rfq = rfq_visible_list(viewer=org).filter(pk=pk).first()
    if rfq is None:
        raise Http404
    bids = list(bids_visible(rfq=rfq, viewer=org))
    is_buyer = rfq.buyer_id == org.pk
    context = {"rfq": rfq, "bids": bids, "is_buyer": is_buyer, "now": timezone.now(),
               "is_open": rfq.status == Rfq.Status.OPEN and rfq.closes_at > timezone.now(),
               "payments": Order.Payment.choices}
    if is_buyer:
        standing = bidder_standing(buyer=org, suppliers=[b.supplier for b in bids], currency=rfq.currency)
        context["columns"] = [{"bid": b, "standing": standing[b.supplier_id]} for b in bids]
        context["rows"] = rows = bid_comparison(rfq=rfq, bids=bids)
        for i, column in enumerate(context["columns"]):  # what each bid would cost for what it offers
            column["total"] = sum((row["cells"][i]["extended"] for row in rows
                                   if row["cells"][i] and row["cells"][i]["extended"] is not None), Decimal(0))
        context["awarded_listings"] = [bl.awarded_listing for b in bids for bl in b.lines.all() if bl.awarded_listing_id]
    else:
        own = bids[0] if bids else None
        by_line = {bl.line_id: bl for bl in own.lines.all()} if own else {}
        context["own"] = own
        context["form_lines"] = [
            {"line": line, "bl": by_line.get(line.pk),
             "breaks": ";".join(f"{b.min_qty}:{b.unit_price.normalize():f}" for b in by_line[line.pk].price_breaks.all())
             if line.pk in by_line else ""}
            for line in rfq.lines.all()]
        context["valid_until_default"] = (own.valid_until if own else timezone.now() + timedelta(days=14))
    return render(request, "marketplace/rfq_detail.html", context)


@login_required
@require_POST
def rfq_award_view(request, pk: int):
    org = get_acting_organization(request)
    rfq = get_object_or_404(rfq_list_for_buyer(buyer=org), pk=pk)
    try:
        rfq_award(rfq=rfq, buyer=org, bid_ids=[i for i in map(int_or_none, request.POST.getlist("bids")) if i])
    except ERRORS as exc:
        messages.error(request, f"Not awarded: {error_text(exc)}")
    else:
        messages.success(request, "Awarded. The offers are reserved for you: re-quote the kit to source them with the "
                                  "rest, or order the awarded lines below.")
    return redirect("marketplace:rfq-detail", pk=pk)


@login_required
@require_POST
def rfq_close_view(request, pk: int):
    org = get_acting_organization(request)
    rfq_close(rfq=get_object_or_404(rfq_list_for_buyer(buyer=org), pk=pk))
    messages.success(request, "Bidding closed: compare the bids and award.")
    return redirect("marketplace:rfq-detail", pk=pk)


# --- Suppliers -----------------------------------------------------------------------------------


@login_required
def rfq_board_view(request):
    org = get_acting_organization(request)
    if not can_bid(org):
        raise PermissionDenied("Only verified suppliers see the RFQ board; ask an operator to verify your organisation.")
    params = request.GET
    qs = rfq_board(supplier=org, q=params.get("q"), kind=params.get("kind"), category=params.get("category"))
    bid_on = set(bid_list_for_supplier(supplier=org).values_list("rfq_id", flat=True))
    return render(request, "marketplace/rfq_board.html", {"page": paginate(request, qs), "bid_on": bid_on,
                                                          "q": params.get("q", ""), "kind": params.get("kind", ""),
                                                          "category": params.get("category", ""), "kinds": Rfq.Kind.choices})


@login_required
@require_POST
def rfq_bid_view(request, pk: int):
    org = get_acting_organization(request)
    rfq = rfq_visible_list(viewer=org).filter(pk=pk).first()
    if rfq is None:
        raise Http404
    lines = []
    try:
        for line in rfq.lines.all():
            qty = int_or_none(request.POST.get(f"qty_{line.pk}"))
            if not qty:
                continue  # lines left empty are not bid on
            lines.append({"line": line.pk, "quantity_available": qty, "moq": int_or_none(request.POST.get(f"moq_{line.pk}"), 1) or 1,
                          "multiple": int_or_none(request.POST.get(f"multiple_{line.pk}"), 1) or 1,
                          "lead_time_days": int_or_none(request.POST.get(f"lead_{line.pk}"), 0) or 0,
                          "price_breaks": parse_price_breaks(request.POST.get(f"breaks_{line.pk}", ""))})
        valid_until = _when(request.POST.get("valid_until"))
        if valid_until is None:
            raise ValidationError("Say until when the bid is valid.")
        try:
            setup = Decimal(request.POST.get("setup_cost") or "0")
        except InvalidOperation:
            raise ValidationError("The setup cost must be a number.") from None
        bid, created = bid_submit(rfq=rfq, supplier=org, submitted_by=request.user, valid_until=valid_until, lines=lines,
                                  setup_cost=setup, note=request.POST.get("note", ""))
    except (*ERRORS, ValueError) as exc:  # ValueError: a price-break text that does not parse
        messages.error(request, f"Bid not sent: {error_text(exc)}")
    else:
        messages.success(request, "Bid sent." if created else f"Bid revised (revision {bid.revision}).")
    return redirect("marketplace:rfq-detail", pk=pk)


@login_required
def my_bids_view(request):
    org = get_acting_organization(request)
    return render(request, "marketplace/my_bids.html", {"page": paginate(request, bid_list_for_supplier(supplier=org))})


@login_required
def capabilities_view(request):
    org = get_acting_organization(request, role=Role.ADMIN if request.method == "POST" else None)
    if not org.is_supplier:
        raise PermissionDenied("Only suppliers declare categories and capabilities.")
    if request.method == "POST":
        fields = {"categories": [c for c in request.POST.get("categories", "").split(",") if c.strip()]}
        if org.is_factory:
            fields.update({p: bool(request.POST.get(p)) for p in PROCESSES})
            fields.update(min_batch=int_or_none(request.POST.get("min_batch"), 1) or 1, max_batch=int_or_none(request.POST.get("max_batch")),
                          weekly_capacity=max(0, int_or_none(request.POST.get("weekly_capacity"), 0) or 0),
                          lead_time_days=max(0, int_or_none(request.POST.get("lead_time_days"), 0) or 0))
        try:
            supplier_profile_update(organization=org, **fields)
        except ERRORS as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, "Saved: RFQs that fit these will reach you.")
            return redirect("marketplace:capabilities")
    return render(request, "marketplace/capabilities.html", {
        "profile": supplier_profile_get(organization=org), "processes": [(p, PROCESS_LABELS[p]) for p in PROCESSES]})


# --- Inbox ---------------------------------------------------------------------------------------


@login_required
def inbox_view(request):
    org = get_acting_organization(request)
    if request.method == "POST":
        notifications_mark_read(organization=org)
        return redirect("marketplace:inbox")
    return render(request, "marketplace/inbox.html", {"page": paginate(request, notification_list(organization=org))})
