"""QA: the public API contract (shared/api-contract.md) checked from the outside.

Each test here reproduces something an integration saw break: a 500 on odd input, an undocumented
response shape, an HTML page where JSON was promised."""

import pytest

from tests.marketplace.factories import ListingFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db

HUGE = 10**25  # an id no database integer column can hold


@pytest.mark.parametrize("url", [
    f"/api/v1/listings/?vendor={HUGE}",
    f"/api/v1/kits/?owner={HUGE}",
    "/api/v1/kits/?owner=abc",
])
def test_out_of_range_or_malformed_id_filters_are_a_400_not_a_500(buyer, url):
    response = buyer.client.get(url)
    assert response.status_code == 400, response.content[:200]
    assert set(response.json()) <= {"vendor", "owner"}


def test_order_line_with_an_out_of_range_listing_id_is_a_400(buyer):
    response = buyer.client.post(
        "/api/v1/orders/", {"lines": [{"listing": HUGE, "quantity": 1}], "payment": "deposit"}, format="json")
    assert response.status_code == 400
    assert "lines" in response.json()


def test_kit_with_out_of_range_part_ids_is_a_400(solution_house):
    body = {"name": "Tracker", "bom": [{"part": HUGE, "quantity": "1", "substitutes": [HUGE]}],
            "subkits": [{"kit": HUGE, "quantity": 1}], "currency": "CNY"}
    response = solution_house.client.post("/api/v1/kits/", body, format="json")
    assert response.status_code == 400
    assert "bom" in response.json()


@pytest.mark.parametrize("part", [HUGE, 987654])
def test_listing_for_an_unknown_part_id_is_a_400_field_error_not_a_404(trader, part):
    body = {"part": part, "stock": 10, "price_breaks": [{"min_qty": 1, "unit_price": "1.00"}]}
    response = trader.client.post("/api/v1/listings/", body, format="json")
    assert response.status_code == 400
    assert "part" in response.json()


def test_created_organisation_is_shaped_as_get_shows_it(buyer):
    created = buyer.client.post("/api/v1/organizations/", {"name": "Stall 7", "kinds": ["trader"]}, format="json")
    assert created.status_code == 201
    org_id = created.json()["id"]
    buyer.client.credentials(HTTP_X_ORGANIZATION=str(org_id))
    shown = buyer.client.get(f"/api/v1/organizations/{org_id}/").json()
    assert created.json() == shown


@pytest.mark.parametrize("url", ["/api/v1/kits/not-a-number/", "/api/v1/no-such-endpoint/", "/api/v1/trials/a%0Ab/sales/"])
def test_unknown_api_urls_answer_json_404(buyer, url):
    response = buyer.client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found."}


PAGINATED_LISTS = [
    "/api/v1/organizations/", "/api/v1/parts/", "/api/v1/listings/", "/api/v1/kits/", "/api/v1/quotes/",
    "/api/v1/orders/", "/api/v1/purchase-orders/", "/api/v1/accounts/", "/api/v1/accounts/{id}/entries/",
    "/api/v1/credit-lines/", "/api/v1/credit-lines/{id}/invoices/", "/api/v1/trials/",
    "/api/v1/trials/{id}/sales/",
]


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/?format=json").json()


@pytest.mark.parametrize("path", PAGINATED_LISTS)
def test_schema_documents_lists_as_paginated(schema, path):
    """Lists answer {"count","next","previous","results"}; the schema must say so (clients are
    generated from it)."""
    body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert body.get("type") == "object", body
    assert {"count", "next", "previous", "results"} <= set(body["properties"])


@pytest.mark.parametrize("path", PAGINATED_LISTS)
def test_schema_documents_page_and_page_size_on_lists(schema, path):
    assert {"page", "page_size"} <= {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}


def test_paginated_list_really_answers_the_documented_shape(buyer):
    ListingFactory()
    data = buyer.client.get("/api/v1/listings/?page_size=1").json()
    # The search adds `count_is_estimate` (issue 16: broad searches estimate the count) and which
    # parameter filters it applied or could not read (issue 28); nothing else.
    assert set(data) - {"count_is_estimate", "parameters_applied", "parameters_not_understood"} == {
        "count", "next", "previous", "results"}
    assert data["count_is_estimate"] is False


def test_kit_list_still_accepts_blank_search_fields(buyer):
    kit = make_kit(bom=[(PartFactory(), 1)])
    response = buyer.client.get("/api/v1/kits/?q=&category=")
    assert response.status_code == 200
    assert [k["id"] for k in response.json()["results"]] == [kit.pk]


# --- PATCH with incomplete nested items (schemathesis: KeyError 500s) ---------------------------


