"""The ledger's writes: entries, transfers, holds, reversals, top-ups and batches.

Every write locks the accounts it touches with `SELECT ... FOR UPDATE` in primary-key order
(so two writers can never wait on each other in a cycle), checks limits against the locked,
stored balances, writes the entry and its postings, and updates the stored balances — all in
one transaction. Lock order across the app: marketplace rows and payment records first, then
accounts by pk, then holds, invoices and credit lines (see docs/ledger.md).
"""

from __future__ import annotations

import functools
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Iterable, Sequence

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Case, F, Value, When
from django.db.models.base import ModelState
from django.utils import timezone

from credit.exceptions import (
    BankReferenceAlreadyUsed,
    CreditLimitExceeded,
    CurrencyMismatch,
    EntryAlreadyReversed,
    HoldAlreadyResolved,
    InsufficientFunds,
    InvalidAmount,
    ReversalInvalid,
    TopupAlreadyRecorded,
    UnbalancedEntry,
)
from credit.models import (
    REVERSIBLE_KINDS,
    Account,
    AccountKind,
    BankReference,
    Currency,
    EntryKind,
    Hold,
    JournalEntry,
    Posting,
)
from credit.references import reference_key
from organizations.models import Organization

_local = threading.local()


def service_atomic(func):
    """`transaction.atomic` for ledger services, minus the savepoint inside `whole_transaction()`
    (idempotent requests), where any error rolls the whole transaction back anyway and a
    savepoint would only cost two more round trips on the hottest path."""

    @functools.wraps(func)
    def inner(*args, **kwargs):
        with transaction.atomic(savepoint=not getattr(_local, "whole_transaction", False)):
            return func(*args, **kwargs)

    return inner


@contextmanager
def whole_transaction():
    """Inside: errors are not caught and recovered from within the transaction."""
    previous = getattr(_local, "whole_transaction", False)
    _local.whole_transaction = True
    try:
        yield
    finally:
        _local.whole_transaction = previous


@functools.cache
def on_postgres() -> bool:
    """One database per process: asked once (`connection.vendor` goes through a thread-local proxy)."""
    return connection.vendor == "postgresql"


def fast_cursor():
    """A cursor for the ledger's hot statements, in Django's connection and transaction. On
    PostgreSQL it binds parameters server-side, so psycopg prepares each statement once per
    connection (after 5 uses) instead of the server parsing and planning it every time — the
    single biggest cost of a transfer (see docs/benchmarks.md) — and it is reused for the life of
    the connection. Elsewhere (or with CREDIT_PREPARED_STATEMENTS = False), Django's cursor."""
    if not on_postgres() or not getattr(settings, "CREDIT_PREPARED_STATEMENTS", True):
        return connection.cursor()
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: one thread-local lookup, not one per attribute
    if db.connection is None:
        db.ensure_connection()
    raw = db.connection
    cursor = getattr(db, "_credit_fast_cursor", None)
    if cursor is None or cursor.closed or cursor.connection is not raw:
        import psycopg

        if raw.prepare_threshold is None:
            # Django opens connections with prepare_threshold=None. Only server-binding cursors
            # like this one can prepare; Django's own (client-binding) cursors are unaffected.
            raw.prepare_threshold = 5
        cursor = psycopg.Cursor(raw)
        db._credit_fast_cursor = cursor
    return _KeepOpen(cursor)


class _KeepOpen:
    """`with fast_cursor() as cursor:` without closing the reused cursor at the end."""

    __slots__ = ("cursor",)

    def __init__(self, cursor):
        self.cursor = cursor

    def __enter__(self):
        return self.cursor

    def __exit__(self, *exc_info):
        return False


CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("1000000000000")  # 10^12: far below the column's 16 integer digits


