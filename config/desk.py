"""The operator's desk: staff land here. It gathers what needs an operator from every app (so it
lives in config, which wires the apps) and the platform's figures; changes go through services."""

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count, Q
from django.shortcuts import render

from config.console import awaiting_verification
from credit.selectors import disputes_to_resolve, payouts_to_settle, platform_money_figures
from marketplace.orders.selectors import gmv_by_currency
from organizations.models import Organization


@staff_member_required
def desk_view(request):
    awaiting = awaiting_verification()
    counts = Organization.objects.aggregate(
        total=Count("id"), buyers=Count("id", filter=Q(is_buyer=True)),
        suppliers=Count("id", filter=Q(is_supplier=True)),
        verified_suppliers=Count("id", filter=Q(is_supplier=True, verified=True)),
    )
    money = platform_money_figures()
    return render(request, "desk.html", {
        "awaiting": awaiting[:10],
        "awaiting_count": awaiting.count(),
        "counts": counts,
        "gmv": gmv_by_currency(days=30),
        "escrow": money["escrow"],
        "credit_outstanding": money["credit_outstanding"],
        "payouts_waiting": payouts_to_settle().count(),
        "disputes_waiting": disputes_to_resolve().count(),
    })
