from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from credit.models import Account
from tests.credit.factories import funded_wallet
from tests.marketplace.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_verify_ledger_passes_on_a_healthy_ledger_and_fails_loudly_on_a_tampered_balance(capsys):
    wallet = funded_wallet(OrganizationFactory(), "100.00")
    call_command("verify_ledger")
    assert "Ledger OK" in capsys.readouterr().out

    Account.objects.filter(pk=wallet.pk).update(balance=Decimal("90.00"))  # someone edits the table by hand
    with pytest.raises(CommandError, match="1 problem"):
        call_command("verify_ledger")
    assert f"Account {wallet.pk}" in capsys.readouterr().err
