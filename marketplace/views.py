"""HTML pages of the marketplace app, as thin as the APIs: read with selectors, write with
services, show domain errors as messages."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import DetailView

from config.errors import StateConflict, error_text
from credit.selectors import order_payment_list, payment_preview
from organizations.access import get_acting_organization
from marketplace.exceptions import SearchTooBroad, StockListInvalid
from marketplace.models import Currency, Order, OrderStatus
from organizations.models import Role
from organizations.selectors import organization_visible_list
from marketplace.selectors import (
    LISTING_ORDERINGS,
    fulfilment_record,
    kit_get,
    kit_list,
    kit_tree,
    listing_list,
    offer_fill,
    offer_search,
    order_list,
    purchase_order_list,
    quote_list,
    quote_open_order,
    quote_vendor_subtotals,
    search_facets,
    search_filters,
)
from marketplace.selectors.rfqs import awarded_listing_list, supplier_profile_get
from marketplace.services import order_place, order_terms_set, quote_constraint_costs, quote_create, stock_list_import
from marketplace.services.orders import STEPS

PAGE_SIZE = 25
IMPORT_SESSION_KEY = "marketplace_stock_list_csv"


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))




def _back(request, fallback: str):
    target = request.POST.get("next") or request.META.get("HTTP_REFERER")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _acting_supplier(request):
    """The acting organisation, which must be a supplier: buyer-only organisations get a 403 that
    says why, instead of empty supplier pages."""
    org = get_acting_organization(request)
    if not org.is_supplier:
        raise PermissionDenied(f"{org.name} buys on Kitstreet; stock lists, incoming purchase orders and receivables "
                               "are for suppliers (traders, solution houses, factories). Switch organisation in the header "
                               "if you also sell.")
    return org


class OrganizationDetailView(LoginRequiredMixin, DetailView):
    template_name = "marketplace/organization_detail.html"
    context_object_name = "organization"

    def get_queryset(self):
        return organization_visible_list(
            viewer=get_acting_organization(self.request, required=False), is_operator=self.request.user.is_staff
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.object.is_supplier:
            context["fulfilment"] = fulfilment_record(supplier=self.object)
            context["capabilities"] = supplier_profile_get(organization=self.object)
        return context


# --- Catalogue ------------------------------------------------------------------------------------


SEARCH_PAGE_SIZE = 25
SEARCH_KEYS = ("q", "mpn", "category", "manufacturer", "vendor", "parameters", "in_stock", "max_lead_time_days")


def _with(query, **changes) -> str:
    """The current search's query string with some values changed (None drops the key); page resets."""
    params = query.copy()
    params.pop("page", None)
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    return "?" + params.urlencode()


def _facet_links(query, facets: dict) -> dict:
    """Facet values as links that add (or, when active, drop) that filter."""
    current_params = query.get("parameters", "")

    def param_link(expression: str) -> tuple[str, bool]:
        parts = [p.strip() for p in current_params.split(",") if p.strip()]
        active = expression in parts
        parts = [p for p in parts if p != expression] if active else [*parts, expression]
        return _with(query, parameters=",".join(parts) or None), active

    out = {"category": [], "manufacturer": [], "lead_time": [], "parameters": [], "estimated": facets["estimated"]}
    for name in ("category", "manufacturer"):
        for item in facets[name]:
            active = query.get(name, "").lower() == item["value"].lower()
            out[name].append({**item, "active": active, "url": _with(query, **{name: None if active else item["value"]})})
    for item in facets["lead_time"]:
        active = query.get("max_lead_time_days") == str(item["max_days"])
        out["lead_time"].append({**item, "active": active,
                                 "url": _with(query, max_lead_time_days=None if active else item["max_days"])})
    for parameter in facets["parameters"]:
        values = []
        for item in parameter["values"]:
            label = item["label"].replace(" ", "")
            url, active = param_link(f"{parameter['key']}:{label}")
            entry = {**item, "url": url, "active": active}
            if parameter["numeric"]:
                entry["at_least_url"], entry["at_least_active"] = param_link(f"{parameter['key']}>={label}")
            values.append(entry)
        out["parameters"].append({**parameter, "values": values})
    in_stock = bool(query.get("in_stock"))
    out["in_stock"] = {**facets["in_stock"], "active": in_stock, "url": _with(query, in_stock=None if in_stock else "1")}
    return out


