"""The operator's desk: staff land here. It gathers what needs an operator from every app (so it
lives in config, which wires the apps) and the platform's figures; changes go through services."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from credit.selectors import disputes_to_resolve, payouts_to_settle, platform_money_figures
from marketplace.orders.selectors import gmv_by_currency
from organizations.models import Organization
from organizations.services import organization_verify


@staff_member_required
def desk_view(request):
    awaiting = Organization.objects.filter(is_supplier=True, verified=False).order_by("created_at", "id")
    counts = Organization.objects.aggregate(
        total=Count("id"), buyers=Count("id", filter=Q(is_buyer=True)),
        suppliers=Count("id", filter=Q(is_supplier=True)),
        verified_suppliers=Count("id", filter=Q(is_supplier=True, verified=True)),
    )
    money = platform_money_figures()
    return render(request, "desk.html", {
        "awaiting": awaiting[:50],
        "awaiting_count": awaiting.count(),
        "counts": counts,
        "gmv": gmv_by_currency(days=30),
        "escrow": money["escrow"],
        "credit_outstanding": money["credit_outstanding"],
        "payouts_waiting": payouts_to_settle().count(),
        "disputes_waiting": disputes_to_resolve().count(),
    })


@staff_member_required
@require_POST
def desk_verify(request, pk: int):
    org = get_object_or_404(Organization.objects.filter(is_supplier=True), pk=pk)
    organization_verify(organization=org)
    messages.success(request, f"{org.name} is verified: its listings and kits are now visible to buyers.")
    return redirect("desk")