def money(value, *, field: str = "amount", positive: bool = True) -> Decimal:
    """Decimal with at most two places, finite, below the column's range; positive by default."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidAmount({field: [f"{value!r} is not an amount."]}) from None
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise InvalidAmount({field: ["Amount out of range."]})
    if amount != amount.quantize(CENT):
        raise InvalidAmount({field: ["Use at most two decimal places."]})
    if positive and amount <= 0:
        raise InvalidAmount({field: ["Must be greater than zero."]})
    return amount.quantize(CENT)


def _check_currency(currency: str, *, field: str = "currency") -> str:
    if currency not in Currency.values:
        raise CurrencyMismatch({field: [f"Unsupported currency {currency!r}; use one of {', '.join(Currency.values)}."]})
    return currency


# --- accounts ---------------------------------------------------------------------------------

def account_for(*, organization: Organization, kind: str, currency: str) -> Account:
    """The organisation's wallet or escrow account in a currency, created on first use."""
    _check_currency(currency)
    non_negative = kind in (AccountKind.WALLET, AccountKind.ESCROW, AccountKind.RESERVE)
    try:
        with transaction.atomic():
            account, _ = Account.objects.get_or_create(
                organization=organization, kind=kind, currency=currency, credit_line=None,
                defaults={"non_negative": non_negative},
            )
    except IntegrityError:  # created concurrently: the unique constraint decided, read the winner
        account = Account.objects.get(organization=organization, kind=kind, currency=currency, credit_line=None)
    return account


def platform_account(*, kind: str = AccountKind.CLEARING, currency: str) -> Account:
    """A platform account (no organisation). The bank clearing account mirrors the platform's
    bank: it goes negative by what organisations hold on Kitstreet."""
    _check_currency(currency)
    try:
        with transaction.atomic():
            account, _ = Account.objects.get_or_create(
                organization=None, kind=kind, currency=currency, defaults={"non_negative": False},
            )
    except IntegrityError:
        account = Account.objects.get(organization=None, kind=kind, currency=currency)
    return account


_ACCOUNT_COLUMNS = ["id", "organization_id", "credit_line_id", "kind", "currency", "balance", "held", "non_negative", "credit_limit"]


def _new_instance(model, values: dict):
    """A saved-row instance without Model.__init__ (what Django's from_db does, minus the per-field
    work): the hot path builds three per transfer."""
    instance = model.__new__(model)
    instance.__dict__.update(values)
    instance._state = ModelState()
    instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS
    return instance


def _account_from_row(values: dict) -> Account:
    return _new_instance(Account, values)


def lock_accounts(ids: Iterable[int]) -> dict[int, Account]:
    """Lock accounts in primary-key order (the one order every writer uses: no deadlocks).

    This is `Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")` written as
    one plain statement: it runs on every money movement, and the ORM's query building cost
    more than the database's work here (see docs/benchmarks.md)."""
    ids = sorted(set(ids))
    placeholders = ", ".join(["%s"] * len(ids))
    with fast_cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(_ACCOUNT_COLUMNS)} FROM {Account._meta.db_table} WHERE id IN ({placeholders}) "
                       f"ORDER BY id{' FOR UPDATE' if on_postgres() else ''}", ids)
        rows = cursor.fetchall()
    locked = {}
    for row in rows:
        values = dict(zip(_ACCOUNT_COLUMNS, row))
        if not on_postgres():  # SQLite hands back floats for decimals and ints for booleans
            for column in ("balance", "held", "credit_limit"):
                if values[column] is not None:
                    values[column] = Decimal(str(values[column])).quantize(CENT)
            values["non_negative"] = bool(values["non_negative"])
        locked[values["id"]] = _account_from_row(values)
    if len(locked) != len(ids):
        raise InvalidAmount({"account": ["Unknown account."]})
    return locked


def _floor(account: Account) -> Decimal | None:
    """The lowest `balance - held` the account may reach, or None when unlimited."""
    if account.credit_limit is not None:
        return -account.credit_limit
    return ZERO if account.non_negative else None


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def check_available(account: Account, *, balance: Decimal, held: Decimal, needed: Decimal, field: str = "amount") -> None:
    """Refuse a write that would leave `balance - held` under the account's floor. `balance` and
    `held` are what the write would leave; `needed` is what the write takes out of the account
    (its gross outflow plus any new reservation): the message names it and what was there."""
    floor = _floor(account)
    if floor is None or balance - held >= floor:
        return
    currency = account.currency
    if account.kind == AccountKind.PAYABLE:
        available = account.credit_limit + account.balance - account.held
        raise CreditLimitExceeded({field: [
            f"Credit limit exceeded: limit {_amount(account.credit_limit)} {currency}, owed {_amount(-account.balance)}, "
            f"reserved {_amount(account.held)}, available {_amount(max(available, ZERO))} {currency}; "
            f"this needs {_amount(needed)} {currency}."
        ]})
    available = account.balance - account.held
    reserved = (f", of which {_amount(account.held)} is reserved for pending orders and payouts"
                if account.held else "")
    raise InsufficientFunds({field: [
        f"Not enough money in the {account.get_kind_display().lower()} ({currency}): this needs "
        f"{_amount(needed)} {currency}; it holds {_amount(account.balance)} {currency}{reserved}, so "
        f"{_amount(max(available, ZERO))} {currency} is available (short by {_amount(needed - max(available, ZERO))})."
    ]})


