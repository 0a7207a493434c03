"""Credit test data, built through the services (so balances and postings always agree)."""

import uuid
from decimal import Decimal

from credit.models import AccountKind
from credit.services import account_for, credit_line_grant, wallet_topup
from tests.marketplace.factories import OrganizationFactory


def funded_wallet(org, amount="1000.00", currency="CNY"):
    """The org's wallet with `amount` topped up from the bank."""
    if Decimal(amount) > 0:
        wallet_topup(organization=org, amount=Decimal(amount), currency=currency, reference=f"test-{org.pk}-{amount}-{uuid.uuid4().hex[:8]}")
    return account_for(organization=org, kind=AccountKind.WALLET, currency=currency)


def credit_line(supplier=None, buyer=None, limit="1000.00", currency="CNY", terms_days=30, **kwargs):
    supplier = supplier or OrganizationFactory(trader=True)
    buyer = buyer or OrganizationFactory()
    return credit_line_grant(supplier=supplier, buyer=buyer, limit=Decimal(limit), currency=currency,
                             terms_days=terms_days, **kwargs)
