"""Operators browse trials here; state changes go through the services (start, refresh)."""

from django.contrib import admin, messages

from config.errors import StateConflict
from trials.models import DailyMetric, SalesEvent, Trial, TrialArm, TrialDecision, WebhookDelivery, WebhookEndpoint
from trials.services import trial_refresh, trial_start


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TrialArmInline(ReadOnlyMixin, admin.TabularInline):
    model = TrialArm
    extra = 0
    fields = ["label", "unit_price", "units", "units_received", "units_sold", "revenue"]
    readonly_fields = fields
    can_delete = False


class TrialDecisionInline(ReadOnlyMixin, admin.TabularInline):
    model = TrialDecision
    extra = 0
    fields = ["created_at", "kind", "payload", "reason", "created_by"]
    readonly_fields = fields
    can_delete = False


@admin.register(Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "kit", "mode", "status", "verdict", "progress", "cash_deployed",
                    "cash_recovered", "created_at"]
    list_filter = ["mode", "status", "verdict", "created_at"]
    search_fields = ["name", "kit__name", "organization__name", "verdict_reason"]
    list_select_related = ["organization", "kit"]
    date_hierarchy = "created_at"
    inlines = [TrialArmInline, TrialDecisionInline]
    actions = ["start_drafts", "refresh_now"]
    raw_id_fields = ["kit", "quote", "order", "reorder_quote", "created_by", "organization"]
    # Everything that the run computes is read-only; the name and (while a draft) the targets
    # and window can be corrected.
    computed = ["status", "failure_reason", "progress", "sim_day", "task_id", "quote", "order", "reorder_quote",
                "cash_deployed", "cash_recovered", "verdict", "verdict_reason", "best_arm", "report", "days_to_verdict",
                "started_at", "selling_started_at", "ends_at", "closed_at", "created_at", "updated_at", "currency"]

    def get_readonly_fields(self, request, obj=None):
        frozen = ["organization", "created_by", "kit", "mode", "demand", "payment"]
        if obj is not None and obj.status != Trial.Status.DRAFT:
            frozen += ["window_days", "scale_at", "kill_below"]
        return self.computed + frozen if obj is not None else self.computed

    def has_add_permission(self, request):
        return False  # trials are planned by buyers (API or the trial form)

    @admin.action(description="Start the selected drafts (queues a worker run)")
    def start_drafts(self, request, queryset):
        started = 0
        for trial in queryset.filter(status=Trial.Status.DRAFT):
            try:
                trial_start(trial=trial)
                started += 1
            except StateConflict as exc:
                self.message_user(request, f"{trial}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{started} trial(s) started.")

    @admin.action(description="Refresh now (receive stock, metrics, close at window end)")
    def refresh_now(self, request, queryset):
        for trial in queryset:
            trial_refresh(trial_id=trial.pk)
        self.message_user(request, f"{queryset.count()} trial(s) refreshed.")


@admin.register(SalesEvent)
class SalesEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["external_id", "trial", "arm", "units", "unit_price", "sold_at", "channel"]
    list_filter = ["channel", "sold_at"]
    search_fields = ["external_id", "trial__name"]
    list_select_related = ["trial", "arm"]


@admin.register(DailyMetric)
class DailyMetricAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["trial", "arm", "day", "sold", "on_hand", "demand"]
    list_filter = ["trial__mode"]
    search_fields = ["trial__name", "arm__label"]
    list_select_related = ["trial", "arm"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "organization", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "organization__name"]
    readonly_fields = ["secret", "created_at"]
    raw_id_fields = ["organization"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["trial", "endpoint", "event", "status", "attempts", "response_status", "created_at", "delivered_at"]
    list_filter = ["status", "event"]
    search_fields = ["trial__name", "endpoint__url", "last_error"]
    list_select_related = ["trial", "endpoint"]
