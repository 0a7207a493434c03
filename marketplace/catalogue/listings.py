"""Parts, listings and price breaks; the stock-list CSV import."""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketplace.catalogue.models import (
    Listing,
    ListingPriceChange,
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


def _require_supplier(vendor: Organization) -> None:
    if not vendor.is_supplier:
        raise ListingInvalid({"non_field_errors": ["Only suppliers publish listings: add a supplier kind to this organisation."]})


def _lock_vendor(vendor: Organization) -> None:
    """New listings copy the vendor's `verified` flag: hold the vendor row (as organization_verify
    does while it updates the vendor's listings) so a listing created during a verification
    cannot keep the old flag."""
    list(Organization.objects.select_for_update(no_key=True).filter(pk=vendor.pk).values_list("pk"))


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
        if "moq" in changes:  # min_spend follows the MOQ
            Listing.objects.filter(pk=listing.pk).refresh_search_columns()
        if "currency" in changes:
            listing_price_history_record([listing.pk])
    return listing


# --- Stock-list import -------------------------------------------------------------------------

REQUIRED_COLUMNS = ["manufacturer", "mpn", "stock", "moq", "multiple", "lead_time_days", "currency", "price_breaks"]
OPTIONAL_COLUMNS = ["description", "category", "condition", "date_code", "location"]
MAX_ROWS = 50_000


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


def _parse_rows(text: str) -> tuple[list[dict], list[dict]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [], [{"row": 0, "field": c, "message": "Missing column in the header row."} for c in missing]
    reader.fieldnames = header
    rows, errors, seen = [], [], {}
    for number, raw in enumerate(reader, start=1):
        if number > MAX_ROWS:
            errors.append({"row": number, "field": "non_field_errors", "message": f"At most {MAX_ROWS} rows per file."})
            break
        raw = {k: (v or "").strip() for k, v in raw.items() if k}
        row_errors = []

        def bad(field_name: str, message: str) -> None:
            row_errors.append({"row": number, "field": field_name, "message": message})

        values: dict = {"manufacturer": " ".join(raw["manufacturer"].split()), "mpn": raw["mpn"]}
        if not values["manufacturer"]:
            bad("manufacturer", "Required.")
        if not normalize_mpn(values["mpn"]):
            bad("mpn", "Required (letters and digits).")
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
                bad("condition", f"Use one of {Listing.Condition.values}.")
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
        rows.append(values)
    if not rows and not errors:
        errors.append({"row": 0, "field": "file", "message": "The file has a header but no rows."})
    return rows, errors


LISTING_CSV_FIELDS = ("stock", "moq", "multiple", "lead_time_days", "currency")
LISTING_CSV_OPTIONAL = ("condition", "date_code", "location")


def stock_list_import(*, vendor: Organization, content: bytes | str, dry_run: bool = False) -> StockListResult:
    """Upsert a vendor's stock list by (manufacturer, MPN). Every bad row is reported and then
    nothing is applied (StockListInvalid); a good file is applied in one transaction. Importing the
    same file twice changes nothing the second time (rows compare equal → `unchanged`)."""
    _require_supplier(vendor)
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise StockListInvalid([{"row": 0, "field": "file", "message": "The file is not UTF-8 text (save the CSV as UTF-8)."}]) from None
    rows, errors = _parse_rows(content)
    if errors:
        raise StockListInvalid(errors)
    with transaction.atomic():
        result = _apply(vendor=vendor, rows=rows, dry_run=dry_run)
        if dry_run:
            transaction.set_rollback(True)  # a dry run computes the same diff and keeps nothing
    return result


def _apply(*, vendor: Organization, rows: list[dict], dry_run: bool) -> StockListResult:
    result = StockListResult(dry_run=dry_run)
    _lock_vendor(vendor)
    mpns = {row["key"][1] for row in rows}
    parts = {}
    for part in Part.objects.filter(mpn_normalized__in=mpns):
        parts[(part.manufacturer.lower(), part.mpn_normalized)] = part
    listings = {
        (l.part.manufacturer.lower(), l.part.mpn_normalized): l
        for l in Listing.objects.select_for_update().filter(vendor=vendor, part__mpn_normalized__in=mpns, reserved_for__isnull=True)
        .select_related("part").prefetch_related("price_breaks").order_by("pk")
    }
    now = timezone.now()
    created_ids: list[int] = []
    for row in rows:
        listing = listings.get(row["key"])
        new_values = {name: row[name] for name in (*LISTING_CSV_FIELDS, *LISTING_CSV_OPTIONAL) if name in row}
        if listing is None:
            new_values.setdefault("location", vendor.location[:100])
            result.created += 1
            result.rows.append({"row": row["row"], "mpn": row["mpn"], "manufacturer": row["manufacturer"], "action": "create"})
            part = parts.get(row["key"])
            if part is None:
                part = Part(manufacturer=row["manufacturer"], mpn=row["mpn"], category=row["category"],
                            description=row["description"])
                part.save()
                parts[row["key"]] = part
            listing = Listing.objects.create(vendor=vendor, part=part, is_active=True, **new_values)
            PriceBreak.objects.bulk_create([PriceBreak(listing=listing, min_qty=q, unit_price=p) for q, p in row["price_breaks"]])
            created_ids.append(listing.pk)
            continue
        old_breaks = [(b.min_qty, b.unit_price) for b in listing.price_breaks.all()]
        changed = [name for name, value in new_values.items() if getattr(listing, name) != value]
        if not listing.is_active:
            changed.append("is_active")
        breaks_changed = old_breaks != row["price_breaks"]
        if not changed and not breaks_changed:
            result.unchanged += 1
            result.rows.append({"row": row["row"], "mpn": row["mpn"], "manufacturer": row["manufacturer"], "action": "unchanged"})
            continue
        result.updated += 1
        result.rows.append({"row": row["row"], "mpn": row["mpn"], "manufacturer": row["manufacturer"], "action": "update",
                            "changes": changed + (["price_breaks"] if breaks_changed else [])})
        for name, value in new_values.items():
            setattr(listing, name, value)
        listing.is_active, listing.updated_at = True, now
        listing.save(update_fields=[*new_values, "is_active", "updated_at"])
        if breaks_changed:
            _replace_breaks(listing, row["price_breaks"])
        else:
            if "moq" in changed:  # min_spend follows the MOQ
                Listing.objects.filter(pk=listing.pk).refresh_search_columns()
            if "currency" in changed:
                listing_price_history_record([listing.pk])
    Listing.objects.filter(pk__in=created_ids).refresh_search_columns()  # one UPDATE for the new rows
    listing_price_history_record(created_ids)
    return result
