"""Buyer BOMs: upload (read, map, merge, match), review a line, materialise as a private kit, quote.

The kit is the BOM's bridge to everything else: `bom_kit_sync` writes the matched, populated lines
as a private kit owned by the buyer (a new revision when the previous one was quoted, like any
kit), so quotes, orders and trials use the same code as published kits."""

from __future__ import annotations

import inspect
import json
import math
from collections import defaultdict
from decimal import Decimal
from pathlib import PurePath

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Q

from marketplace.boms.matching import (
    catalogue_hit_ratio,
    known_manufacturer_keys,
    match_lines,
)
from marketplace.boms.models import Bom, BomItem, MatchStatus
from marketplace.boms.reader import (
    MAX_QUANTITY,
    QUANTUM,
    ReadBom,
    bom_read,
    parse_designators,
)
from marketplace.catalogue.models import Part
from marketplace.exceptions import BomLineInvalid
from marketplace.kits.models import BomLine, Kit
from marketplace.kits.services import kit_create, kit_update
from marketplace.sourcing.models import Quote
from marketplace.sourcing.quotes import quote_create
from organizations.models import Organization

MAX_LINE_QUANTITY = MAX_QUANTITY
_UNSET = object()


def bom_read_file(*, content: bytes, filename: str = "", columns: dict | None = None,
                  owner: Organization | None = None) -> ReadBom:
    """Read and map without saving (the upload page's preview uses the same rules). A mapping the
    owner chose for an earlier file with the same columns is used again."""
    remembered = []
    if owner is not None and not columns:
        remembered = list(Bom.objects.filter(owner=owner, columns_chosen=True).order_by("-created_at")
                          .values_list("columns", flat=True)[:20])
    return bom_read(content, filename=filename, columns=columns, known_manufacturers=known_manufacturer_keys,
                    known_mpns=catalogue_hit_ratio, remembered=remembered)


@transaction.atomic
def bom_upload(*, owner: Organization, content: bytes, filename: str = "", name: str = "",
               columns: dict | None = None, created_by: AbstractBaseUser | None = None) -> Bom:
    """Read an EDA export, match every line, save the BOM. Any unreadable row: BomInvalid naming
    row and column, nothing saved."""
    read = bom_read_file(content=content, filename=filename, columns=columns, owner=owner)
    matches = match_lines([(line.manufacturer, line.mpn, line.alternates) for line in read.lines])
    bom = Bom.objects.create(
        owner=owner, created_by=created_by, name=(name.strip() or PurePath(filename).stem or "BOM")[:200],
        filename=filename[:255], columns=read.columns, columns_chosen=bool(columns) or read.remembered,
        header_row=read.header_row, rows_read=read.rows_read,
        dnp_rows=read.dnp_rows,
    )
    rows = [
        dict(line=i, designators=",".join(line.designators), quantity=line.quantity, manufacturer=line.manufacturer,
             mpn=line.mpn, alternates=[list(a) for a in line.alternates], description=line.description, value=line.value,
             footprint=line.footprint, rows=line.rows, dnp=False, status=match.status, part_id=match.part_id,
             confidence=match.confidence, reason=match.reason[:300], candidates=[c.as_dict() for c in match.candidates],
             confirmed=False)
        for i, (line, match) in enumerate(zip(read.lines, matches), start=1)
    ]
    substitutes = [(i, part_id) for i, match in enumerate(matches, start=1) for part_id in dict.fromkeys(match.substitute_ids)]
    _insert_items(bom, rows, substitutes)
    return bom


ITEM_COLUMNS = ("line", "designators", "quantity", "manufacturer", "mpn", "alternates", "description", "value",
                "footprint", "rows", "dnp", "status", "part_id", "confidence", "reason", "candidates", "confirmed")
JSON_COLUMNS = {"alternates", "rows", "candidates"}


