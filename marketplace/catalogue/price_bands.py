"""Per-part price summaries at standard quantities: what lets a search over a million offers find
its page on the 100k-row part table instead of the listing table (docs/search.md, "Price bands").

Quantities are cut into bands at `TIERS` (1, 2–4, 5–9, 10–24, 25–49, …, 100,000 and up). For one listing
and one band, the unit price at any quantity of the band is one of the breaks reachable from it:
the break in force at the band's smallest order quantity, and every break whose quantity lies
between that and the band's largest order quantity (order quantity = the quantity raised to the
MOQ, then to the multiple — `pricing.price_at_qty`'s rule). So the price lies between the least and
the most of those breaks. A part's summary per listing currency and band bounds its offers from
both sides:

- `best_lo` ≤ the part's cheapest offer ≤ `best_hi` (`best_hi` only from offers priced at every
  quantity of the band, so the part surely has a price there); `best_ub` is `best_hi`, or, when no
  offer is priced throughout the band, the most any priced offer can cost;
- `dear_lo` ≤ the part's dearest offer ≤ `dear_hi`;
- `ext_lo` ≤ the part's cheapest order (extended price) ÷ the quantity asked ≤ `ext_hi`: the order
  quantity is the quantity raised to the MOQ and the multiple, so per unit asked an order costs at
  least `max(1, MOQ / the band's largest quantity)` and at most `max(MOQ order, tier + multiple − 1)
  / tier` times the unit price (a reel's cheap units are dear orders at small quantities);
- `order_lo` ≤ the part's cheapest order at any quantity of the band, in money: the band's smallest
  order quantity × the least reachable break — exact for a reel whose MOQ covers the band, where
  `ext_lo` is loose by the band's width (the threshold walk reads both).

Per pack multiple too (`PartPackBand`: part, currency, band of order quantities, multiple →
`unit_lo`, `pack_lows`): at a quantity q an offer sold in multiples of m orders at least
o = ⌈q / m⌉ × m, so its extended price is at least o × the `unit_lo` of o's band — exact for the
order quantity where `ext_lo` must allow a factor of 1 for the whole band (at 108 pieces an offer
in multiples of 100 orders 200, twice what `ext_lo` × 108 says).

Pure computation here (no database); the rows are written by `PartPriceBand.objects.refresh`.
"""

from __future__ import annotations

from bisect import bisect_right
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

# 1, 2–4 and 5–9 apart: a reel's MOQ makes the extended price per unit asked vary with the quantity
# by up to the band's width, so narrow bands where buyers ask for a few units keep those bounds tight.
TIERS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000)
UNIT = Decimal("0.000001")  # a unit price's places (the bounds are rounded outward to them)
BOUND_COLUMNS = ("best_lo", "best_hi", "best_ub", "dear_lo", "dear_hi", "ext_lo", "ext_hi", "order_lo")
SUMMARY_COLUMNS = ("part_id", "currency", "category_key", "band", "offers", *BOUND_COLUMNS)  # a row, as written
PACK_COLUMNS = ("part_id", "currency", "category_key", "band", "multiple", "unit_lo")  # a `PartPackBand` row


def band_of(qty: int) -> int:
    """The band a quantity falls in (quantities below 1 count as 1)."""
    return max(bisect_right(TIERS, qty) - 1, 0)


