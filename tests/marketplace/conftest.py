import uuid
from decimal import Decimal

import pytest


@pytest.fixture
def fund(db):
    """fund(org, "1000.00") tops up the organisation's wallet so deposit orders can be paid."""
    from credit.services import wallet_topup

    def _fund(org, amount="100000.00", currency="CNY"):
        return wallet_topup(organization=org, amount=Decimal(amount), currency=currency, reference=f"test-{org.pk}-{amount}-{uuid.uuid4().hex[:8]}")

    return _fund
