"""Bank reconciliation: operators import the platform bank account's statement (CSV) and each
line is matched to the top-up or payout the ledger recorded for it.

A line matches the recorded use of its bank reference (normalised as top-ups and payouts store
it: case, spaces, dashes and full-width forms folded) in its direction (money in: a top-up's
receipt; money out: a payout's transfer) with the same amount and currency, and each recorded
reference matches one line at most. Lines that match nothing stay `unmatched` on the money desk
until an operator resolves them. A line is identified by its content (date, amount, currency,
reference, counterparty, and its occurrence among identical lines of the file), so importing the
same statement again adds nothing, and retries the lines still unmatched."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from credit.exceptions import StatementInvalid, StatementLineConflict
from credit.models import BankReference, BankStatement, BankStatementLine, Currency
from credit.references import reference_key
from credit.services.ledger import MAX_AMOUNT

COLUMNS = ["date", "amount", "currency", "reference", "counterparty"]
MAX_ROWS = 10_000


@dataclass
class ParsedLine:
    row: int
    date: date
    amount: Decimal
    currency: str
    reference: str
    key: str
    counterparty: str
    fingerprint: str = ""


@dataclass
class ImportResult:
    statement: BankStatement | None
    matched: list[BankStatementLine] = field(default_factory=list)
    unmatched: list[BankStatementLine] = field(default_factory=list)
    rematched: list[BankStatementLine] = field(default_factory=list)
    already_imported: int = 0


def statement_parse(content: bytes | str) -> list[ParsedLine]:
    """Read the CSV (`date,amount,currency,reference,counterparty`, a header row first; dates
    ISO 8601, amounts signed with a dot). Any bad row refuses the whole file, naming every row."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise StatementInvalid({"file": ["The statement is not UTF-8 text; export it as UTF-8 CSV."]}) from None
    reader = csv.reader(io.StringIO(content))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != COLUMNS:
        raise StatementInvalid({"file": [f"The first row must be the header {','.join(COLUMNS)}."]})
    lines, errors = [], []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(lines) >= MAX_ROWS:
            raise StatementInvalid({"file": [f"At most {MAX_ROWS:,} lines per statement; split it."]})
        if len(row) != len(COLUMNS):
            errors.append(f"Row {number}: expected {len(COLUMNS)} columns, got {len(row)}.")
            continue
        raw_date, raw_amount, currency, reference, counterparty = (cell.strip() for cell in row)
        problems = []
        try:
            when = date.fromisoformat(raw_date)
        except ValueError:
            problems.append(f"date {raw_date!r} is not YYYY-MM-DD")
            when = None
        try:
            amount = Decimal(raw_amount.replace(",", ""))
            if not amount.is_finite() or amount == 0 or abs(amount) >= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
                raise InvalidOperation
        except InvalidOperation:
            problems.append(f"amount {raw_amount!r} is not a non-zero amount with at most two decimals")
            amount = None
        currency = currency.upper()
        if currency not in Currency.values:
            problems.append(f"currency {currency!r} is not one of {', '.join(Currency.values)}")
        key = reference_key(reference)
        if not key:
            problems.append("the reference is empty")
        if len(reference) > 200 or len(counterparty) > 200:
            problems.append("reference and counterparty are at most 200 characters")
        if problems:
            errors.append(f"Row {number}: " + "; ".join(problems) + ".")
            continue
        lines.append(ParsedLine(row=number, date=when, amount=amount.quantize(Decimal("0.01")), currency=currency,
                                reference=reference, key=key, counterparty=counterparty))
    if errors:
        raise StatementInvalid({"file": errors[:50]})
    if not lines:
        raise StatementInvalid({"file": ["The statement has no lines."]})
    seen: Counter = Counter()
    for line in lines:
        identity = f"{line.date.isoformat()}|{line.amount}|{line.currency}|{line.key}|{line.counterparty.casefold()}"
        seen[identity] += 1
        line.fingerprint = hashlib.sha256(f"{identity}|{seen[identity]}".encode()).hexdigest()
    return lines


def _find_match(line: BankStatementLine) -> tuple[BankReference | None, str]:
    """The recorded reference this line is, or None and why not."""
    direction = BankReference.Direction.IN if line.amount > 0 else BankReference.Direction.OUT
    ref = BankReference.objects.select_for_update().filter(direction=direction, key=line.key).first()
    what = "top-up" if direction == BankReference.Direction.IN else "payout"
    if ref is None:
        return None, f"No {what} was recorded with this reference."
    if (ref.amount, ref.currency) != (abs(line.amount), line.currency):
        return None, (f"The {what} with this reference (entry {ref.entry_id}) was recorded as {ref.amount} {ref.currency}, "
                      f"the statement says {abs(line.amount)} {line.currency}.")
    if BankStatementLine.objects.filter(match=ref).exclude(pk=line.pk).exists():
        return None, f"The {what} with this reference (entry {ref.entry_id}) already matches another statement line."
    return ref, ""


def _match(line: BankStatementLine) -> bool:
    ref, why = _find_match(line)
    if ref is None:
        line.status, line.note = BankStatementLine.Status.UNMATCHED, why[:500]
        return False
    line.status, line.match, line.note = BankStatementLine.Status.MATCHED, ref, ""
    return True


@transaction.atomic
def statement_import(*, content: bytes | str, filename: str = "", imported_by=None) -> ImportResult:
    """Import a statement: new lines are added and matched; lines imported before are counted,
    not added (those still unmatched are tried again)."""
    parsed = statement_parse(content)
    known = {line.fingerprint: line for line in BankStatementLine.objects.select_for_update()
             .filter(fingerprint__in=[p.fingerprint for p in parsed])}
    result = ImportResult(statement=None)
    for old in known.values():
        result.already_imported += 1
        if old.status == BankStatementLine.Status.UNMATCHED and _match(old):
            old.save(update_fields=["status", "match", "note"])
            result.rematched.append(old)
    new = [p for p in parsed if p.fingerprint not in known]
    if not new:
        return result
    result.statement = BankStatement.objects.create(filename=filename[:200], imported_by=imported_by)
    try:
        with transaction.atomic():
            for p in new:
                line = BankStatementLine(statement=result.statement, row=p.row, date=p.date, amount=p.amount,
                                         currency=p.currency, reference=p.reference[:200], key=p.key,
                                         counterparty=p.counterparty[:200], fingerprint=p.fingerprint)
                (result.matched if _match(line) else result.unmatched).append(line)
                line.save(force_insert=True)
    except IntegrityError:
        raise StatementLineConflict("This statement is being imported by someone else right now; "
                                    "import it again in a moment (lines already imported are not added twice).") from None
    return result


@transaction.atomic
def statement_line_resolve(*, line: BankStatementLine, note: str, resolved_by=None) -> BankStatementLine:
    """An operator closes an unmatched line: matched if its top-up or payout has been recorded
    since, otherwise resolved with the operator's note (what it was, what was done)."""
    line = BankStatementLine.objects.select_for_update().get(pk=line.pk)
    if line.status != BankStatementLine.Status.UNMATCHED:
        raise StatementLineConflict(f"Statement line {line.pk} is already {line.get_status_display().lower()}.")
    note = (note or "").strip()
    if not _match(line):
        if not note:
            raise StatementInvalid({"note": [f"{line.note} Say what this line is and what was done about it."]})
        line.status = BankStatementLine.Status.RESOLVED
    line.note, line.resolved_by, line.resolved_at = note[:500] or line.note, resolved_by, timezone.now()
    line.save(update_fields=["status", "match", "note", "resolved_by", "resolved_at"])
    return line
