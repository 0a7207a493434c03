"""HTML pages of the catalogue: search, a supplier's listings, stock-list import, order terms."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse

from config.errors import error_text
from config.pages import int_or_none, paginate
from marketplace.catalogue.listings import stock_list_import
from marketplace.catalogue.models import Currency
from marketplace.catalogue.search.filters import search_filters
from marketplace.catalogue.search.pricing import DisplayCurrency, offer_fill
from marketplace.catalogue.search.results import offer_search, search_facets
from marketplace.catalogue.selectors import LISTING_ORDERINGS, listing_list
from marketplace.catalogue.terms import order_terms_set
from marketplace.exceptions import SearchTooBroad, StockListInvalid
from marketplace.orders.models import Order
from organizations.access import get_acting_organization, get_acting_supplier
from organizations.models import Role

IMPORT_SESSION_KEY = "marketplace_stock_list_csv"





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


def _display_currency(request, org) -> str:
    """The buyer's display currency: `?currency=`, else the acting organisation's, else the
    platform's. An unknown one is said, not silently dropped (prices then show in the default)."""
    fallback = org.default_currency if org and org.default_currency in Currency.values else settings.KITSTREET_DEFAULT_CURRENCY
    asked = request.GET.get("currency", "").strip()
    if asked and asked not in Currency.values:
        messages.error(request, f"“{asked[:10]}” is not a currency we price in ({', '.join(Currency.values)}): "
                                f"prices are compared in {fallback}.")
    return asked if asked in Currency.values else fallback


@login_required
def listing_search_view(request):
    """Parts search: grouped by part (best offer at the quantity, offers, stock, lead) or one row per
    offer (`view=offers`), with facets. The same selectors as GET /api/v1/parts/search/."""
    org = get_acting_organization(request, required=False)
    get = request.GET
    qty = int_or_none(get.get("qty"))
    qty = qty if qty and 0 < qty <= 100_000_000 else None
    if get.get("qty", "").strip() and qty is None:  # say so, never drop a bad quantity silently
        messages.error(request, f"“{get['qty'][:20]}” is not a quantity: type a whole number from 1 to 100,000,000. "
                                "Prices below are not at a quantity.")
    ordering = get.get("ordering") or None
    grouped = get.get("view") != "offers"
    searched = any(get.get(k) for k in SEARCH_KEYS)
    currency = _display_currency(request, org)
    lead = int_or_none(get.get("max_lead_time_days"))
    filters = search_filters(
        q=get.get("q", "")[:100], mpn=get.get("mpn", "")[:100], category=get.get("category", "")[:100],
        manufacturer=get.get("manufacturer", "")[:100], in_stock=bool(get.get("in_stock")), vendor_id=int_or_none(get.get("vendor")),
        parameters=get.get("parameters", "")[:400],
        max_lead_time_days=lead if lead is not None and 0 <= lead <= 3650 else None)
    context = {"qty": qty, "searched": searched, "grouped": grouped, "query": get.copy(), "payments": Order.Payment.choices,
               "currency": currency, "currencies": settings.KITSTREET_CURRENCIES, "org": org,
               "orderings": LISTING_ORDERINGS}
    if searched:
        number = max(1, min(int_or_none(get.get("page"), 1) or 1, 400))
        display = DisplayCurrency(currency)
        try:
            page = offer_search(viewer=org, filters=filters, qty=qty, ordering=ordering if ordering in LISTING_ORDERINGS else None,
                                offset=(number - 1) * SEARCH_PAGE_SIZE, limit=SEARCH_PAGE_SIZE, group=grouped,
                                exact_count=bool(get.get("exact_count")), display=display)
        except SearchTooBroad as exc:
            messages.error(request, error_text(exc))
            return redirect(reverse("marketplace:listing-search") + _with(get, ordering="unit_price_at_qty"))
        for row in page.rows:
            listing = row.best if grouped else row
            listing.fill = offer_fill(listing, qty)
        facets = search_facets(viewer=org, filters=filters, qty=qty)
        context.update(page=page, number=number, facets=_facet_links(get, facets),
                       fx_rates=sorted((c, r) for c, r in display.rates.items() if c != currency) if qty else [],
                       next_url=_with(get, page=number + 1) if page.has_next else None,
                       previous_url=_with(get, page=number - 1 if number > 2 else None) if number > 1 else None,
                       offers_url=_with(get, view="offers"), parts_url=_with(get, view=None),
                       exact_url=_with(get, exact_count="1"))
    return render(request, "marketplace/listing_search.html", context)


@login_required
def my_listings_view(request):
    org = get_acting_supplier(request)
    qs = listing_list(viewer=org, vendor=org).order_by("part__manufacturer", "part__mpn")
    if q := request.GET.get("q"):
        qs = qs.filter(part__mpn_normalized__contains="".join(ch for ch in q.upper() if ch.isalnum()))
    return render(request, "marketplace/my_listings.html", {"page": paginate(request, qs)})


@login_required
def stock_list_import_view(request):
    """Upload a CSV → a dry-run preview of every row → apply the same content (kept in the
    session between the two steps, so what is applied is exactly what was previewed)."""
    org = get_acting_supplier(request)
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
