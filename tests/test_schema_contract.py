"""The OpenAPI schema is a contract a machine can use: valid OpenAPI 3, JSON request bodies (multipart
only for the upload), every enforced constraint declared; a client generated from it with
openapi-python-client imports and runs the main flow against a live server."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    call_command("spectacular", "--file", str(path), "--validate", "--fail-on-warn")
    return path


@pytest.fixture(scope="module")
def schema(schema_file) -> dict:
    return yaml.safe_load(schema_file.read_text())


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict):
                yield path, method, operation


def test_the_schema_is_valid_openapi(schema):
    from openapi_spec_validator import OpenAPIV30SpecValidator

    errors = [f"{list(e.absolute_path)}: {e.message}" for e in OpenAPIV30SpecValidator(schema).iter_errors()]
    assert errors == []


def test_request_bodies_are_json_only_except_the_upload(schema):
    media = {(path, method): sorted(op["requestBody"]["content"]) for path, method, op in _operations(schema)
             if "requestBody" in op}
    for upload in [("/api/v1/listings/import/", "post"), ("/api/v1/boms/", "post"), ("/api/v1/bank-statements/", "post"),
                   ("/api/v1/stock/import/", "post")]:  # files
        assert media.pop(upload) == ["multipart/form-data"]
    assert media and all(types == ["application/json"] for types in media.values()), media


def test_enforced_constraints_are_declared(schema):
    components = schema["components"]["schemas"]
    # A decimal string: no empty string, no sign where negatives are refused, and no zero where the
    # server wants a positive amount (the arm's price has min_value 0.01).
    unit_price = components["ArmInputRequest"]["properties"]["unit_price"]
    import re

    assert re.match(unit_price["pattern"], "99.5") and re.match(unit_price["pattern"], "0.01")
    assert not any(re.match(unit_price["pattern"], v) for v in ("", "-1", "0", "0.00", "0.001"))
    # A trial needs at least one arm.
    assert components["TrialInputRequest"]["properties"]["arms"]["minItems"] == 1
    listings = schema["paths"]["/api/v1/listings/"]["get"]["parameters"]
    page_size = next(p for p in listings if p["name"] == "page_size")
    assert page_size["schema"]["maximum"] == 200 and page_size["schema"]["minimum"] == 1
    header = next(p for p in listings if p["name"] == "X-Organization")
    assert header["in"] == "header" and header["schema"]["type"] == "integer"
    token = schema["components"]["securitySchemes"]["tokenAuth"]
    assert token["type"] == "apiKey" and token["in"] == "header" and "`Token`" in token["description"]
    # The open token endpoint takes no X-Organization.
    auth = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert not any(p["name"] == "X-Organization" for p in auth.get("parameters", []))


@pytest.fixture(scope="module")
def generated_client(schema_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("client")
    config = out / "config.yaml"
    config.write_text("package_name_override: kitstreet_client\npost_hooks: []\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "openapi-python-client"), "generate", "--path", str(schema_file),
         "--config", str(config), "--meta", "none", "--output-path", str(out / "kitstreet_client")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(out))
    try:
        package = importlib.import_module("kitstreet_client")
        # Every generated module imports (a schema mistake shows up as a broken module).
        for module in sorted((out / "kitstreet_client").rglob("*.py")):
            name = ".".join(module.relative_to(out).with_suffix("").parts).removesuffix(".__init__")
            importlib.import_module(name)
        yield package
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == "kitstreet_client" or n.startswith("kitstreet_client.")]:
            del sys.modules[name]


def test_a_generated_client_runs_the_main_flow(generated_client, live_server):
    """token -> listing search at a quantity -> kit with a nested BOM (lines and a sub-kit) ->
    quote -> order -> trial start -> report, all through the generated client."""
    from kitstreet_client import AuthenticatedClient, Client
    from kitstreet_client.api.v1 import (
        v1_auth_token_create, v1_kits_create, v1_kits_list, v1_kits_quote_create, v1_listings_list, v1_me_retrieve,
        v1_orders_create, v1_trials_create, v1_trials_report_retrieve, v1_trials_retrieve, v1_trials_start_create,
    )
    from kitstreet_client.models import (
        AuthTokenInputRequest, KitInputRequest, KitQuoteInputRequest, OrderListCreateInputRequest, TrialInputRequest,
    )

    call_command("seed_demo", "--seed", "5", verbosity=0)

    def login(username):
        anonymous = Client(base_url=live_server.url, raise_on_unexpected_status=True)
        token = v1_auth_token_create.sync(client=anonymous, body=AuthTokenInputRequest(username=username, password="kitstreet"))
        return AuthenticatedClient(base_url=live_server.url, token=token.token, prefix="Token",
                                   raise_on_unexpected_status=True)

    buyer = login("buyer")
    found = v1_listings_list.sync(client=buyer, q="CH32V003", qty=100, page_size=5)
    assert found.count > 0 and found.results[0].unit_price_at_qty

    supplier = login("supplier")
    me = v1_me_retrieve.sync(client=supplier)
    house = next(m.id for m in me.organizations if "solution_house" in m.kinds)
    existing = v1_kits_list.sync(client=supplier, x_organization=house).results
    mine = next(k for k in existing if k.owner.id == house)
    kit = v1_kits_create.sync(client=supplier, x_organization=house, body=KitInputRequest.from_dict({
        "name": "Contract test carrier board", "category": "Test", "currency": mine.currency,
        "bom": [{"part": line.part, "quantity": line.quantity, "designators": "U1"} for line in mine.bom[:3]],
        "subkits": [{"kit": mine.id, "quantity": 2}],
    }))
    assert len(kit.bom) == min(3, len(mine.bom))

    quote = v1_kits_quote_create.sync(id=kit.id, client=buyer, body=KitQuoteInputRequest(quantity=5))
    assert quote.lines and quote.kit == kit.id
    order = v1_orders_create.sync(client=buyer, idempotency_key="contract-order-1",
                                  body=OrderListCreateInputRequest.from_dict({"quote": quote.id, "payment": "deposit"}))
    assert order.status == "placed" and order.purchase_orders

    trial = v1_trials_create.sync(client=buyer, body=TrialInputRequest.from_dict({
        "name": "Contract trial", "kit": kit.id, "mode": "simulated", "window_days": 14,
        "targets": {"scale_at": "0.800", "kill_below": "0.300"},
        "arms": [{"label": "A", "unit_price": "149.00", "units": 20}],
        "demand": {"base_daily": 3, "dispersion": 2, "elasticity": -1.5, "seed": 3},
    }))
    started = v1_trials_start_create.sync(id=trial.id, client=buyer)
    assert started.task_id
    assert v1_trials_retrieve.sync(id=trial.id, client=buyer).status == "closed"  # eager Celery in tests
    report = v1_trials_report_retrieve.sync(id=trial.id, client=buyer)
    assert report.verdict is not None
