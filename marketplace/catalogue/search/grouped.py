"""A grouped page (parts by their best offer) in one query, with what the page shows of each part.

Given every matching offer of some parts (the candidates the engine found), one statement prices
each offer once (a materialised CTE over `price_at_qty`, one price-break probe per offer), then per part with window functions:
its best offer (the first in the ascending order: ROW_NUMBER), the first offer that fills the
quantity from stock (FIRST_VALUE in the same order, fillers first), and its offers' count, stock,
shortest lead and fillable count, computed for the page's parts only. Parts are ordered by their
best offer and cut to the page.

Before this, a grouped page compiled and ran the pricing three times (the page, the part
statistics, the fillers): ~30–45 ms per page at 1M listings, most of it compiling SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections
from django.db.models import F, OrderBy, QuerySet

from marketplace.catalogue.models import Listing
from marketplace.catalogue.search.pricing import DisplayCurrency, price_at_qty

# The CTE's columns (the price-break probe once per offer: Django would repeat it in every
# annotation that refers to the price), and the sort keys computed over them.
COLUMNS = ("id", "part_id", "stock", "lead_time_days", "updated_at", "currency", "order_qty", "unit_price_at_qty")
SORT_KEYS = ("sort_rank", "sort_unit_price", "sort_extended_price")


@dataclass(frozen=True, slots=True)
class PartStats:
    """What a grouped row shows of its part beyond the best offer (over the part's matching offers)."""

    offers: int
    total_stock: int
    shortest_lead_time_days: int
    fillable_offers: int  # offers whose stock covers their order quantity
    filler_id: int | None  # the first offer in the search's order that fills the quantity (priced), if any


def order_sql(ordering: list) -> str:
    """`ORDERINGS` terms ("-stock", F(…).asc(nulls_last=True)) as SQL over the CTE's columns."""
    terms = []
    for term in ordering:
        if isinstance(term, str):
            name, descending, nulls = term.lstrip("-"), term.startswith("-"), ""
        else:
            assert isinstance(term, OrderBy) and isinstance(term.expression, F)
            name, descending = term.expression.name, term.descending
            nulls = " NULLS LAST" if term.nulls_last else " NULLS FIRST" if term.nulls_first else ""
        assert name in COLUMNS + SORT_KEYS
        terms.append(f'"{name}" {"DESC" if descending else "ASC"}{nulls}')
    return ", ".join(terms)


def best_offers(matches: QuerySet[Listing], *, qty: int, display: DisplayCurrency, ascending: list, order: list,
                k: int | None) -> tuple[list[int], dict[int, PartStats]]:
    """The first `k` parts' best offers in `order`, and each one's `PartStats` (by the best offer's
    id). `matches` is every matching offer of the candidate parts; `ascending` is the order that
    picks a part's best offer (`ORDERINGS` terms, over `price_at_qty`'s columns)."""
    sql, params = price_at_qty(matches, qty).order_by().values_list(*COLUMNS).query.sql_with_params()
    keys, key_params = display.sort_keys_sql()
    first = order_sql(ascending)
    limit = "" if k is None else f" LIMIT {int(k)}"
    # Offers that fill: stock covers the order quantity and a break prices it (as `_cheapest_fillers`).
    fills = '("stock" >= "order_qty" AND "unit_price_at_qty" IS NOT NULL)'
    db = connections[matches.db]  # the search's database (a replica, when the router sends reads there)
    # PostgreSQL would inline a CTE referenced once, and with it the price probe into every sort key.
    materialized = "MATERIALIZED " if db.vendor == "postgresql" else ""
    # The page's parts first (each part's best offer: one sort of the candidates' offers), then the
    # statistics and fillers of those parts only: over every candidate they cost two more sorts
    # and five window aggregates (~20 ms of a 500-part page at 1M listings, for 50 rows shown).
    statement = f"""
        WITH priced AS {materialized}({sql}),
             offers AS (SELECT priced.*, {keys} FROM priced),
             page AS (SELECT "part_id" FROM (
                 SELECT offers.*, ROW_NUMBER() OVER (PARTITION BY "part_id" ORDER BY {first}) AS "place" FROM offers
             ) ranked WHERE "place" = 1 ORDER BY {order_sql(order)}{limit})
        SELECT "id", "part_id", "offers", "total_stock", "lead", "fillable", "filler", "fillers" FROM (
            SELECT offers.*,
                   ROW_NUMBER() OVER (PARTITION BY "part_id" ORDER BY {first}) AS "place",
                   FIRST_VALUE("id") OVER (PARTITION BY "part_id" ORDER BY CASE WHEN {fills} THEN 0 ELSE 1 END, {first})
                       AS "filler",
                   COUNT(*) OVER whole AS "offers", SUM("stock") OVER whole AS "total_stock",
                   MIN("lead_time_days") OVER whole AS "lead",
                   SUM(CASE WHEN "stock" >= "order_qty" THEN 1 ELSE 0 END) OVER whole AS "fillable",
                   SUM(CASE WHEN {fills} THEN 1 ELSE 0 END) OVER whole AS "fillers"
              FROM offers
             WHERE "part_id" IN (SELECT "part_id" FROM page)
            WINDOW whole AS (PARTITION BY "part_id")
        ) parts
        WHERE "place" = 1
        ORDER BY {order_sql(order)}"""
    with db.cursor() as cursor:
        cursor.execute(statement, [*params, *key_params])
        rows = cursor.fetchall()
    ids, stats = [], {}
    for pk, _part_id, offers, total_stock, lead, fillable, filler, fillers in rows:
        ids.append(pk)
        stats[pk] = PartStats(offers=offers, total_stock=total_stock or 0, shortest_lead_time_days=lead,
                              fillable_offers=int(fillable), filler_id=filler if fillers else None)
    return ids, stats
