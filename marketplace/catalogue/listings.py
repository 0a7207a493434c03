"""Parts, listings and price breaks; the stock-list import (CSV or XLSX, applied in bulk)."""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.outbox.services import outbox_enqueue
from config.spreadsheets import XLSX_MAGIC, WorkbookRefused, xlsx_rows
from marketplace.catalogue.bulk import (  # noqa: F401 (listing_price_history_record: imported from here too)
    LISTING_VALUES,
    ChunkWrites,
    ListingWrite,
    listing_price_history_record,
    listings_write,
    parts_insert,
)
from marketplace.catalogue.models import (
    Listing,
    Part,
    PriceBreak,
    normalize_mpn,
)
from marketplace.exceptions import ListingInvalid, StockListInvalid
from organizations.models import Organization

Break = tuple[int, Decimal]
MAX_UNIT_PRICE = Decimal("99999999")
MAX_QTY = 2_000_000_000  # within the database's integer columns


def part_get_or_create(
    *, manufacturer: str, mpn: str, category: str = "", description: str = "", parameters: dict | None = None
) -> Part:
    """The catalogue's part for (manufacturer, MPN), matched case- and punctuation-insensitively."""
    manufacturer, mpn = " ".join(manufacturer.split()), mpn.strip()
    errors = {}
    if not manufacturer:
        errors["manufacturer"] = ["Give the manufacturer."]
    if not normalize_mpn(mpn):
        errors["mpn"] = ["Give the manufacturer part number (letters and digits)."]
    if errors:
        raise ListingInvalid(errors)
    part = Part.objects.filter(manufacturer__iexact=manufacturer, mpn_normalized=normalize_mpn(mpn)).first()
    if part is None:
        part = Part(manufacturer=manufacturer, mpn=mpn, category=category, description=description,
                    parameters=parameters or {})
        part.save()
    return part


def price_break_errors(breaks: list[Break], *, moq: int | None = None) -> list[str]:
    """Breaks must exist, start at or below the MOQ (so every orderable quantity has a price),
    rise strictly in quantity and never rise in price."""
    if not breaks:
        return ["Give at least one price break."]
    errors = []
    for min_qty, unit_price in breaks:
        if not 1 <= min_qty <= MAX_QTY:
            errors.append(f"Break quantity {min_qty} must be between 1 and {MAX_QTY:,}.")
        if unit_price < 0 or unit_price > MAX_UNIT_PRICE:
            errors.append(f"Unit price {unit_price} must be between 0 and {MAX_UNIT_PRICE}.")
    for (q1, p1), (q2, p2) in zip(breaks, breaks[1:]):
        if q2 <= q1:
            errors.append(f"Break quantities must strictly increase ({q1} then {q2}).")
        if p2 > p1:
            errors.append(f"A larger break cannot cost more per unit ({q1}: {p1}, then {q2}: {p2}).")
    if moq is not None and breaks[0][0] > moq:
        errors.append(f"The first break ({breaks[0][0]}) must start at or below the MOQ ({moq}).")
    return errors


