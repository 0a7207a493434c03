"""Market trials: a small batch of a kit-based product, sold in one or more arms for a window and
judged by sell-through. See docs/trials.md for the demand model and the verdict rule."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from config.webhook_models import WebhookDeliveryBase, WebhookEndpointBase

MONEY = {"max_digits": 14, "decimal_places": 2}
FRACTION = {"max_digits": 4, "decimal_places": 3}


class TrialMode(models.TextChoices):
    LIVE = "live", "Live"
    SIMULATED = "simulated", "Simulated"


class TrialStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROCURING = "procuring", "Procuring"
    SELLING = "selling", "Selling"
    CLOSED = "closed", "Closed"
    FAILED = "failed", "Failed"


OPEN_STATUSES = (TrialStatus.PROCURING, TrialStatus.SELLING)


class TrialVerdict(models.TextChoices):
    SCALE = "scale", "Scale"
    ITERATE = "iterate", "Iterate"
    KILL = "kill", "Kill"


class Trial(models.Model):
    Mode = TrialMode
    Status = TrialStatus
    Verdict = TrialVerdict

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="trials")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    kit = models.ForeignKey("marketplace.Kit", on_delete=models.PROTECT, related_name="trials")
    mode = models.CharField(max_length=10, choices=TrialMode.choices)
    window_days = models.PositiveIntegerField()
    # Targets are fractions of sell-through; frozen once the trial starts (services refuse edits).
    scale_at = models.DecimalField(**FRACTION)
    kill_below = models.DecimalField(**FRACTION)
    currency = models.CharField(max_length=3)
    payment = models.CharField(max_length=10, default="deposit", help_text="Live trials: deposit or credit.")
    demand = models.JSONField(null=True, blank=True, help_text="Simulated trials only: the demand model.")

    status = models.CharField(max_length=10, choices=TrialStatus.choices, default=TrialStatus.DRAFT)
    failure_reason = models.TextField(blank=True)
    progress = models.FloatField(default=0.0)
    sim_day = models.PositiveIntegerField(default=0, help_text="Simulated trials: days of the window played so far.")
    task_id = models.CharField(max_length=64, blank=True)

    quote = models.ForeignKey("marketplace.Quote", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    order = models.ForeignKey("marketplace.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reorder_quote = models.ForeignKey("marketplace.Quote", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cash_deployed = models.DecimalField(default=0, **MONEY)
    cash_recovered = models.DecimalField(default=0, **MONEY)

    verdict = models.CharField(max_length=10, choices=TrialVerdict.choices, blank=True)
    verdict_reason = models.TextField(blank=True)
    best_arm = models.CharField(max_length=60, blank=True)
    report = models.JSONField(null=True, blank=True, help_text="Frozen at close.")
    days_to_verdict = models.PositiveIntegerField(null=True, blank=True)
    # Second wave (docs/trials.md): the prior frozen at start, the last forecast made before the
    # start (scored against the outcome at close, into `calibration`), and the live trials'
    # always-valid sequential state, updated on every accepted sales event.
    prior = models.JSONField(null=True, blank=True, help_text="{alpha, beta, source}, frozen at start.")
    forecast = models.JSONField(null=True, blank=True, help_text="The last forecast before the start.")
    calibration = models.JSONField(null=True, blank=True, help_text="The forecast scored at close.")
    sequential = models.JSONField(null=True, blank=True, help_text="Live trials: per-arm e-values.")
    stopped_early = models.BooleanField(default=False)
    # Demand-backed credit (docs/trials.md): the offer its reorder was ordered on, with the order and line.
    financing = models.JSONField(null=True, blank=True, help_text="The financing offer the reorder was ordered on.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    selling_started_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Live trials: the window's end on the wall clock.")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(window_days__gte=1, window_days__lte=365), name="trial_window_1_365"),
            models.CheckConstraint(condition=Q(kill_below__gte=0, scale_at__lte=1, kill_below__lt=F("scale_at")),
                                   name="trial_targets_ordered"),
            models.CheckConstraint(condition=Q(progress__gte=0, progress__lte=1), name="trial_progress_0_1"),
            models.CheckConstraint(condition=Q(mode="live", demand__isnull=True) | Q(mode="simulated"),
                                   name="trial_live_has_no_demand_model"),
            models.CheckConstraint(condition=Q(cash_deployed__gte=0, cash_recovered__gte=0), name="trial_cash_not_negative"),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="trial_org_created_idx"),
            models.Index(fields=["status"], name="trial_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_mode_display().lower()})"

    @property
    def simulated(self) -> bool:
        return self.mode == TrialMode.SIMULATED

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def total_units(self) -> int:
        return sum(arm.units for arm in self.arms.all())


class TrialArm(models.Model):
    """One price point or variant of the product, with its own batch."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="arms")
    label = models.CharField(max_length=60)
    unit_price = models.DecimalField(**MONEY)
    units = models.PositiveIntegerField()
    position = models.PositiveIntegerField(default=0)
    units_received = models.PositiveIntegerField(default=0)
    units_sold = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(default=0, **MONEY)

    class Meta:
        ordering = ["trial", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "label"], name="trialarm_unique_label"),
            models.CheckConstraint(condition=Q(units__gte=1), name="trialarm_units_positive"),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="trialarm_price_positive"),
            # Never more sold than received: the database backs the service's check.
            models.CheckConstraint(condition=Q(units_sold__lte=F("units_received")), name="trialarm_no_oversell"),
        ]

    def __str__(self) -> str:
        return f"{self.trial_id}/{self.label}"

    @property
    def on_hand(self) -> int:
        return self.units_received - self.units_sold


