"""`GET /api/v1/credit/aging/` and its schema agree for a platform credit line, whose lender is
Kitstreet itself (no organisation id) (issue 23)."""

from decimal import Decimal

import pytest

from credit.models import CreditLine
from credit.services import credit_draw

pytestmark = pytest.mark.django_db


def test_a_platform_lines_lender_is_kitstreet_with_a_null_id_as_documented(client, operator, buyer):
    granted = operator.client.post("/api/v1/platform-credit-lines/", {"buyer": buyer.org.pk, "limit": "5000.00"})
    assert granted.status_code == 201
    credit_draw(line=CreditLine.objects.get(pk=granted.json()["id"]), amount=Decimal("120.00"))

    payables = buyer.client.get("/api/v1/credit/aging/?side=payables").json()
    [row] = payables["counterparties"]
    assert row["organization"] == {"id": None, "name": "Kitstreet", "platform": True}
    assert row["total"] == "120.00"

    schema = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert schema["CreditAgingOutputCounterparty"]["properties"]["organization"]["$ref"].endswith("/AgingParty")
    ref = "AgingParty"
    assert schema[ref]["properties"]["id"]["nullable"] is True
    assert schema[ref]["properties"]["platform"]["type"] == "boolean"


def test_an_organisation_counterparty_has_its_id(trader, buyer):
    from tests.credit.factories import credit_line

    credit_draw(line=credit_line(supplier=trader.org, buyer=buyer.org), amount=Decimal("10.00"))
    [row] = buyer.client.get("/api/v1/credit/aging/?side=payables").json()["counterparties"]
    assert row["organization"] == {"id": trader.org.pk, "name": trader.org.name, "platform": False}
