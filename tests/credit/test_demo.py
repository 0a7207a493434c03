"""The demo world's money: pages are not empty and the ledger verifies."""

import pytest
from django.core.management import call_command

from credit.models import CreditLine, Invoice
from credit.selectors import ledger_verify
from organizations.models import Organization

pytestmark = pytest.mark.django_db


def test_seed_demo_funds_wallets_grants_vouched_lines_and_keeps_the_ledger_balanced(client):
    call_command("seed_demo", "--seed", "5", verbosity=0)
    lumen = Organization.objects.get(name="Lumen Labs")
    line = CreditLine.objects.get(supplier__name="Hua Xin Electronics", buyer=lumen)
    assert line.vouched_by.name == "Bright Path Solutions"
    assert Invoice.objects.filter(status="overdue").exists() and Invoice.objects.filter(status="paid").exists()
    assert ledger_verify().ok
    client.login(username="buyer", password="kitstreet")
    page = client.get("/credit/").content.decode()
    assert "Hua Xin Electronics" in page and "Overdue" in page