# --- entries -----------------------------------------------------------------------------------

def _prepare(legs: Sequence[tuple[Account | int, Decimal]]) -> list[tuple[int, Decimal]]:
    prepared = []
    for account, amount in legs:
        amount = money(amount, positive=False)
        if amount == 0:
            continue
        prepared.append((account if isinstance(account, int) else account.pk, amount))
    if len(prepared) < 2:
        raise UnbalancedEntry({"non_field_errors": ["An entry needs at least two non-zero postings."]})
    return prepared


def write_entry(
    *,
    locked: dict[int, Account],
    legs: list[tuple[int, Decimal]],
    kind: str,
    memo: str = "",
    reference: str = "",
    organization: Organization | None = None,
    created_by=None,
    reverses: JournalEntry | None = None,
    reason: str = "",
    held_deltas: dict[int, Decimal] | None = None,
    unchecked: frozenset[int] | set[int] = frozenset(),
    field: str = "amount",
) -> JournalEntry:
    """Write one balanced entry on already-locked accounts and move their stored balances.

    `held_deltas` changes reserved amounts in the same update (a hold being posted);
    accounts in `unchecked` skip the limit check (money a hold already reserved)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    deltas: dict[int, Decimal] = defaultdict(Decimal)
    outflow: dict[int, Decimal] = defaultdict(Decimal)  # what each account pays, before what it receives
    for account_id, amount in legs:
        totals[locked[account_id].currency] += amount
        deltas[account_id] += amount
        if amount < 0:
            outflow[account_id] -= amount
    if any(total != 0 for total in totals.values()):
        raise UnbalancedEntry({"non_field_errors": [
            "The postings do not balance: " + ", ".join(f"{c} {t:+}" for c, t in totals.items() if t != 0)
        ]})
    held_deltas = held_deltas or {}
    for account_id in set(deltas) | set(held_deltas):
        account = locked[account_id]
        delta, held_delta = deltas.get(account_id, ZERO), held_deltas.get(account_id, ZERO)
        if account_id not in unchecked and (delta < 0 or held_delta > 0):
            check_available(account, balance=account.balance + delta, held=account.held + held_delta,
                            needed=outflow.get(account_id, ZERO) + max(held_delta, ZERO), field=field)
    if on_postgres():
        entry = _new_instance(JournalEntry, {
            "id": None, "kind": kind, "memo": memo[:300], "reference": reference[:200], "reason": reason[:300],
            "organization_id": organization.pk if organization else None,
            "created_by_id": created_by.pk if created_by else None,
            "reverses_id": reverses.pk if reverses else None, "created_at": timezone.now(),
        })
        _write_entry_postgres(entry, locked, legs, deltas, held_deltas)
    else:
        entry = JournalEntry(
            kind=kind, memo=memo[:300], reference=reference[:200], organization=organization, created_by=created_by,
            reverses=reverses, reason=reason[:300], created_at=timezone.now(),
        )
        entry.save(force_insert=True)
        Posting.objects.bulk_create([
            Posting(entry=entry, account_id=account_id, amount=amount, currency=locked[account_id].currency)
            for account_id, amount in legs
        ])
        _apply(locked, deltas, held_deltas)
    return entry


def _write_entry_postgres(entry: JournalEntry, locked, legs, deltas, held_deltas) -> None:
    """The entry, its postings and the balance updates in one statement (data-modifying CTEs):
    one round trip instead of three. The postings' balance trigger runs at its end."""
    ids = sorted(set(deltas) | set(held_deltas))
    with fast_cursor() as cursor:
        cursor.execute(
            f"""WITH e AS (
                  INSERT INTO {JournalEntry._meta.db_table}
                    (kind, memo, reference, organization_id, created_by_id, reverses_id, reason, created_at)
                  VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id
                ), p AS (
                  INSERT INTO {Posting._meta.db_table} (entry_id, account_id, amount, currency)
                  SELECT e.id, v.account_id, v.amount, v.currency
                  FROM e, (VALUES {", ".join(["(%s::bigint, %s::numeric, %s::varchar)"] * len(legs))}) AS v(account_id, amount, currency)
                ), u AS (
                  UPDATE {Account._meta.db_table} a SET balance = a.balance + d.delta, held = a.held + d.held_delta
                  FROM (VALUES {", ".join(["(%s::bigint, %s::numeric, %s::numeric)"] * len(ids))}) AS d(id, delta, held_delta)
                  WHERE a.id = d.id
                )
                SELECT id FROM e""",
            [entry.kind, entry.memo, entry.reference, entry.organization_id, entry.created_by_id, entry.reverses_id,
             entry.reason, entry.created_at,
             *(value for a, x in legs for value in (a, x, locked[a].currency)),
             *(value for i in ids for value in (i, deltas.get(i, ZERO), held_deltas.get(i, ZERO)))],
        )
        entry.pk = cursor.fetchone()[0]
    for i in ids:
        locked[i].balance += deltas.get(i, ZERO)
        locked[i].held += held_deltas.get(i, ZERO)