def order_qty(qty: int, moq: int, multiple: int) -> int:
    raised = max(qty, moq)
    return -(-raised // multiple) * multiple


def listing_bands(moq: int, multiple: int, breaks: list[tuple[int, Decimal]]) -> list[tuple | None]:
    """Per band, (lo, hi, priced_throughout, ext_lo, ext_hi, order_lo) of one listing's price at the
    band's quantities — ext_* bound its extended price per unit asked (extended ÷ quantity), order_lo
    the extended price itself from below — or None when it has no price anywhere in the band.
    `breaks` sorted by quantity."""
    qtys = [q for q, _ in breaks]
    out: list[tuple | None] = []
    for i, tier in enumerate(TIERS):
        first = order_qty(tier, moq, multiple)
        last = order_qty(TIERS[i + 1] - 1, moq, multiple) if i + 1 < len(TIERS) else None
        start = bisect_right(qtys, first) - 1
        end = len(qtys) - 1 if last is None else bisect_right(qtys, last) - 1
        if end < 0:
            out.append(None)
            continue
        prices = [p for _, p in breaks[max(start, 0):end + 1]]
        lo, hi = min(prices), max(prices)
        throughout = start >= 0
        # Per unit asked: the order quantity is at least the quantity and the MOQ (so at least
        # MOQ / the band's largest quantity times it), and at most `most` times it (below the MOQ
        # the order is `first`; above it, one multiple more at worst).
        least = max(Decimal(1), Decimal(moq) / (TIERS[i + 1] - 1)) if i + 1 < len(TIERS) else Decimal(1)
        most = Decimal(max(first, tier + multiple - 1)) / tier
        ext_hi = (most * hi).quantize(UNIT, ROUND_CEILING) if throughout else None
        out.append((lo, hi, throughout, (least * lo).quantize(UNIT, ROUND_FLOOR), ext_hi, (first * lo).quantize(UNIT, ROUND_FLOOR)))
    return out


def part_bands(listings: list[tuple[int, int, list[tuple[int, Decimal]]]]) -> list[dict]:
    """One part's listings in one currency, each (moq, multiple, breaks) → per band the summary's
    bounds (`BOUND_COLUMNS`, None where no offer gives one) and `offers` (how many listings)."""
    per_listing = [listing_bands(moq, multiple, breaks) for moq, multiple, breaks in listings]
    rows = []
    for band in range(len(TIERS)):
        some = [b[band] for b in per_listing if b[band] is not None]
        throughout = [b for b in some if b[2]]
        best_hi = min((b[1] for b in throughout), default=None)
        ext_his = [b[4] for b in throughout if b[4] is not None]
        rows.append({
            "band": band,
            "offers": len(listings),
            "best_lo": min((b[0] for b in some), default=None),
            "best_hi": best_hi,
            "best_ub": best_hi if best_hi is not None else max((b[1] for b in some), default=None),
            "dear_lo": max((b[0] for b in throughout), default=None),
            "dear_hi": max((b[1] for b in some), default=None),
            "ext_lo": min((b[3] for b in some), default=None),
            "ext_hi": min(ext_his, default=None),
            "order_lo": min((b[5] for b in some), default=None),
        })
    return rows


def pack_lows(moq: int, multiple: int, breaks: list[tuple[int, Decimal]]) -> list[Decimal | None]:
    """Per band of ORDER quantities, the least break one listing reaches from an order of a
    multiple of its pack size in that band (raised to the MOQ): at a quantity q it orders at least
    ⌈q / multiple⌉ × multiple, which falls in one band, so its price there is at least that band's
    value. None where no multiple of the pack size falls in the band, or no break is reachable.
    Banded by the order quantity, not the quantity asked: at 777 pieces, in multiples of 100, the
    order is 800, and a break at 1,000 is not reachable (from the asked band 500–999 it is, by 999)."""
    qtys = [q for q, _ in breaks]
    out: list[Decimal | None] = []
    for i, tier in enumerate(TIERS):
        top = TIERS[i + 1] - 1 if i + 1 < len(TIERS) else None
        lowest = -(-tier // multiple) * multiple
        if top is not None and lowest > top:
            out.append(None)
            continue
        first = order_qty(lowest, moq, multiple)
        start = bisect_right(qtys, first) - 1
        end = len(qtys) - 1 if top is None else bisect_right(qtys, order_qty(top // multiple * multiple, moq, multiple)) - 1
        out.append(min(p for _, p in breaks[max(start, 0):end + 1]) if end >= 0 else None)
    return out


def pack_bands(listings: list[tuple[int, int, list[tuple[int, Decimal]]]]) -> list[dict]:
    """One part's listings in one currency, each (moq, multiple, breaks) → per pack multiple and
    band of order quantities where one of them reaches a break, `unit_lo` (`pack_lows`)."""
    by_multiple: dict[int, list] = {}
    for moq, multiple, breaks in listings:
        by_multiple.setdefault(multiple, []).append(pack_lows(moq, multiple, breaks))
    return [{"band": band, "multiple": multiple, "unit_lo": min(lows)}
            for multiple, per_listing in sorted(by_multiple.items()) for band in range(len(TIERS))
            if (lows := [b[band] for b in per_listing if b[band] is not None])]


def summarise(listings, breaks, *, only: set[int] | None = None) -> list[dict]:
    """Summary rows (`part_id`, `currency`, `category_key`, `band`, `offers`, bounds) from listing
    rows (id, part_id, currency, moq, multiple, category_key) and break rows (listing_id, min_qty,
    unit_price) ordered by listing and quantity; `only` keeps those parts."""
    return summarise_with_packs(listings, breaks, only=only)[0]


def summarise_with_packs(listings, breaks, *, only: set[int] | None = None) -> tuple[list[dict], list[dict]]:
    """`summarise`'s rows, and the `PartPackBand` rows (`PACK_COLUMNS`) of the same listings."""
    by_listing: dict[int, list] = {}
    for listing_id, qty, price in breaks:
        by_listing.setdefault(listing_id, []).append((qty, price))
    grouped: dict[tuple[int, str, str], list] = {}
    for listing_id, part_id, currency, moq, multiple, category_key in listings:
        if only is None or part_id in only:
            grouped.setdefault((part_id, currency, category_key), []).append((moq, multiple, by_listing.get(listing_id, [])))
    bands, packs = [], []
    for (part_id, currency, category_key), offers in sorted(grouped.items()):
        key = {"part_id": part_id, "currency": currency, "category_key": category_key}
        bands.extend({**key, **row} for row in part_bands(offers))
        packs.extend({**key, **row} for row in pack_bands(offers))
    return bands, packs
