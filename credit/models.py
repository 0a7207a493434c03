"""The credit app's tables: a double-entry ledger with stored balances, holds, idempotency keys,
supplier credit lines with their invoices, and deposit terms. See docs/ledger.md for the why."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from organizations.models import Organization

MONEY = {"max_digits": 18, "decimal_places": 2}
ZERO = Decimal("0.00")


class Currency(models.TextChoices):
    CNY = "CNY", "Chinese yuan"
    USD = "USD", "US dollar"


class AccountKind(models.TextChoices):
    WALLET = "wallet", "Wallet"  # cash an organisation holds on Kitstreet (from bank top-ups)
    ESCROW = "escrow", "Deposits in escrow"  # a buyer's deposits waiting for the supplier's step
    RECEIVABLE = "receivable", "Receivable"  # per credit line: what the buyer owes the supplier
    PAYABLE = "payable", "Payable"  # per credit line: what the buyer owes (negative = owed)
    CLEARING = "clearing", "Platform bank clearing"  # platform: mirrors the bank; top-ups come from it
    FX = "fx", "Platform FX position"  # platform, per currency: conversions pass through it
    CREDIT_FUND = "credit_fund", "Platform credit fund"  # platform, per currency: what platform lines lend
    REVENUE = "revenue", "Platform revenue"  # platform, per currency: the platform's fees on releases
    RESERVE = "reserve", "Rolling reserve"  # a supplier's, per currency: held back from releases until due


class Account(models.Model):
    """A ledger account with a stored balance, so reading it is one indexed row.

    `balance` is the signed sum of its postings (kept in the same transaction as they are written,
    under a row lock); `held` is what pending holds have reserved. `available = balance - held`.
    Cash accounts (`non_negative`) may never go below their holds: the service checks it before
    writing, and the `account_no_overdraft` constraint refuses it in the database as a last line.
    A credit line's payable account may go negative down to `-credit_limit` (checked in the
    service, under the same lock; a limit may be lowered below what is already owed).
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="ledger_accounts", help_text="Empty for platform accounts.")
    credit_line = models.ForeignKey("CreditLine", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="accounts")
    kind = models.CharField(max_length=12, choices=AccountKind.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    balance = models.DecimalField(**MONEY, default=ZERO)
    held = models.DecimalField(**MONEY, default=ZERO)
    non_negative = models.BooleanField(default=True)
    credit_limit = models.DecimalField(**MONEY, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(held__gte=0), name="account_held_not_negative"),
            models.CheckConstraint(condition=Q(non_negative=False) | Q(balance__gte=F("held")), name="account_no_overdraft"),
            models.CheckConstraint(condition=~Q(kind="payable") | Q(balance__lte=0), name="account_payable_not_positive"),
            models.UniqueConstraint(fields=["organization", "kind", "currency"], name="account_unique_org_kind_currency",
                                    condition=Q(credit_line__isnull=True, organization__isnull=False)),
            models.UniqueConstraint(fields=["kind", "currency"], name="account_unique_platform_kind_currency",
                                    condition=Q(organization__isnull=True, credit_line__isnull=True)),
            models.UniqueConstraint(fields=["credit_line", "kind"], name="account_unique_line_kind",
                                    condition=Q(credit_line__isnull=False)),
        ]

    def __str__(self) -> str:
        owner = self.organization.name if self.organization_id else "Platform"
        return f"{owner} · {self.get_kind_display()} {self.currency}" + (f" · line {self.credit_line_id}" if self.credit_line_id else "")

    @property
    def available(self) -> Decimal:
        return self.balance - self.held


class EntryKind(models.TextChoices):
    TOPUP = "topup", "Bank top-up"
    TRANSFER = "transfer", "Transfer"
    BATCH = "batch", "Batch transfer"
    HOLD_POST = "hold_post", "Hold posted"
    DEPOSIT = "deposit", "Deposit into escrow"
    DEPOSIT_RELEASE = "deposit_release", "Deposit released to supplier"
    DEPOSIT_REFUND = "deposit_refund", "Deposit refunded"
    DEPOSIT_FORFEIT = "deposit_forfeit", "Deposit forfeited"
    BALANCE_PAYMENT = "balance_payment", "Balance paid on delivery"
    CREDIT_DRAW = "credit_draw", "Credit draw (invoice)"
    REPAYMENT = "repayment", "Repayment"
    REVERSAL = "reversal", "Reversal"
    PAYOUT = "payout", "Payout to bank"
    DEPOSIT_DEFAULT = "deposit_default", "Deposit forfeited on default"
    DISPUTE_SPLIT = "dispute_split", "Dispute resolved by a split"
    CREDIT_DISBURSEMENT = "credit_disburse", "Lender paid the vendor"
    WRITE_OFF = "write_off", "Credit written off"
    FX_CONVERSION = "fx_conversion", "Currency conversion"
    RESERVE_RELEASE = "reserve_release", "Rolling reserve released"
    LATE_CREDIT = "late_credit", "Late-shipment credit"


