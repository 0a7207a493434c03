"""HTML pages of the buyer's stock list and purchase plans. As thin as the API: selectors read,
services write; a write needs the role the API asks for (`get_acting_organization` on POST)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from config.errors import error_text
from config.pages import int_or_none, paginate, whole_number
from marketplace.boms.reader import MAX_BYTES
from marketplace.boms.selectors import bom_list
from marketplace.exceptions import StockInvalid
from marketplace.kits.models import Kit
from marketplace.kits.selectors import kit_get
from marketplace.plans.models import MAX_STOCK
from marketplace.plans.selectors import (
    plan_comparison,
    plan_need_rows,
    purchase_plan_get,
    purchase_plan_list,
    stock_list,
    stock_row_get,
)
from marketplace.plans.services import MAX_SOURCES, PlanSource, purchase_plan_create
from marketplace.plans.stock import stock_import, stock_row_add, stock_row_delete, stock_row_update
from marketplace.sourcing.options import MAX_QUANTITY
from organizations.access import get_acting_organization


def _stock_post(request, org) -> tuple[list[dict], dict | None]:
    """One form of the stock page: import a file, add a part, change or remove a row."""
    action = request.POST.get("action", "")
    if action == "import":
        upload = request.FILES.get("file")
        if upload is None:
            return [{"row": 0, "column": "file", "message": "Choose a stock file to upload."}], None
        if upload.size > MAX_BYTES:
            return [{"row": 0, "column": "file", "message": "The file is larger than 10 MB; split it."}], None
        result = stock_import(organization=org, content=upload.read(), filename=upload.name or "",
                              replace=bool(request.POST.get("replace")))
        messages.success(request, f"{upload.name}: {result.rows} rows read — {result.created} parts added, "
                                  f"{result.updated} changed, {result.unchanged} unchanged"
                                  f"{f', {result.removed} removed' if result.removed else ''}"
                                  f"{f', {len(result.skipped)} skipped (below)' if result.skipped else ''}.")
        return [], {"skipped": result.skipped}
    quantity, problem = whole_number(request.POST.get("quantity"), low=0, high=MAX_STOCK)
    if action == "add":
        if quantity is None:
            return [{"row": 0, "column": "quantity", "message": problem}], None
        row = stock_row_add(organization=org, mpn=request.POST.get("mpn", ""), manufacturer=request.POST.get("manufacturer", ""),
                            quantity=quantity, note=request.POST.get("note", "")[:200])
        messages.success(request, f"{row.part.mpn}: {row.quantity:,} on hand.")
        return [], None
    row = stock_row_get(organization=org, part_id=int_or_none(request.POST.get("part"), 0))
    if row is None:
        raise Http404
    if action == "delete":
        stock_row_delete(row=row)
        messages.success(request, f"{row.part.mpn} taken off your stock list.")
    elif action == "update":
        if quantity is None:
            return [{"row": 0, "column": "quantity", "message": f"{row.part.mpn}: {problem}"}], None
        if stock_row_update(row=row, quantity=quantity) is None:
            raise Http404  # taken off the list by a concurrent request
        messages.success(request, f"{row.part.mpn}: {quantity:,} on hand.")
    return [], None


@login_required
def stock_view(request):
    """The stock list: import a file, add a part by MPN, change or remove a row."""
    org = get_acting_organization(request)  # a POST needs a member, as the API
    errors, report = [], None
    if request.method == "POST":
        try:
            errors, report = _stock_post(request, org)
        except StockInvalid as exc:
            errors = exc.errors
        if not errors and report is None:
            return redirect("marketplace:stock")
    q = request.GET.get("q", "").strip()[:100]
    return render(request, "marketplace/stock.html", {
        "page": paginate(request, stock_list(organization=org, q=q)), "q": q, "errors": errors, "report": report,
        "form": request.POST if errors else {},
    }, status=400 if errors else 200)


def _form_sources(request, org) -> tuple[list[PlanSource], list[str], dict]:
    """The plan form's quantities (`bom_<id>`, `kit_<id>`): blank means not in the plan."""
    sources, problems, typed = [], [], {}
    for key, value in request.POST.items():
        kind, _, pk = key.partition("_")
        if kind not in ("bom", "kit") or not pk.isdigit() or not value.strip():
            continue
        typed[key] = value
        quantity, problem = whole_number(value, low=1, high=MAX_QUANTITY)
        found = (bom_list(owner=org).filter(pk=int(pk)).first() if kind == "bom"
                 else kit_get(viewer=org, pk=int(pk), with_bom=False))
        if found is None:
            raise Http404
        name = found.name if kind == "bom" else str(found)
        if quantity is None:
            problems.append(f"{name}: {problem}")
            continue
        sources.append(PlanSource(quantity=quantity, **{kind: found}))
    return sources, problems, typed