@login_required
def listing_search_view(request):
    """Parts search: grouped by part (best offer at the quantity, offers, stock, lead) or one row per
    offer (`view=offers`), with facets. The same selectors as GET /api/v1/parts/search/."""
    org = get_acting_organization(request, required=False)
    get = request.GET
    qty = _int(get.get("qty"))
    qty = qty if qty and 0 < qty <= 100_000_000 else None
    if get.get("qty", "").strip() and qty is None:  # say so, never drop a bad quantity silently
        messages.error(request, f"“{get['qty'][:20]}” is not a quantity: type a whole number from 1 to 100,000,000. "
                                "Prices below are not at a quantity.")
    ordering = get.get("ordering") or None
    grouped = get.get("view") != "offers"
    searched = any(get.get(k) for k in SEARCH_KEYS)
    # Prices only compare within one currency: default to the acting organisation's.
    currency = get.get("currency") or (org.default_currency if org else settings.KITSTREET_DEFAULT_CURRENCY)
    currency = currency if currency in settings.KITSTREET_CURRENCIES else None
    lead = _int(get.get("max_lead_time_days"))
    filters = search_filters(
        q=get.get("q", "")[:100], mpn=get.get("mpn", "")[:100], category=get.get("category", "")[:100],
        manufacturer=get.get("manufacturer", "")[:100], in_stock=bool(get.get("in_stock")), vendor_id=_int(get.get("vendor")),
        currency=currency, parameters=get.get("parameters", "")[:400],
        max_lead_time_days=lead if lead is not None and 0 <= lead <= 3650 else None)
    context = {"qty": qty, "searched": searched, "grouped": grouped, "query": get.copy(), "payments": Order.Payment.choices,
               "currency": currency, "currencies": settings.KITSTREET_CURRENCIES, "org": org,
               "orderings": LISTING_ORDERINGS}
    if searched:
        number = max(1, min(_int(get.get("page"), 1) or 1, 400))
        try:
            page = offer_search(viewer=org, filters=filters, qty=qty, ordering=ordering if ordering in LISTING_ORDERINGS else None,
                                offset=(number - 1) * SEARCH_PAGE_SIZE, limit=SEARCH_PAGE_SIZE, group=grouped,
                                exact_count=bool(get.get("exact_count")))
        except SearchTooBroad as exc:
            messages.error(request, error_text(exc))
            return redirect(reverse("marketplace:listing-search") + _with(get, ordering="unit_price_at_qty"))
        for row in page.rows:
            listing = row.best if grouped else row
            listing.fill = offer_fill(listing, qty)
        facets = search_facets(viewer=org, filters=filters, qty=qty)
        context.update(page=page, number=number, facets=_facet_links(get, facets),
                       next_url=_with(get, page=number + 1) if page.has_next else None,
                       previous_url=_with(get, page=number - 1 if number > 2 else None) if number > 1 else None,
                       offers_url=_with(get, view="offers"), parts_url=_with(get, view=None),
                       exact_url=_with(get, exact_count="1"))
    return render(request, "marketplace/listing_search.html", context)


@login_required
def part_detail_view(request, pk: int):
    """A part: parameters, every offer at the quantity (with what it cannot fill), the kits that use
    it and its offers' price history."""
    from marketplace.models import Part
    from marketplace.selectors.search import part_boms, part_kits, part_offers, part_price_history
    from marketplace.units import QUANTITY_KEYS, format_measure

    part = get_object_or_404(Part, pk=pk)
    org = get_acting_organization(request, required=False)
    qty = _int(request.GET.get("qty"))
    qty = qty if qty and 0 < qty <= 100_000_000 else None
    offers = part_offers(viewer=org, part=part, qty=qty)
    for listing in offers:
        listing.fill = offer_fill(listing, qty)
    # Numbers as normalised (with the supplier's spelling beside them); text as the supplier wrote it.
    written = {str(k).strip().lower(): v for k, v in (part.parameters or {}).items()}
    parameters = [(key, written.get(key, ""), format_measure(QUANTITY_KEYS.get(key, ""), value))
                  if isinstance(value, (int, float)) else (key, "", written.get(key, value))
                  for key, value in sorted(part.parameter_values.items())]
    return render(request, "marketplace/part_detail.html", {
        "part": part, "qty": qty, "offers": offers, "parameters": parameters, "org": org,
        "kits": part_kits(viewer=org, part=part), "boms": part_boms(viewer=org, part=part), "history": part_price_history(viewer=org, part=part, qty=qty, limit=50),
        "payments": Order.Payment.choices,
    })


