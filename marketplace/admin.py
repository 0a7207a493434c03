from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from config.errors import StateConflict
from marketplace.boms.models import Bom, BomItem
from marketplace.catalogue.listings import listing_update, price_break_errors
from marketplace.catalogue.models import Listing, Part, PriceBreak
from marketplace.kits.models import AssemblyBreak, BomLine, Kit, SubKit
from marketplace.orders.models import MarketSweep, Order, PurchaseOrder, PurchaseOrderLine, ShipmentLine
from marketplace.orders.services import purchase_order_cancel
from marketplace.plans.models import BuyerStock, PurchasePlan, PurchasePlanSource
from marketplace.sourcing.models import Quote, QuoteLine

# --- Catalogue, kits, quotes, orders ---------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Part)
class PartAdmin(admin.ModelAdmin):
    list_display = ["mpn", "manufacturer", "category", "lifecycle", "created_at"]
    list_filter = ["lifecycle", "category"]
    search_fields = ["mpn", "mpn_normalized", "manufacturer", "description"]
    readonly_fields = ["mpn_normalized", "created_at"]
    show_full_result_count = False  # the large catalogue: no COUNT(*) on every page


class PriceBreakFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        breaks = sorted(
            (form.cleaned_data["min_qty"], form.cleaned_data["unit_price"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("min_qty")
        )
        if problems := price_break_errors(breaks, moq=self.instance.moq if self.instance.pk else None):
            raise ValidationError(problems)


class PriceBreakInline(admin.TabularInline):
    model = PriceBreak
    formset = PriceBreakFormSet
    extra = 1


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["part", "vendor", "stock", "moq", "multiple", "lead_time_days", "currency", "is_active", "updated_at"]
    list_filter = ["is_active", "currency", "condition", "vendor__verified", "lead_time_days"]
    search_fields = ["part__mpn_normalized", "part__mpn", "vendor__name"]
    list_select_related = ["part", "vendor"]
    autocomplete_fields = ["part", "vendor"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [PriceBreakInline]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        """Edits go through listing_update (row lock, same validation as the API), so a support
        change to stock cannot lose an order's reservation made meanwhile."""
        if not change:
            return super().save_model(request, obj, form, change)
        editable = {"stock", "moq", "multiple", "lead_time_days", "currency", "condition", "date_code", "location", "is_active"}
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in editable}
        if changes:
            listing_update(listing=obj, **changes)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The inline may have changed the price breaks: keep the listing's search columns in step.
        Listing.objects.filter(pk=form.instance.pk).refresh_search_columns()


class BomLineInline(admin.TabularInline):
    model = BomLine
    extra = 0
    autocomplete_fields = ["part", "substitutes"]


class SubKitInline(admin.TabularInline):
    model = SubKit
    fk_name = "kit"
    extra = 0
    autocomplete_fields = ["child"]


class AssemblyBreakInline(admin.TabularInline):
    model = AssemblyBreak
    extra = 0


@admin.register(Kit)
class KitAdmin(admin.ModelAdmin):
    list_display = ["name", "revision", "owner", "category", "currency", "is_current", "frozen", "assembly_factory"]
    list_filter = ["is_current", "frozen", "is_active", "category", "currency"]
    search_fields = ["name", "description", "owner__name"]
    list_select_related = ["owner", "assembly_factory"]
    autocomplete_fields = ["owner", "assembly_factory"]
    readonly_fields = ["family", "revision", "is_current", "frozen", "created_at", "updated_at"]
    inlines = [BomLineInline, SubKitInline, AssemblyBreakInline]

    def has_change_permission(self, request, obj=None):
        # A frozen revision backs quotes, orders or trials: it is never edited (the owner's edits
        # through the API make a new revision).
        if obj is not None and obj.frozen:
            return False
        return super().has_change_permission(request, obj)


class BomItemInline(ReadOnlyInline):
    model = BomItem
    fields = ["line", "designators", "quantity", "manufacturer", "mpn", "status", "part", "confidence", "reason", "dnp",
              "confirmed"]
    readonly_fields = fields


@admin.register(Bom)
class BomAdmin(admin.ModelAdmin):
    """Buyers' uploaded BOMs, for support: read-only (the buyer edits them in the workbench)."""

    list_display = ["name", "owner", "filename", "rows_read", "dnp_rows", "kit", "created_at"]
    list_select_related = ["owner", "kit"]
    search_fields = ["name", "filename", "owner__name"]
    readonly_fields = ["owner", "created_by", "name", "filename", "columns", "columns_chosen", "header_row", "rows_read",
                       "dnp_rows", "kit", "published_kit", "created_at", "updated_at"]
    inlines = [BomItemInline]

    def has_add_permission(self, request):
        return False


class QuoteLineInline(ReadOnlyInline):
    model = QuoteLine
    fields = ["part", "needed_qty", "cost", "shortfall"]
    readonly_fields = fields


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ["id", "kit", "organization", "quantity", "total", "unit_cost", "currency", "valid_until", "created_at"]
    list_filter = ["currency", "created_at"]
    search_fields = ["kit__name", "organization__name"]
    list_select_related = ["kit", "organization"]
    inlines = [QuoteLineInline]

    def has_change_permission(self, request, obj=None):
        return False  # a quote is a priced snapshot

    def has_add_permission(self, request):
        return False


class PurchaseOrderInline(ReadOnlyInline):
    model = PurchaseOrder
    fields = ["vendor", "status", "total", "currency", "confirmed_at", "shipped_at", "delivered_at", "cancelled_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "buyer", "status", "payment", "total", "currency", "quote", "created_at"]
    list_filter = ["status", "payment", "currency", "created_at"]
    search_fields = ["=id", "buyer__name"]
    list_select_related = ["buyer", "quote"]
    inlines = [PurchaseOrderInline]

    def has_change_permission(self, request, obj=None):
        return False  # orders move through the purchase-order services only

    def has_add_permission(self, request):
        return False


class PurchaseOrderLineInline(ReadOnlyInline):
    model = PurchaseOrderLine
    fields = ["listing", "description", "quantity", "unit_price", "extended_price", "shipped_quantity", "received_quantity"]
    readonly_fields = fields


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    list_display = ["id", "order", "vendor", "status", "total", "currency", "created_at", "confirm_by", "confirmed_at",
                    "ship_by", "shipped_at", "late_days"]
    list_filter = ["status", "currency", "cancelled_by_supplier", "cancel_reason", "created_at"]
    search_fields = ["=id", "=order__id", "vendor__name", "order__buyer__name"]
    list_select_related = ["vendor", "order"]
    inlines = [PurchaseOrderLineInline]
    actions = ["cancel_for_vendor"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    @admin.action(description="Cancel selected on the vendor's behalf (releases stock, refunds per terms)")
    def cancel_for_vendor(self, request, queryset):
        done, refused = 0, []
        for po in queryset.select_related("vendor").order_by("pk"):
            try:
                purchase_order_cancel(purchase_order=po, actor=po.vendor)
                done += 1
            except (StateConflict, ValidationError) as exc:
                refused.append(f"PO {po.pk}: {getattr(exc, 'message', exc)}")
        self.message_user(request, f"Cancelled {done} purchase order(s).", messages.SUCCESS)
        for text in refused:
            self.message_user(request, text, messages.WARNING)


# --- RFQs, bids, capabilities (browsing and support; changes go through the services) ---------------

from marketplace.factories.models import CapacityBooking, RateCard, SupplierProfile
from marketplace.rfqs.models import Bid, BidLine, Rfq, RfqLine
from marketplace.sourcing.models import AssemblyOffer


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RfqLineInline(ReadOnlyInline):
    model = RfqLine
    fields = ["position", "manufacturer", "mpn", "category_key", "quantity", "target_unit_price", "part"]


@admin.register(Rfq)
class RfqAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "kind", "buyer", "status", "closes_at", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["title", "buyer__name", "lines__mpn"]
    list_select_related = ["buyer"]
    inlines = [RfqLineInline]


class BidLineInline(ReadOnlyInline):
    model = BidLine
    fields = ["line", "quantity_available", "moq", "multiple", "lead_time_days", "awarded_listing"]


@admin.register(Bid)
class BidAdmin(ReadOnlyAdmin):
    list_display = ["id", "rfq", "supplier", "revision", "valid_until", "awarded_at"]
    search_fields = ["supplier__name", "rfq__title"]
    list_select_related = ["rfq", "supplier"]
    inlines = [BidLineInline]


@admin.register(SupplierProfile)
class SupplierProfileAdmin(ReadOnlyAdmin):
    list_display = ["organization", "weekly_capacity", "min_batch", "max_batch", "lead_time_days", "smt", "through_hole",
                    "box_build", "testing"]
    list_select_related = ["organization"]


@admin.register(CapacityBooking)
class CapacityBookingAdmin(ReadOnlyAdmin):
    list_display = ["factory", "week", "units", "order", "released_at"]
    list_filter = ["week"]
    list_select_related = ["factory"]


@admin.register(AssemblyOffer)
class AssemblyOfferAdmin(ReadOnlyAdmin):
    list_display = ["kit", "buyer", "factory", "setup_cost", "expires_at"]
    list_select_related = ["kit", "buyer", "factory"]


@admin.register(ShipmentLine)
class ShipmentLineAdmin(ReadOnlyAdmin):
    """Lots as operators look them up for a recall (the API: GET /api/v1/lots/{lot}/trace/)."""

    list_display = ["id", "lot", "date_code", "vendor", "shipment", "listing", "quantity", "received_quantity"]
    search_fields = ["=lot", "vendor__name"]
    list_select_related = ["vendor", "shipment", "listing"]
    readonly_fields = ["shipment", "po_line", "listing", "vendor", "quantity", "lot", "date_code", "received_quantity"]


@admin.register(MarketSweep)
class MarketSweepAdmin(admin.ModelAdmin):
    list_display = ["id", "as_of", "ran_at", "expired", "overdue"]
    readonly_fields = ["as_of", "ran_at", "expired", "overdue"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RateCard)
class RateCardAdmin(ReadOnlyAdmin):
    """Factories' published assembly prices, every version (quotes keep the one they used)."""

    list_display = ["organization", "version", "is_current", "currency", "setup_fee", "per_placement", "per_unique_part",
                    "min_batch", "max_batch", "created_at"]
    list_filter = ["is_current", "currency"]
    search_fields = ["organization__name"]
    list_select_related = ["organization"]


@admin.register(BuyerStock)
class BuyerStockAdmin(ReadOnlyAdmin):
    """Support reads a buyer's stock list; the buyer changes it (services in plans/stock.py)."""

    list_display = ["organization", "part", "quantity", "note", "updated_at"]
    search_fields = ["organization__name", "part__mpn"]
    list_select_related = ["organization", "part"]


class PurchasePlanSourceInline(ReadOnlyInline):
    model = PurchasePlanSource
    fields = ["position", "name", "quantity", "total", "shortfall", "vendors", "unsourced"]
    readonly_fields = fields


@admin.register(PurchasePlan)
class PurchasePlanAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "organization", "quote", "separate_total", "together_total", "created_at"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization", "quote"]
    inlines = [PurchasePlanSourceInline]
