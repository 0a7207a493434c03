"""Solution kits: a kit's BOM lines, its sub-kits (modules) and its assembly price breaks."""

from django.db import models
from django.db.models import Q

from marketplace.catalogue.models import MONEY, UNIT_PRICE, Currency, Part
from organizations.models import Organization


class Kit(models.Model):
    """A solution house's design: BOM, sub-kits, an assembly offer and fees. Revisions share a
    `family`; once a quote, order or trial used a revision it is frozen and edits make a new one."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="kits")
    family = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="revisions",
                               help_text="The first revision; null on the first revision itself.")
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True, help_text="The latest revision of its family.")
    frozen = models.BooleanField(default=False, help_text="Used by a quote, order or trial: edits make a new revision.")
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.CNY)
    design_fee_per_unit = models.DecimalField(default=0, **UNIT_PRICE)
    nre = models.DecimalField("NRE", default=0, **MONEY)
    assembly_factory = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="assembly_kits")
    assembly_setup_cost = models.DecimalField(default=0, **MONEY)
    is_active = models.BooleanField(default=True)
    private = models.BooleanField(default=False, help_text="A buyer's own BOM: only its owner sees, quotes and orders it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "-revision"]
        constraints = [
            models.CheckConstraint(condition=Q(design_fee_per_unit__gte=0), name="kit_design_fee_not_negative"),
            models.CheckConstraint(condition=Q(nre__gte=0), name="kit_nre_not_negative"),
            models.CheckConstraint(condition=Q(assembly_setup_cost__gte=0), name="kit_setup_not_negative"),
        ]
        indexes = [models.Index(fields=["owner", "is_current"], name="kit_owner_current_idx")]

    def __str__(self) -> str:
        return f"{self.name} rev {self.revision}"

    @property
    def family_id_or_self(self) -> int:
        return self.family_id or self.pk


class AssemblyBreak(models.Model):
    """Per-unit assembly cost from the kit's factory, at the largest break ≤ the batch size."""

    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="assembly_breaks")
    min_qty = models.PositiveIntegerField()
    unit_cost = models.DecimalField(**UNIT_PRICE)

    class Meta:
        ordering = ["kit", "min_qty"]
        constraints = [
            models.UniqueConstraint(fields=["kit", "min_qty"], name="assemblybreak_unique_kit_qty"),
            models.CheckConstraint(condition=Q(min_qty__gte=1), name="assemblybreak_min_qty_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="assemblybreak_cost_not_negative"),
        ]


class BomLine(models.Model):
    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="bom_lines")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="bom_lines")
    quantity = models.DecimalField(max_digits=12, decimal_places=4, help_text="Per kit unit.")
    designators = models.CharField(max_length=500, blank=True, help_text="e.g. C1,C2,C7")
    attrition = models.DecimalField(max_digits=5, decimal_places=4, default=0, help_text="Fraction: 0.05 = 5 %.")
    substitutes = models.ManyToManyField(Part, blank=True, related_name="substitute_in")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["kit", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bomline_quantity_positive"),
            models.CheckConstraint(condition=Q(attrition__gte=0) & Q(attrition__lt=1), name="bomline_attrition_range"),
        ]


class SubKit(models.Model):
    """Lego-style modules: `kit` contains `quantity` × `child` (cycles are rejected by kit_create)."""

    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="subkits")
    child = models.ForeignKey(Kit, on_delete=models.PROTECT, related_name="used_in")
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["kit", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="subkit_quantity_positive"),
            models.CheckConstraint(condition=~Q(kit=models.F("child")), name="subkit_not_itself"),
            models.UniqueConstraint(fields=["kit", "child"], name="subkit_unique_kit_child"),
        ]
