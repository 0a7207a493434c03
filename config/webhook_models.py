"""The fields every app's webhook endpoints and deliveries share (trials' verdicts, the
marketplace's RFQ events). Abstract: each app keeps its own tables and its own foreign keys;
the delivery attempt that works on them is `config.webhooks.webhook_attempt`."""

from django.db import models


class WebhookEndpointBase(models.Model):
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url


class WebhookDeliveryBase(models.Model):
    """One event for one endpoint; `EVENT_ID_PREFIX` + pk is the `X-Kitstreet-Event-Id`, stable
    across retries (receivers de-duplicate on it)."""

    EVENT_ID_PREFIX = ""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up"

    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def event_id(self) -> str:
        return f"{self.EVENT_ID_PREFIX}{self.pk}"
