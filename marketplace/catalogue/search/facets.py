"""Search facets: how many matching parts per category, manufacturer and parameter value, and how
many matching offers are in stock or ship within a lead time — at market scale without counting a
million offers (docs/search.md, "Facets").

Every count comes from one set of parts and their matching offers:

- **Few matching parts** (at most `EXACT_PARTS`; a vendor's offers read through its own index):
  all of them. Exact.
- **Many** (PostgreSQL): a page sample of the part table (`TABLESAMPLE SYSTEM … REPEATABLE`) sized
  for about `SAMPLE_PARTS` matching parts, reading at most `MAX_SAMPLED_ROWS` rows, their offers
  counted for one part in `OFFER_SHARE`; counts are scaled by the table's rows over the rows the
  sample read, and `estimated` is true (a category or maker it met only a few times is counted
  exactly). A 1 % pilot sample tells the two apart and sizes the second.

A part counts when it passes the part filters (words, MPN, category, maker, parameters) and has an
offer the viewer sees that passes the offer filters (vendor, currency, in stock, lead time); offers
count when they pass both. On PostgreSQL one statement counts everything over the set of parts;
SQLite (tests, `make run`) has no TABLESAMPLE and counts exactly, in a few queries.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Count, Exists, OuterRef, Q, QuerySet
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
MAX_SAMPLED_ROWS = 4000  # part rows a sample reads at most …
MAX_SAMPLED_ROWS_WORDS = 3000  # … with words (testing a keyword's LIKEs costs ~2 µs a row)
OFFER_SHARE = 4  # a sample's offers are counted over one part in this many (a power of two)
RARE_IN_SAMPLE = 5  # a category or maker the sample met at most this often is counted exactly
EXACT_VENDOR_OFFERS = 15_000  # a vendor's matching offers read through its index, at most
PILOT_PERCENT = 1
SEED = 7  # REPEATABLE: the same pages each time, so the estimates do not change between requests
PART_TABLE = Part._meta.db_table


@dataclass
class Counts:
    """What a set of parts holds: its parts with a matching offer per (category, manufacturer), the
    matching offers' totals, and (for one category) the parameter values of those parts."""
    parts: Counter = field(default_factory=Counter)  # (category, manufacturer) → parts
    offers: list[int] = field(default_factory=lambda: [0] * (2 + len(LEAD_BUCKETS)))  # all, in stock, per bucket
    parameters: dict[str, Counter] = field(default_factory=dict)  # key → value → parts
    matched: int = 0  # parts in the set (before the offer filters)
    scanned: int = 0  # rows the page sample read (sampled sets only)
    counted: int = 0  # parts whose offers were counted, when only a share of a sample's were


