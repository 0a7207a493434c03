from decimal import Decimal

import factory

from marketplace.models import Listing, Part, PriceBreak
# People and organisations live in tests/organizations/factories.py; re-exported for brevity.
from tests.organizations.factories import MembershipFactory, OrganizationFactory, UserFactory  # noqa: F401

# --- Catalogue, kits -----------------------------------------------------------------------------


class PartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Part

    manufacturer = "Espressif"
    mpn = factory.Sequence(lambda n: f"ESP32-C3-{n:04d}")
    category = "Wireless SoC"
    description = "Wi-Fi + BLE SoC"


class ListingFactory(factory.django.DjangoModelFactory):
    """A verified trader's listing; `breaks=[(1, "1.00"), (100, "0.80")]` sets the price breaks."""

    class Meta:
        model = Listing
        skip_postgeneration_save = True

    vendor = factory.SubFactory(OrganizationFactory, trader=True)
    part = factory.SubFactory(PartFactory)
    stock = 1000
    moq = 1
    multiple = 1
    lead_time_days = 0
    currency = "CNY"

    @factory.post_generation
    def breaks(self, create, extracted, **kwargs):
        for min_qty, price in extracted or [(1, "1.00")]:
            PriceBreak.objects.create(listing=self, min_qty=min_qty, unit_price=Decimal(price))
        Listing.objects.filter(pk=self.pk).refresh_search_columns()  # as the listing services do
        self.refresh_from_db()


def make_kit(owner=None, *, bom=(), subkits=(), assembly=None, design_fee="0", nre="0", name="BLE tracker", currency="CNY"):
    """A kit through the kit_create service. bom: [(part, quantity[, attrition[, substitutes]])]."""
    from marketplace.kits.services import kit_create

    owner = owner or OrganizationFactory(solution_house=True)
    lines = []
    for spec in bom:
        part, qty, *rest = spec
        attrition, subs = (rest[0] if rest else "0"), (rest[1] if len(rest) > 1 else [])
        lines.append({"part": part, "quantity": Decimal(str(qty)), "attrition": Decimal(str(attrition)),
                      "substitutes": list(subs), "designators": ""})
    return kit_create(owner=owner, name=name, bom=lines, subkits=[{"kit": k, "quantity": q} for k, q in subkits],
                      assembly=assembly, design_fee_per_unit=Decimal(design_fee), nre=Decimal(nre), currency=currency)
