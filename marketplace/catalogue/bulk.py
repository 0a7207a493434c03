"""Set-based writes of the stock-list import (catalogue/listings.py plans them, this writes them).

On PostgreSQL each kind of write is one statement over arrays (`INSERT … SELECT FROM unnest(…)`,
`UPDATE … FROM unnest(…)`): a chunk of 2,000 rows costs a handful of round trips and no Django model
instances, and the listings' copied search columns (see `ListingQuerySet.refresh_search_columns`)
are written with the rows instead of recomputed by a second UPDATE. Other databases (SQLite for
`make run` and the default test settings) take the ORM path: bulk_create / bulk_update, then
`refresh_search_columns` — the same result, more slowly. `tests/marketplace/services/test_stock_list_bulk.py`
checks the outcome (prices, MOQ spend, category key, history) on whichever database runs it.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection

from marketplace.catalogue.models import Listing, ListingPriceChange, Part, PriceBreak, part_search_fields

UNIT_QUANTUM = Decimal("0.000001")  # the price columns' scale: history shows prices as the database holds them
LISTING_VALUES = ("stock", "moq", "multiple", "lead_time_days", "currency", "condition", "date_code", "location")


@dataclass
class ListingWrite:
    part_id: int
    values: dict  # every LISTING_VALUES column, final
    breaks: list  # [(min_qty, Decimal)], final
    listing_id: int | None = None  # None: a new listing
    breaks_changed: bool = True
    history: bool = True  # a price-history snapshot (new listing, breaks or currency changed)


@dataclass
class ChunkWrites:
    creates: list[ListingWrite] = field(default_factory=list)
    updates: list[ListingWrite] = field(default_factory=list)


def listing_price_history_record(listing_ids: list[int]) -> None:
    """Snapshot these listings' current breaks into the price history (one query to read, one to write)."""
    if not listing_ids:
        return
    snapshots: dict[int, list] = {}
    for listing_id, min_qty, unit_price in (PriceBreak.objects.filter(listing_id__in=listing_ids)
                                            .order_by("listing_id", "min_qty").values_list("listing_id", "min_qty", "unit_price")):
        snapshots.setdefault(listing_id, []).append([min_qty, str(unit_price)])
    ListingPriceChange.objects.bulk_create([
        ListingPriceChange(listing_id=pk, part_id=part_id, currency=currency, price_breaks=snapshots.get(pk, []))
        for pk, part_id, currency in Listing.objects.filter(pk__in=listing_ids).values_list("pk", "part_id", "currency")
    ])


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def parts_insert(rows: list[dict], *, now: datetime) -> None:
    """Insert parts that may already exist (another writer, a case variant): conflicts are skipped;
    the caller reads the parts back."""
    if not _postgresql():
        parts = []
        for row in rows:
            part = Part(manufacturer=row["manufacturer"], mpn=row["mpn"], category=row["category"], description=row["description"])
            part_search_fields(part)  # bulk inserts skip save()
            parts.append(part)
        Part.objects.bulk_create(parts, batch_size=1000, ignore_conflicts=True)
        return
    parts = []
    for row in rows:  # plain objects: no model instances (and their signals) for thousands of rows
        part = SimpleNamespace(manufacturer=row["manufacturer"], mpn=row["mpn"], category=row["category"],
                               description=row["description"], parameters={})
        part_search_fields(part)
        parts.append(part)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO marketplace_part (manufacturer, mpn, mpn_normalized, category, description, parameters, "
            "parameter_values, search_text, lifecycle, created_at) "
            "SELECT v.manufacturer, v.mpn, v.mpn_normalized, v.category, v.description, '{}'::jsonb, v.parameter_values::jsonb, "
            "v.search_text, %s, %s "
            "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) "
            "AS v(manufacturer, mpn, mpn_normalized, category, description, parameter_values, search_text) "
            "ON CONFLICT DO NOTHING",
            [Part.Lifecycle.ACTIVE, now,
             [p.manufacturer for p in parts], [p.mpn for p in parts], [p.mpn_normalized for p in parts],
             [p.category for p in parts], [p.description for p in parts],
             [json.dumps(p.parameter_values) for p in parts], [p.search_text for p in parts]])


def _search_columns(write: ListingWrite) -> tuple[Decimal, Decimal, int, Decimal]:
    """min and max unit price, first break quantity, MOQ × cheapest price (refresh_search_columns)."""
    prices = [price for _, price in write.breaks]
    cheapest = min(prices)
    return cheapest, max(prices), min(qty for qty, _ in write.breaks), write.values["moq"] * cheapest


def listings_write(*, vendor_id: int, writes: ChunkWrites, now: datetime) -> None:
    """Insert the new listings and update the changed ones, their price breaks, search columns and
    price history. Runs in the caller's transaction, with the listings locked by the caller."""
    if _postgresql():
        _write_postgresql(vendor_id, writes, now)
    else:
        _write_orm(vendor_id, writes, now)


def _columns(writes: list[ListingWrite]) -> list[list]:
    search = [_search_columns(w) for w in writes]
    return [*([w.values[name] for w in writes] for name in LISTING_VALUES),
            [str(s[0]) for s in search], [str(s[1]) for s in search], [s[2] for s in search], [str(s[3]) for s in search]]


