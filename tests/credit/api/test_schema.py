"""The schema tells clients how the credit lists page and what ageing answers."""

import pytest

pytestmark = pytest.mark.django_db
LISTS = ["/api/v1/accounts/", "/api/v1/accounts/{id}/entries/", "/api/v1/credit-lines/", "/api/v1/credit-lines/{id}/invoices/"]


@pytest.mark.parametrize("path", LISTS)
def test_credit_lists_document_their_pages(client, path):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"][path]["get"]
    assert {"page", "page_size"} <= {p["name"] for p in operation["parameters"]}
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"count", "next", "previous", "results"} <= set(schema["components"]["schemas"][ref]["properties"])