def _quoted_kits(org) -> list[Kit]:
    """Kits the organisation quoted lately (not its private ones): the plan form offers them."""
    ids = list(dict.fromkeys(org.quotes.filter(kit__private=False).order_by("-created_at")
                             .values_list("kit_id", flat=True)[:200]))[:30]
    kits = {k.pk: k for k in Kit.objects.filter(pk__in=ids)}
    return [kits[i] for i in ids if i in kits]


@login_required
def plan_list_view(request):
    """The organisation's plans and the form for a new one."""
    org = get_acting_organization(request)
    errors, typed = [], {}
    if request.method == "POST":
        sources, errors, typed = _form_sources(request, org)
        if not errors:
            options = {}
            if max_vendors := int_or_none(request.POST.get("max_vendors")):
                options["max_vendors"] = max_vendors
            if request.POST.get("no_substitutes"):
                options["allow_substitutes"] = False
            if currency := request.POST.get("currency"):
                options["currency"] = currency
            try:
                plan = purchase_plan_create(organization=org, sources=sources, name=request.POST.get("name", "")[:200],
                                            options=options, use_stock=bool(request.POST.get("use_stock")),
                                            created_by=request.user)
            except ValidationError as exc:
                errors = [error_text(exc)]
            else:
                return redirect("marketplace:plan-detail", pk=plan.pk)
    kits = _quoted_kits(org)
    extra = kit_get(viewer=org, pk=int_or_none(request.GET.get("kit"), 0), with_bom=False)
    asked = [extra] if extra is not None else []  # "Plan with other BOMs and kits" on a kit's page
    asked += [kit_get(viewer=org, pk=int(key[4:]), with_bom=False) for key in typed if key.startswith("kit_")]
    for kit in reversed(asked):
        if kit is not None and kit.pk not in {k.pk for k in kits}:
            kits.insert(0, kit)
    boms = list(bom_list(owner=org)[:50])
    for kind, items in (("bom", boms), ("kit", kits)):
        for item in items:
            item.field = f"{kind}_{item.pk}"
    qty = request.GET.get("qty", "1")[:12]  # "Plan with other BOMs and kits" on a kit's or a BOM's page
    preset = {f"kit_{extra.pk}": qty} if extra is not None else {}
    if (bom_id := int_or_none(request.GET.get("bom"))) and any(b.pk == bom_id for b in boms):
        preset[f"bom_{bom_id}"] = qty
    return render(request, "marketplace/plan_list.html", {
        "page": paginate(request, purchase_plan_list(organization=org)), "boms": boms, "kits": kits,
        "errors": errors, "typed": typed or preset, "form": request.POST if errors else {},
        "max_sources": MAX_SOURCES, "stock_rows": stock_list(organization=org).count(),
    }, status=400 if errors else 200)


@login_required
def plan_detail_view(request, pk: int):
    org = get_acting_organization(request)
    plan = purchase_plan_get(organization=org, pk=pk)
    if plan is None:
        raise Http404
    return render(request, "marketplace/plan_detail.html", {
        "plan": plan, "quote": plan.quote, "sources": list(plan.sources.all()), "rows": plan_need_rows(plan),
        "comparison": plan_comparison(plan), "now": timezone.now(),
    })
