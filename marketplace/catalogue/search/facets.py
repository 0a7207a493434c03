"""Search facets: how many matching parts per category, manufacturer and parameter value, and how
many matching offers are in stock or ship within a lead time — at market scale without counting a
million offers (docs/search.md, "Facets").

Every count comes from one set of parts and their matching offers (one query each):

- **Few matching parts** (at most `EXACT_PARTS`, found with a capped query; a vendor's offers
  through its own index): all of them. Exact.
- **Many** (PostgreSQL): a page sample of the part table (`TABLESAMPLE SYSTEM … REPEATABLE`)
  sized for about `SAMPLE_PARTS` matching parts and at most `MAX_SAMPLED_ROWS` rows read; the
  counts are scaled by the table's rows over the rows sampled, and `estimated` is true.
  A 1 % pilot sample says which of the two it is (and how large a sample the second needs).

A part counts when it passes the part filters (words, MPN, category, maker, parameters) and has
an offer the viewer sees that passes the offer filters (vendor, currency, in stock, lead time);
offers count when they pass both. SQLite (tests, `make run`) has no TABLESAMPLE: always exact.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Count, Q, QuerySet
from django.db.models.expressions import RawSQL

from marketplace.catalogue.models import Listing, Part
from marketplace.catalogue.search.engine import search_matches
from marketplace.catalogue.search.filters import SearchFilters, part_filter_q
from marketplace.catalogue.search.pricing import _order_qty
from marketplace.catalogue.units import QUANTITY_KEYS, format_measure
from organizations.models import Organization

LEAD_BUCKETS = [("0", "On the shelf", 0), ("3", "≤ 3 days", 3), ("7", "≤ 7 days", 7), ("14", "≤ 14 days", 14)]

EXACT_PARTS = 1500  # at most this many matching parts: count them all
SAMPLE_PARTS = 1500  # more: about this many from a page sample of the part table
MAX_SAMPLED_ROWS = 6000  # part rows read by the sample at most (a keyword costs ~2 µs a row to test)
EXACT_VENDOR_OFFERS = 15_000  # a vendor's matching offers read through its index, at most
PILOT_PERCENT = 1
SEED = 7  # REPEATABLE: the same pages each time, so the estimates do not flicker between requests
PART_TABLE = Part._meta.db_table


@dataclass
class Tally:
    """The parts to count (pk → category, manufacturer) and what each count is multiplied by."""
    parts: dict[int, tuple[str, str]]
    scale: float = 1.0  # table rows ÷ sampled rows
    estimated: bool = False  # a sample (else every matching part is here)


def search_facets(*, viewer: Organization | None, filters: SearchFilters, qty: int | None = None, top: int = 25) -> dict:
    """Facet values with counts of matching parts (category, manufacturer, parameters) and offers
    (in stock, lead time). Parameters are listed for one category (the filter's, or the only one
    that matches). Over many matching parts the counts are scaled from a sample: `estimated`."""

    tally = _tally(viewer=viewer, filters=filters, qty=qty)
    offers = _offers_per_part(viewer=viewer, filters=filters, qty=qty, part_ids=list(tally.parts))
    live = {pk: tally.parts[pk] for pk in offers}
    totals = [sum(column) for column in zip(*offers.values())] or [0] * (2 + len(LEAD_BUCKETS))
    scaled = lambda n: round(n * tally.scale)

    def ranked(counter: Counter) -> list[dict]:
        return [{"value": value, "count": scaled(n)} for value, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]

    categories = Counter(category for category, _ in live.values())
    facets = {
        "estimated": tally.estimated,
        "category": ranked(categories),
        "manufacturer": ranked(Counter(manufacturer for _, manufacturer in live.values())),
        "in_stock": {"offers": scaled(totals[0]), "in_stock": scaled(totals[1])},
        "lead_time": [{"max_days": days, "label": label, "count": scaled(totals[2 + i])}
                      for i, (_, label, days) in enumerate(LEAD_BUCKETS)],
        "parameters": [],
    }
    category = filters.category or (next(iter(categories)) if len(categories) == 1 else "")
    if category:
        key = category.upper()
        in_category = [pk for pk, (c, _) in live.items() if c.upper() == key]
        facets["parameters"] = _parameter_list(_parameter_counts(in_category), top=top, scale=tally.scale)
    return facets


# --- Which parts are counted ------------------------------------------------------------------------


def _tally(*, viewer, filters: SearchFilters, qty: int | None) -> Tally:
    parts = Part.objects.filter(part_filter_q(filters)).order_by()
    if connection.vendor != "postgresql":
        return Tally(parts=_rows(parts))
    if filters.vendor_id:  # a vendor's offers, through its index: usually few
        part_ids = list(search_matches(viewer=viewer, filters=filters, qty=qty).order_by()
                        .values_list("part_id", flat=True)[: EXACT_VENDOR_OFFERS + 1])
        if len(part_ids) <= EXACT_VENDOR_OFFERS:
            return Tally(parts=_rows(Part.objects.filter(pk__in=set(part_ids))))
    table_rows = _table_rows()
    if part_filter_q(filters):
        scanned, found = _pilot(parts)
        matching = found * (table_rows / scanned if scanned and table_rows else 100 / PILOT_PERCENT)
    else:
        matching = table_rows
    if matching <= 2 * EXACT_PARTS:  # few, or the planner has not counted the table yet
        few = _rows(parts, limit=EXACT_PARTS + 1)
        if len(few) <= EXACT_PARTS:
            return Tally(parts=few)
        matching = max(matching, len(few))
    percent = min(100.0 * SAMPLE_PARTS / matching, 100.0 * MAX_SAMPLED_ROWS / max(table_rows, 1.0))
    return _sample(parts, percent=percent, table_rows=table_rows)


def _rows(parts: QuerySet[Part], *, limit: int | None = None) -> dict[int, tuple[str, str]]:
    rows = parts.order_by().values_list("pk", "category", "manufacturer")
    return {pk: (category, manufacturer) for pk, category, manufacturer in (rows[:limit] if limit else rows)}


def _table_rows() -> float:
    """The part table's rows as the planner reckons them (its last count per page, times the pages
    it has now), or 0 when it has not been analysed yet."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples, relpages, pg_relation_size(oid) / current_setting('block_size')::int "
                       "FROM pg_class WHERE oid = %s::regclass", [PART_TABLE])
        reltuples, relpages, pages = cursor.fetchone()
    return reltuples / relpages * pages if reltuples > 0 and relpages > 0 else 0.0