# Kinds an operator may reverse by hand; the others are owned by deposit and credit state
# machines, which have their own undo steps (refund, void) that keep invoices and deposits in step.
REVERSIBLE_KINDS = {EntryKind.TOPUP, EntryKind.TRANSFER, EntryKind.BATCH}


class JournalEntry(models.Model):
    """One business event. Append-only: the database refuses UPDATE and DELETE (PostgreSQL and
    SQLite triggers), and corrections are new entries that reverse old ones."""

    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    memo = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=200, blank=True, help_text="External reference, e.g. a bank receipt number.")
    # Who initiated it. Not indexed: nothing reads entries by initiator on a hot path, and every
    # index is one more write per entry (see docs/benchmarks.md).
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     db_index=False, help_text="Who initiated it, if an organisation did.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   db_index=False)
    # One-to-one: an entry can be reversed at most once.
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    reason = models.CharField(max_length=300, blank=True)
    # Not indexed: ids grow with time, so "newest first" is an id order; one index write fewer per entry.
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "journal entries"
        # A bank receipt is credited once on the whole platform: see BankReference (normalised).
        # Balances at a past moment (`?at=`) find the last entry written by then through it.
        indexes = [models.Index(fields=["created_at", "id"], name="entry_created_idx")]

    def __str__(self) -> str:
        return f"Entry {self.pk} · {self.get_kind_display()}"