class SalesEvent(models.Model):
    """A real sale reported by an integration (live trials only). `external_id` makes a retried
    report harmless: the second copy is recognised and not counted."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="sales")
    arm = models.ForeignKey(TrialArm, on_delete=models.CASCADE, related_name="sales")
    units = models.PositiveIntegerField()
    unit_price = models.DecimalField(**MONEY)
    sold_at = models.DateTimeField()
    channel = models.CharField(max_length=60, blank=True)
    external_id = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sold_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "external_id"], name="salesevent_unique_external_id"),
            models.CheckConstraint(condition=Q(units__gte=1), name="salesevent_units_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id}: {self.units} × {self.arm.label}"


class DailyMetric(models.Model):
    """Per arm and day of the window: units sold and left on hand at the end of the day (and, in
    simulated trials only, the demand the model drew, which a live trial can never observe)."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="daily_metrics")
    arm = models.ForeignKey(TrialArm, on_delete=models.CASCADE, related_name="daily_metrics")
    day = models.PositiveIntegerField()
    sold = models.PositiveIntegerField(default=0)
    on_hand = models.PositiveIntegerField(default=0)
    demand = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["arm", "day"]
        constraints = [
            models.UniqueConstraint(fields=["arm", "day"], name="dailymetric_unique_arm_day"),
            models.CheckConstraint(condition=Q(day__gte=1), name="dailymetric_day_from_1"),
        ]


class WebhookEndpoint(WebhookEndpointBase):
    """An integration's URL that receives a signed POST when one of the organisation's trials
    reaches its verdict."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="trial_webhooks")

    class Meta(WebhookEndpointBase.Meta):
        pass


class WebhookDelivery(WebhookDeliveryBase):
    EVENT_ID_PREFIX = "whd_"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="webhook_deliveries")
    event = models.CharField(max_length=40, default="trial.verdict")

    class Meta(WebhookDeliveryBase.Meta):
        constraints = [
            # One event per endpoint and trial: a redelivered close never sends a verdict twice.
            models.UniqueConstraint(fields=["endpoint", "trial", "event"], name="webhookdelivery_unique_event"),
        ]


class TrialDecision(models.Model):
    """A decision taken on a running trial (e.g. how a restock was split across arms), with the
    numbers and the reason, so the trial's history says why stock went where it did."""

    class Kind(models.TextChoices):
        RESTOCK_SPLIT = "restock_split", "Restock split"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    payload = models.JSONField()
    reason = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class PlanForecast(models.Model):
    """A forecast made for a kit before any trial of it existed (POST /trials/forecast/ with a kit).
    A trial started later with the same plan (kit, mode, window, targets, arms) and no forecast of
    its own adopts the latest one, so its outcome is scored against what was forecast before it."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    kit = models.ForeignKey("marketplace.Kit", on_delete=models.CASCADE, related_name="+")
    plan_key = models.CharField(max_length=64, help_text="A digest of mode, window, targets and arms.")
    forecast = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "kit", "plan_key", "-created_at"], name="planforecast_lookup_idx")]
