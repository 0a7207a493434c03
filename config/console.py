"""The operator console: one menu over every page an operator works in, and the console's own pages
(verification queue, events, system health). It gathers from every app, so it lives in config, which
wires the apps; every change still goes through the apps' services.

`CONSOLE_MENU` is the menu as data: each item names its page's URL and, where work waits there, a
count. An item whose URL is not installed (a page another app adds later, e.g. bank statements) is
left out rather than broken. `console_menu` is the context processor: staff get `console_menu` on every
page (base.html renders it as the header's links), its counts read once per request.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import connection
from django.db.models import Count, Min, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from config.outbox.models import OutboxMessage
from credit.selectors import disputes_to_resolve, payouts_to_settle
from marketplace.models import MarketWebhookDelivery
from organizations.models import Organization
from organizations.services import organization_verify
from trials.models import WebhookDelivery as TrialWebhookDelivery

OUTBOX_STALE_AFTER = timedelta(minutes=5)  # an unsent message older than this means the relay is behind


def awaiting_verification():
    return Organization.objects.filter(is_supplier=True, verified=False).order_by("created_at", "id")


def _failed_deliveries() -> int:
    return sum(model.objects.filter(status="failed").count() for model in (MarketWebhookDelivery, TrialWebhookDelivery))


@dataclass(frozen=True)
class ConsoleItem:
    label: str
    url_name: str
    waiting: Callable[[], int] | None = None  # how much work waits there (a badge when > 0)


CONSOLE_MENU = [
    ConsoleItem("Desk", "desk"),
    ConsoleItem("Verification", "console-verification", lambda: awaiting_verification().count()),
    ConsoleItem("Money desk", "credit:desk"),
    ConsoleItem("Payouts", "credit:payout-queue", lambda: payouts_to_settle().count()),
    ConsoleItem("Disputes", "credit:disputes", lambda: disputes_to_resolve().count()),
    ConsoleItem("FX rates", "credit:fx-rates"),
    ConsoleItem("Bank statements", "credit:bank-statements"),  # shown once the money room installs it
    ConsoleItem("Events", "console-events", _failed_deliveries),
    ConsoleItem("System", "system"),
    ConsoleItem("Admin", "admin:index"),
]


def console_items() -> list[dict]:
    """The menu with each item's URL and waiting count (items whose page is not installed left out)."""
    items = []
    for item in CONSOLE_MENU:
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url, "url_name": item.url_name,
                      "waiting": item.waiting() if item.waiting else 0})
    return items


def console_menu(request):
    """Context processor: `console_menu` for staff (one list per request, counts read once)."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated and user.is_staff):
        return {}
    raw = getattr(request, "_request", request)
    if not hasattr(raw, "_kitstreet_console"):
        raw._kitstreet_console = console_items()
    return {"console_menu": raw._kitstreet_console}


# --- pages ------------------------------------------------------------------------------------------


@staff_member_required
def verification_view(request):
    """Suppliers waiting for verification, oldest first; verifying asks first (site.js data-confirm)."""
    awaiting = awaiting_verification()
    return render(request, "console/verification.html", {"awaiting": awaiting[:100], "awaiting_count": awaiting.count()})


@staff_member_required
@require_POST
def verify_view(request, pk: int):
    org = get_object_or_404(Organization.objects.filter(is_supplier=True), pk=pk)
    organization_verify(organization=org)
    messages.success(request, f"{org.name} is verified: its listings and kits are now visible to buyers.")
    return redirect(request.POST.get("next") if request.POST.get("next") in ("desk", "console-verification") else "console-verification")


@staff_member_required
def events_view(request):
    """What the platform sent and is sending: the task outbox (relayed to the broker after commit) and
    the webhook deliveries of both apps, failures first."""
    now = timezone.now()
    outbox = OutboxMessage.objects.aggregate(
        unsent=Count("id", filter=Q(sent_at__isnull=True)), oldest_unsent=Min("created_at", filter=Q(sent_at__isnull=True)),
        sent_last_day=Count("id", filter=Q(sent_at__gte=now - timedelta(days=1))))
    deliveries = []
    for source, model in (("Market", MarketWebhookDelivery), ("Trials", TrialWebhookDelivery)):
        for d in model.objects.select_related("endpoint__organization").order_by("-created_at", "-id")[:50]:
            deliveries.append({"source": source, "d": d})
    deliveries.sort(key=lambda row: (row["d"].status != "failed", -row["d"].created_at.timestamp()))
    status_counts = {}
    for model in (MarketWebhookDelivery, TrialWebhookDelivery):
        for row in model.objects.values("status").annotate(n=Count("id")).order_by():
            status_counts[row["status"]] = status_counts.get(row["status"], 0) + row["n"]
    return render(request, "console/events.html", {
        "outbox": outbox, "outbox_stale": bool(outbox["oldest_unsent"] and now - outbox["oldest_unsent"] > OUTBOX_STALE_AFTER),
        "recent_outbox": OutboxMessage.objects.order_by("-id")[:30],
        "deliveries": deliveries[:60], "status_counts": status_counts,
    })


def health_checks() -> list[dict]:
    """What the system page shows besides the worker ping: each check's state in words."""
    checks = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks.append({"name": "Database", "ok": True, "text": f"answering ({connection.vendor})"})
    except Exception as exc:  # the page must render to say so
        checks.append({"name": "Database", "ok": False, "text": f"not answering: {type(exc).__name__}"})
        return checks
    oldest = OutboxMessage.objects.filter(sent_at__isnull=True).aggregate(oldest=Min("created_at"), n=Count("id"))
    stale = bool(oldest["oldest"] and timezone.now() - oldest["oldest"] > OUTBOX_STALE_AFTER)
    checks.append({"name": "Task outbox", "ok": not stale,
                   "text": (f"{oldest['n']} message{'s' if oldest['n'] != 1 else ''} waiting for the broker"
                            + (f", the oldest since {timezone.localtime(oldest['oldest']):%Y-%m-%d %H:%M %Z}: is the relay running?" if stale else ""))
                   if oldest["n"] else "empty: every task reached the broker"})
    failed = _failed_deliveries()
    checks.append({"name": "Webhooks", "ok": failed == 0,
                   "text": f"{failed} deliver{'ies' if failed != 1 else 'y'} gave up" if failed else "no delivery gave up"})
    return checks