def _insert_items(bom: Bom, rows: list[dict], substitutes: list[tuple[int, int]]) -> None:
    """Write the lines and their substitutes ((line, part id) pairs). On PostgreSQL with COPY: a
    1,000-line BOM through bulk_create spends more time building the INSERT than matching."""
    through = BomItem.substitutes.through
    if connection.vendor != "postgresql":
        items = BomItem.objects.bulk_create([BomItem(bom=bom, **row) for row in rows])
        by_line = {item.line: item.pk for item in items}
        through.objects.bulk_create([through(bomitem_id=by_line[line], part_id=p) for line, p in substitutes])
        return
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's cursor, inside this transaction
        with raw.copy(f"COPY {BomItem._meta.db_table} (bom_id, {', '.join(ITEM_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((bom.pk, *(json.dumps(row[c]) if c in JSON_COLUMNS else row[c] for c in ITEM_COLUMNS)))
        if substitutes:
            cursor.execute(f"SELECT line, id FROM {BomItem._meta.db_table} WHERE bom_id = %s", [bom.pk])
            by_line = dict(cursor.fetchall())
            with raw.copy(f"COPY {through._meta.db_table} (bomitem_id, part_id) FROM STDIN") as copy:
                for line, part_id in substitutes:
                    copy.write_row((by_line[line], part_id))


def _lock(bom: Bom) -> Bom:
    return Bom.objects.select_for_update().get(pk=bom.pk)


@transaction.atomic
def bom_line_update(*, bom: Bom, line: int, part=_UNSET, quantity=_UNSET, substitutes=_UNSET, dnp=_UNSET) -> BomItem:
    """The buyer confirms or corrects a line: `part` (a Part, or None for no part), `quantity`
    per board, `substitutes` (Parts), `dnp`."""
    bom = _lock(bom)
    item = BomItem.objects.filter(bom=bom, line=line).first()
    if item is None:
        raise BomLineInvalid({"line": [f"The BOM has no line {line}."]})
    errors: dict[str, list[str]] = {}
    fields = []
    if part is not _UNSET:
        item.part = part
        item.confirmed = True
        if part is None:
            item.status, item.confidence, item.reason = MatchStatus.NONE, Decimal("0"), "cleared by the buyer"
        else:
            item.status, item.confidence, item.reason = MatchStatus.EXACT, Decimal("1"), "chosen by the buyer"
        fields += ["part", "confirmed", "status", "confidence", "reason"]
    if quantity is not _UNSET:
        quantity = Decimal(quantity)
        if not (quantity.is_finite() and QUANTUM <= quantity <= MAX_LINE_QUANTITY):
            errors["quantity"] = [f"Quantity per board is from {QUANTUM} to {MAX_LINE_QUANTITY:,}."]
        else:
            item.quantity = quantity.quantize(QUANTUM)
        fields.append("quantity")
    if dnp is not _UNSET:
        item.dnp = bool(dnp)
        fields.append("dnp")
    if substitutes is not _UNSET:
        if item.part_id and any(s.pk == item.part_id for s in substitutes):
            errors["substitutes"] = ["A part cannot substitute for itself."]
    elif part is not _UNSET and part is not None and item.substitutes.filter(pk=part.pk).exists():
        substitutes = [s for s in item.substitutes.all() if s.pk != part.pk]  # the alternate became the part
    if errors:
        raise BomLineInvalid(errors)
    if fields:
        item.save(update_fields=fields)
    if substitutes is not _UNSET:
        item.substitutes.set(substitutes)
    bom.save(update_fields=["updated_at"])
    return item


def _kit_bom(bom: Bom) -> list[dict]:
    """The matched, populated lines as kit lines; lines matched to the same part become one."""
    merged: dict[int, dict] = {}
    subs: dict[int, set[int]] = defaultdict(set)
    for item_id, part_id in BomItem.substitutes.through.objects.filter(bomitem__bom=bom).values_list("bomitem_id", "part_id"):
        subs[item_id].add(part_id)
    for item in BomItem.objects.filter(bom=bom, dnp=False, part__isnull=False).order_by("line"):
        line = merged.setdefault(item.part_id, {"part_id": item.part_id, "quantity": Decimal(0), "designators": [],
                                                "substitutes": set()})
        line["quantity"] += item.quantity
        line["designators"] += item.designator_list
        line["substitutes"] |= subs[item.pk]
    for line in merged.values():
        line["substitutes"].discard(line["part_id"])
        text = ",".join(line["designators"])
        line["designators"] = text if len(text) <= 500 else text[:497].rsplit(",", 1)[0] + ",…"
    return list(merged.values())


def _same_lines(kit: Kit, wanted: list[dict]) -> bool:
    subs: dict[int, set[int]] = defaultdict(set)
    for line_id, part_id in BomLine.substitutes.through.objects.filter(bomline__kit=kit).values_list("bomline_id", "part_id"):
        subs[line_id].add(part_id)
    have = {(pid, qty, des, frozenset(subs[lid]))
            for lid, pid, qty, des in BomLine.objects.filter(kit=kit).values_list("id", "part_id", "quantity", "designators")}
    return have == {(l["part_id"], l["quantity"], l["designators"], frozenset(l["substitutes"])) for l in wanted}


def _spec(wanted: list[dict]) -> list[dict]:
    parts = Part.objects.in_bulk({l["part_id"] for l in wanted} | {s for l in wanted for s in l["substitutes"]})
    return [{"part": parts[l["part_id"]], "quantity": l["quantity"], "designators": l["designators"],
             "substitutes": [parts[s] for s in sorted(l["substitutes"])]} for l in wanted]


@transaction.atomic
def bom_kit_sync(*, bom: Bom) -> Kit | None:
    """Write the BOM's matched lines as its private kit: the first time a new kit, later the same
    kit (or, once a quote, order or trial froze it, a new revision). None when no line is matched."""
    bom = _lock(bom)
    wanted = _kit_bom(bom)
    if not wanted:
        return None
    if bom.kit_id and bom.kit.name == bom.name and _same_lines(bom.kit, wanted):
        return bom.kit
    spec = _spec(wanted)
    if bom.kit_id is None:
        kit = kit_create(owner=bom.owner, name=bom.name, bom=spec, private=True,
                         description=f"Uploaded BOM {bom.filename}".strip())
    else:
        kit = kit_update(kit=bom.kit, name=bom.name, bom=spec)
    if kit.pk != bom.kit_id:
        bom.kit = kit
        bom.save(update_fields=["kit", "updated_at"])
    return kit


def unsourced_lines(bom: Bom, quantity: int) -> list[dict]:
    """Populated lines without a part, with what the batch needs of them."""
    return [{"line": line, "mpn": mpn, "quantity": math.ceil(qty * quantity)}
            for line, mpn, qty in BomItem.objects.filter(bom=bom, dnp=False, part__isnull=True)
            .order_by("line").values_list("line", "mpn", "quantity")]


@transaction.atomic
def bom_quote(*, bom: Bom, quantity: int, created_by: AbstractBaseUser | None = None,
              options: dict | None = None) -> Quote:
    """Quote the BOM at a batch size through the kit quote engine; lines with no part are listed
    as `unsourced` on the quote (nothing is dropped silently)."""
    kit = bom_kit_sync(bom=bom)
    if kit is None:
        raise BomLineInvalid({"non_field_errors": [
            "No line of this BOM is matched to a part yet: pick parts for its lines, then quote."]})
    extra = {}
    if options:
        # Sourcing options arrive with the new allocation engine; until quote_create takes them, say so.
        if "options" not in inspect.signature(quote_create).parameters:
            raise BomLineInvalid({"options": ["Sourcing options are not available yet."]})
        extra["options"] = options
    quote = quote_create(organization=bom.owner, kit=kit, quantity=quantity, created_by=created_by, **extra)
    quote.unsourced = unsourced_lines(bom, quantity)
    quote.save(update_fields=["unsourced"])
    return quote


@transaction.atomic
def bom_publish(*, bom: Bom) -> Kit:
    """Solution houses: publish the BOM's matched lines as a kit buyers see, or (a BOM opened from
    a published kit) save them into that kit (a new revision once quoted, ordered or trialled)."""
    bom = _lock(bom)
    if not bom.owner.is_solution_house:
        raise BomLineInvalid({"non_field_errors": ["Only solution houses publish kits; quote the BOM instead."]})
    wanted = _kit_bom(bom)
    if not wanted:
        raise BomLineInvalid({"non_field_errors": ["Match at least one line to a part before publishing."]})
    if bom.published_kit_id is None:
        kit = kit_create(owner=bom.owner, name=bom.name, bom=_spec(wanted))
    else:
        family = bom.published_kit.family_id or bom.published_kit_id
        current = Kit.objects.filter(Q(pk=family) | Q(family_id=family), is_current=True).get()
        kit = current if _same_lines(current, wanted) else kit_update(kit=current, bom=_spec(wanted))
    bom.published_kit = kit
    bom.save(update_fields=["published_kit", "updated_at"])
    return kit


@transaction.atomic
def bom_from_kit(*, kit: Kit, created_by: AbstractBaseUser | None = None) -> Bom:
    """Open a kit's BOM in the workbench (the solution house's editor): every line matched to its
    part and confirmed; publishing saves it back into the kit."""
    bom = Bom.objects.create(owner=kit.owner, created_by=created_by, name=kit.name, filename="",
                             published_kit=kit, columns={})
    lines = list(kit.bom_lines.select_related("part").prefetch_related("substitutes"))
    items = BomItem.objects.bulk_create([
        BomItem(bom=bom, line=i, designators=l.designators.replace(" ", ""), quantity=l.quantity,
                manufacturer=l.part.manufacturer, mpn=l.part.mpn, description=l.part.description, part=l.part,
                status=MatchStatus.EXACT, confidence=Decimal("1"), reason=f"from {kit}", confirmed=True)
        for i, l in enumerate(lines, start=1)
    ])
    through = BomItem.substitutes.through
    through.objects.bulk_create([through(bomitem_id=item.pk, part_id=s.pk)
                                 for item, l in zip(items, lines) for s in l.substitutes.all()])
    return bom


@transaction.atomic
def bom_line_add(*, bom: Bom, mpn: str, manufacturer: str = "", quantity: Decimal = Decimal(1),
                 designators: str = "") -> BomItem:
    """Add a line by hand (the editor's "add a part"), matched like an uploaded one."""

    bom = _lock(bom)
    errors: dict[str, list[str]] = {}
    if not mpn.strip():
        errors["mpn"] = ["Enter an MPN."]
    try:
        names = parse_designators(designators)
    except ValueError as exc:
        names, errors["designators"] = [], [f"{exc}."]
    taken = {d.upper() for text in bom.items.values_list("designators", flat=True) for d in text.split(",") if d}
    if clash := sorted(d for d in names if d.upper() in taken):
        errors["designators"] = [f"{', '.join(clash)} already on another line."]
    quantity = Decimal(quantity)
    if not (quantity.is_finite() and QUANTUM <= quantity <= MAX_LINE_QUANTITY):
        errors["quantity"] = [f"Quantity per board is from {QUANTUM} to {MAX_LINE_QUANTITY:,}."]
    else:
        quantity = quantity.quantize(QUANTUM)
    if errors:
        raise BomLineInvalid(errors)
    match = match_lines([(manufacturer.strip(), mpn.strip(), [])])[0]
    line = (bom.items.order_by("-line").values_list("line", flat=True).first() or 0) + 1
    item = BomItem.objects.create(
        bom=bom, line=line, designators=",".join(names), quantity=quantity, manufacturer=manufacturer.strip()[:100],
        mpn=mpn.strip()[:100], status=match.status, part_id=match.part_id, confidence=match.confidence,
        reason=match.reason[:300], candidates=[c.as_dict() for c in match.candidates])
    bom.save(update_fields=["updated_at"])
    return item
