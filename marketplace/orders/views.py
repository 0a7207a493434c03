"""HTML pages of orders and purchase orders."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from config.errors import StateConflict, error_text
from config.pages import int_or_none, paginate, redirect_back
from credit.selectors import order_payment_list
from marketplace.catalogue.selectors import listing_list
from marketplace.orders.models import OrderStatus
from marketplace.orders.selectors import order_list, purchase_order_list, shipment_list
from marketplace.orders.services import (
    STEPS,
    order_complete,
    order_place,
    purchase_order_dispute,
    purchase_order_resource,
    shipment_create,
    shipment_receive,
)
from marketplace.sourcing.offers import awarded_listing_list
from marketplace.sourcing.selectors import quote_list
from organizations.access import get_acting_organization, get_acting_supplier


@login_required
@require_POST
def order_create_view(request):
    """From a quote (`quote`) or one listing line (`listing`, `quantity`)."""
    org = get_acting_organization(request)
    kwargs = {}
    try:
        if quote_id := int_or_none(request.POST.get("quote")):
            kwargs["quote"] = get_object_or_404(quote_list(organization=org), pk=quote_id)
        else:
            listing_id = int_or_none(request.POST.get("listing"), 0)
            listing = (listing_list(viewer=org).filter(pk=listing_id).first()
                       or get_object_or_404(awarded_listing_list(buyer=org), pk=listing_id))  # an awarded RFQ offer
            quantity = int_or_none(request.POST.get("quantity"))
            if not quantity or quantity < 1:
                raise ValidationError("Enter a quantity of at least 1.")
            kwargs["lines"] = [(listing, quantity)]
        fund = request.POST.get("fund_currency") or None  # pay the deposit order from another currency's wallet
        order = order_place(buyer=org, placed_by=request.user, payment=request.POST.get("payment", ""),
                            fund_currency=fund, **kwargs)
    except (ValidationError, StateConflict) as exc:
        messages.error(request, f"Order not placed: {error_text(exc)}")
        return redirect_back(request, reverse("marketplace:listing-search"))
    messages.success(request, f"Order {order.pk} placed: {order.purchase_orders.count()} purchase order(s), "
                              f"{order.total} {order.currency}, stock reserved.")
    return redirect("marketplace:order-detail", pk=order.pk)


@login_required
def order_list_view(request):
    org = get_acting_organization(request)
    status = request.GET.get("status")
    qs = order_list(organization=org, status=status).filter(buyer=org)
    return render(request, "marketplace/order_list.html", {"page": paginate(request, qs), "statuses": OrderStatus.choices,
                                                           "status": status})


@login_required
def order_detail_view(request, pk: int):
    org = get_acting_organization(request)
    order = get_object_or_404(order_list(organization=org), pk=pk)
    pos = [po for po in order.purchase_orders.all() if order.buyer_id == org.pk or po.vendor_id == org.pk]
    payments = order_payment_list(order_id=order.pk)
    for po in pos:
        po.payment = payments.get(po.pk)
    held = sum((p.deposit_amount if p.method == "deposit" else p.total for p in (po.payment for po in pos) if p), Decimal(0))
    is_buyer = order.buyer_id == org.pk
    rest_rfqs = list(order.rfqs.order_by("pk")) if is_buyer and order.quote_id else []
    return render(request, "marketplace/order_detail.html", {"order": order, "purchase_orders": pos, "paid_total": held,
                                                             "is_buyer": is_buyer, "rest_rfqs": rest_rfqs,
                                                             "payments": order.Payment.choices})


@login_required
@require_POST
def order_complete_view(request, pk: int):
    """"Complete this order": quote what it still lacks (from the awards and the market) and order it."""
    org = get_acting_organization(request)
    order = get_object_or_404(order_list(organization=org).filter(buyer=org), pk=pk)
    try:
        placed = order_complete(order=order, buyer=org, placed_by=request.user, payment=request.POST.get("payment", ""))
    except (StateConflict, ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
        return redirect("marketplace:order-detail", pk=order.pk)
    messages.success(request, f"Order {placed.pk} completes order {order.pk}: {placed.total} {placed.currency}.")
    return redirect("marketplace:order-detail", pk=placed.pk)


@login_required
def purchase_order_list_view(request):
    org = get_acting_supplier(request)
    status = request.GET.get("status")
    qs = purchase_order_list(organization=org, role="vendor", status=status)
    return render(request, "marketplace/purchase_order_list.html", {"page": paginate(request, qs),
                                                                    "statuses": OrderStatus.choices, "status": status})


@login_required
@require_POST
def purchase_order_step_view(request, pk: int, step: str):
    org = get_acting_organization(request)
    if step not in STEPS:
        raise Http404
    po = get_object_or_404(purchase_order_list(organization=org), pk=pk)
    try:
        STEPS[step](purchase_order=po, actor=org)
    except (StateConflict, ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    else:
        done = {"confirm": "confirmed", "ship": "marked as shipped", "deliver": "delivery confirmed", "cancel": "cancelled",
                "default": "closed: the buyer's default is recorded, the deposit forfeited per your terms, the goods back in stock"}
        messages.success(request, f"Purchase order {po.pk} {done[step]}.")
    if po.vendor_id == org.pk:
        return redirect_back(request, reverse("marketplace:purchase-order-list"))
    return redirect_back(request, reverse("marketplace:order-detail", args=[po.order_id]))


@login_required
@require_POST
def purchase_order_shipment_view(request, pk: int):
    """The vendor ships some units from the purchase-order page: per listing line a quantity (0 or
    empty: none now), a lot and a date code, and the parcel's carrier and tracking."""
    org = get_acting_organization(request)
    po = get_object_or_404(purchase_order_list(organization=org), pk=pk)
    lines = []
    for line in po.lines.all():
        if line.listing_id is None:
            continue
        quantity = int_or_none(request.POST.get(f"qty-{line.pk}"))
        if quantity:
            lines.append({"listing": line.listing_id, "quantity": quantity, "lot": request.POST.get(f"lot-{line.pk}", ""),
                          "date_code": request.POST.get(f"date_code-{line.pk}", "")})
    try:
        shipment = shipment_create(purchase_order=po, actor=org, lines=lines, carrier=request.POST.get("carrier", ""),
                                   tracking=request.POST.get("tracking", ""), user=request.user)
    except (StateConflict, ValidationError, PermissionDenied) as exc:
        messages.error(request, f"Not shipped: {error_text(exc)}")
    else:
        po.refresh_from_db()
        messages.success(request, f"Shipment {shipment.number} of purchase order {po.pk} recorded; the order is "
                                  f"{po.get_status_display().lower()}.")
    return redirect_back(request, reverse("marketplace:purchase-order-list"))