def _listing_errors(values: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("stock", "lead_time_days"):
        if not 0 <= values[name] <= MAX_QTY:
            errors[name] = [f"Must be between 0 and {MAX_QTY:,}."]
    for name in ("moq", "multiple"):
        if not 1 <= values[name] <= MAX_QTY:
            errors[name] = [f"Must be between 1 and {MAX_QTY:,}."]
    if values["currency"] not in settings.KITSTREET_CURRENCIES:
        errors["currency"] = [f"Unsupported currency {values['currency']!r}; use one of {settings.KITSTREET_CURRENCIES}."]
    if problems := price_break_errors(values["price_breaks"], moq=values["moq"]):
        errors["price_breaks"] = problems
    return errors


def _normalised_breaks(breaks) -> list[Break]:
    return [(int(b["min_qty"]), Decimal(b["unit_price"])) if isinstance(b, dict) else (int(b[0]), Decimal(b[1]))
            for b in breaks]


def _replace_breaks(listing: Listing, breaks: list[Break]) -> None:
    listing.price_breaks.all().delete()
    PriceBreak.objects.bulk_create([PriceBreak(listing=listing, min_qty=q, unit_price=p) for q, p in breaks])
    Listing.objects.filter(pk=listing.pk).refresh_search_columns()
    listing_price_history_record([listing.pk])


def _require_supplier(vendor: Organization) -> None:
    if not vendor.is_supplier:
        raise ListingInvalid({"non_field_errors": ["Only suppliers publish listings: add a supplier kind to this organisation."]})


def _lock_vendor(vendor: Organization) -> None:
    """New listings copy the vendor's `verified` flag: hold the vendor row (as organization_verify
    does while it updates the vendor's listings) so a listing created during a verification
    cannot keep the old flag."""
    list(Organization.objects.select_for_update(no_key=True).filter(pk=vendor.pk).values_list("pk"))


BOM_PARTS_CHANGED_TASK = "marketplace.tasks.bom_parts_changed_task"  # by name: the BOM room sits above this one


def listings_changed(part_ids) -> None:
    """Tell the BOMs (through the outbox, in this transaction) that these parts' offers changed:
    unmatched lines are matched again and watched BOMs' owners hear of lines at risk."""
    if ids := sorted({int(pk) for pk in part_ids}):
        outbox_enqueue(BOM_PARTS_CHANGED_TASK, args=[ids])


@transaction.atomic
def listing_create(
    *,
    vendor: Organization,
    part: Part,
    price_breaks: list,
    stock: int = 0,
    moq: int = 1,
    multiple: int = 1,
    lead_time_days: int = 0,
    currency: str | None = None,
    condition: str = Listing.Condition.NEW,
    date_code: str = "",
    location: str = "",
    is_active: bool = True,
) -> Listing:
    _require_supplier(vendor)
    values = {"stock": stock, "moq": moq, "multiple": multiple, "lead_time_days": lead_time_days,
              "currency": currency or vendor.default_currency, "price_breaks": _normalised_breaks(price_breaks)}
    if errors := _listing_errors(values):
        raise ListingInvalid(errors)
    _lock_vendor(vendor)
    if Listing.objects.filter(vendor=vendor, part=part, reserved_for__isnull=True).exists():
        raise ListingInvalid({"part": [f"You already list {part}; edit that listing instead."]})
    breaks = values.pop("price_breaks")
    listing = Listing(vendor=vendor, part=part, condition=condition, date_code=date_code,
                      location=location or vendor.location[:100], is_active=is_active, **values)
    listing.full_clean()
    listing.save()
    _replace_breaks(listing, breaks)
    listings_changed([part.pk])
    return listing


LISTING_EDITABLE = ("stock", "moq", "multiple", "lead_time_days", "currency", "condition", "date_code", "location",
                    "is_active")


@transaction.atomic
def listing_update(*, listing: Listing, **changes) -> Listing:
    """Edit a listing (row locked so an order reserving stock at the same time is not lost)."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    unknown = set(changes) - set(LISTING_EDITABLE) - {"price_breaks"}
    if unknown:
        raise ListingInvalid({name: ["This field cannot be changed."] for name in sorted(unknown)})
    breaks = _normalised_breaks(changes.pop("price_breaks")) if "price_breaks" in changes else None
    values = {name: changes.get(name, getattr(listing, name)) for name in ("stock", "moq", "multiple", "lead_time_days", "currency")}
    values["price_breaks"] = breaks if breaks is not None else [(b.min_qty, b.unit_price) for b in listing.price_breaks.all()]
    if errors := _listing_errors(values):
        raise ListingInvalid(errors)
    for name, value in changes.items():
        setattr(listing, name, value)
    listing.full_clean()
    listing.save(update_fields=[*changes.keys(), "updated_at"])
    if breaks is not None:
        _replace_breaks(listing, breaks)
    else:
        if {"moq", "multiple", "currency", "is_active"} & changes.keys():  # min_spend, the part's price summaries
            Listing.objects.filter(pk=listing.pk).refresh_search_columns()
        if "currency" in changes:
            listing_price_history_record([listing.pk])
    listings_changed([listing.part_id])
    return listing


# --- Stock-list import -------------------------------------------------------------------------
# A stock list is CSV or XLSX (the workbook read safely: config/spreadsheets.py). Every row is
# parsed and validated before anything is written, so a bad file changes nothing. A good file is
# applied in chunks of IMPORT_CHUNK_ROWS rows, each chunk one short transaction of set-based
# statements (a read of its parts and listings, bulk inserts, one bulk update, one price-break
# replacement, one search-column refresh), so a 10,000-row list takes seconds and the supplier's
# other writes (an order reserving stock, a listing edit) wait at most one chunk, never the file.
# Importing the same file again changes nothing (rows compare equal → `unchanged`), so a file
# whose application was interrupted is finished by importing it again.

REQUIRED_COLUMNS = ["manufacturer", "mpn", "stock", "moq", "multiple", "lead_time_days", "currency", "price_breaks"]
OPTIONAL_COLUMNS = ["description", "category", "condition", "date_code", "location"]
MAX_ROWS = 200_000
MAX_COLUMNS = 64
IMPORT_CHUNK_ROWS = 2_000
PREVIEW_ROWS = 5_000  # the browser preview lists at most this many rows' actions


@dataclass
class StockListResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # a preview: each row's action, for the browser
    dry_run: bool = False

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": self.errors, "dry_run": self.dry_run}

    def _note(self, row: dict, action: str, changes: list[str] | None = None) -> None:
        counter = {"create": "created", "update": "updated", "unchanged": "unchanged"}[action]
        setattr(self, counter, getattr(self, counter) + 1)
        if len(self.rows) < PREVIEW_ROWS:
            entry = {"row": row["row"], "mpn": row["mpn"], "manufacturer": row["manufacturer"], "action": action}
            if changes is not None:
                entry["changes"] = changes
            self.rows.append(entry)


def parse_price_breaks(text: str) -> list[Break]:
    """`1:0.50;500:0.40` → [(1, Decimal("0.50")), (500, Decimal("0.40"))]."""
    breaks = []
    for chunk in filter(None, (c.strip() for c in text.replace(",", ";").split(";"))):
        qty, sep, price = chunk.partition(":")
        if not sep:
            raise ValueError(f"{chunk!r} is not min_qty:unit_price")
        try:
            breaks.append((int(qty.strip()), Decimal(price.strip())))
        except (ValueError, InvalidOperation):
            raise ValueError(f"{chunk!r} is not min_qty:unit_price") from None
        if not breaks[-1][1].is_finite():
            raise ValueError(f"{chunk!r} has no usable price")
    return breaks


def stock_list_table(content: bytes | str) -> Iterator[list[str]]:
    """The file's rows as lists of text, header first: XLSX (checked for zip bombs before parsing,
    read-only, capped) or UTF-8 CSV. Raises StockListInvalid for a file that cannot be read."""
    def refused(message: str) -> StockListInvalid:
        return StockListInvalid([{"row": 0, "field": "file", "message": message}])

    if isinstance(content, bytes) and content.startswith(XLSX_MAGIC):
        try:
            return iter(list(xlsx_rows(content, max_rows=MAX_ROWS + 1, max_cols=MAX_COLUMNS)))
        except WorkbookRefused as exc:
            raise refused(str(exc)) from None
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise refused("The file is not UTF-8 text (save the CSV as UTF-8) or an XLSX workbook.") from None
    if "\x00" in content:
        raise refused("The file contains binary data (NUL characters): upload CSV or XLSX.")
    return (row for row in csv.reader(io.StringIO(content, newline="")) if row)


def _parse_rows(table: Iterator[list[str]]) -> tuple[list[dict], list[dict]]:
    try:
        header = [(h or "").strip().lower() for h in next(table, [])]
    except csv.Error as exc:
        return [], [{"row": 0, "field": "file", "message": f"The CSV could not be parsed: {exc}."}]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [], [{"row": 0, "field": c, "message": "Missing column in the header row."} for c in missing]
    columns = {name: header.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in header}
    rows, errors, seen = [], [], {}
    number = 0
    try:
        for cells in table:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line or an empty spreadsheet row
            number += 1
            if number > MAX_ROWS:
                errors.append({"row": number, "field": "non_field_errors", "message": f"At most {MAX_ROWS:,} rows per file."})
                break
            raw = {name: cells[i].strip() if i < len(cells) and cells[i] else "" for name, i in columns.items()}
            rows.append(_parse_row(number, raw, seen, errors))
    except csv.Error as exc:
        errors.append({"row": number + 1, "field": "file", "message": f"The CSV could not be parsed: {exc}."})
    if not rows and not errors:
        errors.append({"row": 0, "field": "file", "message": "The file has a header but no rows."})
    return rows, errors


def _parse_row(number: int, raw: dict, seen: dict, errors: list[dict]) -> dict:
    row_errors = []

    def bad(field_name: str, message: str) -> None:
        row_errors.append({"row": number, "field": field_name, "message": message})

    values: dict = {"manufacturer": " ".join(raw["manufacturer"].split()), "mpn": raw["mpn"]}
    if not values["manufacturer"]:
        bad("manufacturer", "Required.")
    elif len(values["manufacturer"]) > 100:
        bad("manufacturer", "At most 100 characters.")
    if not normalize_mpn(values["mpn"]):
        bad("mpn", "Required (letters and digits).")
    elif len(values["mpn"]) > 100:
        bad("mpn", "At most 100 characters.")
    for name, minimum in (("stock", 0), ("moq", 1), ("multiple", 1), ("lead_time_days", 0)):
        try:
            values[name] = int(raw[name])
            if not minimum <= values[name] <= MAX_QTY:
                bad(name, f"Must be between {minimum} and {MAX_QTY:,}.")
        except ValueError:
            bad(name, f"{raw[name]!r} is not a whole number.")
    values["currency"] = raw["currency"].upper() or settings.KITSTREET_DEFAULT_CURRENCY
    if values["currency"] not in settings.KITSTREET_CURRENCIES:
        bad("currency", f"Unsupported currency {raw['currency']!r}; use one of {settings.KITSTREET_CURRENCIES}.")
    try:
        values["price_breaks"] = parse_price_breaks(raw["price_breaks"])
        for message in price_break_errors(values["price_breaks"], moq=values.get("moq") if "moq" in values else None):
            bad("price_breaks", message)
    except ValueError as exc:
        bad("price_breaks", f"{exc}; write breaks as 1:0.50;500:0.40.")
    # Optional listing columns change a listing only when the cell has a value: a file without
    # a date_code column must not wipe the date codes set before.
    if condition := raw.get("condition", "").lower():
        if condition not in Listing.Condition.values:
            bad("condition", f"Use one of {', '.join(Listing.Condition.values)}.")
        values["condition"] = condition
    if date_code := raw.get("date_code", ""):
        values["date_code"] = date_code[:20]
    if location := raw.get("location", ""):
        values["location"] = location[:100]
    values.update(description=raw.get("description", "")[:300], category=raw.get("category", "")[:100])
    key = (values["manufacturer"].lower(), normalize_mpn(values["mpn"]))
    if not row_errors and key in seen:
        bad("mpn", f"Duplicate of row {seen[key]}.")
    seen.setdefault(key, number)
    errors.extend(row_errors)
    values["row"], values["key"] = number, key
    return values


LISTING_CSV_FIELDS = ("stock", "moq", "multiple", "lead_time_days", "currency")
LISTING_CSV_OPTIONAL = ("condition", "date_code", "location")


def stock_list_parse(*, content: bytes | str) -> list[dict]:
    """Every row of the file, validated; StockListInvalid with every error (nothing written)."""
    rows, errors = _parse_rows(stock_list_table(content))
    if errors:
        raise StockListInvalid(errors)
    return rows


def stock_list_import(
    *, vendor: Organization, content: bytes | str, dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> StockListResult:
    """Upsert a vendor's stock list (CSV or XLSX) by (manufacturer, MPN). Every bad row is reported
    and then nothing is applied (StockListInvalid); a good file is applied in short chunks (see
    above). A dry run reads and compares, and writes nothing. `progress(done, total)` is called
    after each chunk (the background import reports it)."""
    _require_supplier(vendor)
    rows = stock_list_parse(content=content)
    return stock_list_apply(vendor=vendor, rows=rows, dry_run=dry_run, progress=progress)


def stock_list_apply(
    *, vendor: Organization, rows: list[dict], dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> StockListResult:
    result = StockListResult(dry_run=dry_run)
    for start in range(0, len(rows), IMPORT_CHUNK_ROWS):
        chunk = rows[start:start + IMPORT_CHUNK_ROWS]
        if dry_run:
            _apply_chunk(vendor=vendor, rows=chunk, result=result, write=False)
        else:
            with transaction.atomic():
                _apply_chunk(vendor=vendor, rows=chunk, result=result, write=True)
        if progress is not None:
            progress(start + len(chunk), len(rows))
    return result


def _part_ids(rows: list[dict]) -> dict[tuple[str, str], int]:
    parts: dict[tuple[str, str], int] = {}
    for pk, manufacturer, mpn_normalized in (Part.objects.filter(mpn_normalized__in={row["key"][1] for row in rows})
                                             .order_by("pk").values_list("pk", "manufacturer", "mpn_normalized")):
        parts.setdefault((manufacturer.lower(), mpn_normalized), pk)
    return parts


def _apply_chunk(*, vendor: Organization, rows: list[dict], result: StockListResult, write: bool) -> None:
    """Compare a chunk of rows with the vendor's listings and, with `write`, apply the difference
    in a handful of set-based statements (catalogue/bulk.py). Runs inside the chunk's transaction
    when writing. Reads are plain values, not model instances: a chunk is thousands of rows."""
    if write:
        _lock_vendor(vendor)  # held for this chunk only (new listings copy the vendor's `verified`)
    now = timezone.now()
    parts = _part_ids(rows)
    if write and (missing := [row for row in rows if row["key"] not in parts]):
        parts_insert(list({row["key"]: row for row in missing}.values()), now=now)
        parts = _part_ids(rows)  # a part created meanwhile by someone else is simply found here
    existing = (Listing.objects.filter(vendor=vendor, part_id__in=list(parts.values()), reserved_for__isnull=True)
                .order_by("pk").values("pk", "part_id", "is_active", *LISTING_VALUES))
    if write:
        existing = existing.select_for_update()  # in primary-key order: concurrent writers cannot deadlock
    by_part = {listing["part_id"]: listing for listing in existing}
    breaks: dict[int, list[Break]] = {}
    for listing_id, min_qty, unit_price in (PriceBreak.objects.filter(listing_id__in=[l["pk"] for l in by_part.values()])
                                            .order_by("listing_id", "min_qty").values_list("listing_id", "min_qty", "unit_price")):
        breaks.setdefault(listing_id, []).append((min_qty, unit_price))

    writes = ChunkWrites()
    default_location = vendor.location[:100]
    for row in rows:
        part_id = parts.get(row["key"])
        listing = by_part.get(part_id) if part_id is not None else None
        new_values = {name: row[name] for name in (*LISTING_CSV_FIELDS, *LISTING_CSV_OPTIONAL) if name in row}
        if listing is None:
            result._note(row, "create")
            if write:
                values = {"condition": Listing.Condition.NEW, "date_code": "", "location": default_location, **new_values}
                writes.creates.append(ListingWrite(part_id=part_id, values=values, breaks=row["price_breaks"]))
            continue
        changed = [name for name, value in new_values.items() if listing[name] != value]
        if not listing["is_active"]:
            changed.append("is_active")
        old_breaks = breaks.get(listing["pk"], [])
        breaks_changed = old_breaks != row["price_breaks"]
        if not changed and not breaks_changed:
            result._note(row, "unchanged")
            continue
        result._note(row, "update", changed + (["price_breaks"] if breaks_changed else []))
        if write:
            values = {name: new_values.get(name, listing[name]) for name in LISTING_VALUES}
            writes.updates.append(ListingWrite(
                part_id=part_id, listing_id=listing["pk"], values=values,
                breaks=row["price_breaks"] if breaks_changed else old_breaks, breaks_changed=breaks_changed,
                history=breaks_changed or "currency" in changed))
    if write and (writes.creates or writes.updates):
        listings_write(vendor_id=vendor.pk, writes=writes, now=now)
        # BOMs that use these parts hear of it (re-matching, health alerts), in this transaction.
        listings_changed([w.part_id for w in (*writes.creates, *writes.updates)])
