"""Request bodies: too large is a JSON 413, nested too deep is a 400, never a 500; request bodies
are JSON only except where a file is uploaded."""

import json

import pytest

pytestmark = pytest.mark.django_db


def test_a_body_over_the_limit_is_a_json_413(buyer, settings):
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = buyer.client.post("/api/v1/trials/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "too large" in response.json()["detail"]


def test_a_form_page_over_the_limit_is_a_plain_413(client, settings):
    body = "username=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    response = client.post("/login/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_json_nested_thousands_deep_is_a_400(buyer):
    body = "[" * 3000 + "]" * 3000
    response = buyer.client.post("/api/v1/trials/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_json_nested_past_the_limit_is_a_400_and_within_it_is_read(buyer, settings):
    deep = {"name": "t"}
    for _ in range(settings.API_MAX_JSON_DEPTH):
        deep = {"a": deep}
    too_deep = buyer.client.post("/api/v1/trials/", json.dumps(deep), content_type="application/json")
    assert too_deep.status_code == 400 and "nested deeper" in too_deep.json()["detail"]
    shallow = buyer.client.post("/api/v1/trials/", json.dumps({"name": "t", "arms": [[[1]]]}),
                                content_type="application/json")
    assert shallow.status_code == 400 and "detail" not in shallow.json()  # read, then a field error


def test_form_encoded_bodies_are_refused_by_the_api(buyer):
    response = buyer.client.post("/api/v1/trials/", "name=t", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_the_upload_takes_multipart_only(trader):
    response = trader.client.post("/api/v1/listings/import/", {"file": "a,b"}, format="json")
    assert response.status_code == 415


@pytest.mark.parametrize("value", ["abc", "1,2", "{}", "-3", ""])
def test_an_x_organization_header_that_is_not_an_id_is_a_403_like_a_foreign_id(buyer, api_client, value):
    api_client.force_authenticate(buyer.user)
    response = api_client.get("/api/v1/me/", HTTP_X_ORGANIZATION=value)
    assert response.status_code == 403 and "X-Organization" in response.json()["detail"]