def _apply(locked: dict[int, Account], deltas: dict[int, Decimal], held_deltas: dict[int, Decimal]) -> None:
    """One UPDATE for all touched accounts, and the same change on the locked instances."""
    ids = sorted(set(deltas) | set(held_deltas))
    if not ids:
        return
    if on_postgres():
        with fast_cursor() as cursor:
            cursor.execute(
                f"UPDATE {Account._meta.db_table} a SET balance = a.balance + d.delta, held = a.held + d.held_delta "
                "FROM unnest(%s::bigint[], %s::numeric[], %s::numeric[]) AS d(id, delta, held_delta) WHERE a.id = d.id",
                [ids, [deltas.get(i, ZERO) for i in ids], [held_deltas.get(i, ZERO) for i in ids]],
            )
        for i in ids:
            locked[i].balance += deltas.get(i, ZERO)
            locked[i].held += held_deltas.get(i, ZERO)
        return
    # SQLite (development, tests) keeps decimals as floats: write the exact new values computed
    # here rather than `balance + delta` in float arithmetic. Its transactions take the write
    # lock up front (transaction_mode IMMEDIATE), so the values read in this transaction are current.
    for i in ids:
        locked[i].balance += deltas.get(i, ZERO)
        locked[i].held += held_deltas.get(i, ZERO)
    Account.objects.filter(pk__in=ids).update(
        balance=Case(*[When(pk=i, then=Value(locked[i].balance)) for i in ids], default=F("balance")),
        held=Case(*[When(pk=i, then=Value(locked[i].held)) for i in ids], default=F("held")),
    )


@service_atomic
def ledger_post(
    *,
    legs: Sequence[tuple[Account | int, Decimal]],
    kind: str = EntryKind.TRANSFER,
    memo: str = "",
    reference: str = "",
    organization: Organization | None = None,
    created_by=None,
    field: str = "amount",
    reason: str = "",
) -> JournalEntry:
    """Post a balanced entry: legs are (account, signed amount); negative takes money out."""
    prepared = _prepare(legs)
    locked = lock_accounts(account_id for account_id, _ in prepared)
    return write_entry(locked=locked, legs=prepared, kind=kind, memo=memo, reference=reference,
                       organization=organization, created_by=created_by, field=field, reason=reason)


def ledger_transfer(
    *, debit: Account | int, credit: Account | int, amount: Decimal, kind: str = EntryKind.TRANSFER, memo: str = "",
    organization: Organization | None = None, created_by=None, field: str = "amount",
) -> JournalEntry:
    """Move `amount` from `debit` to `credit` (checked against the debit account's limit)."""
    amount = money(amount, field=field)
    return ledger_post(legs=[(debit, -amount), (credit, amount)], kind=kind, memo=memo,
                       organization=organization, created_by=created_by, field=field)