class Posting(models.Model):
    """One leg of an entry: a signed amount on one account. The legs of an entry sum to zero per
    currency (checked by the service; on PostgreSQL also by a statement trigger)."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    # No single-column index: posting_account_newest_idx (account, -id) serves every lookup by
    # account, and one index fewer is written per posting.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings", db_index=False)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, choices=Currency.choices)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_not_zero")]
        indexes = [
            models.Index(fields=["account", "-id"], name="posting_account_newest_idx"),
            # Balances at a past moment: an account's postings up to an entry, one index range
            # (on PostgreSQL the index includes the amount: migration 0008 creates it by hand).
            models.Index(fields=["account", "entry"], name="posting_account_entry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on account {self.account_id}"


class Hold(models.Model):
    """Money set aside on `account` for `counter_account` (two-phase, like a pending transfer):
    posted fully or partly, voided, or expired — exactly once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        POSTED = "posted", "Posted"
        VOIDED = "voided", "Voided"
        EXPIRED = "expired", "Expired"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    counter_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    posted_amount = models.DecimalField(**MONEY, null=True, blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    memo = models.CharField(max_length=300, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="hold")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(posted_amount__isnull=True) | Q(posted_amount__gt=0, posted_amount__lte=F("amount")),
                name="hold_posted_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="hold_status_expires_idx")]

    def __str__(self) -> str:
        return f"Hold {self.pk} · {self.amount} {self.currency} ({self.status})"


class IdempotencyKey(models.Model):
    """A money-moving request seen before. Inserted first, in the request's own transaction, so a
    concurrent request with the same key waits on the unique index and then replays."""

    # "org:<id>" for an organisation's requests, "user:<id>" for an operator acting for none.
    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_scope_key")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class CreditLine(models.Model):
    """Supplier credit (账期): a lender lets a buyer draw up to `limit` on net-`terms_days`
    terms, optionally vouched for by a third organisation that shares the exposure.

    The lender is a supplier (`supplier`), or the platform itself (`supplier` empty): a platform
    line pays every vendor of an order. A supplier's line with `pays_other_vendors` (a solution
    house fronting its kit's sub-vendors) does the same for orders of that supplier's kits."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        FROZEN = "frozen", "Frozen"

    class Kind(models.TextChoices):
        STANDARD = "standard", "Supplier or platform credit"
        # Opened for one proven trial's reorder; repaid by a share of each sale (docs/ledger.md).
        DEMAND = "demand", "Demand-backed credit"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STANDARD)
    # Demand lines only, plain references (credit knows nothing of trials or marketplace models).
    trial_id = models.BigIntegerField(null=True, blank=True, help_text="Demand lines: the trial whose demand backs it.")
    order_id = models.BigIntegerField(null=True, blank=True, help_text="Demand lines: the order it financed.")
    repayment_share = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0"),
                                          help_text="Demand lines: the share of each sale's revenue swept to the line.")
    supplier = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="credit_lines_granted",
                                 null=True, blank=True, help_text="The lender; empty for a platform line.")
    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="credit_lines_received")
    pays_other_vendors = models.BooleanField(default=False, help_text="The lender pays the other vendors of its kits' orders.")
    voucher_share_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"),
                                                help_text="Share of a write-off the voucher pays.")
    vouched_by = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_lines_vouched")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    limit = models.DecimalField(**MONEY)
    terms_days = models.PositiveIntegerField(default=30)
    grace_days = models.PositiveIntegerField(default=7, help_text="Days past due before new draws are frozen.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    frozen_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "buyer", "currency"], condition=Q(kind="standard"),
                                    name="creditline_unique_pair_currency"),
            models.UniqueConstraint(fields=["buyer", "currency"], condition=Q(supplier__isnull=True, kind="standard"),
                                    name="creditline_unique_platform_buyer_currency"),
            # One demand line per trial: a second order on the same proven demand is refused.
            models.UniqueConstraint(fields=["trial_id"], condition=Q(kind="demand"), name="creditline_one_demand_line_per_trial"),
            models.CheckConstraint(condition=Q(kind="standard") | Q(trial_id__isnull=False), name="creditline_demand_has_trial"),
            models.CheckConstraint(condition=Q(repayment_share__gte=0, repayment_share__lte=1),
                                   name="creditline_repayment_share_range"),
            models.CheckConstraint(condition=Q(voucher_share_percent__gte=0, voucher_share_percent__lte=100),
                                   name="creditline_voucher_share_range"),
            models.CheckConstraint(condition=Q(limit__gte=0), name="creditline_limit_not_negative"),
            models.CheckConstraint(condition=~Q(supplier=F("buyer")), name="creditline_not_to_self"),
        ]

    def __str__(self) -> str:
        return f"{self.lender_name} → {self.buyer} ({self.limit} {self.currency})"

    @property
    def is_platform(self) -> bool:
        return self.supplier_id is None

    @property
    def lender_name(self) -> str:
        return self.supplier.name if self.supplier_id else "Kitstreet"

    @property
    def is_demand(self) -> bool:
        return self.kind == self.Kind.DEMAND


class Invoice(models.Model):
    """One draw on a credit line, due `terms_days` after it was issued. Repayments fill the
    oldest open invoices first."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        OVERDUE = "overdue", "Overdue"
        PAID = "paid", "Paid"
        WRITTEN_OFF = "written_off", "Written off"

    credit_line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, related_name="invoices")
    # A plain reference: credit knows nothing of marketplace models (apps depend one way).
    purchase_order_id = models.BigIntegerField(null=True, blank=True, db_index=True, help_text="The marketplace purchase order it pays for")
    amount = models.DecimalField(**MONEY)
    paid = models.DecimalField(**MONEY, default=ZERO)
    credited = models.DecimalField(**MONEY, default=ZERO, help_text="Forgiven: a dispute's credit note or a write-off.")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    issued_on = models.DateField()
    due_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    paid_on = models.DateField(null=True, blank=True)
    memo = models.CharField(max_length=300, blank=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="invoice")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(condition=Q(paid__gte=0, paid__lte=F("amount")), name="invoice_paid_within_amount"),
            # Half a cent of slack: SQLite evaluates `amount - paid` in floating point (28.38 - 21.28
            # is 7.0999…); amounts have two places, so a real excess is at least a cent.
            models.CheckConstraint(condition=Q(credited__gte=0, credited__lte=F("amount") - F("paid") + Decimal("0.005")),
                                   name="invoice_credited_within_amount"),
        ]
        indexes = [models.Index(fields=["credit_line", "status", "due_date"], name="invoice_line_status_due_idx")]

    def __str__(self) -> str:
        return f"Invoice {self.pk} · {self.amount} {self.currency} due {self.due_date}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid - self.credited


