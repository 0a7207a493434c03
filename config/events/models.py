"""The market's event log: one row per organisation that should hear of a step (a purchase
order confirmed, a payment settled, a dispute opened, a payout sent).

Written in the same transaction as the step (`config.events.services.event_record`), so an
event exists exactly when its step committed; published to the webhooks through the outbox."""

from django.db import models
from django.utils import timezone

from organizations.models import Organization


class Event(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+",
                                     help_text="Whose feed the event is in.")
    type = models.CharField(max_length=40, help_text="e.g. po.confirmed, payment.settled")
    object_type = models.CharField(max_length=30, help_text="purchase_order, payment, dispute, payout, shipment")
    object_id = models.BigIntegerField()
    data = models.JSONField(default=dict, blank=True)
    key = models.CharField(max_length=120, help_text="What happened, e.g. po:12:confirmed: once per organisation.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="event_once_per_organization")]
        indexes = [
            models.Index(fields=["organization", "-id"], name="event_org_newest_idx"),
            models.Index(fields=["organization", "type", "-id"], name="event_org_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.object_type} {self.object_id}"
