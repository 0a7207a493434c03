"""The demo world's RFQs: open requests with bids to compare, a board for the demo supplier, an award."""

import pytest
from django.core.management import call_command

from marketplace.models import Listing, Rfq, SupplierProfile

pytestmark = pytest.mark.django_db


def test_seed_demo_has_open_rfqs_with_bids_and_an_award(client):
    call_command("seed_demo", "--seed", "5", verbosity=0)
    open_rfqs = Rfq.objects.filter(status="open")
    assert open_rfqs.filter(kind="parts", source_quote__isnull=False).exists()
    assert open_rfqs.filter(kind="assembly").exists()
    assert all(r.bids.count() >= 2 for r in open_rfqs)
    assert Listing.objects.filter(reserved_for__name="Lumen Labs", is_active=False).count() == 1
    assert SupplierProfile.objects.filter(weekly_capacity__gt=0).count() == 2
    client.login(username="buyer", password="kitstreet")
    hand = open_rfqs.get(title__startswith="LTE")
    page = client.get(f"/rfqs/{hand.pk}/").content.decode()
    assert "Compare bids" in page and "Hua Xin Electronics" in page and "/100" in page  # Hua Xin extends credit to Lumen Labs: its trust score shows
    client.login(username="supplier", password="kitstreet")
    assert "LTE Cat-1" in client.get("/rfqs/board/").content.decode()  # the supplier acts for Hua Xin first
