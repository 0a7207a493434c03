"""HTML pages of the BOM workbench (upload with preview, review, quote) and the buyer's quotes
(list, CSV/XLSX export). As thin as the API: selectors read, services write."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from config.errors import error_text
from config.pages import int_or_none, paginate
from marketplace.boms.models import MatchStatus
from marketplace.boms.reader import FIELDS, MAX_BYTES
from marketplace.boms.selectors import bom_get, bom_list
from marketplace.boms.services import (
    bom_from_kit,
    bom_kit_sync,
    bom_line_add,
    bom_line_update,
    bom_publish,
    bom_quote,
    bom_read_file,
    bom_upload,
)
from marketplace.catalogue.models import Part
from marketplace.catalogue.selectors import part_list
from marketplace.exceptions import BomInvalid
from marketplace.kits.selectors import kit_get
from marketplace.orders.models import Order
from marketplace.sourcing.exports import XLSX_TYPE, quote_csv, quote_xlsx
from marketplace.sourcing.selectors import quote_list
from organizations.access import get_acting_organization

STATUS_CLASS = {MatchStatus.EXACT: "badge-good", MatchStatus.PROBABLE: "badge-warn",
                MatchStatus.AMBIGUOUS: "badge-warn", MatchStatus.NONE: "badge-bad"}


def _columns_from_post(post) -> dict:
    """The mapping selects of the upload form (`col_mpn`, …), once the buyer changed one; until
    then the reader detects (and keeps alternate MPN columns the selects cannot show)."""
    if not post.get("mapping_changed"):
        return {}
    return {f: post[f"col_{f}"] for f in FIELDS if post.get(f"col_{f}")}


@login_required
def bom_list_view(request):
    org = get_acting_organization(request)
    errors = []
    if request.method == "POST":
        org = get_acting_organization(request)  # a write: needs at least a member
        upload = request.FILES.get("file")
        if upload is None:
            errors = [{"row": 0, "column": "file", "message": "Choose a BOM file to upload."}]
        elif upload.size > MAX_BYTES:
            errors = [{"row": 0, "column": "file", "message": "The file is larger than 10 MB; split the BOM."}]
        else:
            try:
                bom = bom_upload(owner=org, content=upload.read(), filename=upload.name, name=request.POST.get("name", ""),
                                 columns=_columns_from_post(request.POST) or None, created_by=request.user)
            except BomInvalid as exc:
                errors = exc.errors
            else:
                messages.success(request, f"{bom.name}: {bom.rows_read} rows read, {bom.dnp_rows} do-not-populate, "
                                          "lines matched below. Review them, then quote.")
                return redirect("marketplace:bom-detail", pk=bom.pk)
    return render(request, "marketplace/bom_list.html", {
        "page": paginate(request, bom_list(owner=org)), "errors": errors, "fields": FIELDS,
    }, status=400 if errors else 200)


@login_required
@require_POST
def bom_preview_view(request):
    """What the upload would read, without saving: the columns found, the mapping, the first rows
    and any problems (JSON for the drag-and-drop preview)."""
    org = get_acting_organization(request)
    upload = request.FILES.get("file")
    if upload is None or upload.size > MAX_BYTES:
        return JsonResponse({"errors": [{"row": 0, "column": "file",
                                         "message": "Choose a file up to 10 MB."}]}, status=400)
    try:
        read = bom_read_file(content=upload.read(), filename=upload.name, owner=org,
                             columns=_columns_from_post(request.POST) or None)
    except BomInvalid as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
    return JsonResponse({"names": read.names, "columns": read.columns, "rows": read.preview, "rows_read": read.rows_read,
                         "dnp_rows": read.dnp_rows, "lines": len(read.lines), "remembered": read.remembered})


def _owned(request, pk: int):
    bom = bom_get(owner=get_acting_organization(request), pk=pk)
    if bom is None:
        raise Http404
    return bom


@login_required
def bom_detail_view(request, pk: int):
    bom = _owned(request, pk)
    items = list(bom.items.all())
    for item in items:
        item.badge = STATUS_CLASS[item.status]
    search_line, q = int_or_none(request.GET.get("line")), request.GET.get("q", "").strip()[:100]
    results = []
    if search_line and q:
        results = list(part_list(mpn=q)[:10]) or list(part_list(q=q)[:10])
    counts = {s: sum(1 for i in items if i.status == s and not i.dnp) for s in MatchStatus.values}
    return render(request, "marketplace/bom_detail.html", {
        "bom": bom, "items": items, "counts": counts, "search_line": search_line, "q": q,
        "results": results, "unsourced": [i for i in items if not i.dnp and i.part_id is None],
        "placements": sum(i.quantity for i in items if not i.dnp), "default_qty": int_or_none(request.GET.get("qty"), 100),
        "can_publish": bom.owner.is_solution_house,
    })


@login_required
@require_POST
def bom_line_view(request, pk: int, line: int):
    """One button on the review page: accept, choose a part, no part, DNP on/off, quantity,
    add or drop a substitute."""
    bom = _owned(request, pk)
    item = next((i for i in bom.items.all() if i.line == line), None)
    if item is None:
        raise Http404
    action = request.POST.get("action", "")
    try:
        if action == "accept" and item.part_id:
            bom_line_update(bom=bom, line=line, part=item.part)
        elif action == "part":
            part = get_object_or_404(Part, pk=int_or_none(request.POST.get("part"), 0))
            bom_line_update(bom=bom, line=line, part=part)
        elif action == "clear":
            bom_line_update(bom=bom, line=line, part=None)
        elif action in ("dnp", "populate"):
            bom_line_update(bom=bom, line=line, dnp=action == "dnp")
        elif action == "quantity":
            bom_line_update(bom=bom, line=line, quantity=request.POST.get("quantity", ""))
        elif action in ("substitute", "unsubstitute"):
            part = get_object_or_404(Part, pk=int_or_none(request.POST.get("part"), 0))
            subs = [s for s in item.substitutes.all() if s.pk != part.pk] + ([part] if action == "substitute" else [])
            bom_line_update(bom=bom, line=line, substitutes=subs)
        else:
            raise ValidationError("Unknown action.")
    except (ValidationError, ArithmeticError) as exc:
        messages.error(request, f"Line {line}: {error_text(exc) if isinstance(exc, ValidationError) else 'enter a number.'}")
    return redirect(reverse("marketplace:bom-detail", args=[pk]) + f"#line-{line}")


@login_required
@require_POST
def bom_quote_view(request, pk: int):
    bom = _owned(request, pk)
    try:
        quantity = int_or_none(request.POST.get("quantity"))
        if not quantity:
            raise ValidationError("Enter a batch size.")
        quote = bom_quote(bom=bom, quantity=quantity, created_by=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("marketplace:bom-detail", pk=pk)
    return redirect("marketplace:quote-detail", pk=quote.pk)


@login_required
@require_POST
def bom_trial_view(request, pk: int):
    """Start a market trial of the BOM: its private kit, preselected on the trial form."""
    bom = _owned(request, pk)
    kit = bom_kit_sync(bom=bom)
    if kit is None:
        messages.error(request, "Match at least one line to a part before trialling the BOM.")
        return redirect("marketplace:bom-detail", pk=pk)
    return redirect(reverse("trials:trial-create") + f"?kit={kit.pk}")


@login_required
@require_POST
def bom_publish_view(request, pk: int):
    """Solution houses: publish the reviewed BOM as a kit buyers can see (a new revision if the
    kit was already quoted)."""
    bom = _owned(request, pk)
    try:
        kit = bom_publish(bom=bom)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("marketplace:bom-detail", pk=pk)
    messages.success(request, f"Published {kit.name} rev {kit.revision}.")
    return redirect("marketplace:kit-detail", pk=kit.pk)


# --- My quotes -----------------------------------------------------------------------------------


@login_required
def quote_list_view(request):
    org = get_acting_organization(request)
    return render(request, "marketplace/quote_list.html", {
        "page": paginate(request, quote_list(organization=org).prefetch_related(
            Prefetch("orders", queryset=Order.objects.order_by("-id"))).order_by("-created_at", "-id")),
        "now": timezone.now(),
    })


@login_required
def quote_export_view(request, pk: int, fmt: str):
    org = get_acting_organization(request)
    quote = get_object_or_404(quote_list(organization=org), pk=pk)
    if fmt == "csv":
        response = HttpResponse(quote_csv(quote), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(quote_xlsx(quote), content_type=XLSX_TYPE)
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="kitstreet-quote-{quote.pk}.{fmt}"'
    return response


@login_required
@require_POST
def bom_line_add_view(request, pk: int):
    bom = _owned(request, pk)
    try:
        item = bom_line_add(bom=bom, mpn=request.POST.get("mpn", ""), manufacturer=request.POST.get("manufacturer", ""),
                            quantity=request.POST.get("quantity") or "1", designators=request.POST.get("designators", ""))
    except (ValidationError, ArithmeticError) as exc:
        messages.error(request, error_text(exc) if isinstance(exc, ValidationError) else "Enter a number as quantity.")
        return redirect("marketplace:bom-detail", pk=pk)
    return redirect(reverse("marketplace:bom-detail", args=[pk]) + f"#line-{item.line}")


@login_required
@require_POST
def kit_edit_view(request, pk: int):
    """A solution house opens its kit in the workbench; publishing there saves the kit."""
    org = get_acting_organization(request)
    kit = kit_get(viewer=org, pk=pk)
    if kit is None or kit.owner_id != org.pk or kit.private:
        raise Http404
    bom = bom_from_kit(kit=kit, created_by=request.user)
    return redirect("marketplace:bom-detail", pk=bom.pk)
