"""Reads of the market inbox."""

from django.db.models import QuerySet

from marketplace.notifications.models import Notification
from organizations.models import Organization

# --- Inbox ---------------------------------------------------------------------------------------


def notification_list(*, organization: Organization) -> QuerySet[Notification]:
    return Notification.objects.filter(organization=organization).select_related("rfq").order_by("-created_at", "-id")


def notification_unread_count(*, organization: Organization) -> int:
    return Notification.objects.filter(organization=organization, read_at__isnull=True).count()
