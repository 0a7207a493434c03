"""Fulfilment: the shipments of a purchase order (partial, tracked, lot-coded) and the market's
deadline sweeps. Kept beside the order models (orders room)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from organizations.models import Organization


class Shipment(models.Model):
    """One parcel of a purchase order: several per order until every unit has gone. Received by
    the buyer as a whole or in part (`ShipmentLine.received_quantity`)."""

    purchase_order = models.ForeignKey("marketplace.PurchaseOrder", on_delete=models.CASCADE, related_name="shipments")
    number = models.PositiveIntegerField(help_text="1, 2, … within the purchase order")
    carrier = models.CharField(max_length=100, blank=True)
    tracking = models.CharField(max_length=100, blank=True)
    shipped_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    simulated = models.BooleanField(default=False, help_text="Shipped by the simulated counterparty of a demo stall.")
    created_at = models.DateTimeField()
    received_at = models.DateTimeField(null=True, blank=True, help_text="When its last unit was received.")

    class Meta:
        ordering = ["purchase_order", "number"]
        constraints = [models.UniqueConstraint(fields=["purchase_order", "number"], name="shipment_number_once")]

    def __str__(self) -> str:
        return f"Shipment {self.number} of PO {self.purchase_order_id}"


class ShipmentLine(models.Model):
    """Units of one purchase-order line in a shipment, with the lot and date code they came from
    (AS6081 asks for both on every line): what a lot trace reads."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    po_line = models.ForeignKey("marketplace.PurchaseOrderLine", on_delete=models.CASCADE, related_name="shipment_lines")
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The shipping supplier, copied so a lot trace is one indexed read of its own lines.
    vendor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    lot = models.CharField(max_length=60, blank=True)
    date_code = models.CharField(max_length=20, blank=True)
    received_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["shipment", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="shipmentline_quantity_positive"),
            models.CheckConstraint(condition=Q(received_quantity__lte=F("quantity")), name="shipmentline_received_le_shipped"),
        ]
        indexes = [models.Index(fields=["vendor", "lot"], name="shipmentline_vendor_lot_idx")]


class MarketSweep(models.Model):
    """One run of the market's deadline sweep (`manage.py market_deadlines`, the beat task): the
    moment it swept as of, and what it did. A sweep as of a moment before the latest one is refused."""

    as_of = models.DateTimeField(db_index=True)
    ran_at = models.DateTimeField(auto_now_add=True)
    expired = models.PositiveIntegerField(default=0, help_text="Unconfirmed purchase orders cancelled")
    overdue = models.PositiveIntegerField(default=0, help_text="Purchase orders past ship_by reported")

    class Meta:
        ordering = ["-as_of", "-id"]