@service_atomic
def entry_reverse(*, entry: JournalEntry, reason: str, created_by=None) -> JournalEntry:
    """Post the mirror image of an entry, with a reason. An entry is reversed at most once; the
    reversal is checked like any write (a top-up already spent cannot be reversed)."""
    reason = (reason or "").strip()
    if not reason:
        raise ReversalInvalid({"reason": ["Say why this entry is being reversed."]})
    if entry.kind not in REVERSIBLE_KINDS:
        raise ReversalInvalid({"entry": [
            f"{entry.get_kind_display()} entries are undone by their own step (refund, void), not by a reversal."
        ]})
    legs = [(account_id, -amount) for account_id, amount in entry.postings.values_list("account_id", "amount")]
    locked = lock_accounts(account_id for account_id, _ in legs)
    if JournalEntry.objects.filter(reverses=entry).exists():
        raise EntryAlreadyReversed(f"Entry {entry.pk} was already reversed.")
    return write_entry(locked=locked, legs=legs, kind=EntryKind.REVERSAL, memo=f"Reversal of entry {entry.pk}",
                       reverses=entry, reason=reason, created_by=created_by, organization=entry.organization)


def bank_reference_taken(*, direction: str, reference: str) -> BankReference | None:
    """The recorded use of this bank reference (normalised), if any."""
    return (BankReference.objects.filter(direction=direction, key=reference_key(reference))
            .select_related("organization").first())


def _already_used(first: BankReference, reference: str) -> BankReferenceAlreadyUsed:
    error = TopupAlreadyRecorded if first.direction == BankReference.Direction.IN else BankReferenceAlreadyUsed
    what = "receipt" if first.direction == BankReference.Direction.IN else "transfer"
    step = "credited to" if first.direction == BankReference.Direction.IN else "paid out from"
    return error(
        f"Bank {what} {reference!r} was already {step} {first.organization.name}: entry {first.entry_id}, "
        f"{first.amount} {first.currency} on {timezone.localtime(first.created_at):%Y-%m-%d %H:%M}"
        + (f" (recorded as {first.reference!r})" if first.reference != reference else "") + ".",
        first=_reference_json(first),
    )


def _reference_json(ref: BankReference) -> dict:
    return {"entry": ref.entry_id, "organization": {"id": ref.organization_id, "name": ref.organization.name},
            "amount": str(ref.amount), "currency": ref.currency, "reference": ref.reference,
            "created_at": ref.created_at.isoformat()}


def bank_reference_record(*, direction: str, reference: str, entry: JournalEntry, organization: Organization,
                          amount: Decimal, currency: str) -> BankReference:
    """Claim a bank reference for an entry in the caller's transaction; a second use of the same
    normalised reference (another organisation, another spelling, a concurrent request) is a 409
    naming the first."""
    key = reference_key(reference)
    try:
        with transaction.atomic():
            return BankReference.objects.create(direction=direction, key=key, reference=reference[:200], entry=entry,
                                                organization=organization, amount=amount, currency=currency)
    except IntegrityError:  # a concurrent use committed first: the unique index decided
        first = bank_reference_taken(direction=direction, reference=reference)
        if first is None:
            raise
        raise _already_used(first, reference) from None


@service_atomic
def wallet_topup(*, organization: Organization, amount: Decimal, currency: str, reference: str, created_by=None) -> JournalEntry:
    """Operators record a bank receipt: the platform's bank clearing account pays the wallet.
    A receipt is credited once on the whole platform: its reference, normalised (case, spaces,
    dashes, full-width forms), may not have been used by any top-up before."""
    amount = money(amount)
    reference = (reference or "").strip()[:200]
    if not reference_key(reference):
        raise InvalidAmount({"reference": ["Give the bank receipt's reference."]})
    first = bank_reference_taken(direction=BankReference.Direction.IN, reference=reference)
    if first is not None:
        raise _already_used(first, reference)
    wallet = account_for(organization=organization, kind=AccountKind.WALLET, currency=currency)
    clearing = platform_account(currency=currency)
    entry = ledger_post(legs=[(clearing, -amount), (wallet, amount)], kind=EntryKind.TOPUP, reference=reference,
                        memo=f"Bank top-up {reference}", organization=organization, created_by=created_by)
    bank_reference_record(direction=BankReference.Direction.IN, reference=reference, entry=entry,
                          organization=organization, amount=amount, currency=wallet.currency)
    return entry