class Repayment(models.Model):
    credit_line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, related_name="repayments")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="repayment")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # A sweep from sales names the sales it came from ("trial-sales:<first event id>"): swept once.
    reference = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_amount_positive"),
            models.UniqueConstraint(fields=["reference"], condition=~Q(reference=""), name="repayment_reference_once"),
        ]


class DemandAppetite(models.Model):
    """How much a lender will finance proven trials' reorders in one currency: the platform (no
    organisation) or a supplier that opts in. Without a platform row the settings' default applies
    (`KITSTREET_DEMAND_CREDIT`)."""

    lender = models.ForeignKey(Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="demand_appetites",
                               help_text="Empty for the platform.")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    max_per_line = models.DecimalField(**MONEY, help_text="The most one trial's reorder may borrow.")
    max_total = models.DecimalField(**MONEY, help_text="The most all its demand lines may owe and reserve together.")
    repayment_share = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.5"),
                                          help_text="The share of each sale's revenue that repays the line.")
    lends_on_simulated = models.BooleanField(default=False, help_text="Also finance trials whose demand was simulated.")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["currency", "id"]
        constraints = [
            models.UniqueConstraint(fields=["lender", "currency"], condition=Q(lender__isnull=False), name="appetite_unique_lender_currency"),
            models.UniqueConstraint(fields=["currency"], condition=Q(lender__isnull=True), name="appetite_unique_platform_currency"),
            models.CheckConstraint(condition=Q(max_per_line__gte=0, max_total__gte=0), name="appetite_not_negative"),
            models.CheckConstraint(condition=Q(repayment_share__gt=0, repayment_share__lte=1), name="appetite_share_range"),
        ]

    def __str__(self) -> str:
        return f"{self.lender.name if self.lender_id else 'Kitstreet'}: up to {self.max_per_line} {self.currency} per reorder"


class RepaymentAllocation(models.Model):
    repayment = models.ForeignKey(Repayment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]


