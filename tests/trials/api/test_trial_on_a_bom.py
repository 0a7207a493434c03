"""A buyer's uploaded BOM trials like any kit (it is one: private, owned by the buyer)."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.marketplace.factories import ListingFactory, PartFactory
from tests.trials.api.test_trial_api import body

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "marketplace" / "fixtures" / "boms"


def test_a_bom_is_trialled_through_its_private_kit_and_nobody_else_can(buyer, make_member, django_capture_on_commit_callbacks):
    for maker, mpn in (("Murata", "GRM155R71C104KA88D"), ("Yageo", "RC0603FR-0710KL"), ("Microchip", "MCP73831T-2ACI/OT")):
        ListingFactory(part=PartFactory(manufacturer=maker, mpn=mpn), stock=100_000, breaks=[(1, "0.10")])
    upload = buyer.client.post("/api/v1/boms/", {"file": SimpleUploadedFile(
        "eagle.csv", (FIXTURES / "eagle_parts.csv").read_bytes())}, format="multipart").json()
    kit_id = buyer.client.post(f"/api/v1/boms/{upload['id']}/quote/", {"quantity": 1}, format="json").json()["kit"]

    created = buyer.client.post("/api/v1/trials/", body(SimpleNamespace(pk=kit_id)), format="json")
    assert created.status_code == 201, created.json()
    with django_capture_on_commit_callbacks(execute=True):
        assert buyer.client.post(f"/api/v1/trials/{created.json()['id']}/start/").status_code == 202
    assert buyer.client.get(f"/api/v1/trials/{created.json()['id']}/").json()["status"] == "closed"

    stranger = make_member(name="Stranger")
    refused = stranger.client.post("/api/v1/trials/", body(SimpleNamespace(pk=kit_id)), format="json")
    assert refused.status_code == 400 and "kit" in refused.json()