# --- holds -----------------------------------------------------------------------------------

@service_atomic
def hold_place(
    *, account: Account, counter_account: Account, amount: Decimal, memo: str = "",
    expires_at: datetime | None = None, field: str = "amount",
) -> Hold:
    """Reserve `amount` on `account` for `counter_account`: available drops now, balance moves
    when the hold is posted."""
    amount = money(amount, field=field)
    locked = lock_accounts([account.pk, counter_account.pk])
    source, target = locked[account.pk], locked[counter_account.pk]
    if source.currency != target.currency:
        raise CurrencyMismatch({"currency": ["A hold moves money within one currency."]})
    check_available(source, balance=source.balance, held=source.held + amount, needed=amount, field=field)
    _apply(locked, {}, {source.pk: amount})
    return Hold.objects.create(account=source, counter_account=target, amount=amount, currency=source.currency,
                               memo=memo[:300], expires_at=expires_at)


def _lock_pending(hold: Hold, extra: Iterable[int] = ()) -> tuple[dict[int, Account], Hold]:
    locked = lock_accounts([hold.account_id, hold.counter_account_id, *extra])
    hold = Hold.objects.select_for_update().get(pk=hold.pk)
    if hold.status != Hold.Status.PENDING:
        raise HoldAlreadyResolved(f"Hold {hold.pk} is already {hold.get_status_display().lower()}.")
    return locked, hold


@service_atomic
def hold_post(*, hold: Hold, amount: Decimal | None = None, kind: str = EntryKind.HOLD_POST, memo: str = "",
              organization: Organization | None = None, payees: Sequence[tuple[Account, Decimal]] | None = None) -> JournalEntry:
    """Post a pending hold, fully or partly: the posted amount moves, the rest is released.
    `payees` splits the posted amount among several accounts (summing to it) in place of the
    counter account alone: a release that pays the platform's fee and a reserve beside the payee."""
    payee_legs = [(a if isinstance(a, int) else a.pk, money(x)) for a, x in payees or ()]
    locked, hold = _lock_pending(hold, [pk for pk, _ in payee_legs])
    amount = hold.amount if amount is None else money(amount)
    if amount > hold.amount:
        raise InvalidAmount({"amount": [f"A hold of {hold.amount} can post at most that."]})
    credits = payee_legs or [(hold.counter_account_id, amount)]
    if sum((x for _, x in credits), ZERO) != amount:
        raise UnbalancedEntry({"non_field_errors": [f"The payees of a hold post must add up to {amount}."]})
    entry = write_entry(
        locked=locked, legs=[(hold.account_id, -amount), *credits], kind=kind,
        memo=memo or hold.memo, organization=organization, held_deltas={hold.account_id: -hold.amount},
        unchecked={hold.account_id},  # the hold reserved this money (even if a limit was lowered since)
    )
    hold.status, hold.posted_amount, hold.entry, hold.resolved_at = Hold.Status.POSTED, amount, entry, timezone.now()
    hold.save(update_fields=["status", "posted_amount", "entry", "resolved_at"])
    return entry


@service_atomic
def hold_void(*, hold: Hold, expired: bool = False) -> Hold:
    """Release a pending hold (voided by a party, or expired by the beat task)."""
    locked, hold = _lock_pending(hold)
    _apply(locked, {}, {hold.account_id: -hold.amount})
    hold.status = Hold.Status.EXPIRED if expired else Hold.Status.VOIDED
    hold.resolved_at = timezone.now()
    hold.save(update_fields=["status", "resolved_at"])
    return hold


def hold_expire_due(*, now: datetime | None = None) -> int:
    """Expire every pending hold past its `expires_at`; each in its own transaction, and a hold
    resolved meanwhile is skipped — so a doubled or late beat is harmless."""
    now = now or timezone.now()
    expired = 0
    for hold in Hold.objects.filter(status=Hold.Status.PENDING, expires_at__lte=now).order_by("pk"):
        try:
            hold_void(hold=hold, expired=True)
            expired += 1
        except HoldAlreadyResolved:
            continue
    return expired


