"""The market's event log: one row per organisation that should hear of a step (a purchase
order confirmed, a payment settled, a dispute opened, a payout sent).

Written in the same transaction as the step (`config.events.services.event_record`), so an
event exists exactly when its step committed; published to the webhooks through the outbox."""

from django.db import models
from django.utils import timezone

from organizations.models import Organization


# Every event type, what it means and the object it names. Webhook endpoints receive all of them.
EVENT_TYPES: dict[str, str] = {
    "po.placed": "A purchase order was placed (its confirm_by and ship_by are set).",
    "po.confirmed": "The vendor confirmed the purchase order (ship_by is set again from now).",
    "po.partly_shipped": "A shipment left, but units of the purchase order are still to ship.",
    "po.shipped": "Every unit of the purchase order has shipped.",
    "po.received": "The buyer received a shipment (possibly part of it).",
    "po.delivered": "The buyer received every unit: the purchase order is delivered.",
    "po.cancelled": "The purchase order was cancelled by the buyer or the vendor.",
    "po.expired": "The vendor did not confirm by confirm_by: the market cancelled the purchase order.",
    "po.defaulted": "The vendor declared the buyer's default on the balance.",
    "po.late": "The purchase order shipped after ship_by; the buyer earns the vendor's late credit.",
    "po.overdue": "ship_by passed and units are still to ship.",
    "payment.opened": "A deposit went into escrow, or credit was reserved, for a purchase order.",
    "payment.deposit_released": "The deposit was released to the vendor.",
    "payment.settled": "The purchase order was paid (balance paid or invoice drawn).",
    "payment.cancelled": "The payment closed without settling: deposit refunded or forfeited, credit released.",
    "payment.defaulted": "The deposit was forfeited per terms on the buyer's default.",
    "payment.late_credit": "The vendor's late credit was posted to the buyer.",
    "dispute.opened": "A party disputed the purchase order: what is held stays held.",
    "dispute.resolved": "An operator split the disputed amount.",
    "payout.requested": "A payout to the bank was requested (the amount is held).",
    "payout.settled": "The payout's bank transfer went out.",
    "payout.rejected": "The payout was rejected and its hold released.",
}


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
