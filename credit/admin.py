"""Operators' view of the money. Ledger rows are read-only; the only changes are actions that
call the services and ask for a reference or a reason: top-ups, reversals, voids, freezes."""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from credit.models import (
    REVERSIBLE_KINDS,
    Account,
    AccountKind,
    BankReference,
    BankStatementLine,
    CreditLine,
    Currency,
    DemandAppetite,
    Hold,
    IdempotencyKey,
    Invoice,
    JournalEntry,
    Posting,
    PurchaseOrderPayment,
    PlatformFeeSchedule,
    Repayment,
    ReserveTranche,
    SupplierReserve,
    SupplierTerms,
)
from credit.exceptions import IdempotencyConflict, StateConflict
from credit.services import (
    credit_line_update,
    demand_appetite_set,
    entry_reverse,
    hold_void,
    idempotency_run,
    request_fingerprint,
    wallet_topup,
)
from organizations.models import Organization


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services: browse, never edit or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TopupForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.order_by("name"))
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    currency = forms.ChoiceField(choices=Currency.choices)
    reference = forms.CharField(max_length=200, help_text="The bank receipt's reference (required).")
    # A one-time token per rendered form: submitting the same page twice records the receipt once.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Required; kept on the record.")


def _action_page(modeladmin, request, queryset, *, title, form, action, intro):
    """The intermediate page of an action that needs input (a reason, a reference)."""
    return TemplateResponse(request, "credit/admin/action_form.html", {
        **modeladmin.admin_site.each_context(request), "title": title, "intro": intro, "form": form,
        "queryset": queryset, "action": action, "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    })


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner", "kind", "currency", "balance", "held", "available_display", "credit_line"]
    list_filter = ["kind", "currency", "non_negative"]
    search_fields = ["organization__name", "=id"]
    list_select_related = ["organization", "credit_line__supplier", "credit_line__buyer"]
    actions = ["record_topup"]
    change_list_template = "credit/admin/account_change_list.html"

    @admin.display(description="Owner")
    def owner(self, obj):
        return obj.organization or "Platform"

    @admin.display(description="Available")
    def available_display(self, obj):
        return obj.available

    def get_urls(self):
        return [path("topup/", self.admin_site.admin_view(self.topup_view), name="credit_account_topup"), *super().get_urls()]

    def topup_view(self, request):
        """Record a bank receipt into any organisation's wallet (created on first use)."""
        form = TopupForm(request.POST or None, initial={"organization": request.GET.get("organization"),
                                                        "token": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            token = data.pop("token")

            def execute():
                entry = wallet_topup(created_by=request.user, **data)
                return 201, {"entry": entry.pk}

            try:
                _, body, replayed = idempotency_run(
                    scope=f"user:{request.user.pk}", key=f"admin-topup:{token}", execute=execute,
                    fingerprint=request_fingerprint(method="POST", path=request.path, body={
                        "organization": data["organization"].pk, "amount": str(data["amount"]),
                        "currency": data["currency"], "reference": data["reference"]}),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except StateConflict as exc:  # this bank receipt was already credited
                form.add_error(None, exc.message)
            except IdempotencyConflict:
                form.add_error(None, "This form was already submitted with other values; reload the page.")
            else:
                self.message_user(request, (f"Already recorded (entry {body['entry']})." if replayed else
                                            f"Recorded {data['amount']} {data['currency']} for {data['organization']} "
                                            f"(entry {body['entry']})."), messages.SUCCESS)
                return redirect(reverse("admin:credit_account_changelist"))
        return TemplateResponse(request, "credit/admin/action_form.html", {
            **self.admin_site.each_context(request), "title": "Record a bank top-up", "form": form, "opts": self.model._meta,
            "intro": "Money arrives in the organisation's wallet from the platform's bank clearing account.",
        })

    @admin.action(description="Record a bank top-up into the selected wallet")
    def record_topup(self, request, queryset):
        wallets = queryset.filter(kind=AccountKind.WALLET)
        if wallets.count() != 1:
            self.message_user(request, "Select exactly one wallet account.", messages.WARNING)
            return None
        wallet = wallets.get()
        return redirect(reverse("admin:credit_account_topup") + f"?organization={wallet.organization_id}")


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ["account", "amount", "currency"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "memo", "reference", "organization", "created_by", "created_at", "reverses"]
    list_filter = ["kind", "created_at"]
    search_fields = ["=id", "memo", "reference", "reason", "organization__name"]
    list_select_related = ["organization", "created_by", "reverses"]
    date_hierarchy = "created_at"
    inlines = [PostingInline]
    actions = ["reverse_entries"]

    def has_change_permission(self, request, obj=None):
        return obj is None  # the change list (and its actions) yes; editing an entry, never

    @admin.action(description="Reverse selected entries (asks for a reason)")
    def reverse_entries(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done, failed = 0, []
            for entry in queryset.order_by("pk"):
                try:
                    entry_reverse(entry=entry, reason=form.cleaned_data["reason"], created_by=request.user)
                    done += 1
                except ValidationError as exc:
                    failed.append(f"entry {entry.pk}: {' '.join(exc.messages)}")
                except Exception as exc:  # StateConflict: already reversed
                    failed.append(f"entry {entry.pk}: {exc}")
            if done:
                self.message_user(request, f"Reversed {done} entr{'y' if done == 1 else 'ies'}.", messages.SUCCESS)
            if failed:
                self.message_user(request, "Not reversed — " + "; ".join(failed), messages.ERROR)
            return None
        kinds = ", ".join(sorted(str(k.label) for k in REVERSIBLE_KINDS))
        return _action_page(self, request, queryset, title="Reverse journal entries", form=form, action="reverse_entries",
                            intro=f"Each entry gets a mirror-image entry with this reason. Only {kinds} entries can be "
                                  "reversed; deposits and credit are undone by their own steps.")


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ["id", "entry", "account", "amount", "currency"]
    list_filter = ["currency", "entry__kind"]
    search_fields = ["=entry__id", "=account__id", "account__organization__name"]
    list_select_related = ["entry", "account__organization"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "counter_account", "amount", "posted_amount", "currency", "status", "expires_at", "created_at"]
    list_filter = ["status", "currency"]
    search_fields = ["=id", "memo", "account__organization__name"]
    list_select_related = ["account__organization", "counter_account__organization"]
    actions = ["void_holds"]

    def has_change_permission(self, request, obj=None):
        return obj is None

    @admin.action(description="Void selected pending holds (asks for a reason)")
    def void_holds(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            voided = 0
            for hold in queryset.filter(status=Hold.Status.PENDING).order_by("pk"):
                hold_void(hold=hold)
                voided += 1
            self.message_user(request, f"Voided {voided} hold(s): {form.cleaned_data['reason']}", messages.SUCCESS)
            return None
        return _action_page(self, request, queryset, title="Void holds", form=form, action="void_holds",
                            intro="The reserved money becomes available again. Holds already resolved are skipped.")


class InvoiceInline(admin.TabularInline):
    model = Invoice
    fields = ["id", "amount", "paid", "issued_on", "due_date", "status", "purchase_order_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["due_date"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CreditLine)
class CreditLineAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "supplier", "buyer", "vouched_by", "currency", "limit", "terms_days", "status", "frozen_reason"]
    list_filter = ["kind", "status", "currency"]
    search_fields = ["supplier__name", "buyer__name", "vouched_by__name"]
    list_select_related = ["supplier", "buyer", "vouched_by"]
    inlines = [InvoiceInline]
    actions = ["freeze", "unfreeze"]

    def has_change_permission(self, request, obj=None):
        return obj is None

    @admin.action(description="Freeze selected lines (asks for a reason)")
    def freeze(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for line in queryset.order_by("pk"):
                credit_line_update(line=line, status=CreditLine.Status.FROZEN, frozen_reason=form.cleaned_data["reason"])
            self.message_user(request, f"Froze {queryset.count()} line(s).", messages.SUCCESS)
            return None
        return _action_page(self, request, queryset, title="Freeze credit lines", form=form, action="freeze",
                            intro="Frozen lines refuse new draws; what is owed stays owed.")

    @admin.action(description="Unfreeze selected lines")
    def unfreeze(self, request, queryset):
        for line in queryset.order_by("pk"):
            credit_line_update(line=line, status=CreditLine.Status.ACTIVE)
        self.message_user(request, f"Unfroze {queryset.count()} line(s).", messages.SUCCESS)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["id", "credit_line", "amount", "paid", "currency", "issued_on", "due_date", "status"]
    list_filter = ["status", "currency", "due_date"]
    search_fields = ["=id", "credit_line__buyer__name", "credit_line__supplier__name", "memo"]
    list_select_related = ["credit_line__supplier", "credit_line__buyer"]


@admin.register(Repayment)
class RepaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "credit_line", "amount", "currency", "reference", "created_by", "created_at"]
    list_filter = ["currency"]
    search_fields = ["credit_line__buyer__name", "credit_line__supplier__name"]
    list_select_related = ["credit_line__supplier", "credit_line__buyer", "created_by"]


@admin.register(PurchaseOrderPayment)
class PurchaseOrderPaymentAdmin(ReadOnlyAdmin):
    list_display = ["purchase_order_id", "buyer", "supplier", "method", "total", "deposit_amount", "deposit_status", "status",
                    "platform_fee", "fee_collected"]
    list_filter = ["method", "deposit_status", "status", "currency"]
    search_fields = ["=purchase_order_id", "buyer__name", "supplier__name"]
    list_select_related = ["buyer", "supplier"]


@admin.register(DemandAppetite)
class DemandAppetiteAdmin(admin.ModelAdmin):
    """The platform's appetite (no lender) is set here by operators; suppliers opt in through the API.
    Changes go through the service, which checks them."""

    list_display = ["lender", "currency", "max_per_line", "max_total", "repayment_share", "lends_on_simulated", "active"]
    list_filter = ["currency", "active"]
    search_fields = ["lender__name"]

    def save_model(self, request, obj, form, change):
        saved = demand_appetite_set(lender=obj.lender, currency=obj.currency, max_per_line=obj.max_per_line,
                                    max_total=obj.max_total, repayment_share=obj.repayment_share,
                                    lends_on_simulated=obj.lends_on_simulated, active=obj.active)
        obj.pk = saved.pk


@admin.register(SupplierTerms)
class SupplierTermsAdmin(admin.ModelAdmin):
    list_display = ["organization", "deposit_percent", "release_on", "forfeit_percent", "updated_at"]
    list_filter = ["release_on"]
    search_fields = ["organization__name"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["scope", "key", "response_status", "created_at"]
    search_fields = ["scope", "key"]
    list_filter = ["response_status"]


# Issue 22: bank references, statements, the platform's take and reserves (read-only: the
# services and the money desk change them).

@admin.register(BankReference)
class BankReferenceAdmin(ReadOnlyAdmin):
    list_display = ["id", "direction", "reference", "key", "organization", "amount", "currency", "entry", "created_at"]
    list_filter = ["direction", "currency"]
    search_fields = ["key", "reference", "organization__name"]
    list_select_related = ["organization"]


@admin.register(BankStatementLine)
class BankStatementLineAdmin(ReadOnlyAdmin):
    list_display = ["id", "statement", "date", "amount", "currency", "reference", "counterparty", "status", "match"]
    list_filter = ["status", "currency"]
    search_fields = ["reference", "key", "counterparty"]


@admin.register(PlatformFeeSchedule)
class PlatformFeeScheduleAdmin(ReadOnlyAdmin):
    list_display = ["id", "default_percent", "by_category", "created_by", "created_at"]


@admin.register(SupplierReserve)
class SupplierReserveAdmin(ReadOnlyAdmin):
    list_display = ["organization", "percent", "days", "updated_by", "updated_at"]
    search_fields = ["organization__name"]


@admin.register(ReserveTranche)
class ReserveTrancheAdmin(ReadOnlyAdmin):
    list_display = ["id", "organization", "amount", "currency", "purchase_order_id", "due_at", "status"]
    list_filter = ["status", "currency"]
    search_fields = ["organization__name", "=purchase_order_id"]
    list_select_related = ["organization"]