def _sampled(qs: QuerySet, percent: float) -> tuple[str, tuple]:
    """The query's SQL over a page sample of the part table."""
    sql, params = qs.query.sql_with_params()
    table = f'FROM "{PART_TABLE}"'
    return sql.replace(table, f"{table} TABLESAMPLE SYSTEM ({percent:.4f}) REPEATABLE ({SEED})", 1), params


def _counted(parts: QuerySet[Part], percent: float) -> tuple[str, tuple]:
    """SQL for (rows read, rows that pass the part filters) in a page sample."""
    sql, params = _sampled(parts.values("pk"), percent)
    every, _ = _sampled(Part.objects.order_by().values("pk"), percent)
    return f"SELECT (SELECT COUNT(*) FROM ({every}) e), (SELECT COUNT(*) FROM ({sql}) f)", params


def _pilot(parts: QuerySet[Part]) -> tuple[int, int]:
    """(rows read, rows that pass the part filters) in a 1 % page sample."""
    with connection.cursor() as cursor:
        cursor.execute(*_counted(parts, PILOT_PERCENT))
        return cursor.fetchone()


def _sample(parts: QuerySet[Part], *, percent: float, table_rows: float) -> Tally:
    """The matching parts in a page sample of the part table, and the factor that scales counts of
    them to the whole table: its rows ÷ the rows read (a ratio estimate, steadier than 100 ÷ percent
    since the number of pages a sample draws varies)."""
    rows_sql, params = _sampled(parts.values_list("pk", "category", "manufacturer"), percent)
    every, _ = _sampled(Part.objects.order_by().values("pk"), percent)
    with connection.cursor() as cursor:  # each row also says how many rows the sample read
        cursor.execute(f"SELECT s.*, (SELECT COUNT(*) FROM ({every}) e) FROM ({rows_sql}) s", params)
        fetched = cursor.fetchall()
    rows = {pk: (category, manufacturer) for pk, category, manufacturer, _ in fetched}
    scanned = fetched[0][3] if fetched else 0
    scale = table_rows / scanned if scanned and table_rows else 100.0 / percent
    if len(rows) > 2 * SAMPLE_PARTS:  # the pilot said far fewer: count a random share of them
        keep = random.Random(SEED).sample(sorted(rows), SAMPLE_PARTS)
        scale *= len(rows) / len(keep)
        rows = {pk: rows[pk] for pk in keep}
    return Tally(parts=rows, scale=scale, estimated=True)