@login_required
@require_POST
def purchase_order_receive_view(request, pk: int, shipment_id: int):
    """The buyer receives one shipment, whole."""
    org = get_acting_organization(request)
    po = get_object_or_404(purchase_order_list(organization=org), pk=pk)
    shipment = get_object_or_404(shipment_list(purchase_order=po), pk=shipment_id)
    try:
        shipment_receive(purchase_order=po, actor=org, shipment=shipment)
    except (StateConflict, ValidationError, PermissionDenied) as exc:
        messages.error(request, f"Not received: {error_text(exc)}")
    else:
        po.refresh_from_db()
        messages.success(request, f"Shipment {shipment.number} received; purchase order {po.pk} is "
                                  f"{po.get_status_display().lower()}.")
    return redirect_back(request, reverse("marketplace:order-detail", args=[po.order_id]))


@login_required
@require_POST
def purchase_order_resource_view(request, pk: int):
    """The buyer's one click after a vendor let a purchase order expire: the same parts from other
    vendors, as a new order paid the same way."""
    org = get_acting_organization(request)
    po = get_object_or_404(purchase_order_list(organization=org, role="buyer"), pk=pk)
    try:
        order = purchase_order_resource(purchase_order=po, buyer=org, placed_by=request.user)
    except (StateConflict, ValidationError, PermissionDenied) as exc:
        messages.error(request, f"Not re-sourced: {error_text(exc)}")
        return redirect_back(request, reverse("marketplace:order-detail", args=[po.order_id]))
    messages.success(request, f"Order {order.pk} placed: the parts of purchase order {po.pk} from "
                              f"{order.purchase_orders.count()} other vendor(s), {order.total} {order.currency}.")
    return redirect("marketplace:order-detail", pk=order.pk)


@login_required
def purchase_order_dispute_view(request, pk: int):
    """Either party disputes a shipped or delivered purchase order; the dispute page is credit's."""

    org = get_acting_organization(request)
    po = get_object_or_404(purchase_order_list(organization=org), pk=pk)
    error = None
    if request.method == "POST":
        try:
            dispute = purchase_order_dispute(purchase_order=po, actor=org, reason=request.POST.get("reason", ""), user=request.user)
        except (StateConflict, ValidationError, PermissionDenied) as exc:
            error = error_text(exc)
        else:
            messages.success(request, f"Dispute opened on purchase order {po.pk}; an operator will split what is at stake.")
            return redirect("credit:dispute-detail", dispute.pk)
    return render(request, "marketplace/purchase_order_dispute.html", {"po": po, "error": error,
                                                                       "reason": request.POST.get("reason", "")})
