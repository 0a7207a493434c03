"""Estimated counts (PostgreSQL): kept a minute in the cache, and a search still answers when the
cache is down."""

from decimal import Decimal

import pytest
from django.db import connection

from marketplace.catalogue.search import engine as engine_module
from marketplace.catalogue.search.engine import Engine
from marketplace.catalogue.search.filters import search_filters
from marketplace.catalogue.search.results import offer_search
from tests.marketplace.selectors.test_price_bands import market  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


class DownCache:
    def get(self, *args, **kwargs):
        raise ConnectionError("redis is down")

    set = get


def test_a_broad_search_answers_while_the_cache_is_down(market, monkeypatch):  # noqa: F811
    from credit.services.fx import fx_rate_set

    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 5)
    expected = offer_search(viewer=None, filters=search_filters(q="mlcc"), qty=100, limit=5)
    monkeypatch.setattr(engine_module, "cache", DownCache())
    page = offer_search(viewer=None, filters=search_filters(q="mlcc"), qty=100, limit=5)
    assert [r.pk for r in page.rows] == [r.pk for r in expected.rows] and page.count == expected.count
    assert page.count_is_estimate == (connection.vendor == "postgresql")


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="estimates are PostgreSQL's (SQLite counts exactly); CI runs it")
def test_an_estimate_is_sampled_once_a_minute(market, monkeypatch):  # noqa: F811
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 5)
    qs = Engine(viewer=None, filters=search_filters(q="mlcc"), qty=10, ordering=None, group=False).matches()
    first = engine_module.sampled_count(qs, "marketplace_listing", percent=100)
    with CaptureQueriesContext(connection) as queries:
        again = engine_module.sampled_count(qs, "marketplace_listing", percent=100)
    assert again == first == qs.count() and not [q for q in queries if "TABLESAMPLE" in q["sql"]]


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="estimates are PostgreSQL's (SQLite counts exactly); CI runs it")
def test_a_grouped_estimate_never_counts_more_parts_than_pass_the_part_filters(market, monkeypatch):  # noqa: F811
    """Distinct parts in a sample of the offers, scaled up, overcount (a part with many offers is
    seen in many samples): the estimate is capped by the parts' own sampled count."""
    from credit.services.fx import fx_rate_set
    from marketplace.catalogue.models import Part

    fx_rate_set(base="USD", quote="CNY", rate=Decimal("7.2"))
    monkeypatch.setattr(Engine, "DIRECT_LIMIT", 5)
    real = engine_module.sampled_count

    def sample(qs, table, **kwargs):  # the offers' sample as the broad market showed it: far too many
        return 10 ** 6 if table == "marketplace_listing" else real(qs, table, percent=100)

    monkeypatch.setattr(engine_module, "sampled_count", sample)
    page = offer_search(viewer=None, filters=search_filters(in_stock=True), qty=10, group=True, limit=5)
    assert page.count_is_estimate and page.count == Part.objects.count() == 40
