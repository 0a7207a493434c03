"""Orders, split into one purchase order per vendor, and their lines; the shipments of a purchase
order (partial, tracked, lot-coded) and the market's deadline sweeps."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from marketplace.catalogue.models import MONEY, UNIT_PRICE, Currency, Listing
from marketplace.sourcing.models import Quote
from organizations.models import Organization


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    CONFIRMED = "confirmed", "Confirmed"
    PARTLY_SHIPPED = "partly_shipped", "Partly shipped"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


class Order(models.Model):
    """What a buyer placed; split into one PurchaseOrder per vendor. Its status rolls up from
    its purchase orders (the least advanced open one; cancelled when all are)."""

    class Payment(models.TextChoices):
        DEPOSIT = "deposit", "Deposit into escrow"
        CREDIT = "credit", "Supplier credit"
        # The reorder of a proven trial, on the credit its demand earned (a demand line pays every vendor).
        DEMAND_CREDIT = "demand_credit", "Demand-backed credit"

    # What a buyer chooses on the ordinary order forms (demand credit is ordered from its trial).
    FORM_PAYMENTS = [("deposit", "Deposit into escrow"), ("credit", "Supplier credit")]

    Status = OrderStatus

    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="orders")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, null=True, blank=True, related_name="orders")
    payment = models.CharField(max_length=16, choices=Payment.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    fx = models.JSONField(default=dict, blank=True, help_text="An order from a quote: the quote's exchange-rate snapshot.")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    total = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative")]
        indexes = [models.Index(fields=["buyer", "-created_at"], name="order_buyer_created_idx")]

    def __str__(self) -> str:
        return f"Order {self.pk}"


# Module-level names of the two payment choice sets, for the schema's enum names (settings.SPECTACULAR_SETTINGS).
ORDER_PAYMENTS = Order.Payment.choices
FORM_PAYMENTS = Order.FORM_PAYMENTS


class PurchaseOrder(models.Model):
    Status = OrderStatus

    class CancelReason(models.TextChoices):
        BUYER = "buyer", "Cancelled by the buyer"
        VENDOR = "vendor", "Cancelled by the vendor"
        UNCONFIRMED = "unconfirmed", "Not confirmed by confirm_by (the market cancelled it)"
        DEFAULT = "default", "The buyer defaulted on the balance"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="purchase_orders")
    vendor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="purchase_orders")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    total = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    platform_fee = models.DecimalField(default=0, help_text="The platform's take, fixed at placement (docs/ledger.md).",
                                       **MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_supplier = models.BooleanField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=12, choices=CancelReason.choices, blank=True, default="")
    # The vendor's promise, copied from its terms when placed (orders/promises.py).
    confirm_by = models.DateTimeField(null=True, blank=True, help_text="Unconfirmed by then, the market cancels it.")
    ship_by = models.DateTimeField(null=True, blank=True, help_text="Promised ship date; set again on confirmation.")
    ship_within_days = models.PositiveIntegerField(default=1)
    late_credit_percent_per_day = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    late_credit_cap_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    late_days = models.PositiveIntegerField(default=0, help_text="Days after ship_by its last unit shipped.")
    late_credit = models.DecimalField(default=0, **MONEY)
    # Consigned parts go to the factory that assembles the order (rate-card assembly), not to the buyer.
    ship_to = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                help_text="Empty: the buyer. Set to the assembling factory for consigned parts.")
    # The factory's own purchase order: boards, placements and the consigned parts coming to it.
    assembly_brief = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="purchaseorder_total_not_negative")]
        indexes = [
            models.Index(fields=["vendor", "status", "-created_at"], name="po_vendor_status_idx"),
            # The deadline sweep: unconfirmed orders by confirm_by, shipping ones by ship_by.
            models.Index(fields=["confirm_by"], condition=Q(status="placed"), name="po_unconfirmed_due_idx"),
            models.Index(fields=["ship_by"], condition=Q(status__in=["confirmed", "partly_shipped"]),
                         name="po_shipping_due_idx"),
        ]

    def __str__(self) -> str:
        return f"PO {self.pk} (order {self.order_id})"

    @property
    def buyer(self) -> Organization:
        return self.order.buyer


class PurchaseOrderLine(models.Model):
    """A listing bought at a price, or (listing null) a service line: assembly, design fee, NRE."""

    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**UNIT_PRICE)
    extended_price = models.DecimalField(**MONEY)
    shipped_quantity = models.PositiveIntegerField(default=0)
    received_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["purchase_order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="poline_quantity_positive"),
            models.CheckConstraint(condition=Q(shipped_quantity__lte=F("quantity")), name="poline_shipped_le_ordered"),
            models.CheckConstraint(condition=Q(received_quantity__lte=F("shipped_quantity")),
                                   name="poline_received_le_shipped"),
        ]


class Shipment(models.Model):
    """One parcel of a purchase order: several per order until every unit has gone. Received by
    the buyer as a whole or in part (`ShipmentLine.received_quantity`)."""

    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="shipments")
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
    po_line = models.ForeignKey(PurchaseOrderLine, on_delete=models.CASCADE, related_name="shipment_lines")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
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
