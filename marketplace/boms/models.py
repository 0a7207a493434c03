"""Buyers' own BOMs as uploaded, line by line, with how each line matched the catalogue."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.catalogue.models import Part
from marketplace.kits.models import Kit
from organizations.models import Organization


class Bom(models.Model):
    """A BOM a buyer uploaded from its EDA tool, matched to catalogue parts line by line. Quoting
    it materialises its matched lines as a private kit revision (`kit`), so quotes, orders and
    trials work on it as on any kit; an edit after a quote makes a new revision."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="boms")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    name = models.CharField(max_length=200)
    filename = models.CharField(max_length=255, blank=True)
    columns = models.JSONField(default=dict, blank=True, help_text="The column mapping used: field -> column name(s).")
    columns_chosen = models.BooleanField(default=False, help_text="The buyer chose the mapping: reuse it for files "
                                                                   "with the same columns.")
    header_row = models.PositiveIntegerField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    dnp_rows = models.PositiveIntegerField(default=0)
    kit = models.ForeignKey(Kit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                            help_text="The current private kit revision of the matched lines.")
    published_kit = models.ForeignKey(Kit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                      help_text="Solution houses: the published kit this BOM edits.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="bom_owner_created_idx")]

    def __str__(self) -> str:
        return self.name


class MatchStatus(models.TextChoices):
    EXACT = "exact", "Exact"
    PROBABLE = "probable", "Probable"
    AMBIGUOUS = "ambiguous", "Ambiguous"
    NONE = "none", "No match"


class BomItem(models.Model):
    """One merged line of an uploaded BOM: what the file said and the part it matched."""

    Status = MatchStatus

    bom = models.ForeignKey(Bom, on_delete=models.CASCADE, related_name="items")
    line = models.PositiveIntegerField(help_text="1-based line number in the BOM.")
    designators = models.TextField(blank=True, help_text="Comma-separated.")
    quantity = models.DecimalField(max_digits=12, decimal_places=4, help_text="Per assembled board.")
    manufacturer = models.CharField(max_length=100, blank=True)
    mpn = models.CharField("MPN", max_length=100, blank=True)
    alternates = models.JSONField(default=list, blank=True, help_text="[[manufacturer, mpn], …] after the first MPN.")
    description = models.CharField(max_length=300, blank=True)
    value = models.CharField(max_length=100, blank=True)
    footprint = models.CharField(max_length=200, blank=True)
    rows = models.JSONField(default=list, blank=True, help_text="The file rows merged into this line.")
    dnp = models.BooleanField(default=False, help_text="Marked do-not-populate by the buyer.")
    status = models.CharField(max_length=10, choices=MatchStatus.choices, default=MatchStatus.NONE)
    part = models.ForeignKey(Part, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    confidence = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    reason = models.CharField(max_length=300, blank=True)
    candidates = models.JSONField(default=list, blank=True)
    substitutes = models.ManyToManyField(Part, blank=True, related_name="+")
    confirmed = models.BooleanField(default=False, help_text="The buyer chose or confirmed the part.")

    class Meta:
        ordering = ["bom", "line"]
        constraints = [
            models.UniqueConstraint(fields=["bom", "line"], name="bomitem_unique_line"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bomitem_quantity_positive"),
        ]

    @property
    def designator_list(self) -> list[str]:
        return [d for d in self.designators.split(",") if d]
