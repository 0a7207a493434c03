"""Roles over every API operation: a viewer's write is a 403 everywhere, a member buys and sells,
admin-only operations refuse members."""

import re
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from credit.services import wallet_topup
from tests.marketplace.factories import ListingFactory

WRITE_METHODS = ("post", "put", "patch", "delete")


def _api_operations():
    """(path, method, view class) for every write the API offers, from the URLconf."""
    resolver = get_resolver()
    api = next(p for p in resolver.url_patterns if isinstance(p, URLResolver) and str(p.pattern) == "api/v1/")
    for pattern in api.url_patterns:
        if not isinstance(pattern, URLPattern):
            continue
        view_class = getattr(pattern.callback, "view_class", None)
        if view_class is None:
            continue
        route = str(pattern.pattern)
        path = "/api/v1/" + re.sub(r"<(?:int:)?(\w+)>", lambda m: "1", re.sub(r"<str:(\w+)>", lambda m: "confirm" if m.group(1) == "step" else "x", route))
        for method in WRITE_METHODS:
            if hasattr(view_class, method):
                yield path, method, view_class


OPERATIONS = sorted(set(_api_operations()), key=lambda op: (op[0], op[1]))
# The caller's own account, whatever their role anywhere: asking for a link that confirms your email.
PERSONAL = {("/api/v1/me/email/verification/", "post"): 202}


def test_the_matrix_covers_the_api():
    assert len(OPERATIONS) >= 25
    assert ("/api/v1/orders/", "post") in {(p, m) for p, m, _ in OPERATIONS}


@pytest.mark.parametrize("path,method,view_class", OPERATIONS, ids=[f"{m.upper()} {p}" for p, m, _ in OPERATIONS])
def test_a_viewer_cannot_write_anywhere(buyer, colleague, path, method, view_class):
    viewer = colleague(buyer, "viewer")
    response = getattr(viewer.client, method)(path, {}, format="json")
    if not getattr(view_class, "acts_for_organization", True):
        # Onboarding, tokens, invitations and members act on no acting organisation: they check
        # the role where they act (tested below); for a viewer they never succeed here.
        allowed = (400, 401, 403, 404, 405, *([PERSONAL[(path, method)]] if (path, method) in PERSONAL else []))
        assert response.status_code in allowed, response.content
        return
    assert response.status_code == 403, (path, method, response.status_code, response.content[:200])


def test_a_viewer_reads_like_a_member(buyer, colleague):
    viewer = colleague(buyer, "viewer")
    for path in ("/api/v1/orders/", "/api/v1/accounts/", "/api/v1/trials/", "/api/v1/quotes/", "/api/v1/credit-lines/"):
        assert viewer.client.get(path).status_code == 200, path


def test_a_member_buys_and_sells(buyer, colleague, trader):
    member = colleague(buyer, "member")
    listing = ListingFactory(stock=100, breaks=[(1, "2.00")])
    wallet_topup(organization=buyer.org, amount=Decimal("100.00"), currency="CNY", reference="bank-1")
    response = member.client.post("/api/v1/orders/", {"lines": [{"listing": listing.pk, "quantity": 5}], "payment": "deposit"}, format="json")
    assert response.status_code == 201, response.content
    seller = colleague(trader, "member")
    response = seller.client.post("/api/v1/listings/", {
        "manufacturer": "TI", "mpn": "TPS63020", "stock": 10, "moq": 1, "multiple": 1, "lead_time_days": 0,
        "currency": "CNY", "price_breaks": [{"min_qty": 1, "unit_price": "3.10"}]}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("path,method,body", [
    ("/api/v1/credit-lines/", "post", {"buyer": 1, "limit": "100.00", "currency": "CNY", "terms_days": 30}),
    ("/api/v1/credit-lines/1/", "patch", {"limit": "50.00"}),
    ("/api/v1/credit/terms/", "put", {"deposit_percent": "30", "release_on": "confirm", "forfeit_percent": "100"}),
    ("/api/v1/trials/webhooks/", "post", {"url": "https://example.com/hook"}),
    ("/api/v1/trials/webhooks/1/", "delete", None),
])
def test_admin_only_operations_refuse_members_and_not_admins(trader, colleague, path, method, body):
    member, admin = colleague(trader, "member"), colleague(trader, "admin")
    refused = getattr(member.client, method)(path, body, format="json")
    assert refused.status_code == 403, refused.content
    assert "admin" in refused.json()["detail"]
    allowed = getattr(admin.client, method)(path, body, format="json")
    assert allowed.status_code != 403, allowed.content
