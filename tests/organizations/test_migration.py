"""A database made before the organisations app existed migrates forward without losing a row."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("marketplace", "0003_listing_search_columns"),
    ("credit", "0005_entry_initiator_not_indexed"),
    ("trials", "0001_initial"),
    ("organizations", None),  # the app did not exist
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_organisations_move_with_their_data_and_roles_and_purchase_order_references():
    old = _migrate(BEFORE)
    User = old.get_model("auth", "User")
    Org, Membership = old.get_model("marketplace", "Organization"), old.get_model("marketplace", "Membership")
    Order, PurchaseOrder = old.get_model("marketplace", "Order"), old.get_model("marketplace", "PurchaseOrder")
    Payment = old.get_model("credit", "PurchaseOrderPayment")
    Account = old.get_model("credit", "Account")

    alice, bob = User.objects.create(username="alice"), User.objects.create(username="bob")
    buyer = Org.objects.create(name="Old Buyer", slug="old-buyer", is_buyer=True, verified=True)
    vendor = Org.objects.create(name="Old Stall", slug="old-stall", is_supplier=True, is_trader=True, verified=True)
    Membership.objects.create(user=alice, organization=buyer, role="owner")
    Membership.objects.create(user=bob, organization=buyer, role="staff")
    order = Order.objects.create(buyer=buyer, placed_by=alice, payment="deposit", currency="CNY", total=Decimal("12.00"))
    po = PurchaseOrder.objects.create(order=order, vendor=vendor, total=Decimal("12.00"), currency="CNY")
    Payment.objects.create(purchase_order=po, buyer=buyer, supplier=vendor, method="deposit", currency="CNY", total=Decimal("12.00"))
    Account.objects.create(organization=buyer, kind="wallet", currency="CNY")

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    NewOrg = new.get_model("organizations", "Organization")
    NewMembership = new.get_model("organizations", "Membership")
    assert NewOrg.objects.get(pk=buyer.pk).name == "Old Buyer"
    assert dict(NewMembership.objects.values_list("user__username", "role")) == {"alice": "owner", "bob": "member"}
    payment = new.get_model("credit", "PurchaseOrderPayment").objects.get()
    assert (payment.purchase_order_id, payment.order_id) == (po.pk, order.pk)
    assert new.get_model("marketplace", "PurchaseOrder").objects.get().vendor_id == vendor.pk
    assert new.get_model("credit", "Account").objects.get().organization_id == buyer.pk
