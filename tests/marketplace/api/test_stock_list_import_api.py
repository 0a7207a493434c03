"""Stock-list CSV import: dry run, every bad row reported, atomic, idempotent."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from marketplace.models import Listing, Part
from tests.marketplace.factories import ListingFactory, PartFactory

pytestmark = pytest.mark.django_db

HEADER = "manufacturer,mpn,stock,moq,multiple,lead_time_days,currency,price_breaks,category\n"
GOOD = HEADER + (
    "Espressif,ESP32-C3-MINI-1,1200,10,10,0,CNY,1:9.80;100:9.20;1000:8.60,Wireless SoC\n"
    "Yageo,RC0402FR-0710KL,50000,5000,5000,0,CNY,5000:0.0035;50000:0.0028,Resistor\n"
)


class _Answer:
    """The response, with `.json()` leaving out the import job's id (checked in test_stock_list_jobs.py)."""

    def __init__(self, response):
        self._response, self.status_code = response, response.status_code

    def json(self):
        body = self._response.json()
        body.pop("import_id", None)
        return body


def _upload(member, text, dry_run=False):
    url = "/api/v1/listings/import/" + ("?dry_run=1" if dry_run else "")
    return _Answer(member.client.post(url, {"file": SimpleUploadedFile("stock.csv", text.encode())}, format="multipart"))


def test_dry_run_reports_and_applies_nothing(trader):
    response = _upload(trader, GOOD, dry_run=True)
    assert response.status_code == 200
    assert response.json()["created"] == 2 and response.json()["dry_run"] is True
    assert not Listing.objects.exists() and not Part.objects.exists()


def test_import_creates_then_the_same_file_changes_nothing_then_an_edit_updates(trader):
    assert _upload(trader, GOOD).json() == {"created": 2, "updated": 0, "unchanged": 0, "errors": [], "dry_run": False}
    assert _upload(trader, GOOD).json()["unchanged"] == 2
    edited = GOOD.replace("1200,10", "900,10")
    assert _upload(trader, edited).json() == {"created": 0, "updated": 1, "unchanged": 1, "errors": [], "dry_run": False}
    assert Listing.objects.get(part__mpn="ESP32-C3-MINI-1").stock == 900


def test_every_bad_row_is_reported_and_nothing_is_applied(trader):
    existing = ListingFactory(vendor=trader.org, part=PartFactory(manufacturer="Espressif", mpn="ESP32-C3-MINI-1"), stock=7)
    text = HEADER + (
        "Espressif,ESP32-C3-MINI-1,1200,10,10,0,CNY,1:9.80,Wireless SoC\n"  # fine on its own
        "Yageo,,abc,0,1,0,EUR,1:0.5;10:0.9,\n"  # mpn, stock, moq, currency, rising price
        "TI,TPS62840,100,1,1,0,CNY,oops,\n"
    )
    response = _upload(trader, text)
    assert response.status_code == 400
    errors = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert {(2, "mpn"), (2, "stock"), (2, "moq"), (2, "currency"), (2, "price_breaks"), (3, "price_breaks")} <= errors
    assert Listing.objects.get(pk=existing.pk).stock == 7
    assert Listing.objects.count() == 1


def test_missing_columns_and_duplicates_are_reported(trader):
    response = _upload(trader, "manufacturer,mpn\nTI,LM358\n")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} >= {"stock", "price_breaks"}
    dup = HEADER + "TI,LM358,1,1,1,0,CNY,1:1,\nti,lm-358,1,1,1,0,CNY,1:1,\n"
    assert _upload(trader, dup).json()["errors"] == [{"row": 2, "field": "mpn", "message": "Duplicate of row 1."}]


def test_buyer_cannot_import(buyer):
    assert _upload(buyer, GOOD).status_code == 400
    assert not Listing.objects.exists()


def test_optional_columns_left_out_keep_what_the_listing_had(trader):
    _upload(trader, HEADER.replace("category\n", "category,date_code,location\n")
            + "TI,LM358DR,10,1,1,0,CNY,1:1.00,Amplifier,2415,Counter 7\n")
    assert _upload(trader, HEADER + "TI,LM358DR,10,1,1,0,CNY,1:1.00,Amplifier\n").json()["unchanged"] == 1
    listing = Listing.objects.get()
    assert (listing.date_code, listing.location) == ("2415", "Counter 7")