def test_listing_patch_with_an_incomplete_price_break_is_a_400(trader):
    listing = ListingFactory(vendor=trader.org)
    response = trader.client.patch(f"/api/v1/listings/{listing.pk}/", {"price_breaks": [{"min_qty": 1}]}, format="json")
    assert response.status_code == 400
    assert "unit_price" in response.json()["price_breaks"]["0"]
    # A complete edit still works, and a PATCH may leave price_breaks out.
    assert trader.client.patch(f"/api/v1/listings/{listing.pk}/", {"stock": 7}, format="json").status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"bom": [{"quantity": "1"}]}, "bom"),
    ({"subkits": [{"quantity": 1}]}, "subkits"),
    ({"assembly": {"setup_cost": "1"}}, "assembly"),
    ({"assembly": {"factory": 1, "unit_cost_breaks": [{"min_qty": 1}]}}, "assembly"),
])
def test_kit_patch_with_incomplete_nested_items_is_a_400(solution_house, body, field):
    kit = make_kit(owner=solution_house.org, bom=[(PartFactory(), 1)])
    response = solution_house.client.patch(f"/api/v1/kits/{kit.pk}/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()


def test_trial_patch_with_an_incomplete_arm_is_a_400_and_a_partial_targets_edit_still_works(buyer):
    from tests.trials.factories import make_trial

    trial = make_trial(organization=buyer.org, created_by=buyer.user)
    url = f"/api/v1/trials/{trial.pk}/"
    response = buyer.client.patch(url, {"arms": [{"label": "X"}]}, format="json")
    assert response.status_code == 400
    assert "arms" in response.json()
    edited = buyer.client.patch(url, {"targets": {"scale_at": "0.9"}}, format="json")
    assert edited.status_code == 200
    assert edited.json()["targets"] == {"scale_at": "0.900", "kill_below": "0.300"}


# --- Stock-list import: every 400 has the documented import shape ------------------------------


def _assert_import_refusal(response, field):
    assert response.status_code == 400
    body = response.json()
    assert set(body) >= {"created", "updated", "unchanged", "errors"}
    assert body["created"] == body["updated"] == 0
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["errors"][0]["row"] == 0 and body["errors"][0]["message"]


def test_import_without_a_file_answers_the_import_shape(trader):
    _assert_import_refusal(trader.client.post("/api/v1/listings/import/", {}, format="multipart"), "file")


def test_import_by_a_non_supplier_answers_the_import_shape(buyer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = b"manufacturer,mpn,stock,moq,multiple,lead_time_days,currency,price_breaks\nTI,NE555,1,1,1,0,CNY,1:1\n"
    response = buyer.client.post("/api/v1/listings/import/", {"file": SimpleUploadedFile("s.csv", csv)},
                                 format="multipart")
    _assert_import_refusal(response, "non_field_errors")


# --- Amounts are decimal strings, never floats ---------------------------------------------------


def test_trial_and_forecast_demand_reference_price_is_a_decimal_string(buyer):
    from tests.trials.factories import make_kit as make_trial_kit

    body = {"name": "Pilot", "kit": make_trial_kit().pk, "mode": "simulated", "window_days": 10,
            "arms": [{"label": "A", "unit_price": "12.50", "units": 10}],
            "demand": {"base_daily": 2, "reference_price": "11.20"}}
    created = buyer.client.post("/api/v1/trials/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["demand"]["reference_price"] == "11.20"
    defaulted = buyer.client.post("/api/v1/trials/", {**body, "demand": {"base_daily": 2}}, format="json").json()
    assert defaulted["demand"]["reference_price"] == "12.50"  # the first arm's price
    listed = buyer.client.get("/api/v1/trials/").json()["results"]
    assert {t["demand"]["reference_price"] for t in listed} == {"11.20", "12.50"}
    forecast = buyer.client.post("/api/v1/trials/forecast/", {**body, "paths": 100}, format="json")
    assert forecast.status_code == 200, forecast.json()
    assert forecast.json()["demand"]["reference_price"] == "11.20"


def test_unknown_api_url_answers_json_404_to_a_browser_session_post_too(buyer):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(buyer.user)
    response = browser.post("/api/v1/credit-lines/abc/repayments/", {"amount": "1"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("path, method, codes", [
    ("/api/v1/orders/", "post", {"201", "400", "401", "403", "422"}),
    ("/api/v1/orders/{id}/{step}/", "post", {"200", "401", "403", "404", "409"}),
    ("/api/v1/quotes/{id}/", "get", {"200", "401", "403", "404"}),
    ("/api/v1/listings/", "get", {"200", "400", "401", "403", "404"}),  # 404: ?page= past the end
    ("/api/v1/trials/{id}/start/", "post", {"202", "404", "409", "422"}),
    ("/api/v1/auth/token/", "post", {"200", "400"}),
])
def test_schema_documents_the_contracts_error_answers(schema, path, method, codes):
    assert codes <= set(schema["paths"][path][method]["responses"])


def test_order_with_an_overlong_idempotency_key_is_a_400_and_places_nothing(buyer):
    from marketplace.models import Order

    listing = ListingFactory()
    response = buyer.client.post("/api/v1/orders/", {"lines": [{"listing": listing.pk, "quantity": 1}], "payment": "deposit"},
                                 format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Order.objects.exists()


# --- NUL characters in query parameters (PostgreSQL text cannot hold them: a 500 there) ---------


@pytest.mark.parametrize("url", [
    "/api/v1/parts/?q=%00", "/api/v1/parts/?category=a%00", "/api/v1/organizations/?q=%00",
    "/api/v1/trials/?q=%00", "/api/v1/credit-lines/?q=%00", "/api/v1/orders/?status=%00",
])
def test_a_nul_character_in_a_query_parameter_is_a_400(buyer, url):
    response = buyer.client.get(url)
    assert response.status_code == 400, response.content[:200]
    name = url.split("?")[1].split("=")[0]
    assert response.json() == {name: ["Null characters are not allowed."]}


def test_a_nul_character_in_a_page_query_is_a_400(client, buyer):
    client.force_login(buyer.user)
    assert client.get("/parts/?q=%00").status_code == 400
