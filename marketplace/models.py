from django.conf import settings
from django.db import models
from django.db.models import Q


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name"]
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"
