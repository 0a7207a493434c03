"""Factories for trials: a quotable kit (a verified solution house, one part on a trader's shelf)
and draft trials built through the service, as a user would make them."""

from decimal import Decimal

import factory

from marketplace.kits.services import kit_create
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, UserFactory
from trials.models import Trial, TrialArm


def make_kit(*, name: str = "BLE tracker", part_price: str = "20.00", stock: int = 100_000, currency: str = "CNY"):
    """A one-line kit whose quote costs `part_price` per unit (no assembly, no fees)."""
    part = PartFactory()
    ListingFactory(part=part, stock=stock, currency=currency, breaks=[(1, part_price)])
    owner = OrganizationFactory(solution_house=True, default_currency=currency)
    return kit_create(owner=owner, name=name, bom=[{"part": part, "quantity": Decimal("1")}], currency=currency)


def make_trial(
    *, organization=None, created_by=None, kit=None, mode: str = "simulated", window_days: int = 30,
    scale_at: str = "0.8", kill_below: str = "0.3", arms=None, demand=None, name: str = "Tracker trial",
):
    from trials.services import trial_create

    organization = organization or OrganizationFactory()
    if demand is None and mode == "simulated":
        demand = {"base_daily": 3, "dispersion": 2, "elasticity": -1.5, "seed": 11}
    return trial_create(
        organization=organization, created_by=created_by or UserFactory(), name=name, kit=kit or make_kit(),
        mode=mode, window_days=window_days, scale_at=Decimal(scale_at), kill_below=Decimal(kill_below),
        arms=arms or [{"label": "A", "unit_price": Decimal("99"), "units": 60},
                      {"label": "B", "unit_price": Decimal("129"), "units": 60}],
        demand=demand,
    )


class TrialArmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrialArm

    label = factory.Sequence(lambda n: f"arm {n}")
    unit_price = Decimal("99.00")
    units = 50


__all__ = ["Trial", "TrialArmFactory", "make_kit", "make_trial"]