# --- batches ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Transfer:
    debit_id: int
    credit_id: int
    amount: Decimal
    memo: str = ""


@service_atomic
def ledger_post_batch(
    *, transfers: Sequence[Transfer], kind: str = EntryKind.BATCH, organization: Organization | None = None,
    created_by=None,
) -> list[int]:
    """Many transfers in one transaction (imports, trials): one entry each, applied in order with
    the same limit checks as single transfers; any refusal refuses the whole batch. Locks every
    account once, in pk order; writes with COPY on PostgreSQL. Returns the entry ids."""
    if not transfers:
        return []
    amounts = [money(t.amount, field="transfers") for t in transfers]
    locked = lock_accounts({t.debit_id for t in transfers} | {t.credit_id for t in transfers})
    balance = {pk: a.balance for pk, a in locked.items()}
    for n, (t, amount) in enumerate(zip(transfers, amounts), start=1):
        debit, credit = locked[t.debit_id], locked[t.credit_id]
        if debit.currency != credit.currency:
            raise CurrencyMismatch({"transfers": [f"Transfer {n}: accounts are in different currencies."]})
        balance[t.debit_id] -= amount
        balance[t.credit_id] += amount
        try:
            check_available(debit, balance=balance[t.debit_id], held=debit.held, needed=amount, field="transfers")
        except (InsufficientFunds, CreditLimitExceeded) as exc:
            raise type(exc)({"transfers": [f"Transfer {n}: {exc.messages[0]}"]}) from None
    now = timezone.now()
    memos = [t.memo[:300] for t in transfers]
    if on_postgres():
        entry_ids = _batch_write_postgres(locked, transfers, amounts, memos, kind, organization, created_by, now)
    else:
        entries = JournalEntry.objects.bulk_create([
            JournalEntry(kind=kind, memo=memo, organization=organization, created_by=created_by, created_at=now)
            for memo in memos
        ])
        entry_ids = [e.pk for e in entries]
        Posting.objects.bulk_create([
            posting
            for entry_id, t, amount in zip(entry_ids, transfers, amounts)
            for posting in (
                Posting(entry_id=entry_id, account_id=t.debit_id, amount=-amount, currency=locked[t.debit_id].currency),
                Posting(entry_id=entry_id, account_id=t.credit_id, amount=amount, currency=locked[t.credit_id].currency),
            )
        ])
    deltas = {pk: balance[pk] - locked[pk].balance for pk in locked if balance[pk] != locked[pk].balance}
    if on_postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Account._meta.db_table} a SET balance = a.balance + d.delta "
                "FROM unnest(%s::bigint[], %s::numeric[]) AS d(id, delta) WHERE a.id = d.id",
                [list(deltas), list(deltas.values())],
            )
        for pk, delta in deltas.items():
            locked[pk].balance += delta
    else:
        _apply(locked, deltas, {})
    return entry_ids


def _batch_write_postgres(locked, transfers, amounts, memos, kind, organization, created_by, now) -> list[int]:
    entry_table, posting_table = JournalEntry._meta.db_table, Posting._meta.db_table
    org_id = organization.pk if organization else None
    user_id = created_by.pk if created_by else None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{entry_table}', 'id')) FROM generate_series(1, %s)",
                       [len(transfers)])
        entry_ids = [row[0] for row in cursor.fetchall()]
        with cursor.copy(f"COPY {entry_table} (id, kind, memo, reference, organization_id, created_by_id, reason, created_at) FROM STDIN") as copy:
            for entry_id, memo in zip(entry_ids, memos):
                copy.write_row((entry_id, kind, memo, "", org_id, user_id, "", now))
        # All postings in one statement: the balance trigger checks every entry once.
        with cursor.copy(f"COPY {posting_table} (entry_id, account_id, amount, currency) FROM STDIN") as copy:
            for entry_id, t, amount in zip(entry_ids, transfers, amounts):
                currency = locked[t.debit_id].currency
                copy.write_row((entry_id, t.debit_id, -amount, currency))
                copy.write_row((entry_id, t.credit_id, amount, currency))
    return entry_ids
