"""Organisations, the people in them and their roles, and invitations.

The tables keep the names they had when these models lived in `marketplace` (`db_table`), so the
move to this app changed no data (see migrations/0001_initial.py).
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class OrganizationKind(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SUPPLIER = "supplier", "Supplier"
    TRADER = "trader", "Trader"
    SOLUTION_HOUSE = "solution_house", "Solution house"
    FACTORY = "factory", "Factory"


SUPPLIER_KINDS = (OrganizationKind.TRADER, OrganizationKind.SOLUTION_HOUSE, OrganizationKind.FACTORY)


class Organization(models.Model):
    """A company on Kitstreet: a buyer, a supplier (trader, solution house, factory), or both.

    Kinds are booleans rather than a list so that "all verified factories" is an indexed filter
    on every database; `kinds` gives the API's list form.
    """

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    is_buyer = models.BooleanField(default=False)
    is_supplier = models.BooleanField(default=False)
    is_trader = models.BooleanField(default=False)
    is_solution_house = models.BooleanField(default=False)
    is_factory = models.BooleanField(default=False)
    verified = models.BooleanField(default=False, help_text="Set by operators; unverified suppliers are hidden from others.")
    verified_at = models.DateTimeField(null=True, blank=True)
    default_currency = models.CharField(max_length=3, default="CNY")
    location = models.CharField(max_length=200, blank=True, help_text="Stall or site, e.g. SEG Plaza 3F-A12")
    description = models.TextField(blank=True)
    simulated = models.BooleanField(default=False, db_default=False, help_text=(
        "A demo organisation with no people: Kitstreet's simulated counterparty confirms and ships its "
        "orders after a realistic delay, so a demo order never waits on nobody."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "marketplace_organization"
        ordering = ["name"]
        constraints = [
            # A trader, solution house or factory is always a supplier.
            models.CheckConstraint(
                condition=Q(is_supplier=True) | Q(is_trader=False, is_solution_house=False, is_factory=False),
                name="organization_supplier_kinds_imply_supplier",
            ),
            models.CheckConstraint(
                condition=Q(is_buyer=True) | Q(is_supplier=True), name="organization_has_a_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def kinds(self) -> list[str]:
        return [kind.value for kind in OrganizationKind if getattr(self, f"is_{kind.value}")]

    @property
    def is_visible_supplier(self) -> bool:
        return self.is_supplier and self.verified


class Role(models.TextChoices):
    """What a member may do, from least to most. `viewer` reads; `member` buys, sells and runs
    trials; `admin` also manages members, credit lines, terms, payouts and webhooks; `owner` is an
    admin who cannot leave or be demoted while the only owner."""

    VIEWER = "viewer", "Viewer"
    MEMBER = "member", "Member"
    ADMIN = "admin", "Admin"
    OWNER = "owner", "Owner"

    @property
    def rank(self) -> int:
        return ROLE_RANK[self.value]

    def allows(self, needed: "Role | str") -> bool:
        return ROLE_RANK[self.value] >= ROLE_RANK[str(needed)]


ROLE_RANK = {"viewer": 0, "member": 1, "admin": 2, "owner": 3}


class Membership(models.Model):
    Role = Role  # `Membership.Role.OWNER` reads naturally at call sites

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "marketplace_membership"
        ordering = ["organization__name"]
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    def allows(self, needed: Role | str) -> bool:
        return Role(self.role).allows(needed)


INVITATION_VALID_FOR = timedelta(days=7)


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _expiry():
    return timezone.now() + INVITATION_VALID_FOR


class Invitation(models.Model):
    """An invitation to join an organisation, sent to an email address with a one-time token."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token = models.CharField(max_length=64, unique=True, default=_new_token, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    # Someone logged in under another address asked to join with this invitation; an admin
    # approves it explicitly (services.invitation_approve) or it stays pending.
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    requested_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True, help_text="When the worker sent the invitation email.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_expiry)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization} ({self.role}, {self.status})"

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at <= timezone.now()


class VerifiedEmail(models.Model):
    """An address a user proved they read: they followed a signed link that was emailed to it.
    Invitations are accepted only by a user whose account address is the invited one and is
    verified here (services.invitation_accept)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verified_emails")
    email = models.EmailField()
    verified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "email"], name="verified_email_unique_user_email")]

    def __str__(self) -> str:
        return f"{self.email} (verified for {self.user})"


class LoginFailure(models.Model):
    """A wrong password, kept in the database only while the shared cache (Redis) is unreachable:
    the login lockout (config/lockout.py) counts here instead, so an outage neither locks everybody
    out nor lets a brute force through. Rows older than the lockout window are pruned as new ones
    are written."""

    key = models.CharField(max_length=64, db_index=True, help_text="sha256 of the lower-cased username")
    at = models.FloatField(help_text="Unix time of the failure")

    def __str__(self) -> str:
        return f"login failure {self.key[:8]}… at {self.at}"


class TokenScope(models.TextChoices):
    LISTINGS_READ = "listings:read", "Read listings and parts"
    LISTINGS_WRITE = "listings:write", "Write listings and stock lists"
    ORDERS = "orders", "Place and follow orders and purchase orders"
    MONEY = "money", "Wallet, ledger, credit lines, payouts and disputes"


class ApiToken(models.Model):
    """A token for an integration (an ERP, a stock feed): it acts for one organisation, with named
    scopes only, on behalf of the admin who created it while they remain one. Only a SHA-256 of the
    key is stored; the key is shown once, when created (organizations/tokens.py)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The key's first characters, to tell tokens apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.organization}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class StartedTask(models.Model):
    """Who started a background task: its status (`/api/v1/tasks/{id}/`) is theirs alone."""

    task_id = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"task {self.task_id} by {self.user}"