@login_required
def my_listings_view(request):
    org = _acting_supplier(request)
    qs = listing_list(viewer=org, vendor=org).order_by("part__manufacturer", "part__mpn")
    if q := request.GET.get("q"):
        qs = qs.filter(part__mpn_normalized__contains="".join(ch for ch in q.upper() if ch.isalnum()))
    return render(request, "marketplace/my_listings.html", {"page": _page(request, qs)})


@login_required
def stock_list_import_view(request):
    """Upload a CSV → a dry-run preview of every row → apply the same content (kept in the
    session between the two steps, so what is applied is exactly what was previewed)."""
    org = _acting_supplier(request)
    context = {}
    if request.method == "POST":
        if request.POST.get("action") == "apply":
            content = request.session.get(IMPORT_SESSION_KEY)
            if not content:
                messages.error(request, "Upload the file again: the preview has expired.")
                return redirect("marketplace:listing-import")
            try:
                result = stock_list_import(vendor=org, content=content, dry_run=False)
            except (StockListInvalid, ValidationError) as exc:
                context["errors"] = getattr(exc, "errors", [{"row": 0, "field": "file", "message": error_text(exc)}])
            else:
                request.session.pop(IMPORT_SESSION_KEY, None)
                messages.success(request, f"Stock list applied: {result.created} created, {result.updated} updated, "
                                          f"{result.unchanged} unchanged.")
                return redirect("marketplace:my-listings")
        else:
            upload = request.FILES.get("file")
            if upload is None:
                context["errors"] = [{"row": 0, "field": "file", "message": "Choose a CSV file."}]
            elif upload.size > 10 * 1024 * 1024:
                context["errors"] = [{"row": 0, "field": "file", "message": "The file is larger than 10 MB; split it."}]
            else:
                raw = upload.read()
                try:
                    result = stock_list_import(vendor=org, content=raw, dry_run=True)
                except (StockListInvalid, ValidationError) as exc:
                    context["errors"] = getattr(exc, "errors", [{"row": 0, "field": "file", "message": error_text(exc)}])
                else:
                    request.session[IMPORT_SESSION_KEY] = raw.decode("utf-8-sig")
                    context.update(result=result, filename=upload.name)
    return render(request, "marketplace/stock_list_import.html", context)


# --- Kits and quotes -------------------------------------------------------------------------------


@login_required
def kit_list_view(request):
    org = get_acting_organization(request, required=False)
    qs = kit_list(viewer=org, q=request.GET.get("q", "")[:100] or None, category=request.GET.get("category") or None,
                  owner_id=_int(request.GET.get("owner")))
    categories = sorted(set(kit_list(viewer=org).values_list("category", flat=True)) - {""})
    return render(request, "marketplace/kit_list.html", {"page": _page(request, qs), "categories": categories})


@login_required
def kit_detail_view(request, pk: int):
    org = get_acting_organization(request, required=False)
    kit = kit_get(viewer=org, pk=pk)
    if kit is None:
        raise Http404
    return render(request, "marketplace/kit_detail.html", {
        "kit": kit, "tree": kit_tree(kit), "default_qty": _int(request.GET.get("qty"), 500),
        "currencies": Currency.choices,
    })


