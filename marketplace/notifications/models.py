"""The market's inbox and webhooks: notifications to organisations and signed deliveries of
market events (RFQ and order events) to their endpoints."""

from django.db import models

from config.webhook_models import WebhookDeliveryBase, WebhookEndpointBase
from organizations.models import Organization


class Notification(models.Model):
    """The in-app inbox of an organisation."""

    class Kind(models.TextChoices):
        RFQ_NEW = "rfq_new", "New RFQ that fits you"
        BID_NEW = "bid_new", "New bid"
        AWARDED = "awarded", "Award"
        RFQ_CLOSING = "rfq_closing", "RFQ closing soon"
        RFQ_CLOSED = "rfq_closed", "RFQ closed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    rfq = models.ForeignKey("marketplace.Rfq", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="notification_org_created_idx")]


class MarketWebhookEndpoint(WebhookEndpointBase):
    """An integration's URL for marketplace events (rfq.created, bid.received, rfq.awarded),
    signed like the trial webhooks (config/webhooks.py)."""

    EVENTS = ("rfq.created", "bid.received", "rfq.awarded")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="market_webhooks")

    class Meta(WebhookEndpointBase.Meta):
        pass


class MarketWebhookDelivery(WebhookDeliveryBase):
    EVENT_ID_PREFIX = "mwd_"

    endpoint = models.ForeignKey(MarketWebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_key = models.CharField(max_length=80, help_text="What happened, e.g. bid:12:r2; sent once per endpoint.")

    class Meta(WebhookDeliveryBase.Meta):
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_key"], name="marketwebhookdelivery_unique_event")]
