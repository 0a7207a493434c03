"""Orders, split into one purchase order per vendor, and their lines."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.catalogue.models import MONEY, UNIT_PRICE, Currency, Listing
from marketplace.sourcing.models import Quote
from organizations.models import Organization


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    CONFIRMED = "confirmed", "Confirmed"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


class Order(models.Model):
    """What a buyer placed; split into one PurchaseOrder per vendor. Its status rolls up from
    its purchase orders (the least advanced open one; cancelled when all are)."""

    class Payment(models.TextChoices):
        DEPOSIT = "deposit", "Deposit into escrow"
        CREDIT = "credit", "Supplier credit"

    Status = OrderStatus

    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="orders")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, null=True, blank=True, related_name="orders")
    payment = models.CharField(max_length=10, choices=Payment.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    fx = models.JSONField(default=dict, blank=True, help_text="An order from a quote: the quote's exchange-rate snapshot.")
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    total = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative")]
        indexes = [models.Index(fields=["buyer", "-created_at"], name="order_buyer_created_idx")]

    def __str__(self) -> str:
        return f"Order {self.pk}"


class PurchaseOrder(models.Model):
    Status = OrderStatus

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="purchase_orders")
    vendor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="purchase_orders")
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    total = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_supplier = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="purchaseorder_total_not_negative")]
        indexes = [models.Index(fields=["vendor", "status", "-created_at"], name="po_vendor_status_idx")]

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

    class Meta:
        ordering = ["purchase_order", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="poline_quantity_positive")]
