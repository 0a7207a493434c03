"""Exports never hand a spreadsheet a formula: text cells starting with = + - @ get a leading '."""

import csv
import io
from decimal import Decimal

import pytest

from config.exports import export_cell, export_csv_writer, export_row
from tests.trials.factories import make_trial
from trials.services import trial_run, trial_start


@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_like_text_is_prefixed(text):
    assert export_cell(text) == "'" + text


def test_plain_text_and_numbers_are_unchanged():
    assert export_row(["Tracker", "a=b", -12, Decimal("-12.50"), None, 3.5]) == \
        ["Tracker", "a=b", -12, Decimal("-12.50"), None, 3.5]


def test_the_writer_escapes_every_row():
    out = io.StringIO()
    writer = export_csv_writer(out)
    writer.writerow(["name", "=1+1"])
    writer.writerows([["@x", Decimal("-1.00")]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["name", "'=1+1"], ["'@x", "-1.00"]]


@pytest.mark.django_db
def test_a_trial_report_with_a_formula_as_arm_label_downloads_escaped(buyer, django_capture_on_commit_callbacks):
    trial = make_trial(organization=buyer.org, created_by=buyer.user, arms=[
        {"label": "=HYPERLINK(\"http://evil\")", "unit_price": Decimal("99"), "units": 60}])
    trial_start(trial=trial)
    with django_capture_on_commit_callbacks(execute=True):
        trial_run(trial_id=trial.pk)
    response = buyer.client.get(f"/api/v1/trials/{trial.pk}/report/csv/")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) > 1
    assert {row[2] for row in rows[1:]} == {"'=HYPERLINK(\"http://evil\")"}