class SupplierTerms(models.Model):
    """How a supplier takes deposits on orders paid by `deposit`."""

    class ReleaseOn(models.TextChoices):
        CONFIRM = "confirm", "On confirmation"
        DELIVER = "deliver", "On delivery"

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="credit_terms")
    deposit_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("30"))
    release_on = models.CharField(max_length=10, choices=ReleaseOn.choices, default=ReleaseOn.CONFIRM)
    forfeit_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("100"),
                                          help_text="Share of the deposit the supplier keeps if the buyer cancels after confirmation.")
    buyer_may_cancel = models.BooleanField(default=True, help_text="The buyer may cancel after confirmation, forfeiting per terms.")
    default_grace_days = models.PositiveIntegerField(default=7, help_text="Days after shipping the buyer has to pay the "
                                                     "balance before the supplier may declare a default.")
    full_escrow_for_new_buyers = models.BooleanField(default=False, help_text="Buyers with no settled order from this "
                                                     "supplier put the whole amount in escrow at placement.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "supplier terms"
        constraints = [
            models.CheckConstraint(condition=Q(deposit_percent__gte=0, deposit_percent__lte=100), name="terms_deposit_percent_range"),
            models.CheckConstraint(condition=Q(forfeit_percent__gte=0, forfeit_percent__lte=100), name="terms_forfeit_percent_range"),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.deposit_percent}% deposit"


class PurchaseOrderPayment(models.Model):
    """How one purchase order is being paid, and where its money is: the deposit in escrow (and
    later released, refunded or forfeited), or the credit hold and the invoice it became."""

    class Method(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        CREDIT = "credit", "Credit"

    class DepositStatus(models.TextChoices):
        NONE = "none", "No deposit"
        ESCROW = "escrow", "In escrow"
        RELEASED = "released", "Released to supplier"
        REFUNDED = "refunded", "Refunded"
        FORFEITED = "forfeited", "Forfeited"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SETTLED = "settled", "Settled"
        CANCELLED = "cancelled", "Cancelled"

    # Plain references to the marketplace's purchase order and order (apps depend one way).
    purchase_order_id = models.BigIntegerField(unique=True)
    order_id = models.BigIntegerField(null=True, blank=True, help_text="The marketplace order the purchase order belongs to")
    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    supplier = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=Method.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    total = models.DecimalField(**MONEY)
    deposit_amount = models.DecimalField(**MONEY, default=ZERO)
    deposit_status = models.CharField(max_length=10, choices=DepositStatus.choices, default=DepositStatus.NONE)
    release_on = models.CharField(max_length=10, choices=SupplierTerms.ReleaseOn.choices, default=SupplierTerms.ReleaseOn.CONFIRM)
    forfeit_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("100"))
    buyer_may_cancel = models.BooleanField(default=True)
    default_grace_days = models.PositiveIntegerField(default=7)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    defaulted_at = models.DateTimeField(null=True, blank=True, help_text="The supplier declared the buyer's default.")
    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, null=True, blank=True, related_name="payment")
    credit_line = models.ForeignKey(CreditLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # When the line's lender is not the vendor: the lender's money reserved for the vendor, paid on delivery.
    funding_hold = models.OneToOneField(Hold, on_delete=models.PROTECT, null=True, blank=True, related_name="funded_payment")
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="payment")
    platform_fee = models.DecimalField(**MONEY, default=ZERO, help_text="The platform's take, fixed at placement.")
    fee_collected = models.DecimalField(**MONEY, default=ZERO, help_text="Of the fee, what releases have paid so far.")
    fund_currency = models.CharField(max_length=3, choices=Currency.choices, blank=True,
                                     help_text="The buyer pays from this currency's wallet, converted at the rate in force.")
    # The vendor shipped after the promised date: the credit it owes the buyer (set when the last
    # unit ships), posted in the ledger when the order settles (`late_credit_entry`).
    late_credit = models.DecimalField(**MONEY, default=ZERO)
    late_days = models.PositiveIntegerField(default=0)
    late_credit_posted = models.DecimalField(**MONEY, default=ZERO)
    late_credit_entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["buyer", "status"], name="popayment_buyer_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(fee_collected__gte=0, fee_collected__lte=F("platform_fee")),
                           name="popayment_fee_collected_within_fee"),
            models.CheckConstraint(condition=Q(late_credit__gte=0, late_credit__lte=F("total")), name="popayment_late_credit_range"),
            models.CheckConstraint(condition=Q(late_credit_posted__gte=0, late_credit_posted__lte=F("late_credit")),
                                   name="popayment_late_credit_posted_range"),
        ]

    def __str__(self) -> str:
        return f"Payment of PO {self.purchase_order_id} ({self.method})"


class Payout(models.Model):
    """A supplier's withdrawal from its wallet to its bank: held at once, then settled by an
    operator with the bank transfer's reference (the wallet pays the platform's clearing account),
    or rejected (the hold is released)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SETTLED = "settled", "Settled"
        REJECTED = "rejected", "Rejected"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="payouts")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, related_name="payout")
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="payout")
    reference = models.CharField(max_length=200, blank=True, help_text="The outgoing bank transfer's reference.")
    reason = models.CharField(max_length=300, blank=True, help_text="Why it was rejected.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive")]
        indexes = [models.Index(fields=["status", "created_at"], name="payout_status_created_idx")]

    def __str__(self) -> str:
        return f"Payout {self.pk} · {self.amount} {self.currency} ({self.status})"


class Dispute(models.Model):
    """Either party of a shipped or delivered purchase order disputes it: what is still held stays
    held (no delivery, default or release) until an operator splits what was held or paid."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    payment = models.ForeignKey(PurchaseOrderPayment, on_delete=models.PROTECT, related_name="disputes")
    purchase_order_id = models.BigIntegerField(db_index=True)
    opened_by = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=1000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    refund_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    refund_amount = models.DecimalField(**MONEY, null=True, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="dispute")
    opened_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["payment"], condition=Q(status="open"), name="dispute_one_open_per_payment"),
            models.CheckConstraint(condition=Q(refund_percent__isnull=True) | Q(refund_percent__gte=0, refund_percent__lte=100),
                                   name="dispute_refund_percent_range"),
        ]

    def __str__(self) -> str:
        return f"Dispute {self.pk} on PO {self.purchase_order_id} ({self.status})"


