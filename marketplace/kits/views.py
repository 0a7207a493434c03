"""HTML pages of solution kits."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from config.pages import int_or_none, paginate
from marketplace.catalogue.models import Currency
from marketplace.kits.selectors import kit_get, kit_list, kit_tree
from organizations.access import get_acting_organization


@login_required
def kit_list_view(request):
    org = get_acting_organization(request, required=False)
    qs = kit_list(viewer=org, q=request.GET.get("q", "")[:100] or None, category=request.GET.get("category") or None,
                  owner_id=int_or_none(request.GET.get("owner")))
    categories = sorted(set(kit_list(viewer=org).values_list("category", flat=True)) - {""})
    return render(request, "marketplace/kit_list.html", {"page": paginate(request, qs), "categories": categories})


@login_required
def kit_detail_view(request, pk: int):
    org = get_acting_organization(request, required=False)
    kit = kit_get(viewer=org, pk=pk)
    if kit is None:
        raise Http404
    return render(request, "marketplace/kit_detail.html", {
        "kit": kit, "tree": kit_tree(kit), "default_qty": int_or_none(request.GET.get("qty"), 500),
        "currencies": Currency.choices,
    })
