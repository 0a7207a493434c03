"""Conventions every API list and every money-moving write share: `page_size` is validated, not
silently replaced by the default, and an `Idempotency-Key` is 1 to 255 characters, not only spaces."""

import pytest

from tests.marketplace.factories import ListingFactory


@pytest.mark.parametrize("page_size", ["0", "201", "abc", "", "2.5", "-3"])
def test_a_bad_page_size_is_a_400_on_every_kind_of_list(buyer, page_size):
    for url in ("/api/v1/fx-rates/", "/api/v1/kits/", "/api/v1/orders/", "/api/v1/notifications/"):
        response = buyer.client.get(url, {"page_size": page_size})
        assert response.status_code == 400, (url, page_size, response.content[:200])
        assert "page_size" in response.json()


def test_a_good_page_size_pages(buyer):
    response = buyer.client.get("/api/v1/fx-rates/", {"page_size": "200"})
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize("key", ["   ", "x" * 256])
def test_a_blank_or_long_idempotency_key_is_a_400_and_places_nothing(buyer, key):
    listing = ListingFactory(stock=10)
    response = buyer.client.post("/api/v1/orders/", {"lines": [{"listing": listing.pk, "quantity": 1}], "payment": "deposit"},
                                 format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert buyer.client.get("/api/v1/orders/").json()["count"] == 0
    listing.refresh_from_db()
    assert listing.stock == 10


@pytest.mark.parametrize("url", ["/api/v1/orders/?status=lost", "/api/v1/orders/?status=", "/api/v1/fx-rates/?base=EUR",
                                 "/api/v1/accounts/?kind="])
def test_a_filter_outside_its_enum_is_a_400_not_an_empty_list(buyer, url):
    response = buyer.client.get(url)
    assert response.status_code == 400, response.content[:200]