# --- Counting -------------------------------------------------------------------------------------------


def _offers_per_part(*, viewer, filters: SearchFilters, qty: int | None, part_ids: list[int]) -> dict[int, tuple]:
    """Per part with a matching offer: (offers, in stock at the quantity, per lead-time bucket)."""
    offer_filters = SearchFilters(vendor_id=filters.vendor_id, currency=filters.currency, in_stock=filters.in_stock,
                                  max_lead_time_days=filters.max_lead_time_days)
    stock_q = Q(stock__gte=_order_qty(qty)) if qty else Q(stock__gt=0)
    counts = {"n_offers": Count("id"), "n_in_stock": Count("id", filter=stock_q),
              **{f"n_lead_{key}": Count("id", filter=Q(lead_time_days__lte=days)) for key, _, days in LEAD_BUCKETS}}
    offers = search_matches(viewer=viewer, filters=offer_filters, qty=qty).order_by()
    out = {}
    for batch in _batches(part_ids):
        rows = offers.filter(_among(Listing, "part_id", batch)).values("part_id").annotate(**counts).values_list("part_id", *counts)
        out.update({row[0]: row[1:] for row in rows})
    return out


def _among(model, column: str, ids: list[int]):
    """`column IN ids` — on PostgreSQL as `= ANY(array)`: one parameter, planned in a fraction of the
    time a list of a thousand literals takes."""
    if connection.vendor == "postgresql":
        return RawSQL(f'"{model._meta.db_table}"."{column}" = ANY(%s)', [ids], output_field=BooleanField())
    return Q(**{f"{column}__in": ids})


def _batches(ids: list[int]):
    """The ids in lists that a query can take (SQLite limits a statement's parameters)."""
    size = len(ids) or 1 if connection.vendor == "postgresql" else (connection.features.max_query_params or 999) - 50
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _parameter_counts(part_ids: list[int]) -> dict[str, Counter]:
    """{key: Counter(value → parts)} over these parts' normalised parameters (PostgreSQL counts them
    with jsonb_each; elsewhere Python reads each part's values)."""
    counts: dict[str, Counter] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT kv.key, kv.value, COUNT(*) FROM "{PART_TABLE}" p '
                           "CROSS JOIN LATERAL jsonb_each(p.parameter_values) kv WHERE p.id = ANY(%s) GROUP BY 1, 2", [part_ids])
            for key, value, n in cursor.fetchall():
                counts.setdefault(key, Counter())[value] += n
        return counts
    for batch in _batches(part_ids):
        for values in Part.objects.filter(pk__in=batch).values_list("parameter_values", flat=True):
            for key, value in (values or {}).items():
                counts.setdefault(key, Counter())[value] += 1
    return counts


def _parameter_list(counts: dict[str, Counter], *, top: int, scale: float = 1.0) -> list[dict]:
    out = []
    for key in sorted(counts):
        bucket = counts[key]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bucket)
        ordered = sorted(bucket.items(), key=(lambda kv: kv[0]) if numeric else (lambda kv: (-kv[1], str(kv[0]))))
        quantity = QUANTITY_KEYS.get(key, "") if numeric else ""
        out.append({"key": key, "numeric": numeric, "values": [
            {"value": value, "label": format_measure(quantity, value) if numeric else str(value), "count": round(n * scale)}
            for value, n in ordered[:top]]})
    return out

