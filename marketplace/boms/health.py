"""BOM health and suggested alternates (reads only; the writes are in boms/watch.py).

Health, per populated line with a part, at a batch size: lifecycle (EOL/obsolete/NRND), how many
vendors can fill the line alone, stock ÷ need, single-vendor concentration, the shortest lead time
among those who can fill it, and the price move of the cheapest offer over the price history. Each
line gets a risk 0–100 (0 = nothing to worry about) with its reasons; the BOM's score is
100 − (the worst line's risk + the mean risk) ÷ 2, so one unfillable line drags the BOM down
without hiding how the rest look.

Alternates, for lines that are unmatched, short or end-of-life: parts meeting the line by the same
dominance rules as parametric matching (same value and package, voltage ≥, tolerance ≤,
dielectric as good or better — taken from the line's text or, for a matched part, from the part's
own parameters), priced at the batch size, with what each saves against the line's part.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from credit.fx import rate_table
from marketplace.boms.models import Bom, BomItem
from marketplace.boms.parametric import DIELECTRIC_RANK, Wanted, _meets, parts_meeting, wanted_from
from marketplace.catalogue.models import Listing, ListingPriceChange, Part, PriceBreak

LIFECYCLE_RISK = {"obsolete": 60, "eol": 50, "nrnd": 25}
PRICE_JUMP = Decimal("0.25")  # a rise of a quarter or more over the window is a risk (and an alert)
PRICE_WINDOW = timedelta(days=90)


def _offers(part_ids: set[int], currency: str) -> dict[int, list[dict]]:
    """part -> its public, active listings with stock: vendor, stock, lead time, breaks in `currency`."""
    rates = rate_table(currency)
    heads = {lid: dict(part=p, vendor=v, stock=s, lead=lt, currency=c) for lid, p, v, s, lt, c in
             Listing.objects.filter(part_id__in=part_ids, is_active=True, reserved_for__isnull=True, stock__gt=0)
             .values_list("id", "part_id", "vendor_id", "stock", "lead_time_days", "currency")}
    breaks: dict[int, list] = defaultdict(list)
    for lid, q, price in PriceBreak.objects.filter(listing_id__in=list(heads)).order_by("listing_id", "min_qty") \
            .values_list("listing_id", "min_qty", "unit_price"):
        breaks[lid].append((q, price))
    out: dict[int, list[dict]] = defaultdict(list)
    for lid, head in heads.items():
        if head["currency"] in rates and breaks[lid]:
            rate = rates[head["currency"]]
            out[head["part"]].append({**head, "breaks": [(q, p * rate) for q, p in breaks[lid]]})
    return out


def unit_price(offer: dict, need: int) -> Decimal:
    fitting = [p for q, p in offer["breaks"] if q <= need] or [offer["breaks"][0][1]]
    return fitting[-1]


def _price_moves(part_ids: set[int], currency: str) -> dict[int, Decimal]:
    """part -> relative move of its cheapest first-break price over the window (0.3 = +30 %)."""
    rates = rate_table(currency)
    since = timezone.now() - PRICE_WINDOW
    first: dict[int, dict[int, Decimal]] = defaultdict(dict)  # part -> listing -> oldest price in window
    last: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for part, listing, cur, breaks in ListingPriceChange.objects.filter(part_id__in=part_ids, created_at__gte=since) \
            .order_by("created_at", "id").values_list("part_id", "listing_id", "currency", "price_breaks"):
        if not breaks or cur not in rates:
            continue
        price = Decimal(str(breaks[0][1])) * rates[cur]
        first[part].setdefault(listing, price)
        last[part][listing] = price
    moves = {}
    for part in last:
        before, now = min(first[part].values()), min(last[part].values())
        if before > 0:
            moves[part] = (now - before) / before
    return moves


def line_health(items: list[dict], quantity: int, currency: str) -> list[dict]:
    """items: {line, part_id, quantity, lifecycle} -> each with risk, reasons and the figures."""
    part_ids = {i["part_id"] for i in items if i["part_id"]}
    offers = _offers(part_ids, currency)
    moves = _price_moves(part_ids, currency)
    out = []
    for item in items:
        need = max(1, math.ceil(item["quantity"] * quantity))
        part_offers = offers.get(item["part_id"], [])
        fill = [o for o in part_offers if o["stock"] >= need]
        stock = sum(o["stock"] for o in part_offers)
        vendors = {o["vendor"] for o in part_offers}
        risk, reasons = 0, []
        if life := LIFECYCLE_RISK.get(item["lifecycle"]):
            risk += life
            reasons.append({"obsolete": "obsolete", "eol": "end of life", "nrnd": "not for new designs"}[item["lifecycle"]])
        if stock < need:
            risk += 60
            reasons.append(f"the market holds {stock:,} of the {need:,} needed")
        elif not fill:
            risk += 30
            reasons.append("no single vendor can fill it")
        elif len(vendors) == 1:
            risk += 20
            reasons.append("one vendor holds all the stock")
        elif stock < 3 * need:
            risk += 10
            reasons.append(f"stock is under three times the need ({stock:,} for {need:,})")
        lead = min((o["lead"] for o in fill), default=None)
        if lead is not None and lead > 28:
            risk += 10
            reasons.append(f"{lead} days' lead time")
        move = moves.get(item["part_id"])
        if move is not None and move >= PRICE_JUMP:
            risk += 15
            reasons.append(f"price up {move:.0%} in {PRICE_WINDOW.days} days")
        best = min((unit_price(o, need) for o in fill), default=None)
        out.append({"line": item["line"], "part": item["part_id"], "need": need, "stock": stock,
                    "vendors": len(vendors), "vendors_able_to_fill": len({o["vendor"] for o in fill}),
                    "lead_time_days": lead, "unit_price": None if best is None else best.quantize(Decimal("0.000001")),
                    "price_move": None if move is None else move.quantize(Decimal("0.001")),
                    "lifecycle": item["lifecycle"], "risk": min(risk, 100), "reasons": reasons})
    return out


def bom_health(*, bom: Bom, quantity: int = 1, currency: str | None = None) -> dict:
    currency = currency or settings.KITSTREET_DEFAULT_CURRENCY
    items = list(BomItem.objects.filter(bom=bom, dnp=False, not_a_part="").order_by("line")
                 .values("line", "part_id", "quantity", "part__lifecycle"))
    matched = [{**i, "lifecycle": i["part__lifecycle"]} for i in items if i["part_id"]]
    lines = line_health(matched, quantity, currency)
    unmatched = [i["line"] for i in items if not i["part_id"]]
    risks = [l["risk"] for l in lines] + [100] * len(unmatched)
    score = 100 if not risks else round(100 - (max(risks) + sum(risks) / len(risks)) / 2)
    return {"bom": bom.pk, "quantity": quantity, "currency": currency, "score": max(0, score),
            "lines": lines, "unmatched_lines": unmatched}


# --- Alternates -----------------------------------------------------------------------------------


def _wanted_for(item: dict, part_params: dict | None) -> Wanted | None:
    wanted = wanted_from(designators=[d for d in item["designators"].split(",") if d], value=item["value"],
                         footprint=item["footprint"], description=item["description"])
    if wanted is None and part_params:  # a matched passive: its own parameters are the requirement
        for quantity in ("capacitance", "resistance", "inductance"):
            if isinstance(part_params.get(quantity), (int, float)) and part_params.get("package"):
                wanted = Wanted(quantity, part_params[quantity], str(part_params["package"]))
                if isinstance(part_params.get("voltage"), (int, float)):
                    wanted.voltage = part_params["voltage"]
                if str(part_params.get("dielectric", "")).lower() in DIELECTRIC_RANK:
                    wanted.dielectric = str(part_params["dielectric"]).lower()
                break
    return wanted


def bom_alternates(*, bom: Bom, quantity: int = 1, currency: str | None = None, lines: list[int] | None = None) -> list[dict]:
    """Suggested alternates for the lines that need one (unmatched, short at `quantity`, or the
    part is EOL/obsolete/NRND), each priced at the batch with its saving; cheapest first."""
    currency = currency or settings.KITSTREET_DEFAULT_CURRENCY
    qs = BomItem.objects.filter(bom=bom, dnp=False, not_a_part="")
    if lines:
        qs = qs.filter(line__in=lines)
    items = list(qs.order_by("line").values("line", "part_id", "quantity", "designators", "value", "footprint",
                                            "description", "part__lifecycle", "part__parameter_values"))
    health = {h["line"]: h for h in line_health(
        [{**i, "lifecycle": i["part__lifecycle"]} for i in items if i["part_id"]], quantity, currency)}
    needing, wanted = [], []
    for item in items:
        h = health.get(item["line"])
        why = "unmatched" if not item["part_id"] else (
            "end of life" if item["part__lifecycle"] in LIFECYCLE_RISK else
            "short" if h and h["vendors_able_to_fill"] == 0 else "")
        if not why:
            continue
        if (w := _wanted_for(item, item["part__parameter_values"])) is not None:
            needing.append((item, why, h))
            wanted.append(w)
    by_key = parts_meeting(wanted)
    candidate_ids = {pk for w in wanted for pk, *_ in by_key[w.key()]}
    offers = _offers(candidate_ids | {i["part_id"] for i, _, _ in needing if i["part_id"]}, currency)
    out = []
    for (item, why, h), w in zip(needing, wanted):
        need = max(1, math.ceil(item["quantity"] * quantity))
        # what the line's part costs now (its cheapest offer, even one too small to fill the batch)
        current = min((unit_price(o, need) for o in offers.get(item["part_id"], [])), default=None)
        options = []
        for pk, maker, mpn, params, life in by_key[w.key()]:
            if pk == item["part_id"] or life in ("eol", "obsolete") or not _meets(w, params)[0]:
                continue
            fill = [o for o in offers.get(pk, []) if o["stock"] >= need]
            if not fill:
                continue
            price = min(unit_price(o, need) for o in fill)
            saves = None if current is None else ((current - price) * need).quantize(Decimal("0.01"))
            options.append({"part": pk, "manufacturer": maker, "mpn": mpn,
                            "unit_price": price.quantize(Decimal("0.000001")), "vendors": len({o["vendor"] for o in fill}),
                            "stock": sum(o["stock"] for o in fill), "saves": saves})
        options.sort(key=lambda o: (o["unit_price"], o["mpn"]))
        out.append({"line": item["line"], "why": why, "need": need, "wants": w.describe(), "currency": currency,
                    "current_unit_price": None if current is None else current.quantize(Decimal("0.000001")),
                    "alternates": options[:5]})
    return out


def part_lifecycles(part_ids: set[int]) -> dict[int, str]:
    return dict(Part.objects.filter(pk__in=part_ids).values_list("pk", "lifecycle"))
