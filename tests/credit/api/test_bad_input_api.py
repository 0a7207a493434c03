"""Bad input to the credit API is a 4xx with a field map, never a 500."""

import pytest

from tests.credit.factories import credit_line, funded_wallet

pytestmark = pytest.mark.django_db
ODD = [None, "", "abc", "-1", "1e30", "NaN", "Infinity", 0, -5, 1.5, "0.001", [], {}, True, "99999999999999999999"]


def test_odd_values_in_every_field_never_cause_a_500(trader, buyer, operator):
    line = credit_line(supplier=trader.org, buyer=buyer.org)
    funded_wallet(buyer.org, "10.00")
    calls = []
    for v in ODD:
        calls += [
            (trader.client.post, "/api/v1/credit-lines/", {"buyer": v, "limit": v, "currency": v, "terms_days": v, "vouched_by": v}),
            (trader.client.post, "/api/v1/credit-lines/", {"buyer": buyer.org.pk, "limit": v}),
            (trader.client.patch, f"/api/v1/credit-lines/{line.pk}/", {"limit": v}),
            (trader.client.patch, f"/api/v1/credit-lines/{line.pk}/", {"status": v, "terms_days": v}),
            (buyer.client.post, f"/api/v1/credit-lines/{line.pk}/repayments/", {"amount": v}),
            (operator.client.post, "/api/v1/wallet/topups/", {"organization": v, "amount": v, "currency": v, "reference": v}),
            (operator.client.post, "/api/v1/wallet/topups/", {"organization": buyer.org.pk, "amount": v, "currency": "CNY", "reference": "x"}),
            (trader.client.put, "/api/v1/credit/terms/", {"deposit_percent": v, "release_on": v, "forfeit_percent": v}),
            (trader.client.get, f"/api/v1/credit/aging/?side={v}", None),
            (buyer.client.get, f"/api/v1/accounts/?kind={v}&currency={v}&page={v}", None),
            (buyer.client.get, f"/api/v1/credit-lines/?role={v}&status={v}&q={v}&page_size={v}", None),
        ]
    for fn, url, body in calls:
        r = fn(url, body, format="json") if body is not None else fn(url)
        assert r.status_code < 500, (url, body, r.status_code, r.content[:300])
    r = buyer.client.post(f"/api/v1/credit-lines/{line.pk}/repayments/", {"amount": "1.00"}, HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert r.status_code == 400
