from decimal import Decimal

import pytest

from marketplace.exceptions import KitInvalid
from marketplace.kits.services import kit_update
from tests.marketplace.factories import OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def test_sub_kit_cycles_are_rejected():
    part = PartFactory()
    inner = make_kit(bom=[(part, 1)], name="Inner")
    outer = make_kit(owner=inner.owner, bom=[(part, 1)], subkits=[(inner, 1)], name="Outer")
    with pytest.raises(KitInvalid) as exc:
        kit_update(kit=inner, subkits=[{"kit": outer, "quantity": 1}])
    assert "contain itself" in str(exc.value)


def test_only_solution_houses_publish_kits_and_breaks_are_checked():
    part = PartFactory()
    with pytest.raises(KitInvalid):
        make_kit(owner=OrganizationFactory(trader=True), bom=[(part, 1)])
    with pytest.raises(KitInvalid) as exc:
        make_kit(bom=[(part, 1)], assembly={"factory": OrganizationFactory(trader=True), "setup_cost": Decimal(0),
                                             "unit_cost_breaks": [(10, Decimal("1")), (5, Decimal("2"))]})
    assert "assembly" in exc.value.message_dict
    with pytest.raises(KitInvalid):
        make_kit(bom=[(part, 1, "1.5")])
