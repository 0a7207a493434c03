"""HTML pages of quotes: the kit page's quote box and a quote's page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from config.errors import error_text
from config.pages import int_or_none
from credit.selectors import payment_preview
from marketplace.kits.selectors import kit_get
from marketplace.orders.models import Order
from marketplace.orders.selectors import quote_open_order
from marketplace.sourcing.quotes import quote_constraint_costs, quote_create
from marketplace.sourcing.selectors import quote_list, quote_vendor_subtotals
from organizations.access import get_acting_organization


@login_required
@require_POST
def kit_quote_view(request, pk: int):
    """The no-JavaScript path of the quote box: save a quote and show it."""
    org = get_acting_organization(request)
    kit = kit_get(viewer=org, pk=pk)
    if kit is None:
        raise Http404
    quantity = int_or_none(request.POST.get("quantity"))
    options = {}
    if (max_vendors := int_or_none(request.POST.get("max_vendors"))) is not None:
        options["max_vendors"] = max_vendors
    if (max_lead := int_or_none(request.POST.get("max_lead_time_days"))) is not None:
        options["max_lead_time_days"] = max_lead
    if request.POST.get("no_substitutes"):
        options["allow_substitutes"] = False
    if currency := request.POST.get("currency"):
        options["currency"] = currency
    try:
        if quantity is None:
            raise ValidationError("Enter a quantity.")
        quote = quote_create(organization=org, kit=kit, quantity=quantity, created_by=request.user, options=options)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("marketplace:kit-detail", pk=pk)
    return redirect("marketplace:quote-detail", pk=quote.pk)


@login_required
def quote_detail_view(request, pk: int):
    """The quote, what each vendor gets, and — while it is valid and not yet ordered — the order
    review: the deposit or the credit draw each payment method would take, before placing."""
    org = get_acting_organization(request)
    quote = get_object_or_404(quote_list(organization=org), pk=pk)
    subtotals = quote_vendor_subtotals(quote=quote)
    order = quote_open_order(quote=quote)
    expired = quote.valid_until <= timezone.now()
    preview = None
    if order is None and not expired and not quote.has_shortages:
        preview = payment_preview(buyer=org, currency=quote.currency,
                                  vendor_totals={r["vendor_id"]: r["total"] for r in subtotals})
    context = {"quote": quote, "payments": Order.Payment.choices, "subtotals": subtotals, "order": order,
               "expired": expired, "preview": preview}
    if request.GET.get("constraints"):  # priced again on request: each variant is a full re-sourcing
        context["constraint_costs"] = quote_constraint_costs(quote=quote)
    return render(request, "marketplace/quote_detail.html", context)
