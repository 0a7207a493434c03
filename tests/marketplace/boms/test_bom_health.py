"""A BOM's health, its suggested alternates, and what a listing change does to watched BOMs."""

from datetime import datetime
from datetime import timezone as dt_timezone
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from marketplace.boms.models import Bom, BomItem
from marketplace.catalogue.listings import listing_create, listing_update
from marketplace.notifications.models import MarketWebhookDelivery, MarketWebhookEndpoint, Notification
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory

pytestmark = pytest.mark.django_db


def cap(mpn, value="100nF", voltage="16V", dielectric="X7R", package="0402", lifecycle="active"):
    return PartFactory(manufacturer="Samsung", mpn=mpn, category="Capacitor", lifecycle=lifecycle,
                       parameters={"value": value, "voltage": voltage, "dielectric": dielectric, "package": package})


def upload(member, text: str):
    response = member.client.post("/api/v1/boms/", {"file": SimpleUploadedFile("b.csv", text.encode())},
                                  format="multipart")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def market():
    eol = cap("OLD104", lifecycle="eol")
    good = cap("CL05B104KO5NNNC", voltage="16V")
    better = cap("CL05B104KB5NNNC", voltage="50V")
    single = PartFactory(manufacturer="TI", mpn="TPS62840DLCR")
    ListingFactory(part=eol, stock=50, breaks=[(1, "0.010")])
    ListingFactory(part=good, stock=100_000, breaks=[(1, "0.006")])
    ListingFactory(part=good, stock=100_000, breaks=[(1, "0.007")])
    ListingFactory(part=better, stock=100_000, breaks=[(1, "0.004")])
    ListingFactory(part=single, stock=30, lead_time_days=42, breaks=[(1, "3.20")])
    return {"eol": eol, "good": good, "better": better, "single": single}


BOM = "Designator,Qty,MPN,Value,Footprint\n\"C1,C2\",2,OLD104,100nF,C_0402\nU1,1,TPS62840DLCR,,\nC3,1,,100nF,C_0402\n"


def test_health_names_each_lines_risk_and_scores_the_bom(buyer, market):
    bom = upload(buyer, BOM)
    health = buyer.client.get(f"/api/v1/boms/{bom['id']}/health/?quantity=20").json()
    by_line = {l["line"]: l for l in health["lines"]}
    eol, dcdc, parametric = (by_line[1], by_line[2], by_line[3])
    assert "end of life" in eol["reasons"] and eol["need"] == 40 and eol["vendors_able_to_fill"] == 1
    assert dcdc["reasons"] == ["one vendor holds all the stock", "42 days' lead time"] and dcdc["risk"] == 30
    assert parametric["part"] == market["better"].pk and parametric["reasons"] == ["one vendor holds all the stock"]
    assert health["score"] == round(100 - (eol["risk"] + (eol["risk"] + 30 + 20) / 3) / 2)
    short = buyer.client.get(f"/api/v1/boms/{bom['id']}/health/?quantity=40").json()
    assert any("the market holds 30 of the 40 needed" in r for l in short["lines"] for r in l["reasons"])
    assert buyer.client.get(f"/api/v1/boms/{bom['id']}/health/?quantity=0").status_code == 400


def test_alternates_for_an_eol_line_are_priced_at_the_batch_and_approval_is_kept(buyer, market):
    bom = upload(buyer, BOM)
    suggestions = buyer.client.get(f"/api/v1/boms/{bom['id']}/alternates/?quantity=100").json()
    eol = next(s for s in suggestions if s["line"] == 1)
    assert eol["why"] == "end of life" and eol["need"] == 200
    # 16 V X7R 0402 100 nF or better: the 50 V part is cheaper; the EOL part itself is no alternate
    assert [a["part"] for a in eol["alternates"]] == [market["better"].pk, market["good"].pk]
    assert Decimal(eol["alternates"][0]["saves"]) == Decimal("1.20")  # (0.010 − 0.004) × 200
    url = f"/api/v1/boms/{bom['id']}/lines/1/alternate/"
    assert buyer.client.post(url, {"part": market["single"].pk, "quantity": 100}, format="json").status_code == 400
    line = buyer.client.post(url, {"part": market["better"].pk, "quantity": 100}, format="json").json()
    assert line["match"]["part"] == market["better"].pk and line["approved_alternate"] == market["better"].pk
    assert line["match"]["confirmed"] and "approved alternate for OLD104" in line["match"]["reason"]
    assert buyer.client.get(f"/api/v1/boms/{bom['id']}/").json()["lines"][0]["approved_alternate"] == market["better"].pk


def test_a_line_kept_without_a_match_is_matched_when_its_part_is_listed(buyer, trader, django_capture_on_commit_callbacks):
    bom = upload(buyer, "Designator,Qty,MPN\nU1,1,NRF52840-QIAA-R\nC1,1,\n")
    assert BomItem.objects.get(bom_id=bom["id"], line=1).status == "none"
    part = PartFactory(manufacturer="Nordic Semiconductor", mpn="NRF52840-QIAA-R")
    with django_capture_on_commit_callbacks(execute=True):
        listing_create(vendor=trader.org, part=part, price_breaks=[(1, "24.00")], stock=500)
    item = BomItem.objects.get(bom_id=bom["id"], line=1)
    assert (item.status, item.part_id) == ("exact", part.pk) and "matched when it was listed" in item.reason


def test_a_listing_change_that_leaves_a_watched_line_unfillable_tells_the_owner(buyer, trader, market, monkeypatch,
                                                                              django_capture_on_commit_callbacks):
    monkeypatch.setattr("marketplace.notifications.tasks.webhook_deliver_or_retry", lambda *a, **k: None)  # no network
    # 20:00 UTC is already tomorrow in Shanghai (the platform's zone): "the same day" is Shanghai's.
    evening = datetime(2026, 12, 7, 20, 0, tzinfo=dt_timezone.utc)
    monkeypatch.setattr(timezone, "now", lambda: evening)
    bom = upload(buyer, BOM)
    MarketWebhookEndpoint.objects.create(organization=buyer.org, url="https://example.test/hook", secret="s")
    assert buyer.client.put(f"/api/v1/boms/{bom['id']}/watch/", {"watched": True, "quantity": 20},
                            format="json").json() == {"watched": True, "quantity": 20}
    listing = market["single"].listings.get()
    with django_capture_on_commit_callbacks(execute=True):
        listing_update(listing=listing, stock=100)  # still enough for 20 boards: no alert
    assert not Notification.objects.filter(organization=buyer.org).exists()
    with django_capture_on_commit_callbacks(execute=True):
        listing_update(listing=listing, stock=5)
    note = Notification.objects.get(organization=buyer.org)
    assert note.kind == "bom_risk" and "line 2 (TPS62840DLCR): no vendor can fill 20" in note.text
    delivery = MarketWebhookDelivery.objects.get(endpoint__organization=buyer.org)
    assert delivery.event == "bom.line_at_risk" and delivery.payload["line"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        listing_update(listing=listing, stock=4)  # the same cause the same day: said once
    assert Notification.objects.filter(organization=buyer.org).count() == 1
    other = OrganizationFactory(name="Not watching")
    Bom.objects.filter(pk=bom["id"]).update(watched=False, owner=other)
    with django_capture_on_commit_callbacks(execute=True):
        listing_update(listing=listing, stock=3)
    assert not Notification.objects.filter(organization=other).exists()