_VALUE_TYPES = ("int[]", "int[]", "int[]", "int[]", "text[]", "text[]", "text[]", "text[]",
                "text[]::numeric[]", "text[]::numeric[]", "int[]", "text[]::numeric[]")
_VALUE_NAMES = (*LISTING_VALUES, "min_unit_price", "max_unit_price", "first_break_qty", "min_spend")


def _unnest(extra: tuple[tuple[str, str], ...] = ()) -> str:
    types = [t for _, t in extra] + list(_VALUE_TYPES)
    names = [n for n, _ in extra] + list(_VALUE_NAMES)
    return f"unnest({', '.join(f'%s::{t}' for t in types)}) AS v({', '.join(names)})"


def _write_postgresql(vendor_id: int, writes: ChunkWrites, now: datetime) -> None:
    with connection.cursor() as cursor:
        if writes.updates:
            cursor.execute(
                "UPDATE marketplace_listing AS l SET "
                + ", ".join(f"{name} = v.{name}" for name in _VALUE_NAMES)
                + ", is_active = true, updated_at = %s FROM " + _unnest((("id", "bigint[]"),)) + " WHERE l.id = v.id",
                [now, [w.listing_id for w in writes.updates], *_columns(writes.updates)])
        if writes.creates:
            cursor.execute(
                "INSERT INTO marketplace_listing (vendor_id, part_id, " + ", ".join(_VALUE_NAMES)
                + ", is_active, created_at, updated_at, category_key, vendor_verified) "
                "SELECT %s, v.part_id, " + ", ".join(f"v.{name}" for name in _VALUE_NAMES)
                + ", true, %s, %s, COALESCE((SELECT UPPER(p.category) FROM marketplace_part p WHERE p.id = v.part_id), ''), "
                "(SELECT o.verified FROM marketplace_organization o WHERE o.id = %s) "
                "FROM " + _unnest((("part_id", "bigint[]"),)) + " RETURNING id, part_id",
                [vendor_id, now, now, vendor_id, [w.part_id for w in writes.creates], *_columns(writes.creates)])
            ids = dict((part_id, pk) for pk, part_id in cursor.fetchall())
            for write in writes.creates:
                write.listing_id = ids[write.part_id]
        replaced = [w for w in writes.updates if w.breaks_changed]
        if replaced:
            cursor.execute("DELETE FROM marketplace_pricebreak WHERE listing_id = ANY(%s::bigint[])",
                           [[w.listing_id for w in replaced]])
        new_breaks = [(w.listing_id, qty, price) for w in (*writes.creates, *replaced) for qty, price in w.breaks]
        if new_breaks:
            cursor.execute(
                "INSERT INTO marketplace_pricebreak (listing_id, min_qty, unit_price) "
                "SELECT * FROM unnest(%s::bigint[], %s::int[], %s::text[]::numeric[])",
                [[b[0] for b in new_breaks], [b[1] for b in new_breaks], [str(b[2]) for b in new_breaks]])
        history = [w for w in (*writes.creates, *writes.updates) if w.history]
        if history:
            cursor.execute(
                "INSERT INTO marketplace_listingpricechange (listing_id, part_id, currency, price_breaks, created_at) "
                "SELECT v.listing_id, v.part_id, v.currency, v.price_breaks::jsonb, %s "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) AS v(listing_id, part_id, currency, price_breaks)",
                [now, [w.listing_id for w in history], [w.part_id for w in history], [w.values["currency"] for w in history],
                 [json.dumps([[qty, str(price.quantize(UNIT_QUANTUM))] for qty, price in w.breaks]) for w in history]])


def _write_orm(vendor_id: int, writes: ChunkWrites, now: datetime) -> None:
    if writes.updates:
        listings = [Listing(pk=w.listing_id, is_active=True, updated_at=now, **w.values) for w in writes.updates]
        Listing.objects.bulk_update(listings, [*LISTING_VALUES, "is_active", "updated_at"], batch_size=500)
    if writes.creates:
        created = Listing.objects.bulk_create(
            [Listing(vendor_id=vendor_id, part_id=w.part_id, is_active=True, **w.values) for w in writes.creates], batch_size=1000)
        for write, listing in zip(writes.creates, created):
            write.listing_id = listing.pk
    replaced = [w for w in writes.updates if w.breaks_changed]
    if replaced:
        PriceBreak.objects.filter(listing_id__in=[w.listing_id for w in replaced]).delete()
    PriceBreak.objects.bulk_create(
        [PriceBreak(listing_id=w.listing_id, min_qty=qty, unit_price=price) for w in (*writes.creates, *replaced)
         for qty, price in w.breaks], batch_size=2000)
    touched = [w.listing_id for w in (*writes.creates, *writes.updates)]
    if touched:
        Listing.objects.filter(pk__in=sorted(touched)).refresh_search_columns()
    listing_price_history_record(sorted(w.listing_id for w in (*writes.creates, *writes.updates) if w.history))