@login_required
@require_POST
def kit_quote_view(request, pk: int):
    """The no-JavaScript path of the quote box: save a quote and show it."""
    org = get_acting_organization(request)
    kit = kit_get(viewer=org, pk=pk)
    if kit is None:
        raise Http404
    quantity = _int(request.POST.get("quantity"))
    options = {}
    if (max_vendors := _int(request.POST.get("max_vendors"))) is not None:
        options["max_vendors"] = max_vendors
    if (max_lead := _int(request.POST.get("max_lead_time_days"))) is not None:
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


@login_required
def order_terms_view(request):
    """A supplier's order terms: shipping per purchase order, free shipping over, minimum order."""
    org = get_acting_organization(request, role=Role.ADMIN if request.method == "POST" else None)
    if not org.is_supplier:
        raise PermissionDenied("Only suppliers set order terms.")
    terms = getattr(org, "order_terms", None)
    if request.method == "POST":
        try:
            amounts = {}
            for name in ("shipping_fee", "free_shipping_over", "min_order_value"):
                raw = (request.POST.get(name) or "").strip()
                amounts[name] = Decimal(raw) if raw else (None if name == "free_shipping_over" else Decimal(0))
        except InvalidOperation:
            messages.error(request, "Amounts are numbers, e.g. 15.00.")
        else:
            try:
                order_terms_set(vendor=org, currency=request.POST.get("currency", ""), **amounts)
            except ValidationError as exc:
                messages.error(request, f"Terms not saved: {error_text(exc)}")
            else:
                messages.success(request, "Order terms saved: new quotes use them.")
                return redirect("marketplace:order-terms")
    return render(request, "marketplace/order_terms.html", {
        "terms": terms, "currencies": Currency.choices, "currency": terms.currency if terms else org.default_currency,
    })


# --- Orders ---------------------------------------------------------------------------------------


@login_required
@require_POST
def order_create_view(request):
    """From a quote (`quote`) or one listing line (`listing`, `quantity`)."""
    org = get_acting_organization(request)
    kwargs = {}
    try:
        if quote_id := _int(request.POST.get("quote")):
            kwargs["quote"] = get_object_or_404(quote_list(organization=org), pk=quote_id)
        else:
            listing_id = _int(request.POST.get("listing"), 0)
            listing = (listing_list(viewer=org).filter(pk=listing_id).first()
                       or get_object_or_404(awarded_listing_list(buyer=org), pk=listing_id))  # an awarded RFQ offer
            quantity = _int(request.POST.get("quantity"))
            if not quantity or quantity < 1:
                raise ValidationError("Enter a quantity of at least 1.")
            kwargs["lines"] = [(listing, quantity)]
        order = order_place(buyer=org, placed_by=request.user, payment=request.POST.get("payment", ""), **kwargs)
    except (ValidationError, StateConflict) as exc:
        messages.error(request, f"Order not placed: {error_text(exc)}")
        return _back(request, reverse("marketplace:listing-search"))
    messages.success(request, f"Order {order.pk} placed: {order.purchase_orders.count()} purchase order(s), "
                              f"{order.total} {order.currency}, stock reserved.")
    return redirect("marketplace:order-detail", pk=order.pk)


@login_required
def order_list_view(request):
    org = get_acting_organization(request)
    status = request.GET.get("status")
    qs = order_list(organization=org, status=status).filter(buyer=org)
    return render(request, "marketplace/order_list.html", {"page": _page(request, qs), "statuses": OrderStatus.choices,
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
    return render(request, "marketplace/order_detail.html", {"order": order, "purchase_orders": pos, "paid_total": held,
                                                             "is_buyer": order.buyer_id == org.pk})


@login_required
def purchase_order_list_view(request):
    org = _acting_supplier(request)
    status = request.GET.get("status")
    qs = purchase_order_list(organization=org, role="vendor", status=status)
    return render(request, "marketplace/purchase_order_list.html", {"page": _page(request, qs),
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
        return _back(request, reverse("marketplace:purchase-order-list"))
    return _back(request, reverse("marketplace:order-detail", args=[po.order_id]))


@login_required
def purchase_order_dispute_view(request, pk: int):
    """Either party disputes a shipped or delivered purchase order; the dispute page is credit's."""
    from marketplace.services import purchase_order_dispute

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
