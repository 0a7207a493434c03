"""Parameter values with units: one value however it is written, so range filters and facets work."""

import pytest

from marketplace.catalogue.units import format_measure, normalise_parameters, parse_filter_value, parse_measure


@pytest.mark.parametrize("written", ["10uF", "10 uF", "10µF", "10μF", "0.00001F", "1e-5F", "10,0uF", "0.01 mF", "10000nF"])
def test_ten_microfarads_however_written(written):
    assert normalise_parameters({"value": written}, category="Capacitor") == {"capacitance": 1e-05}
    assert parse_filter_value("capacitance", written) == 1e-05


@pytest.mark.parametrize("written, ohms", [("1k", 1000), ("1 kΩ", 1000), ("1000", 1000), ("1000R", 1000), ("4K7", 4700),
                                           ("4.7k", 4700), ("5K1", 5100), ("2R2", 2.2), ("1M", 1_000_000), ("100 ohm", 100)])
def test_resistances(written, ohms):
    assert normalise_parameters({"resistance": written}, category="Resistor") == {"resistance": ohms}
    assert parse_filter_value("resistance", written) == ohms


def test_a_generic_value_takes_the_name_of_its_quantity_and_text_stays_text():
    assert normalise_parameters({"value": "100nF", "voltage": "16V", "package": "0402", "dielectric": "X5R"}) == {
        "capacitance": 1e-07, "voltage": 16, "package": "0402", "dielectric": "x5r"}
    assert normalise_parameters({"value": "10uH"}) == {"inductance": 1e-05}
    assert normalise_parameters({"value": "1k"}, category="Resistor") == {"resistance": 1000}
    assert normalise_parameters({"current": "500mA", "frequency": "2.4GHz"}) == {"current": 0.5, "frequency": 2_400_000_000}
    # A package code is not a number; "10k" with no unit and no hint is not guessed at.
    assert normalise_parameters({"package": "QFN32", "size": "10k"}) == {"package": "qfn32", "size": "10k"}


def test_a_value_in_the_wrong_unit_does_not_filter():
    assert parse_measure("10uF", quantity_hint="voltage") is None
    assert parse_filter_value("voltage", "10uF") is None
    assert parse_filter_value("package", "0402") == "0402"


def test_labels_read_like_a_datasheet():
    assert format_measure("capacitance", 1e-05) == "10 µF"
    assert format_measure("capacitance", 1e-07) == "100 nF"
    assert format_measure("resistance", 4700) == "4.7 kΩ"
    assert format_measure("voltage", 3.3) == "3.3 V"
