"""The stock list and purchase plans in the browser: import, add and change stock; plan a BOM
and a kit together; the plan page shows the saving and links its quote; viewers only read."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from marketplace.models import Bom, BuyerStock, PurchasePlan, VendorOrderTerms
from organizations.models import Membership
from tests.marketplace.factories import ListingFactory, OrganizationFactory, PartFactory, make_kit

pytestmark = pytest.mark.django_db


def browser(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


@pytest.fixture
def market():
    vendor = OrganizationFactory(trader=True, name="Reel Co")
    VendorOrderTerms.objects.create(vendor=vendor, currency="CNY", shipping_fee=Decimal("5.00"))
    res = PartFactory(manufacturer="Yageo", mpn="RC0603FR-0710KL")
    mcu = PartFactory(manufacturer="STMicroelectronics", mpn="STM32F103C8T6")
    ListingFactory(vendor=vendor, part=res, moq=100, stock=100_000, breaks=[(100, "0.10")])
    ListingFactory(vendor=vendor, part=mcu, stock=1_000, breaks=[(1, "6.00")])
    kit = make_kit(OrganizationFactory(solution_house=True), bom=[(res, 2)], name="Relay board")
    return {"res": res, "mcu": mcu, "kit": kit}


def test_stock_page_imports_adds_and_changes_rows(buyer, market):
    client = browser(buyer)
    assert "No stock listed yet" in client.get("/stock/").content.decode()
    response = client.post("/stock/", {"action": "import", "file": SimpleUploadedFile(
        "stock.csv", b"MPN,Qty,Location\nRC0603FR-0710KL,50,Bin 1\nUNKNOWN-PART-7,3,\n")})
    page = response.content.decode()
    assert response.status_code == 200 and "1 row skipped" in page and "UNKNOWN-PART-7" in page
    assert BuyerStock.objects.get(organization=buyer.org, part=market["res"]).quantity == 50
    response = client.post("/stock/", {"action": "add", "mpn": "stm32f103c8t6", "quantity": "12"})
    assert response.status_code == 302
    client.post("/stock/", {"action": "update", "part": market["res"].pk, "quantity": "80"})
    assert dict(BuyerStock.objects.filter(organization=buyer.org).values_list("part__mpn", "quantity")) == {
        "RC0603FR-0710KL": 80, "STM32F103C8T6": 12}
    client.post("/stock/", {"action": "delete", "part": market["mcu"].pk})
    assert BuyerStock.objects.filter(organization=buyer.org).count() == 1


def test_a_bad_stock_file_shows_its_rows_and_changes_nothing(buyer, market):
    BuyerStock.objects.create(organization=buyer.org, part=market["res"], quantity=5)
    response = browser(buyer).post("/stock/", {"action": "import", "file": SimpleUploadedFile(
        "stock.csv", b"MPN,Qty\nRC0603FR-0710KL,40\nSTM32F103C8T6,lots\n")})
    page = response.content.decode()
    assert response.status_code == 400 and "Nothing was changed" in page and "lots" in page
    assert BuyerStock.objects.get(organization=buyer.org).quantity == 5
    response = browser(buyer).post("/stock/", {"action": "add", "mpn": "NO-SUCH-PART", "quantity": "1"})
    assert response.status_code == 400 and "NO-SUCH-PART" in response.content.decode()


def test_plan_a_bom_and_a_kit_together_and_see_the_saving(buyer, market):
    client = browser(buyer)
    client.post("/boms/", {"file": SimpleUploadedFile(
        "sensor.csv", b"Reference,Qty,MPN\nR1-R3,3,RC0603FR-0710KL\nU1,1,STM32F103C8T6\n"), "name": "Sensor"})
    bom = Bom.objects.get(owner=buyer.org)
    BuyerStock.objects.create(organization=buyer.org, part=market["mcu"], quantity=10)
    assert f"/plans/?bom={bom.pk}&amp;qty=" in client.get(f"/boms/{bom.pk}/").content.decode()
    assert f'name="bom_{bom.pk}" inputmode="numeric" size="7" aria-label="Build quantity of Sensor" value="7"' in (
        client.get(f"/plans/?bom={bom.pk}&qty=7").content.decode())
    form = client.get(f"/plans/?kit={market['kit'].pk}&qty=20").content.decode()
    assert f'name="bom_{bom.pk}"' in form and f'name="kit_{market["kit"].pk}"' in form and 'value="20"' in form
    response = client.post("/plans/", {f"bom_{bom.pk}": "10", f"kit_{market['kit'].pk}": "20", "use_stock": "on"})
    plan = PurchasePlan.objects.get(organization=buyer.org)
    assert response.status_code == 302 and response.url == f"/plans/{plan.pk}/"
    page = client.get(response.url).content.decode()
    # Alone: two reels and two shipping fees (+ the MCUs); together: one of each, the MCUs from stock.
    assert plan.separate_total == Decimal("10") + Decimal("5") + Decimal("60") + Decimal("10") + Decimal("5")
    assert plan.quote.total == Decimal("10") + Decimal("5")
    assert f'id="plan-saving">{plan.separate_total - plan.quote.total} CNY' in page
    assert f"/quotes/{plan.quote_id}/#order" in page and "Sensor: 30" in page
    assert f"purchase plan {plan.pk}" in client.get(f"/quotes/{plan.quote_id}/").content.decode()
    assert plan.name in client.get("/plans/").content.decode()


def test_a_bad_plan_form_says_why_and_keeps_what_was_typed(buyer, market):
    response = browser(buyer).post("/plans/", {f"kit_{market['kit'].pk}": "1e9"})
    page = response.content.decode()
    assert response.status_code == 400 and "No plan was made" in page and 'value="1e9"' in page
    response = browser(buyer).post("/plans/", {})
    assert response.status_code == 400 and "at least one" in response.content.decode()
    assert not PurchasePlan.objects.exists()


def test_viewers_read_without_forms_and_others_get_404(make_member, buyer, market):
    plan_page = browser(buyer).post("/plans/", {f"kit_{market['kit'].pk}": "2"}).url
    viewer = make_member(name="Viewer Co")
    Membership.objects.filter(user=viewer.user).update(role="viewer")
    page = browser(viewer).get("/stock/").content.decode()
    assert 'id="stock-import"' not in page and 'id="stock-add"' not in page
    assert 'id="plan-form"' not in browser(viewer).get("/plans/").content.decode()
    assert browser(viewer).post("/stock/", {"action": "add", "mpn": "RC0603FR-0710KL", "quantity": "3"}).status_code == 403
    assert browser(viewer).get(plan_page).status_code == 404  # another organisation's plan