class FxRate(models.Model):
    """An exchange rate set by an operator: 1 `base` = `rate` `quote` from `valid_from` until the
    next rate of the pair. Rows are never edited, so the history is the table."""

    base = models.CharField(max_length=3, choices=Currency.choices)
    quote = models.CharField(max_length=3, choices=Currency.choices)
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    valid_from = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0), name="fxrate_positive"),
            models.CheckConstraint(condition=~Q(base=F("quote")), name="fxrate_two_currencies"),
        ]
        indexes = [models.Index(fields=["base", "quote", "-valid_from"], name="fxrate_pair_from_idx")]

    def __str__(self) -> str:
        from config.timezones import when_text  # the reader's zone, shown (confirmations quote this)

        return f"1 {self.base} = {self.rate} {self.quote} from {when_text(self.valid_from)}"


# --- the platform's take, reserves, bank references and statements ----------------------------

class BankReference(models.Model):
    """A bank reference the ledger has used: a receipt credited by a top-up (`in`) or an outgoing
    transfer that settled a payout (`out`). Stored normalised (`key`: case, spaces, dashes and
    full-width forms folded), unique per direction across the platform, so one receipt is credited
    once whoever it is for and however it is written; bank statements are matched against it."""

    class Direction(models.TextChoices):
        IN = "in", "Receipt (top-up)"
        OUT = "out", "Transfer out (payout)"

    direction = models.CharField(max_length=3, choices=Direction.choices)
    key = models.CharField(max_length=200, help_text="The normalised reference.")
    reference = models.CharField(max_length=200, help_text="As the operator typed it.")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="bank_reference")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["direction", "key"], name="bankref_unique_direction_key")]

    def __str__(self) -> str:
        return f"{self.reference} ({self.direction})"


class PlatformFeeSchedule(models.Model):
    """The platform's take, set by operators: a percent of each purchase order, optionally by
    part category. Rows are never edited; the newest is in force and each purchase order keeps
    the fee it was placed under."""

    default_percent = models.DecimalField(max_digits=5, decimal_places=2)
    by_category = models.JSONField(default=dict, blank=True, help_text="{category: percent} overriding the default.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=Q(default_percent__gte=0, default_percent__lte=100),
                                              name="feeschedule_percent_range")]

    def __str__(self) -> str:
        return f"{self.default_percent}% from {self.created_at:%Y-%m-%d %H:%M}"


class SupplierReserve(models.Model):
    """A rolling reserve an operator sets on a supplier: `percent` of every release is held on
    its reserve account for `days`, then freed by the beat."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="rolling_reserve")
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    days = models.PositiveIntegerField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(percent__gte=0, percent__lte=100), name="reserve_percent_range")]

    def __str__(self) -> str:
        return f"{self.organization}: {self.percent}% for {self.days} days"


class ReserveTranche(models.Model):
    """One release's held-back share, due back to the supplier's wallet at `due_at`."""

    class Status(models.TextChoices):
        HELD = "held", "Held"
        RELEASED = "released", "Released"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    amount = models.DecimalField(**MONEY)
    purchase_order_id = models.BigIntegerField(null=True, blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="+")
    released_entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="tranche_amount_positive")]
        indexes = [models.Index(fields=["status", "due_at"], name="tranche_status_due_idx")]


class BankStatement(models.Model):
    """One imported bank statement (CSV). Lines seen before (same fingerprint) are not added again."""

    filename = models.CharField(max_length=200, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class BankStatementLine(models.Model):
    """A statement line: matched to a recorded top-up or payout by normalised reference and
    amount, or unmatched until an operator resolves it on the money desk."""

    class Status(models.TextChoices):
        MATCHED = "matched", "Matched"
        UNMATCHED = "unmatched", "Unmatched"
        RESOLVED = "resolved", "Resolved by an operator"

    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="lines")
    row = models.PositiveIntegerField()
    date = models.DateField()
    amount = models.DecimalField(**MONEY, help_text="Signed: positive came in, negative went out.")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    reference = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    counterparty = models.CharField(max_length=200, blank=True)
    fingerprint = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    match = models.OneToOneField(BankReference, on_delete=models.PROTECT, null=True, blank=True, related_name="statement_line")
    note = models.CharField(max_length=500, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["status", "date"], name="stmtline_status_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.amount} {self.currency} {self.reference} ({self.status})"