def search_facets(*, viewer: Organization | None, filters: SearchFilters, qty: int | None = None, top: int = 25) -> dict:
    """Facet values with counts of matching parts (category, manufacturer, parameters) and offers
    (in stock, lead time). Parameters are listed for one category (the filter's, or the only one
    that matches). Over many matching parts the counts are scaled from a sample: `estimated`."""

    counts, scale, estimated = _count(viewer=viewer, filters=filters, qty=qty)
    scaled = lambda n: round(n * scale)

    categories, manufacturers = Counter(), Counter()
    for (category, manufacturer), n in counts.parts.items():
        categories[category] += n
        manufacturers[manufacturer] += n

    def ranked(name: str, counter: Counter) -> list[dict]:
        final = {value: scaled(n) for value, n in counter.items()}
        if estimated:  # a value the sample met a few times: its parts counted exactly (an index finds them)
            rare = [value for value, n in counter.items() if n <= RARE_IN_SAMPLE]
            final.update(_exact_part_counts(name, rare, viewer=viewer, filters=filters, qty=qty))
        return [{"value": value, "count": n} for value, n in sorted(final.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]

    return {
        "estimated": estimated,
        "category": ranked("category", categories),
        "manufacturer": ranked("manufacturer", manufacturers),
        "in_stock": {"offers": scaled(counts.offers[0]), "in_stock": scaled(counts.offers[1])},
        "lead_time": [{"max_days": days, "label": label, "count": scaled(counts.offers[2 + i])}
                      for i, (_, label, days) in enumerate(LEAD_BUCKETS)],
        "parameters": _parameter_list(counts.parameters, top=top, scale=scale),
    }


def _exact_part_counts(field: str, values: list[str], *, viewer, filters: SearchFilters, qty: int | None) -> dict[str, int]:
    """{value: matching parts with a matching offer} for a few categories or makers (both indexed)."""
    if not values:
        return {}
    offers = _offers(viewer=viewer, filters=filters, qty=qty).filter(part_id=OuterRef("pk"))
    parts = Part.objects.filter(part_filter_q(filters), Exists(offers), **{f"{field}__in": values}).order_by()
    return dict(parts.values_list(field).annotate(n=Count("pk")))


def _count(*, viewer, filters: SearchFilters, qty: int | None) -> tuple[Counts, float, bool]:
    """The counts, the factor that scales them to the whole market, and whether that is an estimate."""
    def count(parts, limit=None):
        return _counts(parts, limit=limit, viewer=viewer, filters=filters, qty=qty)

    matching_parts = Part.objects.filter(part_filter_q(filters)).order_by()
    if connection.vendor != "postgresql":
        return count(matching_parts), 1, False
    if filters.vendor_id:  # a vendor's offers, through its index: usually few
        part_ids = list(search_matches(viewer=viewer, filters=filters, qty=qty).order_by()
                        .values_list("part_id", flat=True)[: EXACT_VENDOR_OFFERS + 1])
        if len(part_ids) <= EXACT_VENDOR_OFFERS:
            return count(Part.objects.filter(_among(Part, "id", sorted(set(part_ids))))), 1, False
    table_rows = _table_rows()
    if part_filter_q(filters):
        scanned, found = _pilot(matching_parts)
        matching = found * (table_rows / scanned if scanned and table_rows else 100 / PILOT_PERCENT)
    else:
        matching = table_rows
    if matching <= 2 * EXACT_PARTS:  # few (or the planner has not counted the table yet): all of them
        counts = count(matching_parts, limit=EXACT_PARTS + 1)
        if counts.matched <= EXACT_PARTS:
            return counts, 1, False
        matching = max(matching, counts.matched)
    max_rows = MAX_SAMPLED_ROWS_WORDS if filters.q else MAX_SAMPLED_ROWS
    percent = min(100.0, 100.0 * SAMPLE_PARTS / matching, 100.0 * max_rows / max(table_rows, matching))
    counts = count(_Sample(matching_parts, percent))
    # A ratio estimate: the table's rows over the rows read (steadier than 100 ÷ percent, since the
    # number of pages a sample draws varies).
    scale = table_rows / counts.scanned if counts.scanned and table_rows else 100.0 / percent
    return counts, scale, True


# --- The set of parts -----------------------------------------------------------------------------------


@dataclass
class _Sample:
    """The parts of a queryset that lie in a page sample of the part table (PostgreSQL)."""
    parts: QuerySet[Part]
    percent: float

    def sql(self, qs: QuerySet) -> tuple[str, tuple]:
        sql, params = qs.query.sql_with_params()
        table = f'FROM "{PART_TABLE}"'
        return sql.replace(table, f"{table} TABLESAMPLE SYSTEM ({self.percent:.4f}) REPEATABLE ({SEED})", 1), params


def _table_rows() -> float:
    """The part table's rows as the planner reckons them (its last count per page, times the pages
    it has now), or 0 when it has not been analysed yet."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples, relpages, pg_relation_size(oid) / current_setting('block_size')::int "
                       "FROM pg_class WHERE oid = %s::regclass", [PART_TABLE])
        reltuples, relpages, pages = cursor.fetchone()
    return reltuples / relpages * pages if reltuples > 0 and relpages > 0 else 0.0


def _pilot(parts: QuerySet[Part]) -> tuple[int, int]:
    """(rows read, rows that pass the part filters) in a 1 % page sample."""
    sample = _Sample(parts, PILOT_PERCENT)
    found, params = sample.sql(parts.values("pk"))
    every, _ = sample.sql(Part.objects.order_by().values("pk"))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT COUNT(*) FROM ({every}) e), (SELECT COUNT(*) FROM ({found}) f)", params)
        return cursor.fetchone()


# --- Counting -------------------------------------------------------------------------------------------


def _offer_counts(qty: int | None) -> dict:
    stock_q = Q(stock__gte=_order_qty(qty)) if qty else Q(stock__gt=0)
    return {"n_offers": Count("id"), "n_in_stock": Count("id", filter=stock_q),
            **{f"n_lead_{key}": Count("id", filter=Q(lead_time_days__lte=days)) for key, _, days in LEAD_BUCKETS}}


def _offers(*, viewer, filters: SearchFilters, qty: int | None) -> QuerySet[Listing]:
    """The offers the viewer sees that pass the offer filters (the part filters are the parts')."""
    return search_matches(viewer=viewer, qty=qty, filters=SearchFilters(
        vendor_id=filters.vendor_id, currency=filters.currency, in_stock=filters.in_stock,
        max_lead_time_days=filters.max_lead_time_days)).order_by()


def _counts(parts: QuerySet[Part] | _Sample, *, limit: int | None = None, viewer, filters: SearchFilters,
            qty: int | None) -> Counts:
    """Counts over the parts (the first `limit` of them)."""
    if connection.vendor == "postgresql":
        return _counts_in_sql(parts, limit=limit, viewer=viewer, filters=filters, qty=qty)
    return _counts_in_python(parts, viewer=viewer, filters=filters, qty=qty)


def _counts_in_sql(parts: QuerySet[Part] | _Sample, *, limit: int | None, viewer, filters: SearchFilters,
                   qty: int | None) -> Counts:
    """One statement (PostgreSQL): the set's parts (s), their matching offers counted per part (o),
    then per (category, manufacturer), the offers' totals, and the parameter values of the one
    category's parts — read from the rows already fetched."""
    columns = ("pk", "category", "manufacturer", "parameter_values")
    if isinstance(parts, _Sample):
        parts_sql, parts_params = parts.sql(parts.parts.values_list(*columns))
        every, _ = parts.sql(Part.objects.order_by().values("pk"))
        scanned = f"UNION ALL SELECT 'scanned', NULL, NULL, NULL, NULL, COUNT(*) FROM ({every}) e"
    else:
        parts_sql, parts_params = parts.values_list(*columns)[:limit].query.sql_with_params()
        scanned = ""
    counts = _offer_counts(qty)
    offers = _offers(viewer=viewer, filters=filters, qty=qty)
    listing = f'"{Listing._meta.db_table}"'
    # A sample's offers are counted over a share of its parts (a hash of the id picks them: every
    # matching offer of a part is read, ~10 a part); whether a part has one, for all of them (the
    # first matching offer answers).
    share = OFFER_SHARE if isinstance(parts, _Sample) else 1
    counted_parts = f"SELECT id FROM s WHERE (hashint8(id) & {share - 1}) = 0" if share > 1 else "SELECT id FROM s"
    in_set = RawSQL(f"{listing}.part_id IN ({counted_parts})", [], output_field=BooleanField())
    offers_sql, offers_params = (offers.filter(in_set).values("part_id").annotate(**counts)
                                 .values_list("part_id", *counts).query.sql_with_params())
    if share > 1:
        has_sql, has_params = (offers.filter(RawSQL(f"{listing}.part_id = s.id", [], output_field=BooleanField()))
                               .values("pk").query.sql_with_params())
        live = f"SELECT s.category, s.manufacturer, s.parameter_values FROM s WHERE EXISTS ({has_sql})"
        counted = f"UNION ALL SELECT 'counted', NULL, NULL, NULL, NULL, COUNT(*) FROM ({counted_parts}) c"
    else:
        has_params, live, counted = (), "SELECT s.category, s.manufacturer, s.parameter_values FROM s JOIN o ON o.part_id = s.id", ""
    if filters.category:
        one_category, category_params = "UPPER(live.category) = UPPER(%s)", [filters.category]
    else:
        one_category, category_params = "(SELECT COUNT(DISTINCT category) FROM live) = 1", []
    sums = ", ".join(f"COALESCE(SUM(o.{name}), 0)" for name in counts)
    sql = f"""
        WITH s (id, category, manufacturer, parameter_values) AS MATERIALIZED ({parts_sql}),
        o (part_id, {", ".join(counts)}) AS MATERIALIZED ({offers_sql}),
        live AS MATERIALIZED ({live})
        SELECT 'part', category, manufacturer, NULL, NULL::jsonb, COUNT(*) FROM live GROUP BY category, manufacturer
        UNION ALL
        SELECT 'parameter', NULL, NULL, kv.key, kv.value, COUNT(*)
        FROM live CROSS JOIN LATERAL jsonb_each(live.parameter_values) kv
        WHERE jsonb_typeof(live.parameter_values) = 'object' AND {one_category} GROUP BY kv.key, kv.value
        UNION ALL
        SELECT 'offers', NULL, NULL, NULL, jsonb_build_array({sums}), COUNT(*) FROM o
        UNION ALL
        SELECT 'matched', NULL, NULL, NULL, NULL, COUNT(*) FROM s
        {scanned} {counted}"""
    params = [*parts_params, *offers_params, *has_params, *category_params]
    out = Counts()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, category, manufacturer, key, value, n in cursor.fetchall():
            if kind == "part":
                out.parts[(category, manufacturer)] = n
            elif kind == "parameter":  # Django reads jsonb as its text
                out.parameters.setdefault(key, Counter())[json.loads(value)] += n
            elif kind == "offers":
                out.offers = [int(v) for v in json.loads(value)]
            else:
                setattr(out, kind, n)
    if share > 1 and out.counted:  # the offers of a share of the parts: scaled to all of them
        out.offers = [total * out.matched / out.counted for total in out.offers]
    return out


def _counts_in_python(parts: QuerySet[Part], *, viewer, filters: SearchFilters, qty: int | None) -> Counts:
    """The same counts in a few queries (SQLite): the offers per part, then the parts."""
    counts = _offer_counts(qty)
    per_part = {row[0]: row[1:] for row in (_offers(viewer=viewer, filters=filters, qty=qty)
                                            .filter(part_id__in=parts.values("pk"))
                                            .values("part_id").annotate(**counts).values_list("part_id", *counts))}
    out = Counts(offers=[sum(column) for column in zip(*per_part.values())] or Counts().offers)
    live = {pk: (category, manufacturer) for pk, category, manufacturer
            in parts.values_list("pk", "category", "manufacturer") if pk in per_part}
    out.parts.update(live.values())
    out.matched = parts.count()
    categories = {category for category, _ in live.values()}
    category = filters.category or (next(iter(categories)) if len(categories) == 1 else "")
    if category:
        in_category = parts.filter(category__iexact=category, pk__in=_offers(viewer=viewer, filters=filters, qty=qty).values("part_id"))
        for values in in_category.values_list("parameter_values", flat=True):
            for key, value in (values or {}).items():
                out.parameters.setdefault(key, Counter())[value] += 1
    return out


def _among(model, column: str, ids: list[int]):
    """`column IN ids` — on PostgreSQL as `= ANY(array)`: one parameter, planned in a fraction of the
    time a list of a thousand literals takes."""
    if connection.vendor == "postgresql":
        return RawSQL(f'"{model._meta.db_table}"."{column}" = ANY(%s)', [ids], output_field=BooleanField())
    return Q(**{f"{column}__in": ids})


def _parameter_list(counts: dict[str, Counter], *, top: int, scale: float = 1.0) -> list[dict]:
    """[{"key", "numeric", "values": [{"value", "label", "count"}]}]: each normalised parameter, its
    values by count (numbers ordered by size, labelled with their unit)."""
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
